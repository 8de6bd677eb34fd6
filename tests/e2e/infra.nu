# `prov infra` through real nu: plan, apply, a second apply that starts nothing, references
# between servers, drift after a process is killed outside, import, destroy leaving no process,
# a failed apply rolling back only what it created, a concurrent apply refused naming the holder.
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  "[providers.local]\nkill_grace = \"2s\"\nready_timeout = \"60s\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# A TCP port nobody listens on now.
def free-port [] {
  let used = (try { ^ss -Htln | lines | parse --regex ':(?<port>\d+)\s' | get port | into int } catch { [] })
  mut p = (20000 + (random int 0..20000))
  while $p in $used { $p = (20000 + (random int 0..20000)) }
  $p
}

# How many `sleep <secs>` processes run (`secs` is random per test, so other suites' servers do not count).
def count-sleepers [secs: int] {
  for attempt in 1..10 {
    let n = (try { ps --long | where {|p| $p.command == $"sleep ($secs)" } | length } catch { null })
    if $n != null { return $n }
    sleep 20ms
  }
  error make {msg: "ps kept failing"}
}

# Runs `body` in the current workspace; whatever happens, deletes every server there after.
def cleaning [body: closure] {
  let failure = try { do $body; null } catch {|e| $e }
  prov server list | each {|s| try { prov server delete $s.id | ignore } } | ignore
  if $failure != null { error make {msg: $failure.msg, inner: [$failure]} }
}

def three [secs: int] {
  {
    vars: {tier: back}
    servers: {
      db: {command: [sleep $secs], labels: {tier: "{{vars.tier}}"}}
      api: {command: [sleep $secs], depends_on: [db], labels: {tier: api}}
      web: {command: [sleep $secs], env: {DB_TIER: "{{servers.db.labels.tier}}"}}
    }
  }
}

# References resolved by the engine at apply time ({{ops.<id>.out.<path>}}, {{vars.<name>}}): a
# server's field known only after its create (its id) reaches another server through the
# apply's workflow.
def needs-refs-tests [] {
  {
    "references to fields known only after apply: the id of a server created in the same apply": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      cleaning {
        let def = {servers: {api: {command: [sleep $secs]}, web: {command: [sleep $secs], env: {API_ID: "{{servers.api.id}}"}}}}
        let plan = ($def | prov infra plan)
        assert equal ($plan | get name) [api web]
        $def | prov infra apply | ignore
        let state = (prov infra state)
        let api = ($state | where name == api | first)
        assert equal ($state | where name == web | first | get spec.env.API_ID) $api.id
        assert equal ($def | prov infra plan | get action | uniq) [noop]
      }
    }
  }
}

