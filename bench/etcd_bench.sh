#!/usr/bin/env bash
# The etcd store's benchmarks: the 2000-command DAG of bench/workflow_bench.sh run on the etcd
# store (a 1-member cluster this script starts on free loopback ports, and stops) against the
# file store and `ninja -j8`; and how long another host's agent takes to take over a workflow
# whose runner was killed, against the lease TTL. Prints seconds and ratios; asserts nothing.
#
# Usage: bench/etcd_bench.sh [BUILD_DIR] [NU] [--runs N] [--markdown FILE]
#   BUILD_DIR  holds bin/nu_plugin_provisioning (default: ./build)
#   NU         the real nu binary (default: the pinned one in node_modules)
#   --runs     runs of each measurement; medians are reported (default 3)
#   --markdown FILE  also write the figures between <!-- etcdbench:begin --> and
#              <!-- etcdbench:end --> of FILE, else append them to FILE
#
# 1. run: the DAG (bench/workflow/gen_dag.py, fixed seed) as `prov workflow run wf.json
#    --parallel 8` through nu in a fresh workspace on the file store, the same on the etcd
#    store (a fresh key prefix each run), and as `ninja -j8`; runs interleaved.
# 2. takeover: host A submits a chain of 1-second operations; once its first operation is
#    done its runner is SIGKILLed; an agent already runs on host B (another copy of the
#    workspace). Timed from the kill until the claim key in etcd names another runner (polled
#    with etcdctl every 20 ms), for lease TTLs of 2 s and 5 s. What it adds to the TTL: the
#    agent's grace (2 s: a workflow must be seen without a holder that long) and its scan
#    interval (0.5 s).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/args.sh
source "$root/bench/args.sh"
build=""
nu=""
runs=3
markdown=""
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "etcdbench: unknown option $1" >&2; exit 2 ;;
    *) bench_positional "etcdbench" "$1"; shift ;;
  esac
done
bench_defaults
build=$(cd "$build" && pwd)
plugin=$build/bin/nu_plugin_provisioning
gen=$root/bench/workflow/gen_dag.py
fail() { echo "etcdbench: $*" >&2; exit 1; }
[[ -x $nu ]] || fail "no nu at $nu"
[[ -x $plugin ]] || fail "no $plugin; build nu_plugin_provisioning first"
for t in etcd etcdctl python3; do command -v "$t" >/dev/null || fail "$t is missing (tools/setup.sh installs it)"; done
have_ninja=1
command -v ninja >/dev/null || { have_ninja=0; echo "etcdbench: ninja is MISSING; its comparison is left out (apt-get install ninja-build)" >&2; }

