#!/usr/bin/env bash
# Configuration loading: how long `prov config get` takes on configurations that once took
# minutes (the loader was quadratic in a table's width and in a key's depth). Prints figures
# against the targets; asserts nothing.
#
# Usage: bench/config_bench.sh [BUILD_DIR] [NU] [--rounds N] [--markdown FILE]
#   BUILD_DIR  holds bin/nu_plugin_provisioning (default: ./build)
#   NU         the real nu binary (default: the pinned one in node_modules)
#   --rounds   calls per case; the median is reported (default 5)
#   --markdown FILE  also write the figures between <!-- cfgbench:begin --> and
#              <!-- cfgbench:end --> of FILE (else append them)
#
# Cases, each a workspace of its own (config.defaults.toml):
#   wide      one table of 100,000 keys
#   wide-ref  the same, each value a placeholder ("{{config.t.k0}}-N"): interpolation too
#   deep      1,000 keys of 255 parts each (p0.p1.….p253.kN = N), and [limits] depth = 512
#   small     the example workspace, for scale
# Each call is timed in one nu process with `date now` around it, after one untimed call has
# started the plugin: the whole load (read, parse, merge, interpolate, type) plus one value back.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=""
nu=""
rounds=5
markdown=""
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "cfgbench: unknown option $1" >&2; exit 2 ;;
    *)
      if [[ -z $build ]]; then build=$1
      elif [[ -z $nu ]]; then nu=$1
      else echo "cfgbench: too many arguments: $1" >&2; exit 2
      fi
      shift ;;
  esac
done
build=$(cd "${build:-$root/build}" && pwd)
nu=${nu:-$root/node_modules/nushell/bin/nu}
plugin=$build/bin/nu_plugin_provisioning
[[ -x $nu ]] || { echo "cfgbench: no nu at $nu" >&2; exit 1; }
[[ -x $plugin ]] || { echo "cfgbench: no $plugin" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/wide" "$tmp/wide-ref" "$tmp/deep"
awk 'BEGIN { print "[t]"; for (i = 0; i < 100000; i++) printf "k%d = %d\n", i, i }' > "$tmp/wide/config.defaults.toml"
awk 'BEGIN { print "[t]"; print "k0 = \"base\""; for (i = 1; i < 100000; i++) printf "k%d = \"{{config.t.k0}}-%d\"\n", i, i }' \
  > "$tmp/wide-ref/config.defaults.toml"
awk 'BEGIN { c = ""; for (j = 0; j < 254; j++) c = c "p" j ".";
             for (i = 0; i < 1000; i++) printf "%sk%d = %d\n", c, i, i; print "[limits]"; print "depth = 512" }' \
  > "$tmp/deep/config.defaults.toml"
deep_key=$(awk 'BEGIN { c = ""; for (j = 0; j < 254; j++) c = c "p" j "."; printf "%sk999", c }')

# name | workspace | key | target ms
cases=("wide|$tmp/wide|t.k99999|1000"
       "wide-ref|$tmp/wide-ref|t.k99999|1000"
       "deep|$tmp/deep|$deep_key|1000"
       "small|$root/examples|project.name|—")
declare -A ms
for c in "${cases[@]}"; do
  IFS='|' read -r name ws key target <<<"$c"
  echo "cfgbench: $name" >&2
  ms[$name]=$(cd "$ws" && "$nu" -n --plugins "[$plugin]" -c "
    prov config get '$key' | ignore
    let times = (1..$rounds | each {|_| let t = (date now); prov config get '$key' | ignore; ((date now) - \$t) / 1ms })
    \$times | math median | math round --precision 1
  ")
done

verdict() { [[ $2 == — ]] && { echo —; return; }; awk -v a="$1" -v t="$2" 'BEGIN { print (a < t ? "met" : "missed") }'; }
table="| configuration | load (median of $rounds) | target |
|---|---|---|
| one table of 100,000 keys | ${ms[wide]} ms | < 1000 ms ($(verdict "${ms[wide]}" 1000)) |
| one table of 100,000 keys, each a placeholder | ${ms[wide-ref]} ms | < 1000 ms ($(verdict "${ms[wide-ref]}" 1000)) |
| 1,000 keys of 255 parts | ${ms[deep]} ms | < 1000 ms ($(verdict "${ms[deep]}" 1000)) |
| the example workspace | ${ms[small]} ms | — |"
echo "$table"
if [[ -n $markdown ]]; then
  if grep -q '<!-- cfgbench:begin -->' "$markdown" 2>/dev/null; then
    python3 - "$markdown" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
a = text.index('<!-- cfgbench:begin -->') + len('<!-- cfgbench:begin -->')
b = text.index('<!-- cfgbench:end -->')
open(path, 'w').write(text[:a] + '\n' + table + '\n' + text[b:])
PY
  else
    printf '\n<!-- cfgbench:begin -->\n%s\n<!-- cfgbench:end -->\n' "$table" >> "$markdown"
  fi
fi
