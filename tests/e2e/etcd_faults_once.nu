# Faults on the shared etcd store, through real nu: runners SIGKILLed and SIGSTOPped while
# agents on other "hosts" (copies of one workspace) take their workflows over, and etcd members
# killed under a run. Each test starts its own 3-member cluster and stops it, leaving no process.
# PROV_E2E_SEED=N replays the kill moments of a run (the suite prints the seed it used).
# ctest-labels: e2e;fault
use std/assert
use harness.nu *
use etcd_cluster.nu *

# `n` operations each appending "<id> <host>" to `effects` ($PROV_E2E_HOST: the agent's or
# session's host), then sleeping `pause`; with `chain`, each depends on the one before. With a
# `gate` (a file holding a number), an operation appends only while `effects` has fewer lines
# than that number, waiting until then, or giving up (failing) once its runner is gone: the test
# decides how far a runner can go, whatever the machine's speed.
def effect-ops [n: int, effects: string, pause: string, parallel: int, --chain, --gate: string = ""] {
  {
    name: "effects"
    settings: {parallel: $parallel}
    operations: (1..$n | each {|i|
      {
        id: $"op($i)"
        kind: command
        run: [bash -c 'if [ -n "$4" ]; then P=$PPID; until [ "$(wc -l < "$2")" -lt "$(cat "$4")" ] 2>/dev/null; do kill -0 "$P" 2>/dev/null || exit 1; sleep 0.02; done; fi; echo "$1 $PROV_E2E_HOST" >> "$2"; sleep "$3"' _ $"op($i)" $effects $pause $gate]
        depends_on: (if $chain and $i > 1 { [$"op($i - 1)"] } else { [] })
      }
    })
  }
}

# Lets the gated operations go on until `effects` has `n` lines (written whole, by a rename).
def open-gate [gate: string, n: int] {
  $"($n)\n" | save -f $"($gate).new"
  mv -f $"($gate).new" $gate
}

# The effects file's lines as {op, host}.
def effects [file: string] {
  open $file | lines | parse "{op} {host}"
}

# Waits until `cond` holds (asked every 100 ms, at most `tries` times); fails saying `what`.
def wait-for [what: string, cond: closure, --tries: int = 300] {
  for attempt in 1..$tries {
    if (do $cond) { return }
    sleep 100ms
  }
  error make {msg: $"timed out waiting for ($what)"}
}

# The host workspace whose runner `pid` is (its argv: --runner MODE WORKSPACE STORE ID ...);
# null once it has exited (a claim outlives its killed holder until its lease lapses).
def runner-workspace [pid: int] {
  let argv = (try { open --raw $"/proc/($pid)/cmdline" | decode utf-8 | split row (char nul) } catch { [] })
  if ($argv | get -o 1) == "--runner" { $argv | get 3 } else { null }
}

# Waits for a live runner of workflow `id`; returns it as `current-runner` does.
def wait-runner [id: string, hosts: record] {
  for attempt in 1..300 {
    let r = (current-runner $id $hosts)
    if $r != null { return $r }
    sleep 100ms
  }
  let st = (prov workflow status $id)
  let seen = if $st.runner_pid == null { "no holder" } else {
    let p = (ps --long | where pid == $st.runner_pid | get -o 0.command | default "no such process")
    $"holder pid ($st.runner_pid): ($p)"
  }
  error make {msg: $"timed out waiting for a runner of ($id) \(status ($st.status), ($seen))"}
}

# Workflow `id`'s live runner now, as {pid, host} (`hosts`: {name: workspace}), or null.
def current-runner [id: string, hosts: record] {
  let pid = (prov workflow status $id | get runner_pid)
  if $pid == null { return null }
  let ws = (runner-workspace $pid)
  let host = ($hosts | transpose h ws | where ws == $ws | get -o 0.h)
  if $host == null { null } else { {pid: $pid, host: $host} }
}

# Starts host `host`'s agent `name` on workspace `ws` (its operations see PROV_E2E_HOST=host),
# its pid also appended to the file `pids` (for the cleanup); returns its pid.
def agent-on [pids: string, host: string, ws: string, name: string, log: string] {
  let pid = (with-env {PROV_E2E_HOST: $host} { start-agent $ws $name $log })
  $"($pid)\n" | save --append $pids
  $pid
}

