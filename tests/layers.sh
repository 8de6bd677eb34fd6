#!/usr/bin/env bash
# The layering rules the code must keep (docs/ARCHITECTURE.md), checked on the sources:
#   1. core/ never includes plugin/;
#   2. core/engine/, core/infra/ and plugin/ see the store only through its interface
#      (core/state/workflow_store.hpp, core/state/open_store.hpp): no store implementation
#      header (file_store, etcd_store, state_dir, lock, event_log, etcd_client) in their
#      non-test sources.
# Prints every offending line and fails when there is one.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
bad=0
if grep -rn --include='*.cpp' --include='*.hpp' '#include "plugin/' core; then
  echo "layers: core/ includes plugin/ (above)" >&2
  bad=1
fi
impl='#include "core/(state/(file_store|etcd_store|state_dir|lock)|events/event_log|etcd/etcd_client)\.hpp"'
if find core/engine core/infra plugin -name '*.cpp' -o -name '*.hpp' | grep -v '_test\.cpp$' | xargs grep -nE "$impl"; then
  echo "layers: core/engine, core/infra or plugin/ reach past the store interface (above)" >&2
  bad=1
fi
[[ $bad == 0 ]] && echo "layers: ok"
exit $bad
