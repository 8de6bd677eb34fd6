#!/usr/bin/env bash
# Plugin benchmarks: what a call to nu_plugin_provisioning costs, against the floor (the
# library-free bench/responder plugin) and a Nu custom command; and what loading it adds to a
# cold `nu -c`. Prints figures and ratios against the targets; asserts nothing.
#
# Usage: bench/run.sh [BUILD_DIR] [NU] [--rounds N] [--calls N] [--cold-runs N] [--markdown FILE]
#                     [--no-workflow]
#   BUILD_DIR  holds bin/nu_plugin_provisioning and bin/nu_plugin_responder (default: ./build)
#   NU         the real nu binary, not a node wrapper (default: the pinned one in node_modules)
#   --rounds   how many times each per-call loop runs; medians are reported (default 5)
#   --calls    calls per loop (default 10000)
#   --cold-runs  runs of each cold start (default 60)
#   --markdown FILE  also write the figures as markdown: if FILE has the markers
#              <!-- bench:begin --> and <!-- bench:end -->, only the text between them is
#              replaced (so `--markdown docs/BENCHMARKS.md` updates the doc), else FILE is
#              overwritten with the figures alone.
#   --no-workflow  skip the workflow benchmarks (bench/workflow_bench.sh), which otherwise run
#              last with the same BUILD_DIR, NU and --markdown (about 1.5 minutes more)
#
# Per call: each loop runs inside one nu process, timed with `date now` around the loop only,
# after one untimed call has started the plugin. Cold start: the wall time of whole `nu -n -c`
# processes, timed from bash with $EPOCHREALTIME (a builtin: no clock process to fork).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/args.sh
source "$root/bench/args.sh"
build=""
nu=""
rounds=5
calls=10000
cold_runs=60
markdown=""
workflow=1
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --calls) calls=$2; shift 2 ;;
    --cold-runs) cold_runs=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --no-workflow) workflow=0; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench: unknown option $1" >&2; exit 2 ;;
    *) bench_positional "bench" "$1"; shift ;;
  esac
done
bench_defaults
[[ -d $build ]] || { echo "bench: no build directory $build" >&2; exit 1; }
build=$(cd "$build" && pwd)
responder=$build/bin/nu_plugin_responder
plugin=$build/bin/nu_plugin_provisioning

[[ -x $nu ]] || { echo "bench: no nu at $nu" >&2; exit 1; }
if [[ $(head -c4 "$nu" | od -An -c | tr -d ' ') != '177ELF' ]]; then
  echo "bench: warning: $nu is not an ELF binary (a node wrapper?); start-up figures will include it" >&2
fi
[[ -x $responder ]] || { echo "bench: no $responder; build the nu_plugin_responder target first" >&2; exit 1; }
have_plugin=1
[[ -x $plugin ]] || { have_plugin=0; echo "bench: no $plugin yet; measuring the floor and baseline only" >&2; }

[[ -n ${EPOCHREALTIME:-} ]] || { echo "bench: needs bash 5 or later (\$EPOCHREALTIME)" >&2; exit 1; }
nu_version=$("$nu" -n -c 'version | get version')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A Nu list literal naming one plugin, safe for paths with spaces.
plugins_arg() { printf '["%s"]' "$1"; }

# Runs a command with PROVISIONING_PLUGIN_ENCODING set to $1, or unset if $1 is empty; no extra
# exec, so nothing but the command lands inside a measurement.
with_encoding() (
  if [[ -n $1 ]]; then export PROVISIONING_PLUGIN_ENCODING=$1; else unset PROVISIONING_PLUGIN_ENCODING; fi
  shift
  exec "$@"
)

# Runs `nu -n` with the plugin $1 (or none) and the encoding $2 (or the default).
run_nu() {
  local plug=$1 enc=$2; shift 2
  local args=(-n)
  [[ -n $plug ]] && args+=(--plugins "$(plugins_arg "$plug")")
  with_encoding "$enc" "$nu" "${args[@]}" "$@"
}

