# Following workflows: `prov events --follow --workflow` ends by itself with its workflow,
# whether it has already ended or ends while followed; run's stream ends with the run.
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"follow\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

def main [] {
  run-tests "follow" {
    "events --follow --workflow of a finished workflow ends at once with its events": {||
      cd (new-workspace)
      let id = ({name: done, operations: [{id: a, kind: command, run: [true]}]} | prov workflow run | first | get workflow_id)
      let start = (date now)
      let followed = (prov events --follow --workflow $id)
      assert (((date now) - $start) < 5sec)
      assert equal ($followed | first | get type) workflow_started
      assert equal ($followed | last | get type) workflow_completed
      assert equal ($followed | length) (prov events --workflow $id | length)
      # Durations are measurements a person reads: whole milliseconds.
      let durations = ($followed | where {|e| ($e.duration? | default null) != null } | get duration)
      assert (($durations | length) > 0)
      assert ($durations | all {|d| (($d | into int) mod 1_000_000) == 0 }) ($durations | to nuon)
      assert ((prov workflow status $id | get duration | into int) mod 1_000_000 == 0)
    }
    "events --follow --workflow of a running workflow ends when it ends": {||
      cd (new-workspace)
      let id = ({name: slow, operations: [
        {id: a, kind: command, run: [sleep "0.5"]}
        {id: b, kind: command, run: [sleep "0.5"], depends_on: [a]}
      ]} | prov workflow submit | get workflow_id)
      let followed = (prov events --follow --workflow $id)
      assert equal ($followed | last | get type) workflow_completed
      assert equal ($followed | where type == operation_succeeded | get operation) [a b]
      assert equal (prov workflow status $id | get status) completed
    }
    "events --follow --workflow of an interrupted workflow ends too": {||
      cd (new-workspace)
      let id = ({name: killed, operations: [{id: a, kind: command, run: [sleep "30"]}]} | prov workflow submit | get workflow_id)
      let pid = (prov workflow status $id | get runner_pid)
      # The runner holds the workflow as soon as submit returns (its readiness pipe said so).
      assert ($pid != null)
      kill -s 9 $pid
      let followed = (prov events --follow --workflow $id)
      assert equal (prov workflow status $id | get status) interrupted
      assert not ($followed | any {|e| $e.type == workflow_completed })
      # What the killed runner left running is stopped by the resume; here, just end it.
      kill-procs "sleep 30"
    }
  }
}
