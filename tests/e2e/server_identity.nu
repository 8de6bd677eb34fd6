# Servers with identity through real nu: a name is unique per provider (same spec: unchanged;
# another spec: refused naming the fields, unless --replace), in `prov server create`, in
# server.create operations and with a Nu-module provider; unknown spec fields with a
# did-you-mean; the local provider's port checks, readiness of its own process only, a dying
# server never `running`; `prov server logs|stop|start|restart`; the restart policy.
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  let providers = ($env.PROV_REPO | path join "examples" "providers")
  $"[paths]\nproviders = \"($providers)\"\n[providers.local]\nkill_grace = \"2s\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

def free-port [] {
  let used = (try { ^ss -Htln | lines | parse --regex ':(?<port>\d+)\s' | get port | into int } catch { [] })
  mut p = (20000 + (random int 0..20000))
  while $p in $used { $p = (20000 + (random int 0..20000)) }
  $p
}

# How many processes run exactly `cmd` (ps fails when one exits while it reads: tried again).
def count-procs [cmd: string] {
  for attempt in 1..10 {
    let n = (try { ps --long | where {|p| ($p.command? | default "") == $cmd } | length } catch { null })
    if $n != null { return $n }
    sleep 20ms
  }
  error make {msg: "ps kept failing"}
}

def alive [pid: int] { ($"/proc/($pid)" | path exists) and ((open $"/proc/($pid)/stat" | split row " " | get 2) != "Z") }

# Deletes every server of the workspace, whatever happened in the test.
def cleanup [] {
  try { prov server list --all | where id != null | each {|s| prov server delete $s.id --provider $s.provider } | ignore }
}

# Runs `body` in a fresh workspace, then deletes its servers; fails as `body` did.
def in-workspace [body: closure] {
  cd (new-workspace)
  let failure = try { do $body; null } catch {|e| $e }
  cleanup
  if $failure != null { error make {msg: (err-details $failure | get msg)} }
}