# On a failure: the last lines of every agent's log in `logdir`, and of every runner's log in
# the host workspaces `hosts` ({name: workspace}).
def print-logs [logdir: string, hosts: record] {
  let files = (glob $"($logdir)/*.log") ++ ($hosts | values | each {|ws| glob $"($ws)/.provisioning/workflows/*/runner.log" } | flatten)
  for f in ($files | sort) {
    print $"  --- ($f) \(last 20 lines)"
    print (open --raw $f | lines | last 20 | each {|l| $"    ($l)" } | str join "\n")
  }
}

def kill-all [pids: string] {
  for p in (open $pids | lines | into int) { try { kill -s 9 $p } }
}

def alive [pid: int] { not (ps | where pid == $pid | is-empty) }

def kill-and-wait [pid: int] {
  try { kill -s 9 $pid }
  wait-for $"process ($pid) to end" {|| not (alive $pid) }
}

# Keys under `prefix` (ending in '/') in the cluster's etcd, through its JSON gateway, or with
# `--one` the key `prefix` alone: [{key, value}].
def etcd-range [endpoint: string, prefix: string, --one] {
  # range_end: the prefix with its last byte ('/') one higher
  let end = ($prefix | str substring 0..-2) + "0"
  let req = if $one { {key: ($prefix | encode base64)} } else { {key: ($prefix | encode base64), range_end: ($end | encode base64)} }
  let r = (http post --content-type application/json $"($endpoint)/v3/kv/range" $req)
  $r | get -o kvs | default [] | each {|kv| {key: ($kv.key | decode base64 | decode), value: ($kv.value | decode base64 | decode)} }
}

# The journal records of workflow `id` in etcd: [{seq, claim, type}].
def journal-records [endpoint: string, prefix: string, id: string] {
  etcd-range $endpoint $"($prefix)/workflows/($id)/journal/" | each {|kv|
    let v = ($kv.value | from json)
    {seq: ($kv.key | path basename | into int), claim: $v.claim, type: $v.record.type, operation: ($v.record.operation? | default null)}
  }
}

# Every operation's effect is there, once, apart from those the resumes report as re-executed
# (in flight when a runner was lost): an operation shows at most once more than the resumes
# that re-executed it.
def assert-once-apart-from-reexecuted [id: string, effects_file: string, n: int] {
  let resumed = (prov events --workflow $id | where type == workflow_resumed)
  let again = ($resumed | each {|r| $r.reexecuted? | default [] } | flatten)
  let counts = (effects $effects_file | group-by op | transpose op lines | each {|g| {op: $g.op, n: ($g.lines | length)} })
  assert equal ($counts | length) $n "every operation left its effect"
  let twice = ($counts | where n > 1)
  for d in $twice {
    let reported = ($again | where {|o| $o == $d.op } | length)
    assert ($d.n <= 1 + $reported) $"($d.op) ran ($d.n) times, reported re-executed ($reported) times: ($again | to nuon)"
  }
  {resumed: ($resumed | length), reexecuted: $again, duplicates: ($twice | get -o op | default [])}
}

# `count` distinct moments (effect counts) in 5..`top`, sorted, from `seed` (an LCG: nu's own
# random cannot be seeded).
def kill-moments [seed: int, count: int, top: int] {
  mut x = $seed
  mut out = []
  while ($out | length) < $count {
    $x = ($x * 1103515245 + 12345) mod 2147483648
    let k = 5 + ($x mod ($top - 5))
    if not ($k in $out) { $out = ($out | append $k) }
  }
  $out | sort
}

