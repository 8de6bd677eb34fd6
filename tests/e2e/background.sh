#!/usr/bin/env bash
# background.sh LOG PROGRAM ARGS...: starts PROGRAM with ARGS (an argv, never a shell string) in
# a session of its own, its output to LOG, and prints its pid. For suites that need a process to
# outlive the command that started it (etcd members, agents).
set -euo pipefail
log=$1
shift
setsid "$@" >"$log" 2>&1 </dev/null &
echo $!
