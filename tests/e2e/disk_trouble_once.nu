# Disk trouble through real nu, with real kernel errors: each workspace's state directory is a
# small tmpfs mounted in a user and mount namespace of its own (`unshare -rm`; the suite re-runs
# itself inside one). A full or read-only state directory makes submitting fail at once with a
# labeled code naming the path; a disk that fills while a workflow runs stops it with
# `provisioning::state::disk_full`; nothing is reported succeeded that the journal does not hold;
# status and logs still read, and a resume once space is freed completes the workflow.
# ctest-labels: fault
use std/assert
use harness.nu *

const SELF = path self

# A fresh workspace whose .provisioning is a tmpfs of `size`; returns its path.
def new-workspace [size: string] {
  let ws = (mktemp -d)
  "[project]\nname = \"disk-trouble\"\n" | save ($ws | path join "config.defaults.toml")
  let state = ($ws | path join .provisioning)
  mkdir $state
  ^mount -t tmpfs -o $"size=($size),mode=0700" tmpfs $state
  $ws
}

# Fills the file system holding `dir` until it has no space left.
def fill [dir: string] {
  let r = (^sh -c 'cat /dev/zero > "$1"' sh ($dir | path join filler) | complete)
  assert ($r.stderr | str contains "No space left") $"filling ($dir): ($r.stderr)"
}

def wf [n: int, --sleep: string = "0"] {
  let ops = (1..$n | each {|i| {id: $"op($i)", kind: command, run: [sleep $sleep]} })
  {name: disk, settings: {parallel: 2}, operations: $ops}
}

# The journal's records (header skipped): each line is "<len> <crc32> <json>".
def journal-records [ws: string, id: string] {
  open --raw ($ws | path join .provisioning workflows $id journal) | lines | skip 1
  | each {|l| $l | split row -n 3 ' ' | get 2 | from json }
}

def main [] {
  if ($env.PROV_DISK_NS? | is-empty) {
    # Re-run this suite inside a user and mount namespace, where it may mount tmpfs.
    let probe = (^unshare -rm true | complete)
    if $probe.exit_code != 0 { error make {msg: $"unshare -rm is not allowed here: ($probe.stderr)"} }
    with-env {PROV_DISK_NS: "1"} {
      ^unshare -rm $env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN)]" $SELF
    }
    return
  }
  run-tests "disk_trouble" {
    "submitting on a full state directory fails at once with disk_full and changes nothing": {||
      let ws = (new-workspace 512k)
      cd $ws
      let first = (wf 2 | prov workflow run | last)
      assert equal $first.type "workflow_completed"
      let before = (prov workflow list)
      fill ($ws | path join .provisioning)
      let d = (expect-error { wf 2 | prov workflow submit })
      assert equal $d.code "provisioning::state::disk_full"
      assert ($d.msg | str contains ($ws | path join .provisioning)) $"the message names the path: ($d.msg)"
      assert ($d.help | str contains "free space")
      assert equal (prov workflow list) $before "no half-made workflow is left"
      assert equal (prov workflow status $first.workflow_id | get status) "completed"
      assert equal (prov workflow logs $first.workflow_id | last | get type) "workflow_completed"
    }
    "a read-only state directory: submit fails at once with read_only; list, status, logs read": {||
      let ws = (new-workspace 1m)
      cd $ws
      let first = (wf 2 | prov workflow run | last)
      let state = ($ws | path join .provisioning)
      # The runner that just finished may still be exiting, with its log open for writing (slow
      # under a sanitizer): the remount is refused as busy until it has gone.
      mut remounted = false
      for _ in 1..100 {
        if (do { ^mount -o remount,ro $state } | complete | get exit_code) == 0 { $remounted = true; break }
        sleep 100ms
      }
      assert $remounted "the state directory could not be remounted read-only"
      let d = (expect-error { wf 2 | prov workflow submit })
      assert equal $d.code "provisioning::state::read_only"
      assert ($d.msg | str contains $state) $"the message names the path: ($d.msg)"
      assert equal (prov workflow list | length) 1
      let st = (prov workflow status $first.workflow_id)
      assert equal $st.status "completed"
      assert equal $st.succeeded 2
      assert equal (prov workflow logs $first.workflow_id | where type == operation_succeeded | length) 2
      let r = (expect-error { prov workflow resume $first.workflow_id })
      assert equal $r.code "provisioning::workflow::already_ended"
      ^mount -o remount,rw $state
    }
    "the disk fills mid-run: disk_full, nothing unjournaled reported, journal reads, resume completes": {||
      let ws = (new-workspace 1m)
      cd $ws
      let state = ($ws | path join .provisioning)
      let seen = ($ws | path join seen.txt)
      let n = 40
      let started = (date now)
      # Fill the disk when the 5th operation is reported done; note every event the stream gave.
      let d = (expect-error { wf $n --sleep 0.05 | prov workflow run --on-event {|e|
        $"($e.type) ($e.operation? | default '')\n" | save --append $seen
        if $e.type == operation_succeeded and (open --raw $seen | lines | where {|l| $l starts-with operation_succeeded } | length) == 5 {
          fill $state
        }
      } | collect })
      assert equal $d.code "provisioning::state::disk_full" $"stopped with a clear code: ($d.msg)"
      assert ($d.msg | str contains $state) $"the message names the path: ($d.msg)"
      let id = (prov workflow list | first | get workflow_id)
      # The journal reads whole; the workflow is interrupted, not failed or completed.
      let st = (prov workflow status $id)
      assert equal $st.status "interrupted"
      assert (($st.problem? | default "") == "") $"no damaged journal: ($st.problem?)"
      # Every success that was reported (stream and event log) is in the journal.
      let journaled = (journal-records $ws $id | where type == operation_succeeded | get operation)
      let streamed = (open --raw $seen | lines | where {|l| $l starts-with "operation_succeeded " } | each {|l| $l | split row ' ' | get 1 })
      let logged = (prov workflow logs $id | where type == operation_succeeded | get operation)
      assert ($streamed | all {|o| $o in $journaled }) $"streamed successes are journaled: ($streamed) vs ($journaled)"
      assert ($logged | all {|o| $o in $journaled }) "logged successes are journaled"
      assert (($journaled | length) < $n) "the run stopped before the end"
      assert ($d.help | str contains "resume")
      # Every event log line is JSON: no torn record.
      open --raw ($state | path join workflows $id events.jsonl) | lines | each {|l| $l | from json } | ignore
      # Free the space: the resume finishes exactly the rest.
      rm ($state | path join filler)
      let events = (prov workflow resume $id)
      assert equal ($events | last | get type) "workflow_completed"
      let final = (prov workflow status $id)
      assert equal $final.status "completed"
      assert equal $final.succeeded $n
      print $"  figures: ops=($n) succeeded_before_full=($journaled | length) reported_before_full=($streamed | length) resumed_to=($final.succeeded) duration=((date now) - $started)"
    }
  }
}
