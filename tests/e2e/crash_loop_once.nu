# Crash loop through real nu: a 300-operation workflow whose operations append their own id to
# one file is submitted, then its runner is killed with SIGKILL at 30 seeded random moments and
# resumed after each. At the end the workflow has completed, every id is in the file, and every
# id found more than once belongs to an operation that a `workflow_resumed` event reported as
# in flight at a kill. Seed: $env.PROV_CRASH_SEED, else random (printed either way).
# ctest-labels: fault
use std/assert
use harness.nu *

const OPS = 300
const KILLS = 30

# A fresh workspace with a config.defaults.toml; returns its path.
def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"crash-loop\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# The next state of a MINSTD generator (fits Nu's 64-bit ints).
def next-rand [state: int] { ($state * 48271) mod 2147483647 }

# Waits until no runner holds workflow `id`; returns its status record.
def wait-no-runner [id: string] {
  mut st = (prov workflow status $id)
  mut tries = 0
  while $st.runner_pid != null and $tries < 400 { sleep 25ms; $st = (prov workflow status $id); $tries += 1 }
  assert ($st.runner_pid == null) $"the runner of ($id) is still alive"
  $st
}

def main [] {
  let seed = ($env.PROV_CRASH_SEED? | default (random int 1..2147483646) | into int)
  print $"crash loop seed: ($seed) \(rerun with PROV_CRASH_SEED=($seed)\)"
  run-tests "crash_loop" {
    "300 operations survive 30 SIGKILLs of the runner; only ops in flight ran again, each reported": {||
      let ws = (new-workspace)
      cd $ws
      let out = ($ws | path join "ran.log")
      # Each op sleeps a seeded 50..600 ms (enough work to outlast 30 kills, under a sanitizer
      # too), then appends its id: the script is fixed, the data
      # are arguments. Every third op after the first 20 waits for the op 20 before it.
      mut rng = $seed
      mut ops = []
      for i in 0..<$OPS {
        $rng = (next-rand $rng)
        let ms = 50 + ($rng mod 551)
        let id = $"op-($i | fill -a right -c '0' -w 3)"
        let secs = $"0.($ms | fill -a right -c '0' -w 3)"
        let deps = if $i >= 20 and ($i mod 3) == 0 { [$"op-($i - 20 | fill -a right -c '0' -w 3)"] } else { [] }
        $ops = ($ops | append {id: $id, kind: command, depends_on: $deps,
                               run: [sh -c 'sleep "$1"; printf "%s\n" "$2" >> "$3"' sh $secs $id $out]})
      }
      let started = (date now)
      let id = ({name: crash-loop, settings: {parallel: 6}, operations: $ops} | prov workflow submit | get workflow_id)
      mut kills = 0
      mut reports = []
      mut resume_starts = []
      while $kills < $KILLS {
        # A runner is at work (the submitted one, or the one the last resume started).
        mut pid: any = null
        mut tries = 0
        while $pid == null and $tries < 400 {
          let st = (prov workflow status $id)
          assert ($st.status != "completed") $"the workflow completed after only ($kills) kills: give it more work"
          $pid = $st.runner_pid
          if $pid == null { sleep 10ms; $tries += 1 }
        }
        assert ($pid != null) "no runner took the workflow"
        $rng = (next-rand $rng)
        sleep (($rng mod 351) + 50 | into duration --unit ms)
        ^kill -9 $pid
        $kills += 1
        let st = (wait-no-runner $id)
        assert equal $st.status "interrupted" $"after kill ($kills) the workflow is interrupted, not ($st.status)"
        # Resume: the first event that matters is workflow_resumed, naming the re-run ops.
        let resumed = (prov workflow resume $id | where type == workflow_resumed | first)
        $reports = ($reports | append [$resumed.reexecuted])
      }
      let final = (wait-final $id)
      let elapsed = ((date now) - $started)
      assert equal $final.status "completed"
      assert equal $final.succeeded $OPS
      # Orphaned children of killed runners may still be finishing their sleep.
      sleep 400ms
      let lines = (open --raw $out | lines)
      let counts = ($lines | uniq --count | reduce -f {} {|r, acc| $acc | insert $r.value $r.count })
      let ids = ($ops | get id)
      let lost = ($ids | where {|i| ($counts | get -o $i) == null })
      assert equal $lost [] "no operation is lost"
      let unknown = ($counts | columns | where {|c| $c not-in $ids })
      assert equal $unknown [] "nothing else wrote to the file"
      # Every re-run was reported: an id written k times was reported in flight at >= k-1 kills.
      let reported = ($reports | flatten | uniq --count | reduce -f {} {|r, acc| $acc | insert $r.value $r.count })
      let unreported = ($counts | transpose op n | where {|r| $r.n - 1 > ($reported | get -o $r.op | default 0) })
      assert equal $unreported [] "every operation that ran again was reported as in flight"
      # Each report is true: every op it names had started and had not succeeded before the kill.
      let events = (prov workflow logs $id)
      let runs = ($events | enumerate | where item.type in [workflow_started workflow_resumed] | get index)
      for k in 1..<($runs | length) {
        let before = ($events | slice (($runs | get ($k - 1)))..<($runs | get $k))
        let claimed = ($events | get ($runs | get $k) | get reexecuted)
        let resumed_report = ($reports | get ($k - 1))
        assert equal $claimed $resumed_report "resume's stream and the event log agree"
        let started_ops = ($before | where type == operation_started | get operation)
        let succeeded_ops = ($before | where type == operation_succeeded | get operation)
        let in_flight = ($started_ops | where {|o| $o not-in $succeeded_ops } | uniq | sort)
        # Only ops started in that run and not seen to succeed (a durable success is never re-run).
        assert equal ($claimed | sort) $in_flight $"run ($k): the in-flight report matches the events"
      }
      let reruns = ($counts | values | each {|n| $n - 1 } | math sum)
      let reported_total = ($reports | flatten | length)
      print $"  figures: ops=($OPS) kills_survived=($kills) resumes=($kills) duplicate_appends=($reruns) reported_in_flight=($reported_total) journal_repairs=($events | where type == journal_repaired | length) duration=($elapsed)"
      # No temporary files are left in the workflow's directory.
      let wdir = ($ws | path join .provisioning workflows $id)
      let leftovers = (ls -a $wdir | get name | path basename | where {|n| $n =~ '\.tmp|~$' })
      assert equal $leftovers []
    }
    "resume stops what the killed runner left running before it runs the operation again": {||
      cd (new-workspace)
      # A sleep of a length no other test uses, so that its processes can be counted.
      let secs = (700 + (random int 1..1000000))
      let id = ({name: orphan, operations: [{id: long, kind: command, run: [sleep $secs]}]} | prov workflow submit | get workflow_id)
      for _ in 1..400 { if (count-procs $"sleep ($secs)") == 1 { break }; sleep 25ms }
      assert equal (count-procs $"sleep ($secs)") 1
      ^kill -9 (prov workflow status $id | get runner_pid)
      wait-no-runner $id | ignore
      assert equal (count-procs $"sleep ($secs)") 1 "the operation's process outlives its runner"
      let resumed = (prov workflow resume $id | first)
      assert equal $resumed.type workflow_resumed
      assert equal $resumed.reexecuted? [long]
      for _ in 1..400 { if (count-procs $"sleep ($secs)") == 1 { break }; sleep 25ms }
      assert equal (count-procs $"sleep ($secs)") 1 "the old copy was stopped, the new one runs"
      prov workflow cancel $id | ignore
      wait-final $id | ignore
      for _ in 1..400 { if (count-procs $"sleep ($secs)") == 0 { break }; sleep 25ms }
      assert equal (count-procs $"sleep ($secs)") 0
    }
  }
}

# How many processes run exactly `cmd` (`ps` is tried again when a process exits as it reads).
def count-procs [cmd: string] {
  for attempt in 1..10 {
    let n = (try { ps --long | where {|p| $p.command == $cmd } | length } catch { null })
    if $n != null { return $n }
    sleep 20ms
  }
  error make {msg: "ps kept failing"}
}

# Waits until the workflow reaches a final status; returns its status record.
def wait-final [id: string, --timeout: duration = 120sec] {
  let deadline = ((date now) + $timeout)
  mut st = (prov workflow status $id)
  while $st.status in ["pending" "running"] {
    if (date now) > $deadline { error make {msg: $"workflow ($id) still ($st.status) after ($timeout)"} }
    sleep 50ms
    $st = (prov workflow status $id)
  }
  $st
}
