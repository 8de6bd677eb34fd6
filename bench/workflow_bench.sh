#!/usr/bin/env bash
# Workflow benchmarks: running and planning DAGs with `prov workflow`, against ninja, make and
# coreutils tsort on the very same DAG, and against Nu reading the same JSON. Prints seconds and
# ratios against the targets; asserts nothing.
#
# Usage: bench/workflow_bench.sh [BUILD_DIR] [NU] [--runs N] [--plan-core FILE] [--markdown FILE]
#   BUILD_DIR  holds bin/nu_plugin_provisioning, and bin/prov_plan_core for the core's own
#              planning time (optional; a target in bench/CMakeLists.txt) (default: ./build)
#   NU         the real nu binary (default: the pinned one in node_modules)
#   --runs     runs of each measurement; medians are reported (default 3)
#   --plan-core FILE  the prov_plan_core binary (default: BUILD_DIR/bin/prov_plan_core)
#   --markdown FILE  also write the figures as markdown between the markers
#              <!-- wfbench:begin --> and <!-- wfbench:end --> of FILE (so
#              `--markdown docs/BENCHMARKS.md` updates the doc), else append them to FILE
#              (bench/run.sh --markdown FILE writes its own figures there first).
#
# 1. run: one random DAG of 2000 `true` commands (bench/workflow/gen_dag.py, fixed seed, each
#    operation depends on 0-3 earlier ones), as a workflow, a build.ninja and a Makefile.
#    `prov workflow run wf.json --parallel 8` through nu (whole process, journal on, in a fresh
#    workspace each run) against `ninja -j8` and `make -j8` (fresh directory each run).
#    Every timed run counts the commands it ran; an untimed check run per tool makes every
#    command test its dependencies' outputs and create its own, then counts the files.
# 2. plan 200,000 operations, ~1,000,000 edges (0-10 deps each): `prov workflow plan | length`
#    through nu (so it includes nu decoding the 200,000-row plan) against `tsort` on the edges.
# 3. plan 100,000 operations (0-3 deps each) through nu against `open wf.json | get operations
#    | length` in nu.
# Wall times of whole processes, timed from bash with $EPOCHREALTIME; runs are interleaved.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/args.sh
source "$root/bench/args.sh"
build=""
nu=""
runs=3
markdown=""
plan_core=""
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --plan-core) plan_core=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "wfbench: unknown option $1" >&2; exit 2 ;;
    *) bench_positional "wfbench" "$1"; shift ;;
  esac
done
bench_defaults
[[ -d $build ]] || { echo "wfbench: no build directory $build" >&2; exit 1; }
build=$(cd "$build" && pwd)
plugin=$build/bin/nu_plugin_provisioning
plan_core=${plan_core:-$build/bin/prov_plan_core}
gen=$root/bench/workflow/gen_dag.py

