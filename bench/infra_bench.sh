#!/usr/bin/env bash
# Desired-state benchmark. (1) `prov infra plan` of N declared servers (default 1,000) that a
# provider knows and the workspace manages, every one noop, against `prov server list` of the
# same servers: the plan should cost little more than reading them. (2) `prov infra apply` of M
# local servers (default 50) against M `prov server create` calls in a loop, in one nu session.
# Prints medians and ratios; asserts nothing.
#
# Usage: bench/infra_bench.sh [BUILD_DIR] [NU] [--servers N] [--local M] [--rounds R]
#   BUILD_DIR  holds bin/nu_plugin_provisioning (default: ./build)
#   NU         the real nu binary (default: the pinned one in node_modules)
#
# The provider of (1) is the example Nu-module provider (examples/providers/folder), its
# servers created and imported (`prov infra import`) before anything is timed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/args.sh
source "$root/bench/args.sh"
build=""
nu=""
servers=1000
local_servers=50
rounds=5
while (($#)); do
  case "$1" in
    --servers) servers=$2; shift 2 ;;
    --local) local_servers=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "infra bench: unknown option $1" >&2; exit 2 ;;
    *) bench_positional "infra bench" "$1"; shift ;;
  esac
done
bench_defaults
plugin=$(cd "$build" && pwd)/bin/nu_plugin_provisioning
[[ -x $plugin ]] || { echo "infra bench: no $plugin" >&2; exit 1; }
[[ -x $nu ]] || { echo "infra bench: no nu at $nu" >&2; exit 1; }

tmp=$(mktemp -d)
ws=$tmp/ws
cleanup() {
  for w in "$tmp/ws" "$tmp/ws2"; do
    [[ -d $w ]] || continue
    (cd "$w" && "$nu" -n --plugins "[\"$plugin\"]" -c 'prov server list | each { prov server delete $in.id } | ignore' \
      >/dev/null 2>&1) || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$ws/providers"
cp -r "$root/examples/providers/folder" "$ws/providers/"
cat >"$ws/config.defaults.toml" <<'EOF'
[providers.folder]
timeout = "30s"
EOF
prov_nu() { (cd "$ws" && PROVISIONING_WORKSPACE="$ws" "$nu" -n --plugins "[\"$plugin\"]" -c "$1"); }

# (1) N folder servers, created and imported, and a definition that declares them as they are.
prov_nu "
  for i in 1..$servers {
    let s = ({name: \$'s(\$i)', plan: small} | prov server create --provider folder)
    prov infra import folder \$s.id --as \$'s(\$i)' | ignore
  }
  {servers: (1..$servers | reduce -f {} {|i, acc| \$acc | insert \$'s(\$i)' {provider: folder, plan: small} })} | to toml | save -f infra.toml
  let actions = (prov infra plan infra.toml | get action | uniq)
  if \$actions != [noop] { print -e \$'expected every server noop, got (\$actions)'; exit 3 }
"
# Median of R timed rounds of `code` inside one session (the first call, untimed, warms up).
median_ns() {
  prov_nu "
    $1 | ignore
    let times = (1..$rounds | each { let t0 = (date now); $1 | ignore; ((date now) - \$t0) | into int })
    print (\$times | math median | into int)"
}
plan_ns=$(median_ns "prov infra plan infra.toml | length")
list_ns=$(median_ns "prov server list --provider folder | length")

# (2) M local servers, in a workspace of their own (the first one's servers are not declared
# there: an apply would delete them): one apply against M creates.
ws=$tmp/ws2
mkdir -p "$ws"
touch "$ws/config.defaults.toml"
prov_nu "{servers: (1..$local_servers | reduce -f {} {|i, acc| \$acc | insert \$'l(\$i)' {command: [sleep 600]} })} | to toml | save -f local.toml"
apply_ns=$(prov_nu "
  let t0 = (date now)
  prov infra apply local.toml | ignore
  let t = (((date now) - \$t0) | into int)
  prov infra destroy | ignore
  print \$t")
create_ns=$(prov_nu "
  let t0 = (date now)
  for i in 1..$local_servers { prov server create \$'c(\$i)' --command [sleep 600] | ignore }
  let t = (((date now) - \$t0) | into int)
  prov server list | each { prov server delete \$in.id } | ignore
  print \$t")

ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "prov infra; Nushell $("$nu" -n -c 'version | get version'), $(nproc) cores"
printf '  %-64s %10s ms\n' \
  "prov infra plan, $servers managed folder servers, all noop (median)" "$(ms "$plan_ns")" \
  "prov server list --provider folder, the same $servers (median)" "$(ms "$list_ns")"
echo "  plan ÷ list = $(ratio "$plan_ns" "$list_ns")×"
printf '  %-64s %10s ms\n' \
  "prov infra apply, $local_servers local servers (one workflow)" "$(ms "$apply_ns")" \
  "$local_servers × prov server create in a loop" "$(ms "$create_ns")"
echo "  apply ÷ creates = $(ratio "$apply_ns" "$create_ns")×"
echo
