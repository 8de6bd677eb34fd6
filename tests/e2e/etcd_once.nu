# The shared store on etcd: a real 3-member cluster on free loopback ports, two copies of one
# workspace as two "hosts", runners and agents through real nu. Each test starts its own
# cluster and stops it, leaving no process.
# ctest-labels: e2e;fault
use std/assert
use harness.nu *
use etcd_cluster.nu *

const BACKGROUND = (path self | path dirname | path join background.sh)

# A workflow of `n` operations in a chain, each appending its id to `effects` after `pause`.
def chain [n: int, effects: string, pause: string = "0"] {
  {
    name: "chain"
    settings: {parallel: 1}
    operations: (1..$n | each {|i|
      {id: $"op($i)", kind: command, run: [bash -c 'sleep "$1"; echo "$2" >> "$3"' _ $pause $"op($i)" $effects], depends_on: (if $i == 1 { [] } else { [$"op($i - 1)"] })}
    })
  }
}

def main [] {
  run-tests "etcd" {
    "a workflow run on the etcd store is seen, with its events, from another host": {||
      let c = (start-cluster)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        let a = (host-workspace $c $prefix)
        let b = (host-workspace $c $prefix)
        let effects = (mktemp)
        cd $a
        let events = (chain 3 $effects | prov workflow run)
        assert equal ($events | last | get type) workflow_completed
        let id = ($events | first | get workflow_id)
        assert equal (open $effects | lines) [op1 op2 op3]
        cd $b
        let listed = (prov workflow list)
        assert equal ($listed | get workflow_id) [$id]
        assert equal ($listed | get runner_host) [null]
        let status = (prov workflow status $id)
        assert equal $status.status completed
        assert equal $status.succeeded 3
        assert equal $status.runner_host null
        assert equal (prov events --workflow $id | where type == operation_succeeded | get operation) [op1 op2 op3]
        # Nothing of it is in the other host's state folder: it lives in etcd.
        assert (not ($b | path join .provisioning workflows $id | path exists))
      } catch {|e| stop-cluster $c; error make {msg: $e.msg} }
      stop-cluster $c
    }

    "another host follows a running workflow's events through etcd watches, to its end": {||
      let c = (start-cluster)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        let a = (host-workspace $c $prefix)
        let b = (host-workspace $c $prefix)
        let effects = (mktemp -t)
        cd $a
        let id = (chain 5 $effects "0.3" | prov workflow submit | get workflow_id)
        cd $b
        # Started while host a runs it: what it did so far, then what it does, until its end.
        let followed = (prov events --follow --workflow $id)
        assert equal ($followed | last | get type) workflow_completed
        assert equal ($followed | where type == operation_succeeded | get operation) [op1 op2 op3 op4 op5]
        assert equal ($followed | get time) ($followed | get time | sort)
        assert equal ($followed | length) (prov events --workflow $id | length)
        # And every workflow's: a second one submitted on host a while host b follows them all.
        cd $a
        let second = (chain 2 $effects "0.3" | prov workflow submit | get workflow_id)
        cd $b
        let all = (prov events --follow | where workflow_id == $second | take until {|e| $e.type == workflow_completed } | get type)
        assert equal ($all | first) workflow_started
        assert equal ($all | where $it == operation_succeeded | length) 2
      } catch {|e| stop-cluster $c; error make {msg: $e.msg} }
      stop-cluster $c
    }

    "an agent on another host takes over a workflow whose runner was killed, and finishes it once": {||
      let c = (start-cluster)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        let a = (host-workspace $c $prefix)
        let b = (host-workspace $c $prefix)
        let effects = (mktemp)
        cd $a
        let id = (chain 8 $effects "0.3" | prov workflow submit | get workflow_id)
        # Kill the runner once two operations are done.
        for attempt in 1..100 {
          if ((open $effects | lines | length) >= 2) { break }
          sleep 50ms
        }
        let running = (prov workflow status $id)
        assert equal $running.runner_host (sys host | get hostname)
        # The other host's list names the host that runs it.
        cd $b
        assert equal (prov workflow list | where workflow_id == $id | get runner_host) [(sys host | get hostname)]
        cd $a
        kill -s 9 $running.runner_pid
        let log = (mktemp)
        let agent = (start-agent $b host-b $log)
        try {
          let final = (prov workflow wait $id)
          assert equal $final.status completed
          assert equal $final.succeeded 8
          # Every operation's effect is there once, apart from those the resumed run reports as
          # re-executed (in flight when the runner was killed).
          let resumed = (prov events --workflow $id | where type == workflow_resumed)
          assert equal ($resumed | length) 1
          let again = ($resumed | first | get reexecuted)
          let lines = (open $effects | lines)
          assert equal ($lines | uniq) [op1 op2 op3 op4 op5 op6 op7 op8]
          for op in [op1 op2 op3 op4 op5 op6 op7 op8] {
            let n = ($lines | where {|l| $l == $op } | length)
            assert ($n == 1 or ($n == 2 and $op in $again)) $"($op) ran ($n) times, re-executed: ($again | to nuon)"
          }
          let agents = (prov agent list)
          assert equal ($agents | get name) [host-b]
          assert equal ($agents.0.host) (sys host | get hostname)
          assert (open $log | str contains $"took ($id)") (open $log)
        } catch {|e| kill -s 9 $agent; error make {msg: $e.msg} }
        kill -s 15 $agent
        for attempt in 1..100 { if (ps | where pid == $agent | is-empty) { break }; sleep 50ms }
        assert (ps | where pid == $agent | is-empty)
      } catch {|e| stop-cluster $c; error make {msg: $e.msg} }
      stop-cluster $c
    }

    "`prov workflow run` follows the agent that takes over when its runner is lost, and ends completed": {||
      let c = (start-cluster)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        let a = (host-workspace $c $prefix)
        let b = (host-workspace $c $prefix)
        let effects = (mktemp)
        let marker = $"($effects).killed"
        let log = (mktemp)
        let agent = (^bash $BACKGROUND $log $env.PROV_PLUGIN agent --workspace $b --name host-b | into int)
        try {
          cd $a
          # The second operation kills its runner (its parent) the first time it runs, then
          # becomes a sleep: the process the dead runner left must not write (no other host can
          # stop it), only the run the agent starts again.
          let wf = {
            name: "lost"
            operations: [
              {id: one, kind: command, run: [bash -c 'echo one >> "$1"' _ $effects]}
              {id: two, kind: command, run: [bash -c '[ -e "$2" ] || { touch "$2"; kill -9 $PPID; exec sleep 5; }; echo two >> "$1"' _ $effects $marker], depends_on: [one]}
              {id: three, kind: command, run: [bash -c 'echo three >> "$1"' _ $effects], depends_on: [two]}
            ]
          }
          let events = ($wf | prov workflow run)
          assert equal ($events | last | get type) workflow_completed
          assert equal ($events | where type == workflow_resumed | get 0.reexecuted) [two]
          assert equal (open $effects | lines) [one two three]
          assert equal (prov workflow status ($events | first | get workflow_id) | get status) completed
        } catch {|e| kill -s 9 $agent; error make {msg: $e.msg} }
        kill -s 15 $agent
      } catch {|e| stop-cluster $c; error make {msg: $e.msg} }
      stop-cluster $c
    }

    "the infrastructure lock and managed state are shared: an apply on one host refuses one on another, naming it": {||
      let c = (start-cluster)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        let a = (host-workspace $c $prefix)
        let b = (host-workspace $c $prefix)
        let secs = (random int 100000..900000)
        let port = (port (random int 20000..50000) 65000)
        # Host a applies a server that never opens its port: its create fails after ready_timeout (5s).
        let slow = $"{servers: {slow: {command: [sleep ($secs)], ports: [($port)]}}}"
        let plugins = $"[($env.PROV_PLUGIN | to nuon)]"
        let out = (mktemp)
        job spawn { cd $a; ^$env.PROV_NU -n --plugins $plugins -c $"($slow) | prov infra apply --allow-failure | ignore" | complete | to nuon | save -f $out }
        cd $b
        mut wf = ""
        for _ in 1..400 {
          let running = (prov workflow list | where name == infra-apply and status == running)
          if ($running | is-not-empty) { $wf = ($running | first | get workflow_id); break }
          sleep 50ms
        }
        assert ($wf != "") $"the apply on host a did not start: (open --raw $out)"
        let other = {servers: {other: {command: [sleep $secs]}}}
        let e = (expect-error { $other | prov infra apply })
        assert equal $e.code provisioning::state::locked
        assert ($e.msg | str contains $"workflow ($wf) \(runner pid ") $e.msg
        # Both "hosts" are this machine: the holder is named as on this host.
        assert ($e.msg | str contains " on this host)") $e.msg
        # Waiting for it instead goes on once host a's apply has failed.
        let events = ($other | prov infra apply --lock-timeout 1min)
        assert equal ($events | last | get type) workflow_completed
        assert equal (prov workflow status $wf | get status) failed
        cd $a
        assert equal (prov infra state | get name) [other]
        cd $b
        prov infra destroy | ignore
        assert equal (prov infra state) []
      } catch {|e| stop-cluster $c; error make {msg: $e.msg} }
      stop-cluster $c
    }

    "an operation's log stays on its host; another host reads its last 64 KiB, told where the whole is": {||
      let c = (start-cluster)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        let a = (host-workspace $c $prefix)
        let b = (host-workspace $c $prefix)
        cd $a
        # 100000 numbered lines (688895 bytes), and one short line.
        let wf = {name: logs, operations: [
          {id: big, kind: command, run: [seq 1 100000]}
          {id: small, kind: command, run: [echo hello]}
          {id: quiet, kind: command, run: [true]}
        ]}
        let events = ($wf | prov workflow run)
        assert equal ($events | last | get type) workflow_completed
        let id = ($events | first | get workflow_id)
        # On its own host: the whole log, no note.
        let own = (prov workflow logs $id --output big)
        assert equal ($own | where stream == prov | where {|r| $r.line starts-with "[prov:" }) []
        assert equal ($own | where stream == stdout | first | get line) "1"
        assert equal ($own | where stream == stdout | last | get line) "100000"
        let whole = ($a | path join .provisioning workflows $id logs)
        cd $b
        let far = (prov workflow logs $id --output big)
        let note = ($far | first)
        assert equal $note.stream prov
        assert ($note.line starts-with "[prov: only the last 64 KiB of this operation's output") $note.line
        let size = (ls $whole | where {|f| ($f.name | path basename) starts-with "big" } | first | get size | into int)
        assert ($note.line | str contains $"\(($size) bytes\)") $note.line
        assert ($note.line | str contains $whole) $note.line
        assert ($note.line | str contains (sys host | get hostname)) $note.line
        # Then whole lines: the last ones of the log, each as the operation printed it, with its
        # time, attempt and stream.
        let lines = ($far | skip 1 | where stream == stdout)
        assert (($lines | length) > 1500) $"($lines | length) lines"
        assert equal ($lines | last | get line) "100000"
        assert equal ($lines | get attempt | uniq) [1]
        assert ($lines | all {|r| ($r.time | into int) > 0 })
        # (The first may be the end of a line the cut fell in: the pipe gave it in two reads.)
        let whole_lines = ($lines | skip 1)
        let first_line = ($whole_lines | first | get line | into int)
        assert equal ($whole_lines | get line) (seq $first_line 100000 | each {|n| $n | into string })
        assert equal (prov workflow logs $id --output big --tail 2 | skip 1 | where stream == stdout | get line) ["100000"]
        assert ((prov workflow logs $id --output big --raw | lines | first) starts-with "[prov: only the last 64 KiB")
        # The text as written, the runner's closing line after the output.
        let raw = (prov workflow logs $id --output big --raw | lines | last 2)
        assert equal $raw.0 "100000"
        assert ($raw.1 starts-with "<== ") $raw.1
        # A short log is there whole, without a note; an operation that printed nothing has none.
        assert equal (prov workflow logs $id --output small | where stream == stdout | get line) [hello]
        assert equal (prov workflow logs $id --output small | where stream == prov | where {|r| $r.line starts-with "[prov:" }) []
        assert equal (prov workflow logs $id --output quiet | where stream != prov) []
        # Nothing of the log is in host b's folder: only etcd's copy of its end.
        assert (not ($b | path join .provisioning workflows $id logs | path exists))
      } catch {|e| stop-cluster $c; error make {msg: $e.msg} }
      stop-cluster $c
    }

    "agents, `prov agent list` and `submit --queue` refuse a workspace on the file store, saying how to share one": {||
      let ws = (mktemp -d)
      "[project]\nname = \"solo\"\n" | save ($ws | path join "config.defaults.toml")
      let out = (do { ^$env.PROV_PLUGIN agent --workspace $ws } | complete)
      assert equal $out.exit_code 1
      assert ($out.stderr | str contains "provisioning::agent::needs_shared_store") $out.stderr
      assert ($out.stderr | str contains "state.backend = \"etcd\"") $out.stderr
      cd $ws
      let e = (expect-error {|| prov agent list })
      assert ($e.msg | str contains "belongs to this host only") $e.msg
      let q = (expect-error {|| {name: q, operations: [{id: a, kind: command, run: [true]}]} | prov workflow submit --queue })
      assert ($q.msg | str contains "--queue leaves the workflow to an agent") $q.msg
      assert ($q.msg | str contains "belongs to this host only") $q.msg
      assert equal (prov workflow list) [] "nothing was recorded"
    }

    "a misspelled backend or an endpoint that is not a URL is refused naming the key and file": {||
      let ws = (mktemp -d)
      "[state]\nbackend = \"etdc\"\n" | save ($ws | path join "config.defaults.toml")
      cd $ws
      let e = (expect-error {|| prov workflow list })
      assert ($e.msg | str contains "state.backend") $e.msg
      assert ($e.msg | str contains "config.defaults.toml") $e.msg
      assert ($e.help | str contains "did you mean etcd?") $e.help
      "[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"127.0.0.1:2379\"]\n" | save -f ($ws | path join "config.defaults.toml")
      let e2 = (expect-error {|| prov workflow list })
      assert ($e2.msg | str contains "state.etcd.endpoints.0") $e2.msg
    }
  }
}
