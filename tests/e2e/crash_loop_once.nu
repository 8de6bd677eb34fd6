# Crash loop through real nu: a 300-operation workflow whose operations append their own id to
# one file, and whose undo steps append it to another, is submitted; a last operation that
# depends on all of them fails, so the workflow rolls all 300 back. Its runner is killed with
# SIGKILL 30 times, 20 times while it runs and 10 times during the rollback, and resumed after
# each. The kills come from the workload itself, so that their count and phase do not depend on
# how fast the machine is (under a sanitizer a status read takes a second): 20 seeded operations
# and 10 seeded undo steps each start a killer that SIGKILLs their runner after a seeded part
# of the step's time, once, wherever the runner then is (journaling, starting or ending other
# steps). At the end the workflow is rolled back, every id is in both files, and every id found
# more than once in a file belongs to an operation (or undo step) that a `workflow_resumed`
# event reported as in flight at a kill. Seed: $env.PROV_CRASH_SEED, else random (printed).
# ctest-labels: fault
use std/assert
use harness.nu *

const OPS = 300
const KILLS = 30
const ROLLBACK_KILLS = 10  # of them during the rollback

# An op or undo step: sleeps `secs`, then appends `id` to `out`. With a `kill_secs`, it first
# starts a killer that, after `kill_secs` (less than `secs`; the step waits for it all the same,
# so it is in flight, on a busy machine too), kills
# its runner (the step's parent) unless that runner is already gone, or was killed by another
# killer, or this killer already killed one (its mark `marks/name`): each killer kills once.
# The script is fixed; the data are arguments.
const STEP = 'if [ -n "$4" ]; then P=$PPID; (sleep "$4"; [ ! -d "$5/$6" ] && tr "\0" " " < "/proc/$P/cmdline" 2>/dev/null | grep -q -- "--runner" && mkdir "$5/runner-$P" 2>/dev/null && mkdir "$5/$6" 2>/dev/null && kill -9 "$P") >/dev/null 2>&1 & fi; sleep "$1"; wait; printf "%s\n" "$2" >> "$3"'

# `count` distinct numbers in 0..<`n` from the generator state `rng`: {picks, rng}.
def pick [rng: int, count: int, n: int] {
  mut x = $rng
  mut out = []
  while ($out | length) < $count {
    $x = (next-rand $x)
    let k = ($x mod $n)
    if $k not-in $out { $out = ($out | append $k) }
  }
  {picks: $out, rng: $x}
}

# A fresh workspace with a config.defaults.toml; returns its path.
def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"crash-loop\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# The next state of a MINSTD generator (fits Nu's 64-bit ints).
def next-rand [state: int] { ($state * 48271) mod 2147483647 }

# Checks that every id of `ids` is in `file`, nothing else is, and an id written k times is in
# `reported` (the ids reported in flight at kills) at least k-1 times; returns the extra lines.
def check-appends [file: string, ids: list, reported: list, what: string] {
  let counts = (open --raw $file | lines | uniq --count | reduce -f {} {|r, acc| $acc | insert $r.value $r.count })
  let lost = ($ids | where {|i| ($counts | get -o $i) == null })
  assert equal $lost [] $"no ($what) is lost"
  let unknown = ($counts | columns | where {|c| $c not-in $ids })
  assert equal $unknown [] "nothing else wrote to the file"
  let times = ($reported | uniq --count | reduce -f {} {|r, acc| $acc | insert $r.value $r.count })
  let unreported = ($counts | transpose op n | where {|r| $r.n - 1 > ($times | get -o $r.op | default 0) })
  assert equal $unreported [] $"every ($what) that ran again was reported as in flight"
  $counts | values | each {|n| $n - 1 } | math sum
}

# Waits until no runner holds workflow `id` (killed, or done: up to 3 minutes, the time a
# runner may go on between two killers); returns its status record.
def wait-no-runner [id: string] {
  let deadline = ((date now) + 3min)
  mut st = (prov workflow status $id)
  while $st.runner_pid != null and (date now) < $deadline { sleep 50ms; $st = (prov workflow status $id) }
  assert ($st.runner_pid == null) $"the runner of ($id) is still alive"
  $st
}

# `ms` milliseconds as seconds for `sleep` ("0.042").
def secs [ms: int] { $"0.($ms | fill -a right -c '0' -w 3)" }

