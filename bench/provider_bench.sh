#!/usr/bin/env bash
# Nu-module provider benchmark: N `prov server get <id> --provider folder` calls inside one nu
# session (the plugin's warm provider worker answers them) against the seed's way, one
# `nu -c 'use …/provider.nu *; get-server <id>'` process per call. Prints the times and the
# ratio (target: the warm path at least 10× faster); asserts nothing.
#
# Usage: bench/provider_bench.sh [BUILD_DIR] [NU] [--calls N]
#   BUILD_DIR  holds bin/nu_plugin_provisioning (default: ./build)
#   NU         the real nu binary (default: the pinned one in node_modules)
#   --calls    calls per side (default 100)
#
# Both sides use the same provider module (examples/providers/folder) and the same server
# document, in a scratch workspace. The seed side splices the id into Nu code, as the seed
# does; the id is one the provider generated (srv- and hex digits), so nothing can go wrong here.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/args.sh
source "$root/bench/args.sh"
build=""
nu=""
calls=100
while (($#)); do
  case "$1" in
    --calls) calls=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "provider bench: unknown option $1" >&2; exit 2 ;;
    *) bench_positional "provider bench" "$1"; shift ;;
  esac
done
bench_defaults
[[ -d $build ]] || { echo "provider bench: no build directory $build" >&2; exit 1; }
plugin=$(cd "$build" && pwd)/bin/nu_plugin_provisioning
[[ -x $plugin ]] || { echo "provider bench: no $plugin" >&2; exit 1; }
[[ -x $nu ]] || { echo "provider bench: no nu at $nu" >&2; exit 1; }
[[ -n ${EPOCHREALTIME:-} ]] || { echo "provider bench: needs bash 5 or later" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ws=$tmp/ws
mkdir -p "$ws/providers"
cp -r "$root/examples/providers/folder" "$ws/providers/"
cat >"$ws/config.defaults.toml" <<'EOF'
[providers]
default = "folder"

[providers.folder]
timeout = "10s"
EOF

# Runs nu in the workspace with the plugin loaded for this session only.
prov_nu() { (cd "$ws" && PROVISIONING_WORKSPACE="$ws" "$nu" -n --plugins "[\"$plugin\"]" -c "$1"); }

if ! id=$(prov_nu "prov server create bench-1 --provider folder | get id"); then
  echo "provider bench: prov server create failed (are the prov server commands built?)" >&2
  exit 1
fi
[[ $id =~ ^srv-[0-9a-f]+$ ]] || { echo "provider bench: unexpected server id '$id'" >&2; exit 1; }

# Warm: one nu session; the first call (untimed) starts the plugin and the provider's worker.
warm_ns=$(prov_nu "
  if (prov server get $id --provider folder).name != 'bench-1' { exit 3 }
  let t0 = (date now)
  for i in 1..$calls { prov server get $id --provider folder | ignore }
  print (((date now) - \$t0) | into int)")

# The seed's way: a fresh nu per call loads the module and runs get-server.
seed_code="use $ws/providers/folder/nulib/provider.nu *; get-server $id | to json"
(cd "$ws" && "$nu" -n -c "$seed_code" | grep -q bench-1) ||
  { echo "provider bench: the seed-style call did not find the server" >&2; exit 1; }
t0=${EPOCHREALTIME//[.,]/}
for ((i = 0; i < calls; i++)); do
  (cd "$ws" && "$nu" -n -c "$seed_code" >/dev/null)
done
t1=${EPOCHREALTIME//[.,]/}
seed_us=$((t1 - t0))

warm_ms=$(awk -v ns="$warm_ns" 'BEGIN { printf "%.1f", ns / 1e6 }')
seed_ms=$(awk -v us="$seed_us" 'BEGIN { printf "%.1f", us / 1e3 }')
ratio=$(awk -v a="$seed_us" -v b="$warm_ns" 'BEGIN { printf "%.1f", a * 1000 / b }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 10 ? "within" : "under") }')
echo
echo "Nu-module provider (folder), $calls × get-server; Nushell $("$nu" -n -c 'version | get version')"
printf '  %-58s %10s ms  %8s ms/call\n' \
  "prov server get (one nu session, warm worker)" "$warm_ms" "$(awk -v t="$warm_ms" -v n="$calls" 'BEGIN { printf "%.2f", t / n }')" \
  "nu -n -c 'use provider.nu *; get-server …' per call (seed)" "$seed_ms" "$(awk -v t="$seed_ms" -v n="$calls" 'BEGIN { printf "%.2f", t / n }')"
echo "  warm is ${ratio}× faster (target ≥ 10×: $verdict)"
echo
