#!/usr/bin/env bash
# Event delivery benchmarks: how long an event takes from the runner to Nu, and what the runner
# costs while its operations only wait. Prints figures against the targets; asserts nothing.
#
# Usage: bench/event_bench.sh [BUILD_DIR] [NU] [--ops N] [--markdown FILE]
#   BUILD_DIR  holds bin/nu_plugin_provisioning (default: ./build)
#   NU         the real nu binary (default: the pinned one in node_modules)
#   --ops      operations of the latency workflow (default 200)
#   --markdown FILE  also write the figures between <!-- evbench:begin --> and
#              <!-- evbench:end --> of FILE (else append them)
#
# 1. latency: a workflow of N operations run one after another, each sleeping 20 ms (so events
#    come spaced, not in batches), through `prov workflow run`; for every event, the time Nu has
#    it (`date now` in an `each` right behind the stream) minus the event's own `time`, which the
#    runner stamps when it makes the event, before journaling it durably (group-committed
#    fdatasync) and appending it to the log: so this is the whole way, fsync included.
#    Median and p99 over all events.
# 2. idle CPU: four operations that each sleep 5 s, in parallel; the runner's CPU time (all its
#    threads, from /proc/<pid>/task/*/schedstat, in ns) from just after submit until 4.5 s later.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=""
nu=""
ops=200
markdown=""
while (($#)); do
  case "$1" in
    --ops) ops=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "evbench: unknown option $1" >&2; exit 2 ;;
    *)
      if [[ -z $build ]]; then build=$1
      elif [[ -z $nu ]]; then nu=$1
      else echo "evbench: too many arguments: $1" >&2; exit 2
      fi
      shift ;;
  esac
done
build=$(cd "${build:-$root/build}" && pwd)
nu=${nu:-$root/node_modules/nushell/bin/nu}
plugin=$build/bin/nu_plugin_provisioning
[[ -x $nu ]] || { echo "evbench: no nu at $nu" >&2; exit 1; }
[[ -x $plugin ]] || { echo "evbench: no $plugin" >&2; exit 1; }

ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
printf '[project]\nname = "evbench"\n' > "$ws/config.defaults.toml"

echo "evbench: 1/2 latency: $ops operations of 20 ms, one at a time" >&2
latency=$(cd "$ws" && "$nu" -n --plugins "[$plugin]" -c "
  let wf = {name: lat, settings: {parallel: 1}, operations: (0..<$ops | each {|i| {id: \$\"op(\$i)\", kind: command, run: [sleep '0.02']} })}
  let lags = (\$wf | prov workflow run | each {|e| ((date now) - \$e.time) } | each {|d| \$d / 1us } | sort)
  let n = (\$lags | length)
  {events: \$n, median_us: (\$lags | math median | math round), p99_us: (\$lags | get ((\$n * 0.99 | math floor) - 1) | math round)} | to json -r
")
echo "evbench: $latency" >&2

echo "evbench: 2/2 idle CPU: 4 operations sleeping 5 s" >&2
runner_pid=$(cd "$ws" && "$nu" -n --plugins "[$plugin]" -c "
  let id = ({name: idle, settings: {parallel: 4}, operations: (0..<4 | each {|i| {id: \$\"s(\$i)\", kind: command, run: [sleep '5']} })} | prov workflow submit | get workflow_id)
  prov workflow status \$id | get runner_pid
")
cpu_ns() {
  local total=0 t
  for t in /proc/"$1"/task/*/schedstat; do
    read -r run _ < "$t" 2>/dev/null || continue
    total=$((total + run))
  done
  echo "$total"
}
before=$(cpu_ns "$runner_pid")
sleep 4.5
after=$(cpu_ns "$runner_pid")
idle_us=$(( (after - before) / 1000 ))
echo "evbench: runner CPU over 4.5 s of waiting: ${idle_us} µs" >&2
sleep 1

median=$(sed -E 's/.*"median_us":([0-9.]+).*/\1/' <<<"$latency")
p99=$(sed -E 's/.*"p99_us":([0-9.]+).*/\1/' <<<"$latency")
events=$(sed -E 's/.*"events":([0-9]+).*/\1/' <<<"$latency")
table="| measure | figure | target |
|---|---|---|
| event delivery, runner → Nu, median ($events events) | ${median} µs | (reported) |
| event delivery, p99 | ${p99} µs | (reported) |
| runner CPU while 4 operations sleep (4.5 s) | ${idle_us} µs | well under 10,000 µs |"
echo "$table"
if [[ -n $markdown ]]; then
  if grep -q '<!-- evbench:begin -->' "$markdown" 2>/dev/null; then
    python3 - "$markdown" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
a = text.index('<!-- evbench:begin -->') + len('<!-- evbench:begin -->')
b = text.index('<!-- evbench:end -->')
open(path, 'w').write(text[:a] + '\n' + table + '\n' + text[b:])
PY
  else
    printf '\n<!-- evbench:begin -->\n%s\n<!-- evbench:end -->\n' "$table" >> "$markdown"
  fi
fi