def main [] {
  let seed = ($env.PROV_CRASH_SEED? | default (random int 1..2147483646) | into int)
  print $"crash loop seed: ($seed) \(rerun with PROV_CRASH_SEED=($seed)\)"
  run-tests "crash_loop" {
    "300 operations and their rollback survive 30 SIGKILLs; only steps in flight ran again, each reported": {||
      let ws = (new-workspace)
      cd $ws
      let out = ($ws | path join "ran.log")
      let undo_out = ($ws | path join "undone.log")
      # Each op sleeps a seeded 50..450 ms, then appends its id; its undo step sleeps 10..40 ms
      # and appends its id to the other file. Every third op after the first 20 waits for the op
      # 20 before it. `fail` waits for all of them, and fails. The killers: see STEP.
      let marks = ($ws | path join marks)
      mkdir $marks
      let run_killers = (pick $seed ($KILLS - $ROLLBACK_KILLS) $OPS)
      let undo_killers = (pick $run_killers.rng $ROLLBACK_KILLS $OPS)
      mut rng = $undo_killers.rng
      mut ops = []
      for i in 0..<$OPS {
        $rng = (next-rand $rng)
        let ms = 50 + ($rng mod 401)
        let undo_ms = 10 + ($rng mod 31)
        let id = $"op-($i | fill -a right -c '0' -w 3)"
        let kill = if $i in $run_killers.picks { secs ($rng mod $ms) } else { "" }
        let undo_kill = if $i in $undo_killers.picks { secs ($rng mod $undo_ms) } else { "" }
        let deps = if $i >= 20 and ($i mod 3) == 0 { [$"op-($i - 20 | fill -a right -c '0' -w 3)"] } else { [] }
        $ops = ($ops | append {id: $id, kind: command, depends_on: $deps,
                               run: [sh -c $STEP sh (secs $ms) $id $out $kill $marks $"run-($id)"]
                               rollback: [sh -c $STEP sh (secs $undo_ms) $id $undo_out $undo_kill $marks $"undo-($id)"]})
      }
      let ids = ($ops | get id)
      $ops = ($ops | append {id: fail, kind: command, depends_on: $ids, run: [false]})
      let started = (date now)
      let id = ({name: crash-loop, settings: {parallel: 6, retry: {attempts: 1}}, operations: $ops} | prov workflow submit | get workflow_id)
      mut kills = 0
      mut rollback_kills = 0
      mut reports = []
      mut st = (wait-no-runner $id)
      while $st.status == "interrupted" {
        $kills += 1
        assert ($kills <= $KILLS) $"($kills) kills from ($KILLS) killers"
        if $st.phase == rollback { $rollback_kills += 1 }
        # Resume: the first event that matters is workflow_resumed, naming the re-run ops.
        let resumed = (prov workflow resume $id --allow-failure | where type == workflow_resumed | first)
        $reports = ($reports | append [{phase: $resumed.phase, ops: $resumed.reexecuted}])
        $st = (wait-no-runner $id)
      }
      let final = $st
      let elapsed = ((date now) - $started)
      assert equal $kills $KILLS "every killer killed a runner"
      assert equal $rollback_kills $ROLLBACK_KILLS "kills during the rollback"
      assert equal (ls $marks | get name | path basename | where {|n| $n =~ '^(run|undo)-' } | length) $KILLS
      assert equal ($final | select status cause failed rolled_back succeeded) {status: rolled_back, cause: failed, failed: 1, rolled_back: $OPS, succeeded: 0}
      # Orphaned children of killed runners may still be finishing their sleep.
      sleep 400ms
      # Every operation ran and every undo step ran; a second time only when reported.
      let reports = $reports
      let reruns = (check-appends $out $ids ($reports | where phase == run | get ops | flatten) "operation")
      let undo_reruns = (check-appends $undo_out $ids ($reports | where phase == rollback | get ops | flatten) "undo step")
      # Each report is true: every op it names had started (or its undo step had) and had not
      # ended before the kill.
      let events = (prov workflow logs $id)
      let runs = ($events | enumerate | where item.type in [workflow_started workflow_resumed] | get index)
      for k in 1..<($runs | length) {
        let before = ($events | slice (($runs | get ($k - 1)))..<($runs | get $k))
        let resumed = ($events | get ($runs | get $k))
        let claimed = $resumed.reexecuted
        let report = ($reports | get ($k - 1))
        assert equal $claimed $report.ops "resume's stream and the event log agree"
        let in_flight = if $resumed.phase == rollback {
          let undoing = ($before | where type == rollback_step_started | get operation)
          let undone = ($before | where type == rollback_step | get operation)
          $undoing | where {|o| $o not-in $undone } | uniq | sort
        } else {
          let started_ops = ($before | where type == operation_started | get operation)
          let ended_ops = ($before | where type in [operation_succeeded operation_failed] | get operation)
          $started_ops | where {|o| $o not-in $ended_ops } | uniq | sort
        }
        # Only what started in that run and was not seen to end (a durable end is never re-run).
        assert equal ($claimed | sort) $in_flight $"run ($k): the in-flight report matches the events"
      }
      # Once the rollback began, no operation started again.
      let rollback_at = ($events | enumerate | where item.type == rollback_started | first | get index)
      assert equal ($events | skip $rollback_at | where type == operation_started | length) 0
      let reported_total = ($reports | where phase == run | get ops | flatten | length)
      let undo_reported = ($reports | where phase == rollback | get ops | flatten | length)
      print $"  figures: ops=($OPS) kills_survived=($kills) rollback_kills=($rollback_kills) resumes=($kills) duplicate_appends=($reruns) reported_in_flight=($reported_total) duplicate_undos=($undo_reruns) reported_undo_in_flight=($undo_reported) journal_repairs=($events | where type == journal_repaired | length) duration=($elapsed)"
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
      let resumed = (prov workflow resume $id --allow-failure | first)
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
