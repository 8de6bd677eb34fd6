# The shared store on etcd: a real 3-member cluster on free loopback ports, two copies of one
# workspace as two "hosts", runners and agents through real nu. Each test starts its own
# cluster and stops it, leaving no process.
# ctest-labels: e2e;fault
use std/assert
use harness.nu *

const BACKGROUND = (path self | path dirname | path join background.sh)

# Starts `n` etcd members; returns {endpoints, pids, dir}.
def start-cluster [n: int = 3] {
  let dir = (mktemp -d)
  # `port` gives the first free port from its start: each search starts after the last found.
  mut next = (random int 20000..50000)
  mut members = []
  for i in 0..<$n {
    let client = (port $next 65000)
    let peer = (port ($client + 1) 65000)
    $next = $peer + 1
    $members = ($members | append {name: $"m($i)", client: $client, peer: $peer})
  }
  let initial = ($members | each {|m| $"($m.name)=http://127.0.0.1:($m.peer)" } | str join ",")
  let pids = ($members | each {|m|
    ^bash $BACKGROUND ($dir | path join $"($m.name).log") etcd --name $m.name --data-dir ($dir | path join $m.name) --listen-client-urls $"http://127.0.0.1:($m.client)" --advertise-client-urls $"http://127.0.0.1:($m.client)" --listen-peer-urls $"http://127.0.0.1:($m.peer)" --initial-advertise-peer-urls $"http://127.0.0.1:($m.peer)" --initial-cluster $initial --initial-cluster-state new --heartbeat-interval 50 --election-timeout 500 --log-level error | into int
  })
  let endpoints = ($members | each {|m| $"http://127.0.0.1:($m.client)" })
  # Ready once a write is taken.
  for attempt in 1..100 {
    let ok = (try { http post --content-type application/json $"($endpoints.0)/v3/kv/put" {key: "cmVhZHk=", value: "MQ=="} | ignore; true } catch { false })
    if $ok { return {endpoints: $endpoints, pids: $pids, dir: $dir} }
    sleep 100ms
  }
  error make {msg: "the etcd cluster did not start"}
}

def stop-cluster [c: record] {
  for pid in $c.pids { try { kill -s 9 $pid } }
  for attempt in 1..50 {
    if (ps | where pid in $c.pids | is-empty) { return }
    sleep 50ms
  }
  error make {msg: "etcd members still running"}
}

# A workspace on the cluster's etcd store (one "host"), sharing `prefix`.
def host-workspace [c: record, prefix: string] {
  let ws = (mktemp -d)
  let endpoints = ($c.endpoints | each {|e| $"\"($e)\"" } | str join ", ")
  $"[project]\nname = \"shared\"\n[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [($endpoints)]\nprefix = \"($prefix)\"\nlease_ttl = \"2s\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

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
        kill -s 9 $running.runner_pid
        let log = (mktemp)
        let agent = (^bash $BACKGROUND $log $env.PROV_PLUGIN agent --workspace $b --name host-b | into int)
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

    "agents and `prov agent list` refuse a workspace on the file store, saying how to share one": {||
      let ws = (mktemp -d)
      "[project]\nname = \"solo\"\n" | save ($ws | path join "config.defaults.toml")
      let out = (do { ^$env.PROV_PLUGIN agent --workspace $ws } | complete)
      assert equal $out.exit_code 1
      assert ($out.stderr | str contains "provisioning::agent::needs_shared_store") $out.stderr
      assert ($out.stderr | str contains "state.backend = \"etcd\"") $out.stderr
      cd $ws
      let e = (expect-error {|| prov agent list })
      assert ($e.msg | str contains "belongs to this host only") $e.msg
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
