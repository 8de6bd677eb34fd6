#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 in build-fuzz (PROV_FUZZ=ON: ASan and UBSan) and
# runs each for FUZZ_SECONDS (default 30) from its seed corpus in tests/fuzz/<target>/. New
# inputs go to a temporary folder, never into the repository. Fails when any target finds a
# crash, a leak, undefined behaviour, a timeout or runs out of memory; the folder with the
# reproducer is then kept and named. Prints, per target, the seconds run and the executions.
#   FUZZ_SECONDS=300 tests/fuzz/run.sh [target...]
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
build="${FUZZ_BUILD:-$repo/build-fuzz}"
seconds="${FUZZ_SECONDS:-30}"
jobs="${JOBS:-$(nproc)}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(msgpack_decode json_decode workflow_parse config_load extension_manifest)

cmake -S "$repo" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPROV_FUZZ=ON >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]/%/_fuzz}"

work="$(mktemp -d "${TMPDIR:-/tmp}/prov-fuzz.XXXXXX")"
failed=()
printf '%-20s %8s %14s  %s\n' target seconds executions result
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/new"
  log="$work/$t/fuzz.log"
  status=0
  # The first folder receives new inputs; the seed corpus is only read.
  (cd "$work/$t" && "$build/bin/${t}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/$t/" "$work/$t/new" "$repo/tests/fuzz/$t") \
    >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  ran="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)"
  result=ok
  if [ "$status" -ne 0 ]; then
    result="FAILED (exit $status): $(ls "$work/$t" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -1)"
    failed+=("$t")
  fi
  printf '%-20s %8s %14s  %s\n' "$t" "${ran:-?}" "${execs:-?}" "$result"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${failed[*]} failed; logs and reproducers are in $work" >&2
  echo "fuzz: reproduce with $build/bin/<target>_fuzz <reproducer>" >&2
  exit 1
fi
rm -rf "$work"