def main [] {
  run-tests "etcd faults" {
    "a 300-operation workflow whose runner is SIGKILLed 10 times finishes, each effect once apart from reported re-executions": {||
      let seed = ($env.PROV_E2E_SEED? | default (random int 1..2000000000) | into int)
      print $"  seed: ($seed) \(PROV_E2E_SEED=($seed) replays the kill moments\)"
      let moments = (kill-moments $seed 10 290)
      print $"  kills after effects: ($moments | to nuon)"
      let c = (start-cluster)
      let pids = (mktemp -t)
      let prefix = $"/e2e/(random chars -l 8)"
      let hosts = {a: (host-workspace $c $prefix), b: (host-workspace $c $prefix), c: (host-workspace $c $prefix)}
      let logdir = (mktemp -d -t)
      try {
        mut agents = {}
        for h in [a b c] {
          $agents = ($agents | insert $h (agent-on $pids $h ($hosts | get $h) $"($h)-0" ($logdir | path join $"($h)-0.log")))
        }
        let file = (mktemp -t)
        # The gate: how many effects the runners may reach (see effect-ops), raised each round,
        # so that a runner on a slow machine cannot finish the workflow before the tenth kill.
        let gate = (mktemp -t)
        open-gate $gate 0
        cd $hosts.a
        let id = (with-env {PROV_E2E_HOST: a} { effect-ops 300 $file "0.03" 2 --gate $gate | prov workflow submit | get workflow_id })
        mut round = 0
        mut takers = []
        for k in $moments {
          $round += 1
          # The runner now, and its host: killed together with the host's agent (the host died).
          let now = (wait-runner $id $hosts)
          let runner = $now.pid
          let host = $now.host
          # It goes on to effect k (at least one more than now), and up to 3 past it: the kill
          # lands while it works.
          let target = ([$k ((open $file | lines | length) + 1)] | math max)
          open-gate $gate ($target + ($k mod 4))
          wait-for $"effect ($target) \(round ($round))" {|| (open $file | lines | length) >= $target }
          kill-and-wait $runner
          kill-and-wait ($agents | get $host)
          # Another host's agent takes it over.
          let taker = (wait-runner $id $hosts)
          assert ($taker.pid != $runner) "the killed runner still holds the workflow"
          assert ($taker.host != $host) "the dead host took its workflow back"
          $takers = ($takers | append $taker.host)
          # The host comes back, its agent under a new name (the old one's key lapses with it).
          let name = $"($host)-($round)"
          $agents = ($agents | update $host (agent-on $pids $host ($hosts | get $host) $name ($logdir | path join $"($name).log")))
        }
        open-gate $gate 1000000
        let final = (prov workflow wait $id)
        assert equal $final.status completed
        assert equal $final.succeeded 300
        let r = (assert-once-apart-from-reexecuted $id $file 300)
        # A resume for each kill; more when a runner lost its lease to a stalled machine (its
        # log says so) and another agent took over.
        assert ($r.resumed >= 10) $"($r.resumed) resumes after 10 kills"
        assert equal ($takers | length) 10
        print $"  re-executed: ($r.reexecuted | to nuon), effects twice: ($r.duplicates | to nuon)"
        # Every duplicate is a reported re-execution.
        for d in $r.duplicates { assert ($d in $r.reexecuted) $"($d) ran twice, not reported" }
      } catch {|e| kill-all $pids; print-logs $logdir $hosts; stop-cluster $c; error make {msg: $e.msg} }
      kill-all $pids
      stop-cluster $c
    }

    "a runner SIGSTOPped past its lease writes nothing after another took over, and exits saying so": {||
      let c = (start-cluster)
      let pids = (mktemp -t)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        let a = (host-workspace $c $prefix)
        let b = (host-workspace $c $prefix)
        let file = (mktemp -t)
        cd $a
        let id = (with-env {PROV_E2E_HOST: a} { effect-ops 50 $file "0.1" 1 --chain | prov workflow submit | get workflow_id })
        wait-for "5 effects" {|| (open $file | lines | length) >= 5 }
        let old = (prov workflow status $id | get runner_pid)
        let old_claim = (etcd-range --one $c.endpoints.0 $"($prefix)/workflows/($id)/claim" | get 0.value | from json)
        assert equal $old_claim.pid $old
        $"($old)\n" | save --append $pids  # a failure leaves no stopped runner behind
        kill -s 19 $old  # SIGSTOP: the host is paused
        agent-on $pids b $b host-b (mktemp -t) | ignore
        wait-for "host b's runner" {|| (prov workflow status $id | get runner_pid) not-in [null $old] }
        let taken = (effects $file | where host == a | length)
        let new_claim = (etcd-range --one $c.endpoints.0 $"($prefix)/workflows/($id)/claim" | get 0.value | from json)
        assert ($new_claim.token > $old_claim.token)
        wait-for "host b's first effect" {|| (effects $file | where host == b | length) >= 1 }
        let old_records = (journal-records $c.endpoints.0 $prefix $id | where claim == $old_claim.token)
        kill -s 18 $old  # SIGCONT: it wakes up without its claim
        wait-for "the old runner to exit" {|| not (alive $old) }
        # Its log says why it stopped.
        let log = (open ($a | path join .provisioning workflows $id runner.log))
        assert ($log | str contains $"no longer holds workflow ($id)") $log
        assert ($log | str contains "[provisioning::state::claim_lost]") $log
        # Nothing of it after the takeover: no effect, no journal record under its claim.
        let records = (journal-records $c.endpoints.0 $prefix $id)
        assert equal ($records | where claim == $old_claim.token) $old_records
        let first_new = ($records | where claim == $new_claim.token | get seq | math min)
        assert (($old_records | get seq | math max) < $first_new)
        let final = (prov workflow wait $id)
        assert equal $final.status completed
        # Its operations after the takeover: none, but for one whose start it had journaled under
        # its claim before the pause and had not yet started (paused between its last check of
        # the claim and the fork, RELIABILITY): the taker reports that one as re-executed.
        let late = (effects $file | where host == a | skip $taken | get op)
        let started_unfinished = ($old_records | where type == operation_started | get operation
          | where {|o| $o not-in ($old_records | where type == operation_succeeded | get operation) })
        let again = (prov events --workflow $id | where type == workflow_resumed | each {|r| $r.reexecuted? | default [] } | flatten)
        assert (($late | length) <= 1) $"the paused host's effects after the takeover: ($late | to nuon)"
        for op in $late {
          assert ($op in $started_unfinished) $"($op) ran after the takeover but was not journaled as started before it: ($started_unfinished | to nuon)"
          assert ($op in $again) $"($op) ran after the takeover and was not reported re-executed: ($again | to nuon)"
        }
        print $"  figures: paused host's effects after the takeover: ($late | to nuon)"
        assert-once-apart-from-reexecuted $id $file 50 | ignore
      } catch {|e| print ($e.rendered? | default $e.msg); kill-all $pids; stop-cluster $c; error make {msg: $e.msg} }
      kill-all $pids
      stop-cluster $c
    }

    "a run goes on with one etcd member killed; with two its runner stops cleanly and agents finish it when they return": {||
      let cluster = (start-cluster)
      let pids = (mktemp -t)
      try {
        mut c = $cluster
        let prefix = $"/e2e/(random chars -l 8)"
        # A lease and request timeout that outlast a leader election on a busy machine: with
        # one member down the runner must not stop.
        let a = (host-workspace $c $prefix "5s" "5s")
        let b = (host-workspace $c $prefix "5s" "5s")
        let logs = {a: (mktemp -t), b: (mktemp -t)}
        let agents = [(agent-on $pids a $a host-a $logs.a) (agent-on $pids b $b host-b $logs.b)]
        let file = (mktemp -t)
        cd $a
        let id = (with-env {PROV_E2E_HOST: a} { effect-ops 80 $file "0.1" 1 --chain | prov workflow submit | get workflow_id })
        wait-for "5 effects" {|| (open $file | lines | length) >= 5 }
        let runner = (prov workflow status $id | get runner_pid)
        kill-member $c 0
        # One member down: the run goes on, its runner the same.
        let n = (open $file | lines | length)
        wait-for "10 more effects with a member down" {|| (open $file | lines | length) >= $n + 10 }
        assert (alive $runner) "the runner stopped with one member down"
        assert equal (prov workflow status $id | get runner_pid) $runner
        # Two down: no quorum. The runner stops, saying why; the agents stay.
        kill-member $c 1
        wait-for "the runner to stop without quorum" {|| not (alive $runner) }
        let log = (open ($a | path join .provisioning workflows $id runner.log))
        assert ($log | str contains "[provisioning::etcd::unavailable]") $log
        let stopped_at = (open $file | lines | length)
        sleep 1sec
        assert equal (open $file | lines | length) $stopped_at "effects after the runner stopped"
        for p in $agents { assert (alive $p) "an agent exited without quorum" }
        $c = (start-member $c 0)
        $c = (start-member $c 1)
        # Back: the workflow shows interrupted until an agent takes it over, then completes.
        mut seen = []
        for attempt in 1..300 {
          let s = (try { prov workflow status $id } catch { null })
          if $s != null {
            $seen = ($seen | append $s.status)
            if $s.runner_pid not-in [null $runner] { break }
          }
          sleep 100ms
        }
        assert ("interrupted" in $seen) $"statuses seen: ($seen | uniq | to nuon)"
        let final = (prov workflow wait $id)
        assert equal $final.status completed
        assert equal $final.succeeded 80
        assert-once-apart-from-reexecuted $id $file 80 | ignore
        for p in $agents { assert (alive $p) "an agent exited" }
        let said = (open $logs.a) + (open $logs.b)
        assert ($said | str contains "cannot read the store, trying again") $said
        assert ($said | str contains "took") $said
      } catch {|e| kill-all $pids; stop-cluster $cluster; error make {msg: $e.msg} }
      kill-all $pids
      stop-cluster $cluster
    }
  }
}