def main [] {
  run-tests "infra" ((needs-refs-tests) | merge {
    "plan, apply, then a second apply that is all noop and starts no process": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      cleaning {
        let plan = (three $secs | prov infra plan)
        assert equal ($plan | select action name provider) [
          [action name provider]; [create db local] [create api local] [create web local]]
        assert equal ($plan | get reason | uniq) ["not managed yet"]
        let events = (three $secs | prov infra apply)
        assert equal ($events | last | get type) workflow_completed
        assert equal ($events | where type == resource_created | length) 3
        assert equal (count-sleepers $secs) 3
        let state = (prov infra state)
        assert equal ($state | get name) [api db web]
        assert equal ($state | where name == web | first | get depends_on) [db]
        # the reference, resolved from the variable through db's label
        assert equal ($state | where name == web | first | get spec.env.DB_TIER) back
        let workflows = (prov workflow list | length)
        let again = (three $secs | prov infra apply)
        assert equal ($again | get action) [noop noop noop]
        assert equal (prov workflow list | length) $workflows "a second apply started a workflow"
        assert equal (count-sleepers $secs) 3
        assert equal (prov infra state | get id) ($state | get id)
        assert equal (three $secs | prov infra plan | get action | uniq) [noop]
        # destroy with a definition: only the servers it declares
        let gone = ({servers: {web: {}}} | prov infra destroy)
        assert equal ($gone | where type == resource_deleted | get resource.name) [web]
        assert equal (prov infra state | get name) [api db]
        assert equal (count-sleepers $secs) 2
      }
    }

    "an apply whose stream is cut short is recorded from its journal by the next prov infra command": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      cleaning {
        let first = (three $secs | prov infra apply | first)
        assert equal $first.type workflow_started
        prov workflow wait $first.workflow_id | ignore
        assert equal (prov infra state | get name) [api db web]
        assert equal (three $secs | prov infra plan | get action | uniq) [noop]
      }
    }

    "a label change is planned as an update in place, a command change as a replace": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      cleaning {
        three $secs | prov infra apply | ignore
        # only an in-place change: no workflow, the plan's rows come back
        let workflows = (prov workflow list | length)
        let relabelled = (three $secs | upsert servers.db.labels.extra yes)
        assert equal ($relabelled | prov infra apply | select action name) [[action name]; [update db] [noop api] [noop web]]
        assert equal (prov workflow list | length) $workflows
        assert equal ($relabelled | prov infra plan | get action | uniq) [noop]
        assert equal (prov infra state | where name == db | first | get spec.labels) {tier: back, extra: yes}
        # Made, not only recorded: the server itself has the new labels, kept its process, shows no drift.
        let db = (prov infra state | where name == db | first)
        assert equal (prov server get $db.id | get labels) {tier: back, extra: yes}
        assert equal (prov server get $db.id | get pid) $db.last.pid
        assert equal (prov infra drift | where name == db | first | get drift) none
        let changed = (three $secs | update servers.api.labels.tier api2 | update servers.web.command [sleep ($secs + 1)])
        let plan = ($changed | prov infra plan)
        let api = ($plan | where name == api | first)
        assert equal $api.action update
        assert equal $api.changes [[field before after]; [labels {tier: api} {tier: api2}]]
        let web = ($plan | where name == web | first)
        assert equal $web.action replace
        assert equal ($web.changes | get field) [command]
        assert ($web.reason | str contains "command cannot change in place")
        $changed | prov infra apply | ignore
        assert equal (count-sleepers $secs) 2
        assert equal (count-sleepers ($secs + 1)) 1
        assert equal ($changed | prov infra plan | get action | uniq) [noop]
      }
    }

    "a server dropped from the definition is deleted; destroy leaves no process": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      cleaning {
        three $secs | prov infra apply | ignore
        let fewer = (three $secs | reject servers.web)
        assert equal ($fewer | prov infra plan | where action == delete | get name) [web]
        $fewer | prov infra apply | ignore
        assert equal (count-sleepers $secs) 2
        let destroyed = (prov infra destroy --only [api])
        assert equal ($destroyed | where type == resource_deleted | get resource.name) [api]
        assert equal (prov infra state | get name) [db]
        let e = (expect-error { prov infra destroy --only [dbb] })
        assert equal $e.code provisioning::infra::unknown_server
        assert ($e.help | str contains "did you mean db?")
        prov infra destroy | ignore
        assert equal (count-sleepers $secs) 0
        assert equal (prov infra state) []
        assert equal (prov server list) []
      }
    }

    "references: a server reaches another through its declared port": {||
      cd (new-workspace)
      let port = (free-port)
      let server_bin = ($env.PROV_BIN_DIR | path join "prov_loopback_server")
      let secs = (random int 100000..900000)
      cleaning {
        let def = {
          vars: {port: $port}
          servers: {
            web: {command: [sleep $secs], env: {API: "http://127.0.0.1:{{servers.api.ports.0}}/"}}
            api: {command: [$server_bin "{{vars.port}}"], ports: ["{{vars.port}}"]}
          }
        }
        let plan = ($def | prov infra plan)
        assert equal ($plan | get name) [api web] "web depends on api through its reference"
        $def | prov infra apply | ignore
        let web = (prov infra state | where name == web | first)
        assert equal $web.spec.env.API $"http://127.0.0.1:($port)/"
        assert equal $web.depends_on [api]
        assert ((http get $"http://127.0.0.1:($port)/") | str starts-with "pong")
      }
    }

    "drift: a process killed outside is exited, a server deleted outside is gone; plan repairs both": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      cleaning {
        three $secs | prov infra apply | ignore
        assert equal (prov infra drift | get drift | uniq) [none]
        let db = (prov infra state | where name == db | first)
        let pid = (prov server get $db.id | get pid)
        kill -s 9 $pid
        for _ in 1..200 { if (prov server get $db.id | get state) == exited { break }; sleep 50ms }
        let web = (prov infra state | where name == web | first)
        prov server delete $web.id | ignore
        let drift = (prov infra drift)
        assert equal ($drift | where name == db | first | get drift) exited
        assert equal ($drift | where name == web | first | get drift) deleted
        assert equal ($drift | where name == api | first | get drift) none
        let plan = (three $secs | prov infra plan)
        assert equal ($plan | where name == db | first | get action) replace
        assert equal ($plan | where name == web | first | get action) create
        three $secs | prov infra apply | ignore
        assert equal (prov infra drift | get drift | uniq) [none]
        assert equal (count-sleepers $secs) 3
      }
    }

    "import: a server made by hand becomes managed, and a matching definition plans it noop": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      cleaning {
        let srv = (prov server create legacy --command [sleep $secs])
        let got = (prov infra import local $srv.id --as legacy)
        assert equal ($got | select name provider id) {name: legacy, provider: local, id: $srv.id}
        assert equal (prov infra state | get name) [legacy]
        let plan = ({servers: {legacy: {command: [sleep $secs]}}} | prov infra plan)
        assert equal ($plan | get action) [noop]
        let e = (expect-error { prov infra import local $srv.id --as other })
        assert equal $e.code provisioning::infra::already_managed
        let e2 = (expect-error { prov infra import local nosuch-1 --as x })
        assert equal $e2.code provisioning::provider::not_found
        assert equal (label-text $e2) nosuch-1
      }
    }

    "a failed apply rolls back only what it created": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      cleaning {
        {servers: {keep: {command: [sleep $secs]}}} | prov infra apply | ignore
        let kept = (prov infra state | first | get id)
        let def = {servers: {
          keep: {command: [sleep $secs]}
          fresh: {command: [sleep $secs]}
          broken: {command: ["/nonexistent/prov-e2e-program"], depends_on: [fresh]}
        }}
        let e = (expect-error { $def | prov infra apply })
        assert ($e.code | str starts-with provisioning::workflow::)
        assert equal (count-sleepers $secs) 1
        assert equal (prov infra state | get name) [keep]
        assert equal (prov infra state | first | get id) $kept
        assert equal (prov server list | get id) [$kept]
      }
    }

    "bad definitions are refused naming the file and the field": {||
      cd (new-workspace)
      "[servers.api]\nprots = [1]\ndepends_on = [\"dbb\"]\n[servers.db]\n" | save bad.toml
      let e = (expect-error { prov infra plan bad.toml })
      assert equal $e.code provisioning::infra::unknown_field
      assert ($e.msg | str contains "bad.toml")
      assert ($e.msg | str contains "prots")
      assert ($e.help | str contains "did you mean ports?")
      assert equal (label-text $e) bad.toml
      let cyc = (expect-error { {servers: {a: {depends_on: [b]}, b: {depends_on: [a]}}} | prov infra plan })
      assert equal $cyc.code provisioning::infra::cycle
    }

    "a second apply while one runs is refused naming the workflow and its runner, or waits with --lock-timeout": {||
      cd (new-workspace)
      let secs = (random int 100000..900000)
      let port = (free-port)
      # never ready: its port is never opened, so its create waits (ready_timeout 60s)
      let slow = $"{servers: {slow: {command: [sleep ($secs)], ports: [($port)]}}}"
      let ws = (pwd)
      let plugins = $"[($env.PROV_PLUGIN | to nuon)]"
      let job = (job spawn { cd $ws; ^$env.PROV_NU -n --plugins $plugins -c $"($slow) | prov infra apply | ignore" | complete })
      cleaning {
        mut wf = ""
        for _ in 1..400 {
          let running = (prov workflow list | where name == infra-apply and status == running)
          if ($running | is-not-empty) { $wf = ($running | first | get workflow_id); break }
          sleep 50ms
        }
        assert ($wf != "") "the first apply did not start"
        let e = (expect-error { {servers: {other: {command: [sleep $secs]}}} | prov infra apply })
        assert equal $e.code provisioning::state::locked
        assert ($e.msg | str contains $wf)
        assert ($e.msg | str contains "runner pid")
        assert equal (expect-error { {servers: {other: {command: [sleep $secs]}}} | prov infra plan } | get code) provisioning::state::locked
        # readers go on meanwhile, with what was recorded before
        assert equal (prov infra state) []
        # --lock-timeout waits for it instead; it goes on once the first one has ended
        let out = ($ws | path join "second.nuon")
        let other = $"{servers: {other: {command: [sleep ($secs)]}}}"
        job spawn { cd $ws; ^$env.PROV_NU -n --plugins $plugins -c $"($other) | prov infra apply --lock-timeout 2min | last | get type | to nuon | save ($out)" | complete }
        sleep 500ms
        assert not ($out | path exists) "the waiting apply did not wait"
        prov workflow cancel $wf | ignore
        for _ in 1..600 { if ($out | path exists) { break }; sleep 50ms }
        assert equal (open $out) workflow_completed
        assert equal (prov infra state | get name) [other]
        assert equal (count-sleepers $secs) 1
      }
    }
  })
}