tmp=$(mktemp -d)
etcd_pid=""
agent_pid=""
cleanup() {
  [[ -n $agent_pid ]] && kill -9 "$agent_pid" 2>/dev/null || true
  [[ -n $etcd_pid ]] && kill -9 "$etcd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
plugins_arg="[\"$plugin\"]"
prov_nu() { "$nu" -n --plugins "$plugins_arg" "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- the 1-member cluster ------------------------------------------------------------------------
client=$(free_port)
peer=$(free_port)
endpoint=http://127.0.0.1:$client
etcd --name bench --data-dir "$tmp/etcd" --listen-client-urls "$endpoint" --advertise-client-urls "$endpoint" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "bench=http://127.0.0.1:$peer" --log-level error >"$tmp/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do
  etcdctl --endpoints "$endpoint" put /bench/ready 1 >/dev/null 2>&1 && break
  sleep 0.1
done
etcdctl --endpoints "$endpoint" put /bench/ready 1 >/dev/null || fail "etcd did not start: $(cat "$tmp/etcd.log")"
ctl() { etcdctl --endpoints "$endpoint" "$@"; }

# A workspace folder on the file store (`file`) or on the etcd store under prefix $3 with lease TTL $4.
workspace() {  # dir kind [prefix ttl]
  mkdir -p "$1"
  if [[ $2 == file ]]; then : >"$1/config.defaults.toml"; return; fi
  printf '[project]\nname = "bench"\n[state]\nbackend = "etcd"\n[state.etcd]\nendpoints = ["%s"]\nprefix = "%s"\nlease_ttl = "%s"\n' \
    "$endpoint" "$3" "$4" >"$1/config.defaults.toml"
}

# ---- 1. the 2000-command DAG -----------------------------------------------------------------------
n_run=2000
read -r _ run_edges < <(python3 "$gen" $n_run "$tmp/dag")
echo "etcdbench: 1/2 run: $n_run commands, $run_edges edges; $runs interleaved runs" >&2
run_prov() {  # dir
  (cd "$1" && prov_nu -c 'let ev = (prov workflow run wf.json --parallel 8)
    let last = ($ev | last)
    if $last.type != "workflow_completed" { print -e ($last | to json -r); exit 3 }
    print $last.succeeded')
}
tools=(file etcd)
((have_ninja)) && tools+=(ninja)
for ((r = 0; r < runs; r++)); do
  for ((k = 0; k < ${#tools[@]}; k++)); do
    t=${tools[(k + r) % ${#tools[@]}]}
    d=$tmp/run-$t-$r
    case $t in
      file) workspace "$d" file; cp "$tmp/dag/wf.json" "$d/" ;;
      etcd) workspace "$d" etcd "/bench/run-$r" 10s; cp "$tmp/dag/wf.json" "$d/" ;;
      ninja) mkdir -p "$d"; cp "$tmp/dag/build.ninja" "$d/" ;;
    esac
    t0=$(now_us)
    if [[ $t == ninja ]]; then
      count=$( (cd "$d" && ninja -j8) | grep -c '^\[[0-9]*/[0-9]*\]')
    else
      count=$(run_prov "$d") || fail "prov on the $t store failed"
    fi
    t1=$(now_us)
    [[ $count == "$n_run" ]] || fail "$t ran $count commands, not $n_run"
    echo $((t1 - t0)) >>"$tmp/run_$t"
  done
done

# ---- 2. takeover after a runner's death ---------------------------------------------------------
echo "etcdbench: 2/2 takeover: lease TTL 2 s and 5 s, $runs runs each" >&2
chain='{name: chain, operations: (1..30 | each {|i| {id: $"op($i)", kind: command, run: [sleep "1"], depends_on: (if $i == 1 { [] } else { [$"op($i - 1)"] })} })}'
for ttl in 2 5; do
  for ((r = 0; r < runs; r++)); do
    prefix=/bench/takeover-$ttl-$r
    a=$tmp/a-$ttl-$r b=$tmp/b-$ttl-$r
    workspace "$a" etcd "$prefix" "${ttl}s"
    workspace "$b" etcd "$prefix" "${ttl}s"
    "$plugin" agent --workspace "$b" --name "bench-b" >"$tmp/agent.log" 2>&1 &
    agent_pid=$!
    id=$(cd "$a" && prov_nu -c "$chain | prov workflow submit | get workflow_id")
    claim_key=$prefix/workflows/$id/claim
    runner=$(ctl get "$claim_key" --print-value-only | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
    sleep 1.2
    t0=$(now_us)
    kill -9 "$runner"
    while :; do
      holder=$(ctl get "$claim_key" --print-value-only | python3 -c 'import json, sys
t = sys.stdin.read().strip()
print(json.loads(t)["pid"] if t else "")')
      [[ -n $holder && $holder != "$runner" ]] && break
      (($(now_us) - t0 < 60000000)) || fail "no agent took over within 60 s: $(cat "$tmp/agent.log")"
      sleep 0.02
    done
    t1=$(now_us)
    echo $((t1 - t0)) >>"$tmp/takeover_$ttl"
    (cd "$a" && prov_nu -c "prov workflow cancel $id | ignore; prov workflow wait $id | ignore") >/dev/null 2>&1 || true
    kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
    agent_pid=""
  done
done

# ---- report ------------------------------------------------------------------------------------
secs() { [[ -s $tmp/$1 ]] && median <"$tmp/$1" | awk '{ printf "%.2f", $1 / 1e6 }' || echo "—"; }
ratio() { [[ $1 != "—" && $2 != "—" ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }' || echo "—"; }
s_file=$(secs run_file); s_etcd=$(secs run_etcd); s_ninja=$(secs run_ninja)
s_t2=$(secs takeover_2); s_t5=$(secs takeover_5)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
machine="$(nproc) × $cpu, Linux $(uname -r); $(etcd --version | sed -n 1p); ninja $( ((have_ninja)) && ninja --version || echo missing); load average $(cut -d' ' -f1 /proc/loadavg) at the end"
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
rows1=("\`prov workflow run\` on the etcd store (1 member)	$s_etcd s	etcd ÷ file = $(ratio "$s_etcd" "$s_file"); etcd ÷ ninja = $(ratio "$s_etcd" "$s_ninja")"
       "\`prov workflow run\` on the file store	$s_file s	file ÷ ninja = $(ratio "$s_file" "$s_ninja")"
       "\`ninja -j8\`	$s_ninja s	1.00×")
rows2=("lease TTL 2 s	$s_t2 s	takeover ÷ TTL = $(ratio "$s_t2" 2)"
       "lease TTL 5 s	$s_t5 s	takeover ÷ TTL = $(ratio "$s_t5" 5)")
{
  echo
  echo "etcd store benchmarks — $machine; tree at $commit; median of $runs runs"
  echo "1. Running one DAG of $n_run \`true\` commands, $run_edges edges, --parallel 8 / -j8:"
  printf '  %s\n' "${rows1[@]}" | column -t -s$'\t' -o '   '
  echo "2. From SIGKILL of a runner to another host's agent holding its workflow:"
  printf '  %s\n' "${rows2[@]}" | column -t -s$'\t' -o '   '
} | sed 's/`//g'
md_table() {
  echo "| $1 | median | ratio |"
  echo "|---|---|---|"
  while IFS= read -r row; do echo "| ${row//	/ | } |"; done
}
if [[ -n $markdown ]]; then
  section=$(
    echo "<!-- etcdbench:begin -->"
    echo "Latest run: $(date -u +%Y-%m-%d), tree at \`$commit\`, by \`bench/etcd_bench.sh\`. Machine: $machine. Median of $runs runs."
    echo
    echo "1\\. One DAG of $n_run \`true\` commands with $run_edges edges (the one of the workflow benchmarks):"
    echo
    printf '%s\n' "${rows1[@]}" | md_table "what"
    echo
    echo "2\\. From SIGKILL of a workflow's runner on host A to an agent on host B holding it:"
    echo
    printf '%s\n' "${rows2[@]}" | md_table "lease"
    echo "<!-- etcdbench:end -->"
  )
  bench_markdown_section etcdbench "$markdown" "$section"
  echo "etcdbench: figures written to $markdown" >&2
fi