def main [] {
  let server_bin = ($env.PROV_BIN_DIR | path join "prov_loopback_server")
  run-tests "server_identity" {
    "create by name: the same spec is unchanged and starts nothing; another is refused naming the field; --replace": {||
      in-workspace {||
        let secs = (600 + (random int 1..1000000))
        let a = (prov server create web --command [sleep ($secs | into string)] --labels {tier: web})
        assert equal $a.change created
        assert equal $a.labels {tier: web}
        assert equal $a.plan null
        let b = (prov server create web --command [sleep ($secs | into string)] --labels {tier: web})
        assert equal $b.change unchanged
        assert equal $b.id $a.id
        assert equal $b.pid $a.pid
        assert equal (count-procs $"sleep ($secs)") 1
        assert equal (prov server list | where name == web | length) 1
        let e = (expect-error { prov server create web --command [sleep ($secs + 1 | into string)] --labels {tier: web} })
        assert equal $e.code "provisioning::server::exists"
        assert ($e.msg | str contains $'command: ["sleep", "($secs)"] → ["sleep", "($secs + 1)"]' ) $e.msg
        assert not ($e.msg | str contains "labels") $e.msg
        assert equal (label-text $e) web
        assert equal (count-procs $"sleep ($secs)") 1
        let c = (prov server create web --command [sleep ($secs + 1 | into string)] --labels {tier: web} --replace)
        assert equal $c.change replaced
        assert ($c.id != $a.id)
        assert not (alive $a.pid)
        assert equal (count-procs $"sleep ($secs)") 0
        assert equal (count-procs $"sleep ($secs + 1)") 1
        assert equal (prov server list | where name == web | get id) [$c.id]
      }
    }
    "create by name holds for a Nu-module provider, from a record": {||
      in-workspace {||
        let a = ({name: db, plan: small, labels: {tier: data}} | prov server create --provider folder)
        assert equal $a.change created
        assert equal ({name: db, plan: small, labels: {tier: data}} | prov server create --provider folder | get id) $a.id
        let e = (expect-error { {name: db, plan: large, labels: {tier: data}} | prov server create --provider folder })
        assert equal $e.code "provisioning::server::exists"
        assert ($e.msg | str contains "plan: small → large") $e.msg
        assert equal (prov server list --provider folder | length) 1
      }
    }
    "an unknown spec field is refused with a did-you-mean, from every caller": {||
      in-workspace {||
        let e = (expect-error { {name: web, command: [sleep 600], prots: [8080]} | prov server create })
        assert equal $e.code "provisioning::provider::invalid_spec"
        assert ($e.msg | str contains "field `prots`") $e.msg
        assert ($e.msg | str contains "did you mean `ports`?") $e.msg
        let f = (expect-error { {name: db, plann: small} | prov server create --provider folder })
        assert ($f.msg | str contains "did you mean `plan`?") $f.msg
        let r = (expect-error { prov server create w --command ["true"] --restart {policy: on-failure, maxx: 2} })
        assert ($r.msg | str contains "did you mean `max`?") $r.msg
        let wf = {name: typo, settings: {retry: {attempts: 1}}, operations: [{id: s, kind: server.create, server: {name: web, command: [sleep 600], prots: [1]}}]}
        let last = ($wf | prov workflow run --allow-failure | last)
        assert equal $last.type workflow_failed
        assert ($last.failed_operations.0.message | str contains "did you mean `ports`?") ($last | to nuon)
        assert equal (prov server list | length) 0
      }
    }
    "server.create: a second run finds the server unchanged, and its rollback leaves it": {||
      in-workspace {||
        let secs = (600 + (random int 1..1000000))
        let op = {id: s, kind: server.create, provider: local, server: {name: keep, command: [sleep $secs]}}
        let first = ({name: one, operations: [$op]} | prov workflow run)
        assert equal ($first | where type == resource_created | length) 1
        let id = (prov server list | where name == keep | first | get id)
        let wf = {name: two, settings: {retry: {attempts: 1}}, operations: [$op {id: boom, kind: command, run: [false], depends_on: [s]}]}
        let events = ($wf | prov workflow run --allow-failure)
        assert equal ($events | last | get status) rolled_back
        assert equal ($events | where type == resource_created | length) 0
        assert equal ($events | where type == resource_deleted | length) 0
        assert ($events | where type == operation_succeeded | where operation == s | first | get message | str contains "unchanged")
        assert equal (prov server get $id | get state) running
        assert equal (count-procs $"sleep ($secs)") 1
        # Another spec fails the operation naming the field; replace = true replaces it.
        let changed = ($op | upsert server.command [sleep ($secs + 1)])
        let refused = ({name: three, settings: {retry: {attempts: 1}}, operations: [$changed]} | prov workflow run --allow-failure | last)
        assert equal $refused.type workflow_failed
        assert ($refused.failed_operations.0.message | str contains "command:") ($refused | to nuon)
        let replaced = ({name: four, operations: [($changed | insert replace true)]} | prov workflow run)
        assert equal ($replaced | where type == resource_created | length) 1
        assert equal (count-procs $"sleep ($secs)") 0
        assert equal (count-procs $"sleep ($secs + 1)") 1
      }
    }
    "local: a port already taken is refused before anything starts, naming it": {||
      in-workspace {||
        let port = (free-port)
        let holder = (prov server create holder --command [$server_bin ($port | into string)] --ports [$port])
        let e = (expect-error { prov server create late --command [$server_bin ($port | into string)] --ports [$port] })
        assert equal $e.code "provisioning::server::port_in_use"
        assert ($e.msg | str contains $"port ($port)") $e.msg
        assert ($e.msg | str contains $"pid ($holder.pid)") $e.msg
        assert equal (prov server list | get name) [holder]
      }
    }
    "local: a server that dies before it is ready fails the create with its status and log tail": {||
      in-workspace {||
        let port = (free-port)
        let e = (expect-error { prov server create dying --command [sh -c "echo starting; echo bad config >&2; exit 3"] --ports [$port] })
        assert equal $e.code "provisioning::provider::failed"
        assert ($e.msg | str contains "exited with status 3") $e.msg
        assert ($e.msg | str contains "bad config") $e.msg
        assert ($e.msg | str contains "starting") $e.msg
        assert equal (prov server list | length) 0
        # Without ports create returns at once; once its process is gone it is never running.
        let s = (prov server create brief --command [sh -c "exit 5"])
        prov server logs $s.id --follow | ignore  # ends when its supervisor does
        let got = (prov server get $s.id)
        assert equal $got.state exited
        assert equal $got.exit_code 5
      }
    }
    "server logs, stop, start and restart": {||
      in-workspace {||
        let secs = (600 + (random int 1..1000000))
        let s = (prov server create talker --command [sh -c $"echo hello; echo oops >&2; exec sleep ($secs)"])
        mut out = []
        for _ in 1..200 { $out = (prov server logs $s.id | lines); if ($out | is-not-empty) { break }; sleep 20ms }
        assert equal $out [hello]
        assert equal (prov server logs $s.id --stderr | lines) [oops]
        let stopped = (prov server stop $s.id)
        assert equal $stopped.state exited
        assert not (alive $s.pid)
        assert equal (count-procs $"sleep ($secs)") 0
        # Following a stopped server's logs ends at once with what it wrote.
        assert equal (prov server logs $s.id --follow | lines) [hello]
        let started = (prov server start $s.id)
        assert equal $started.state running
        assert ($started.pid != $s.pid)
        assert equal $started.id $s.id
        let restarted = (prov server restart $s.id)
        assert equal $restarted.state running
        assert ($restarted.pid != $started.pid)
        assert not (alive $started.pid)
        assert equal (count-procs $"sleep ($secs)") 1
        let e = (expect-error { prov server stop nosuch })
        assert equal $e.code "provisioning::provider::not_found"
        assert equal (label-text $e) nosuch
        let db = ({name: db} | prov server create --provider folder)
        let u = (expect-error { prov server stop $db.id --provider folder })
        assert equal $u.code "provisioning::provider::unsupported"
      }
    }
    "restart policy: the supervisor restarts a crashing server up to its limit": {||
      in-workspace {||
        let s = (prov server create crashy --command [sh -c "echo run; exit 1"] --restart {policy: on-failure, max: 2, backoff: 50ms})
        assert equal $s.restart {policy: on-failure, max: 2, backoff: 50ms}
        # The stream ends when the supervisor gives up: three runs, two restarts.
        assert equal (prov server logs $s.id --follow | lines) [run run run]
        let got = (prov server get $s.id)
        assert equal $got.state exited
        assert equal $got.restarts 2
        assert equal $got.exit_code 1
        let shorthand = (prov server create calm --command [sleep 600] --restart on-failure)
        assert equal $shorthand.restart {policy: on-failure, max: 5, backoff: 1sec}
      }
    }
  }
}
