# Crashes during a rollback, through real nu: the runner is SIGKILLed while an undo step runs
# (an automatic rollback after a failure, a cancel's rollback, a `prov workflow rollback`), and
# `resume` or `rollback` must continue the rollback, never the forward run, re-running only the
# step that was in flight and saying so; a failing undo step ends in `rollback_failed`, and a
# later rollback retries only that step. Each operation and undo step appends its name to one
# file, so that every step is counted.
# ctest-labels: fault
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"rollback-crash\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# An operation appending `run-<id>` to `log`, then exiting with `code`; its undo step appends
# `undo-<id>`, sleeps `undo_secs` (the window for a kill), then fails unless `gate` is "" or
# a file that exists.
def op [id: string, log: string, --deps: list = [], --code: int = 0, --run-secs: string = "0",
        --undo-secs: string = "2", --gate: string = ""] {
  {id: $id, kind: command, depends_on: $deps,
   run: [sh -c 'printf "%s\n" "$1" >> "$2"; sleep "$4"; exit "$3"' sh $"run-($id)" $log $"($code)" $run_secs]
   rollback: [sh -c 'printf "%s\n" "$1" >> "$2"; sleep "$3"; test -z "$4" || test -e "$4"' sh $"undo-($id)" $log $undo_secs $gate]}
}

# Waits until `log` has the line `line`.
def wait-line [log: string, line: string] {
  mut tries = 0
  while not (($log | path exists) and ($line in (open --raw $log | lines))) and $tries < 800 { sleep 25ms; $tries += 1 }
  assert ($line in (open --raw $log | lines)) $"($line) never came"
}

# The pid of the runner that holds `id`, once one does.
def runner-pid [id: string] {
  mut pid: any = null
  mut tries = 0
  while $pid == null and $tries < 400 { $pid = (prov workflow status $id | get runner_pid); if $pid == null { sleep 25ms }; $tries += 1 }
  assert ($pid != null) "a runner holds the workflow"
  $pid
}

# Kills runner `pid` of `id` outright as soon as `log` has the line `line` (an undo step has
# begun), and waits until it has let go.
def kill-at [id: string, pid: int, log: string, line: string] {
  wait-line $log $line
  ^kill -9 $pid
  mut tries = 0
  while (prov workflow status $id | get runner_pid) != null and $tries < 400 { sleep 25ms; $tries += 1 }
}

# How many times each line is in `log`, as a record.
def counts [log: string] {
  open --raw $log | lines | uniq --count | reduce -f {} {|r, acc| $acc | insert $r.value $r.count }
}

def wait-final [id: string, --timeout: duration = 60sec] {
  let deadline = ((date now) + $timeout)
  mut st = (prov workflow status $id)
  while $st.status in ["pending" "running"] {
    if (date now) > $deadline { error make {msg: $"workflow ($id) still ($st.status) after ($timeout)"} }
    sleep 50ms
    $st = (prov workflow status $id)
  }
  $st
}