# ---- per call -------------------------------------------------------------------------------
# name | plugin | encoding | setup and check (runs untimed first) | the call in the loop
# The same-answer floors: `responder version` answers the record `prov version` answers, in
# the same encoding, so each prov loop is compared with the loop of its encoding's floor.
variants=("baseline|||def f [] { 42 }; if (f) != 42 { exit 3 }|f"
          "floor|$responder||if (responder) != 42 { exit 3 }|responder")
for enc in msgpack json; do
  variants+=("floor_$enc|$responder|$enc|if (responder version).encoding != '$enc' { exit 3 }|responder version")
  if ((have_plugin)); then
    variants+=("prov_$enc|$plugin|$enc|if (prov version).encoding != '$enc' { exit 3 }|prov version")
  fi
done
if ((have_plugin)); then  # same answer, or the comparison is not like for like
  for enc in msgpack json; do
    same=$(with_encoding "$enc" "$nu" -n --plugins "[\"$responder\", \"$plugin\"]" -c '(responder version) == (prov version)')
    [[ $same == true ]] || { echo "bench: responder version and prov version answer different records ($enc)" >&2; exit 1; }
  done
fi


load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: ${#variants[@]} loops × $rounds rounds of $calls calls, then cold starts ($cold_runs runs each)" >&2
# Rounds interleave the variants so that drift in machine load spreads over all of them.
for ((r = 1; r <= rounds; r++)); do
  for v in "${variants[@]}"; do
    IFS='|' read -r name plug enc setup call <<<"$v"
    # Also the plugin's CPU time over the loop, all its threads (ns, from schedstat): what the
    # plugin itself spends per call, a figure that machine load moves much less than the loop's.
    script="$setup; let pid = (plugin list | where pid != null | get pid.0? | default 0)
      def cpu [] { if \$pid == 0 { 0 } else { ls /proc/(\$pid)/task | each {|t| open (\$t.name + /schedstat) | split row ' ' | first | into int } | math sum } }
      let c0 = (cpu); let t0 = (date now); for i in 1..$calls { $call }
      let ns = ((date now) - \$t0 | into int); print \$'(\$ns) ((cpu) - \$c0)'"
    if ! out=$(run_nu "$plug" "$enc" -c "$script"); then
      echo "bench: the $name loop failed (the plugin did not answer as expected)" >&2
      exit 1
    fi
    read -r ns cpu_ns <<<"$out"
    echo "$ns" >>"$tmp/$name"
    echo "$cpu_ns" >>"$tmp/cpu_$name"
  done
  echo "bench: round $r/$rounds done" >&2
done

declare -A per_call plugin_cpu  # name -> median loop time / calls, plugin CPU time / calls, µs
for v in "${variants[@]}"; do
  name=${v%%|*}
  per_call[$name]=$(median <"$tmp/$name" | awk -v n="$calls" '{ printf "%.1f", $1 / n / 1000 }')
  plugin_cpu[$name]=$(median <"$tmp/cpu_$name" | awk -v n="$calls" '{ printf "%.1f", $1 / n / 1000 }')
done
cost() { awk -v a="${per_call[$1]}" -v b="${per_call[baseline]}" 'BEGIN { printf "%.1f", a - b }'; }
ratio() { awk -v a="$(cost "$1")" -v b="$(cost "$2")" 'BEGIN { printf "%.2f", a / b }'; }  # name, floor
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { print (x <= t ? "within" : "over") }'; }

# ---- cold start -----------------------------------------------------------------------------
# Rounds interleave the commands (in rotating order) rather than running all runs of one and
# then the next, as hyperfine does: under the load of concurrent builds the plain `nu` start
# drifts by several ms within a minute, which would land in the differences.
# name | plugin | encoding | code
cold_specs=("nu|||version" "floor|$responder||responder")
if ((have_plugin)); then
  cold_specs+=("prov_msgpack|$plugin|msgpack|prov version" "prov_json|$plugin|json|prov version")
fi
for v in "${cold_specs[@]}"; do  # warm the page cache; untimed
  IFS='|' read -r name plug enc code <<<"$v"
  run_nu "$plug" "$enc" -c "$code" >/dev/null
done
for ((r = 0; r < cold_runs; r++)); do
  for ((k = 0; k < ${#cold_specs[@]}; k++)); do
    IFS='|' read -r name plug enc code <<<"${cold_specs[(k + r) % ${#cold_specs[@]}]}"
    t0=${EPOCHREALTIME//[.,]/}
    run_nu "$plug" "$enc" -c "$code" >/dev/null
    t1=${EPOCHREALTIME//[.,]/}
    echo $((t1 - t0)) >>"$tmp/cold_$name"
  done
done
declare -A cold  # name -> median ms
for v in "${cold_specs[@]}"; do
  name=${v%%|*}
  cold[$name]=$(median <"$tmp/cold_$name" | awk '{ printf "%.1f", $1 / 1000 }')
done
load_after=$(cut -d' ' -f1 /proc/loadavg)
extra() { awk -v a="${cold[$1]}" -v b="${cold[nu]}" 'BEGIN { printf "%+.1f", a - b }'; }

# ---- report ---------------------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
machine="$(nproc) × $cpu, $mem RAM, Linux $(uname -r); Nushell $nu_version; load average $load_before before, $load_after after"

# Rows: what | figure | cost or extra | ratio | target | verdict (tab-separated).
pc_rows=("custom command \`f\` (baseline)	${per_call[baseline]} µs	—	—	—	—	—"
         "\`responder\` (answers the Int 42)	${per_call[floor]} µs	$(cost floor) µs	${plugin_cpu[floor]} µs	—	—	—")
cold_rows=("\`nu -n -c 'version'\`	${cold[nu]} ms	—	—	—"
           "\`nu -n --plugins [responder] -c 'responder'\`	${cold[floor]} ms	$(extra floor) ms	—	—")
for enc in msgpack json; do
  label=MessagePack; [[ $enc == json ]] && label=JSON
  pc_rows+=("\`responder version\`, $label (floor)	${per_call[floor_$enc]} µs	$(cost "floor_$enc") µs	${plugin_cpu[floor_$enc]} µs	1.00×	—	—")
  if ((have_plugin)); then
    r=$(ratio "prov_$enc" "floor_$enc")
    pc_rows+=("\`prov version\`, $label	${per_call[prov_$enc]} µs	$(cost "prov_$enc") µs	${plugin_cpu[prov_$enc]} µs	${r}×	≤ 1.15×	$(verdict "$r" 1.15)")
  fi
done
if ((have_plugin)); then
  for enc in msgpack json; do
    label=MessagePack; [[ $enc == json ]] && label=JSON
    e=$(extra "prov_$enc")
    cold_rows+=("\`nu -n --plugins [prov] -c 'prov version'\`, $label	${cold[prov_$enc]} ms	$e ms	≤ +5 ms	$(verdict "${e#+}" 5)")
  done
else
  pc_rows+=("\`prov version\`	not built yet	—	—	—	≤ 1.15×	—")
  cold_rows+=("\`prov version\`	not built yet	—	≤ +5 ms	—")
fi

print_table() {  # widths... then rows on stdin
  local -a w=("$@")
  while IFS=$'\t' read -r -a cells; do
    local line="" i
    for i in "${!cells[@]}"; do
      local c=${cells[$i]//\`/}
      # printf pads by bytes; add back the bytes of multi-byte characters so columns line up.
      local pad=$((w[i] + $(printf '%s' "$c" | wc -c) - ${#c}))
      line+=$(printf "%-${pad}s  " "$c")
    done
    echo "${line%"${line##*[![:space:]]}"}"
  done
}

{
  echo
  echo "Plugin benchmarks — $machine"
  echo "Tree at $commit. Per call: median of $rounds loops of $calls calls inside one nu process, timed with \`date now\`;"
  echo "cost = (loop − custom-command loop) / $calls. Cold start: median of $cold_runs interleaved runs of each, timed with \$EPOCHREALTIME."
  echo
  printf '%s\n' "per call	loop / call	cost	plugin CPU	× floor	target	" "${pc_rows[@]}" | print_table 42 14 10 10 8 8 6
  echo
  printf '%s\n' "cold start	median	extra	target	" "${cold_rows[@]}" | print_table 56 14 10 8 6
  echo
}

md_table() {  # header row, then rows on stdin
  local header=$1
  echo "| ${header//	/ | } |"
  echo "|$(echo "$header" | awk -F'\t' '{ for (i = 1; i <= NF; i++) printf "---|" }')"
  while IFS= read -r row; do echo "| ${row//	/ | } |"; done
}

if [[ -n $markdown ]]; then
  section=$(
    echo "<!-- bench:begin -->"
    echo "Latest run: $(date -u +%Y-%m-%d), tree at \`$commit\`, by \`bench/run.sh\`."
    echo
    echo "Machine: $machine."
    echo
    echo "Per call (median of $rounds loops of $calls calls; cost = loop minus the custom-command loop, per call; plugin CPU = the plugin process's CPU time over the loop, all threads, per call):"
    echo
    printf '%s\n' "${pc_rows[@]}" | md_table "per call	loop / call	cost	plugin CPU / call	× floor	target	verdict"
    echo
    echo "Cold start (median of $cold_runs interleaved runs of each whole \`nu\` process, timed with bash's \`\$EPOCHREALTIME\`):"
    echo
    printf '%s\n' "${cold_rows[@]}" | md_table "cold start	median	extra over plain nu	target	verdict"
    echo "<!-- bench:end -->"
  )
  if [[ -f $markdown ]] && grep -q '<!-- bench:begin -->' "$markdown" && grep -q '<!-- bench:end -->' "$markdown"; then
    printf '%s\n' "$section" >"$tmp/section"
    awk -v f="$tmp/section" '
      /<!-- bench:begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
      /<!-- bench:end -->/ { skip = 0; next }
      !skip' "$markdown" >"$tmp/doc"
    cat "$tmp/doc" >"$markdown"
  else
    printf '%s\n' "$section" >"$markdown"
  fi
  echo "bench: figures written to $markdown" >&2
fi

# ---- workflows ------------------------------------------------------------------------------
if ((workflow && have_plugin)); then
  wf_args=("$build" "$nu")
  [[ -n $markdown ]] && wf_args+=(--markdown "$markdown")
  "$root/bench/workflow_bench.sh" "${wf_args[@]}"
fi
if ((have_plugin)); then "$root/bench/provider_bench.sh" "$build" "$nu"; fi
# ---- desired state: prov infra plan against server list, apply against creates -----------------
if ((have_plugin)); then "$root/bench/infra_bench.sh" "$build" "$nu"; fi
# ---- events: delivery latency and the runner's idle CPU ---------------------------------------
if ((have_plugin)); then
  ev_args=("$build" "$nu")
  [[ -n $markdown ]] && ev_args+=(--markdown "$markdown")
  "$root/bench/event_bench.sh" "${ev_args[@]}"
fi
# ---- the etcd store: the DAG against the file store and ninja, takeover against the lease -------
if ((have_plugin)); then
  etcd_args=("$build" "$nu")
  [[ -n $markdown ]] && etcd_args+=(--markdown "$markdown")
  "$root/bench/etcd_bench.sh" "${etcd_args[@]}"
fi
# ---- the HTTP service under load ------------------------------------------------------------------
if ((have_plugin)); then
  svc_args=("$build" "$nu")
  [[ -n $markdown ]] && svc_args+=(--markdown "$markdown")
  "$root/bench/service_bench.sh" "${svc_args[@]}"
fi
# ---- configuration loading: wide tables and deep keys -----------------------------------------
if ((have_plugin)); then
  cfg_args=("$build" "$nu")
  [[ -n $markdown ]] && cfg_args+=(--markdown "$markdown")
  "$root/bench/config_bench.sh" "${cfg_args[@]}"
fi
