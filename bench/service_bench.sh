#!/usr/bin/env bash
# The HTTP service under load (issue "orchestrator service"): 20 clients submit 500 small
# workflows in all over HTTP and follow each to its end (bench/service/load.py), then read every
# status; beside the same 500 submits through `prov workflow submit` in one Nu session. Prints
# requests per second and p50/p99 latency; asserts nothing but that no workflow was lost,
# duplicated or left incomplete.
#
# Usage: bench/service_bench.sh [BUILD_DIR] [NU] [--clients N] [--workflows N] [--markdown FILE]
#   --markdown FILE  also write the figures between <!-- svcbench:begin --> and
#              <!-- svcbench:end --> of FILE (docs/BENCHMARKS.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="" nu="" clients=20 workflows=500 markdown=""
while (($#)); do
  case "$1" in
    --clients) clients=$2; shift 2 ;;
    --workflows) workflows=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "svcbench: unknown option $1" >&2; exit 2 ;;
    *) if [[ -z $build ]]; then build=$1; elif [[ -z $nu ]]; then nu=$1; fi; shift ;;
  esac
done
build=$(cd "${build:-$root/build}" && pwd)
[[ -n $markdown ]] && markdown=$(cd "$(dirname "$markdown")" && pwd)/$(basename "$markdown")
nu=${nu:-$root/node_modules/nushell/bin/nu}
plugin=$build/bin/nu_plugin_provisioning
command -v python3 >/dev/null || { echo "svcbench: python3 is missing (the load client)" >&2; exit 1; }
ws=$(mktemp -d)
trap 'cd /; "$nu" -n --plugins "[\"$plugin\"]" -c "cd $ws; if (prov serve status | get running) { prov serve stop | ignore }" >/dev/null 2>&1; rm -rf "$ws"' EXIT
printf '[project]\nname = "svcbench"\n' > "$ws/config.defaults.toml"
cd "$ws"
info=$("$nu" -n --plugins "[\"$plugin\"]" -c 'prov serve start --listen 127.0.0.1:0 | to json -r')
url=$(python3 -c 'import json,sys;print(json.loads(sys.argv[1])["url"])' "$info")
token=$(python3 -c 'import json,sys;print(open(json.loads(sys.argv[1])["token_file"]).read().strip())' "$info")
echo "svcbench: $clients clients, $workflows workflows, at $url" >&2
http=$(python3 "$root/bench/service/load.py" "$url" "$token" "$clients" "$workflows")
"$nu" -n --plugins "[\"$plugin\"]" -c 'prov serve stop | ignore'
# The same submits from one Nu session (a fresh workspace), timed inside nu.
ws2=$(mktemp -d)
printf '[project]\nname = "svcbench-nu"\n' > "$ws2/config.defaults.toml"
nu_secs=$(cd "$ws2" && "$nu" -n --plugins "[\"$plugin\"]" -c "
  let wf = {name: load, operations: [{id: a, kind: command, run: [true]}]}
  let t = (date now)
  let ids = (1..$workflows | each { \$wf | prov workflow submit | get workflow_id })
  let took = ((date now) - \$t)
  \$ids | each {|i| prov workflow wait \$i | ignore } | ignore
  \$took / 1sec")
rm -rf "$ws2"
report=$(python3 - "$http" "$nu_secs" "$workflows" "$clients" <<'PY'
import json, sys
h = json.loads(sys.argv[1]); nu_s = float(sys.argv[2]); n = int(sys.argv[3]); c = int(sys.argv[4])
ok = h["workflows"] == n and h["unique"] == n and h["error_count"] == 0
rows = [
  ("| measure | figure |", "|---|---|"),
]
print("| measure | figure |\n|---|---|")
print(f"| workflows submitted over HTTP by {c} clients, followed to the end | {h['workflows']} ({h['unique']} distinct, {h['error_count']} errors){'' if ok else ' **NOT ALL**'} |")
print(f"| submit (`POST /workflows`), requests/s | {h['submit_rps']:.1f} |")
print(f"| submit latency p50 / p99 | {h['submit_p50_ms']:.1f} ms / {h['submit_p99_ms']:.1f} ms |")
print(f"| status (`GET /workflows/{{id}}/status`), requests/s | {h['status_rps']:.1f} |")
print(f"| status latency p50 / p99 | {h['status_p50_ms']:.1f} ms / {h['status_p99_ms']:.1f} ms |")
print(f"| the same {n} submits through `prov workflow submit` in one Nu session | {n / nu_s:.1f} /s ({nu_s * 1000 / n:.1f} ms each) |")
PY
)
echo "$report"
if [[ -n $markdown ]]; then
  python3 - "$markdown" "$report" <<'PY'
import sys, re
path, rep = sys.argv[1], sys.argv[2]
text = open(path).read()
b, e = "<!-- svcbench:begin -->", "<!-- svcbench:end -->"
if b in text and e in text:
    text = text[:text.index(b) + len(b)] + "\n" + rep + "\n" + text[text.index(e):]
else:
    text += "\n" + b + "\n" + rep + "\n" + e + "\n"
open(path, "w").write(text)
PY
fi