def main [] {
  run-tests "rollback_crash" {
    "killed during the rollback after a failure: resume continues the rollback and reports the re-run step": {||
      let ws = (new-workspace)
      cd $ws
      let log = ($ws | path join ran.log)
      let ops = [(op a $log) (op b $log --deps [a]) (op c $log --deps [b] --code 3)]
      let id = ({name: chain, settings: {retry: {attempts: 1}}, operations: $ops} | prov workflow submit | get workflow_id)
      kill-at $id (runner-pid $id) $log undo-b
      let st = (prov workflow status $id)
      assert equal $st.status interrupted
      assert equal $st.phase rollback
      assert equal $st.cause failed
      let events = (prov workflow resume $id --allow-failure)
      let resumed = ($events | where type == workflow_resumed | first)
      assert equal $resumed.phase rollback
      assert equal $resumed.reexecuted [b]
      assert equal ($events | where type == operation_started | length) 0 "the forward run does not go on"
      assert equal ($events | where type == rollback_step | get operation) [b a]
      let last = ($events | last)
      assert equal $last.type workflow_failed
      assert equal $last.status rolled_back
      assert equal $last.cause failed
      let final = (prov workflow status $id)
      assert equal ($final | select status cause failed rolled_back succeeded) {status: rolled_back, cause: failed, failed: 1, rolled_back: 2, succeeded: 0}
      # Each step once; undo-b twice: the kill caught it, and resume reported it.
      assert equal (counts $log) {run-a: 1, run-b: 1, run-c: 1, undo-b: 2, undo-a: 1}
    }
    "killed during a cancel's rollback: resume finishes the rollback, the status says cancelled and rolled back": {||
      let ws = (new-workspace)
      cd $ws
      let log = ($ws | path join ran.log)
      let ops = [(op a $log) (op b $log --deps [a]) (op c $log --deps [b] --run-secs "30")]
      let id = ({name: chain, operations: $ops} | prov workflow submit | get workflow_id)
      let pid = (runner-pid $id)
      wait-line $log run-c
      prov workflow cancel $id | ignore
      kill-at $id $pid $log undo-b
      let st = (prov workflow status $id)
      assert equal ($st | select status phase cause) {status: interrupted, phase: rollback, cause: cancelled}
      let events = (prov workflow resume $id --allow-failure)
      assert equal ($events | where type == workflow_resumed | first | get reexecuted) [b]
      assert equal ($events | where type == operation_started | length) 0
      let last = ($events | last)
      assert equal ($last | select type status cause) {type: workflow_cancelled, status: rolled_back, cause: cancelled}
      assert equal (prov workflow status $id | select status cause rolled_back) {status: rolled_back, cause: cancelled, rolled_back: 2}
      assert equal (counts $log) {run-a: 1, run-b: 1, run-c: 1, undo-b: 2, undo-a: 1}
    }
    "killed during `prov workflow rollback`: rollback again continues it and reports the re-run step": {||
      let ws = (new-workspace)
      cd $ws
      let log = ($ws | path join ran.log)
      let ops = [(op a $log) (op b $log --deps [a]) (op c $log --deps [b])]
      let id = ({name: chain, operations: $ops} | prov workflow run --allow-failure | last | get workflow_id)
      assert equal (prov workflow status $id | get status) completed
      prov workflow rollback $id | first 1 | ignore
      kill-at $id (runner-pid $id) $log undo-b
      let st = (prov workflow status $id)
      assert equal ($st | select status phase cause) {status: interrupted, phase: rollback, cause: requested}
      let events = (prov workflow rollback $id --allow-failure)
      let resumed = ($events | where type == workflow_resumed | first)
      assert equal $resumed.reexecuted [b]
      assert ($resumed.message | str contains "b") "the message names the re-run step"
      assert equal ($events | where type == rollback_step | get operation) [b a]
      assert equal (prov workflow status $id | select status cause rolled_back) {status: rolled_back, cause: requested, rolled_back: 3}
      assert equal (counts $log) {run-a: 1, run-b: 1, run-c: 1, undo-c: 1, undo-b: 2, undo-a: 1}
    }
    "a failing undo step ends in rollback_failed naming it; a later rollback re-runs only that step": {||
      let ws = (new-workspace)
      cd $ws
      let log = ($ws | path join ran.log)
      let gate = ($ws | path join gate)
      let ops = [(op a $log --undo-secs "0") (op b $log --deps [a] --undo-secs "0" --gate $gate) (op c $log --deps [b] --code 3)]
      let events = ({name: chain, settings: {retry: {attempts: 1}}, operations: $ops} | prov workflow run --allow-failure)
      let id = ($events | last | get workflow_id)
      let last = ($events | last)
      assert equal ($last | select type status undo_failed) {type: workflow_failed, status: rollback_failed, undo_failed: [b]}
      assert ($last.message | str contains "b")
      let st = (prov workflow status $id)
      assert equal ($st | select status undo_failed rolled_back succeeded) {status: rollback_failed, undo_failed: [b], rolled_back: 1, succeeded: 1}
      # resume has nothing to do; rollback retries what did not undo.
      let d = (expect-error { prov workflow resume $id })
      assert equal $d.code "provisioning::workflow::already_ended"
      touch $gate
      let retry = (prov workflow rollback $id --allow-failure)
      assert equal ($retry | where type == rollback_step | get operation) [b]
      assert equal (prov workflow status $id | select status undo_failed rolled_back) {status: rolled_back, undo_failed: [], rolled_back: 2}
      assert equal (counts $log) {run-a: 1, run-b: 1, run-c: 1, undo-b: 2, undo-a: 1}
    }
  }
}
main