[[ -x $nu ]] || { echo "wfbench: no nu at $nu" >&2; exit 1; }
[[ -x $plugin ]] || { echo "wfbench: no $plugin; build nu_plugin_provisioning first" >&2; exit 1; }
[[ -n ${EPOCHREALTIME:-} ]] || { echo "wfbench: needs bash 5 or later (\$EPOCHREALTIME)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "wfbench: python3 is missing; it writes the DAGs" >&2; exit 1; }
# The tools compared against: a missing one is reported and its comparison left out.
declare -A have
for t in ninja make tsort; do
  if command -v "$t" >/dev/null; then have[$t]=1
  else have[$t]=0; echo "wfbench: $t is MISSING; its comparison is left out (e.g. apt-get install ninja-build / make / coreutils)" >&2
  fi
done
have_core=0
[[ -x $plan_core ]] && have_core=1 ||
  echo "wfbench: no $plan_core (target prov_plan_core); the core's own planning time is left out" >&2

nu_version=$("$nu" -n -c 'version | get version')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plugins_arg="[\"$plugin\"]"
prov_nu() { "$nu" -n --plugins "$plugins_arg" "$@"; }
fail() { echo "wfbench: $*" >&2; exit 1; }
# A fresh directory holding the given files, and for prov an empty config.defaults.toml so that
# it is the workspace (the journal goes to its .provisioning/).
fresh() {
  local d; d=$(mktemp -d "$tmp/run.XXXXXX")
  cp "$@" "$d/"
  : >"$d/config.defaults.toml"
  echo "$d"
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
t_start=$(now_us)

# ---- 1. running a 2000-command DAG -----------------------------------------------------------
n_run=2000
read -r _ run_edges < <(python3 "$gen" $n_run "$tmp/dag")
python3 "$gen" $n_run "$tmp/check" --check >/dev/null
echo "wfbench: 1/3 run: $n_run commands, $run_edges edges; $runs interleaved runs of each tool" >&2

# Each runner prints the number of commands it ran; the caller times it.
run_prov() {  # dir
  (cd "$1" && prov_nu -c 'let ev = (prov workflow run wf.json --parallel 8)
    let last = ($ev | last)
    if $last.type != "workflow_completed" { print -e ($last | to json -r); exit 3 }
    print $"($ev | where type == operation_started | length) ($last.succeeded)"') |
    awk -v n=$n_run '{ if ($1 != $2) { print "started " $1 " but succeeded " $2 > "/dev/stderr"; exit 1 } print $1 }'
}
run_ninja() { (cd "$1" && ninja -j8) | grep -c '^\[[0-9]*/[0-9]*\]'; }  # one status line per command
run_make() { (cd "$1" && make -j8 all) | grep -c -v '^make'; }  # make echoes each recipe it runs

tools=(prov)
((have[ninja])) && tools+=(ninja)
((have[make])) && tools+=(make)
declare -A src=([prov]=wf.json [ninja]=build.ninja [make]=Makefile)
for ((r = 0; r < runs; r++)); do
  for ((k = 0; k < ${#tools[@]}; k++)); do
    t=${tools[(k + r) % ${#tools[@]}]}
    d=$(fresh "$tmp/dag/${src[$t]}")
    t0=$(now_us)
    count=$("run_$t" "$d") || fail "$t failed on the DAG"
    t1=$(now_us)
    [[ $count == "$n_run" ]] || fail "$t ran $count commands, not $n_run"
    echo $((t1 - t0)) >>"$tmp/run_$t"
    # The directory stays until the end: on ext4, creating files soon after thousands were
    # deleted is slow (the inode allocator skips recently deleted inodes), and prov creates a
    # log file per operation, so deleting here would slow down the next prov run (by 0.5-0.9 s
    # in a trial), and not the other tools.
  done
done
# Check runs, untimed: every command tests that its dependencies' outputs exist, then creates
# its own; afterwards the files are counted. A command started too early fails the run.
declare -A checked
for t in "${tools[@]}"; do
  d=$(fresh "$tmp/check/${src[$t]}")
  case $t in
    prov) (cd "$d" && prov_nu -c 'prov workflow run wf.json --parallel 8 | last | get type') >"$tmp/out" 2>&1 &&
            grep -q workflow_completed "$tmp/out" || fail "the prov check run failed: $(cat "$tmp/out")" ;;
    ninja) (cd "$d" && ninja -j8 >"$tmp/out" 2>&1) || fail "the ninja check run failed" ;;
    make) (cd "$d" && make -j8 all >"$tmp/out" 2>&1) || fail "the make check run failed" ;;
  esac
  checked[$t]=$(find "$d" -maxdepth 1 -name 'o[0-9]*' | wc -l)
  [[ ${checked[$t]} == "$n_run" ]] || fail "the $t check run created ${checked[$t]} files, not $n_run"
  rm -rf "$d"
done

# ---- 2. planning 200,000 operations against tsort --------------------------------------------
n_big=200000
read -r _ big_edges < <(python3 "$gen" $n_big "$tmp/big" --max-deps 10 --formats json,tsort)
: >"$tmp/big/config.defaults.toml"
echo "wfbench: 2/3 plan: $n_big operations, $big_edges edges" >&2
plan_len() {  # dir file
  (cd "$1" && prov_nu -c "prov workflow plan $2 | length")
}
for ((r = 0; r < runs; r++)); do
  if ((have[tsort])); then
    t0=$(now_us); c=$(tsort "$tmp/big/edges.txt" | wc -l); t1=$(now_us)
    [[ $c == "$n_big" ]] || fail "tsort put out $c nodes, not $n_big"
    echo $((t1 - t0)) >>"$tmp/big_tsort"
  fi
  t0=$(now_us); c=$(plan_len "$tmp/big" wf.json); t1=$(now_us)
  [[ $c == "$n_big" ]] || fail "prov workflow plan gave $c rows, not $n_big"
  echo $((t1 - t0)) >>"$tmp/big_prov"
  if ((have_core)); then
    "$plan_core" "$tmp/big/wf.json" >>"$tmp/big_core" || fail "prov_plan_core failed"
  fi
done

# ---- 3. planning 100,000 operations against reading them in nu -------------------------------
n_mid=100000
read -r _ mid_edges < <(python3 "$gen" $n_mid "$tmp/mid" --formats json)
: >"$tmp/mid/config.defaults.toml"
echo "wfbench: 3/3 plan: $n_mid operations, $mid_edges edges, against nu's open" >&2
for ((r = 0; r < runs; r++)); do
  t0=$(now_us); c=$(cd "$tmp/mid" && "$nu" -n -c 'open wf.json | get operations | length'); t1=$(now_us)
  [[ $c == "$n_mid" ]] || fail "open gave $c operations, not $n_mid"
  echo $((t1 - t0)) >>"$tmp/mid_open"
  t0=$(now_us); c=$(plan_len "$tmp/mid" wf.json); t1=$(now_us)
  [[ $c == "$n_mid" ]] || fail "prov workflow plan gave $c rows, not $n_mid"
  echo $((t1 - t0)) >>"$tmp/mid_prov"
  if ((have_core)); then
    "$plan_core" "$tmp/mid/wf.json" >>"$tmp/mid_core" || fail "prov_plan_core failed"
  fi
done
# The plugin's memory for that plan: its peak resident size (VmHWM) and what stays resident
# once the stream is done (VmRSS), in MB, read from /proc in the same nu session.
mem=$(cd "$tmp/mid" && prov_nu -c 'prov version | ignore
  let pid = (plugin list | where name == provisioning | first | get pid)
  prov workflow plan wf.json | length | ignore
  sleep 100ms
  open $"/proc/($pid)/status" | lines | parse --regex "^(?<k>VmHWM|VmRSS):\\s+(?<v>\\d+) kB" | each {|r| ($r.v | into int) / 1024 | math round } | str join " "')
read -r peak_mb after_mb <<<"$mem"
t_end=$(now_us)
load_after=$(cut -d' ' -f1 /proc/loadavg)

# ---- report ----------------------------------------------------------------------------------
secs() { [[ -s $tmp/$1 ]] && median <"$tmp/$1" | awk '{ printf "%.2f", $1 / 1e6 }' || echo "—"; }
ratio() { [[ $1 != "—" && $2 != "—" ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }' || echo "—"; }
verdict() { [[ $1 != "—" ]] && awk -v x="${1%×}" -v t="$2" 'BEGIN { print (x <= t ? "within" : "over") }' || echo "—"; }
core_col() {  # file column -> median ms
  [[ -s $tmp/$1 ]] && awk -v c="$2" '{ print $c }' "$tmp/$1" | median | awk '{ printf "%.0f ms", $1 }' || echo "—"
}
missing() { ((have[$1])) && echo "" || echo " (MISSING)"; }

s_prov=$(secs run_prov); s_ninja=$(secs run_ninja); s_make=$(secs run_make)
s_bigp=$(secs big_prov); s_tsort=$(secs big_tsort)
s_midp=$(secs mid_prov); s_open=$(secs mid_open)
r_ninja=$(ratio "$s_prov" "$s_ninja"); r_make=$(ratio "$s_prov" "$s_make")
r_tsort=$(ratio "$s_bigp" "$s_tsort"); r_open=$(ratio "$s_midp" "$s_open")

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
tool_versions="ninja $( ((have[ninja])) && ninja --version || echo missing), $( ((have[make])) && make --version | sed -n 1p || echo 'make missing'), $( ((have[tsort])) && tsort --version | sed -n 1p || echo 'tsort missing')"
machine="$(nproc) × $cpu, $mem RAM, Linux $(uname -r); Nushell $nu_version; $tool_versions; load average $load_before before, $load_after after"
total_s=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')

# Rows: what | seconds | ratio | target | verdict (tab-separated).
rows1=("\`prov workflow run wf.json --parallel 8\` (through nu, journal on)	$s_prov s	1.00×	—	—"
       "\`ninja -j8\`$(missing ninja)	$s_ninja s	prov ÷ ninja = $r_ninja	≤ 1.0×	$(verdict "$r_ninja" 1.0)"
       "\`make -j8\`$(missing make)	$s_make s	prov ÷ make = $r_make	—	—")
rows2=("\`prov workflow plan wf.json | length\` (through nu)	$s_bigp s	prov ÷ tsort = $r_tsort	≤ 1.0×	$(verdict "$r_tsort" 1.0)"
       "\`tsort edges.txt\`$(missing tsort)	$s_tsort s	1.00×	—	—")
rows3=("\`prov workflow plan wf.json | length\` (through nu)	$s_midp s	prov ÷ open = $r_open	≤ 1.0×	$(verdict "$r_open" 1.0)"
       "\`open wf.json | get operations | length\`	$s_open s	1.00×	—	—"
       "the plugin's peak resident memory during that plan	${peak_mb:-—} MB	—	≤ 50 MB	$([[ -n ${peak_mb:-} ]] && ((peak_mb <= 50)) && echo within || echo over)"
       "the plugin's resident memory after it	${after_mb:-—} MB	—	—	—")
core_line=""
if ((have_core)); then
  core_line="The core alone (\`prov_plan_core\`: read + validate/build the DAG + plan, no nu, no protocol, median of $runs): 200,000 operations $(core_col big_core 4) ($(core_col big_core 1) read, $(core_col big_core 2) validate, $(core_col big_core 3) plan); 100,000 operations $(core_col mid_core 4) ($(core_col mid_core 1) read, $(core_col mid_core 2) validate, $(core_col mid_core 3) plan)."
fi

{
  echo
  echo "Workflow benchmarks — $machine"
  echo "Tree at $commit. Median of $runs interleaved runs of each whole process, timed with \$EPOCHREALTIME; whole run ${total_s} s."
  echo
  echo "1. Running one DAG of $n_run \`true\` commands, $run_edges edges (check runs created ${checked[prov]:-?}/${checked[ninja]:--}/${checked[make]:--} files: prov/ninja/make):"
  printf '  %s\n' "${rows1[@]}" | column -t -s$'\t' -o '   '
  echo "2. Planning $n_big operations, $big_edges edges:"
  printf '  %s\n' "${rows2[@]}" | column -t -s$'\t' -o '   '
  echo "3. Planning $n_mid operations, $mid_edges edges, against reading the file in nu:"
  printf '  %s\n' "${rows3[@]}" | column -t -s$'\t' -o '   '
  [[ -n $core_line ]] && echo "$core_line"
  echo
} | sed 's/`//g'

md_table() {
  echo "| what | median | ratio | target | verdict |"
  echo "|---|---|---|---|---|"
  while IFS= read -r row; do row=${row//|/\\|}; echo "| ${row//	/ | } |"; done
}
if [[ -n $markdown ]]; then
  section=$(
    echo "<!-- wfbench:begin -->"
    echo "Latest run: $(date -u +%Y-%m-%d), tree at \`$commit\`, by \`bench/workflow_bench.sh\` (whole run ${total_s} s)."
    echo
    echo "Machine: $machine."
    echo
    echo "Median of $runs interleaved runs of each whole process, timed with bash's \`\$EPOCHREALTIME\`."
    echo
    echo "1\\. Running one DAG of $n_run \`true\` commands with $run_edges edges; the check runs created ${checked[prov]:-?} (prov), ${checked[ninja]:--} (ninja) and ${checked[make]:--} (make) files of $n_run:"
    echo
    printf '%s\n' "${rows1[@]}" | md_table
    echo
    echo "2\\. Planning $n_big operations with $big_edges edges (prov's figure includes nu decoding the $n_big-row plan):"
    echo
    printf '%s\n' "${rows2[@]}" | md_table
    echo
    echo "3\\. Planning $n_mid operations with $mid_edges edges, against nu reading the same file:"
    echo
    printf '%s\n' "${rows3[@]}" | md_table
    if [[ -n $core_line ]]; then echo; echo "$core_line"; fi
    echo "<!-- wfbench:end -->"
  )
  bench_markdown_section wfbench "$markdown" "$section"
  echo "wfbench: figures written to $markdown" >&2
fi
