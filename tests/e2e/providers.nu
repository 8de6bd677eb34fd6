# `prov provider|server|extension|cache` through real nu: the built-in local provider with a
# real loopback server, the example Nu-module provider with its warm worker, hostile provider
# modules (raising, hanging, garbage), extensions that escape their folder, the TTL cache.
use std/assert
use harness.nu *

# A fresh workspace whose providers are the repo's examples and test fixtures.
def new-workspace [--providers: string = ""] {
  let ws = (mktemp -d)
  let providers = if $providers == "" { $env.PROV_REPO | path join "examples" "providers" } else { $providers }
  $"[paths]\nproviders = \"($providers)\"\n[providers.local]\nkill_grace = \"2s\"\n[providers.raising]\ntimeout = \"5s\"\n[providers.hanging]\ntimeout = \"1s\"\n[providers.garbage]\ntimeout = \"5s\"\n[providers.folder]\napi_token = \"tok-e2e-secret\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# A TCP port nobody listens on now.
def free-port [] {
  let used = (try { ^ss -Htln | lines | parse --regex ':(?<port>\d+)\s' | get port | into int } catch { [] })
  mut p = (20000 + (random int 0..20000))
  while $p in $used { $p = (20000 + (random int 0..20000)) }
  $p
}

# Runs `body`; when it fails, deletes the server `id` (a failed test must leave no process
# behind) and fails as `body` did.
def or-delete [id: string, body: closure] {
  let failure = try { do $body; null } catch {|e| $e.msg }
  if $failure != null {
    try { prov server delete $id | ignore } catch { }
    error make {msg: $failure}
  }
}

# How many `sleep <secs>` processes run (the servers of the rollback test; `secs` is random, so
# suites running at once, which start servers of their own, do not count).
def count-sleepers [secs: int] {
  for attempt in 1..10 {
    let n = (try { ps --long | where {|p| $p.command == $"sleep ($secs)" } | length } catch { null })
    if $n != null { return $n }
    sleep 20ms
  }
  error make {msg: "ps kept failing"}
}

def alive [pid: int] { ($"/proc/($pid)" | path exists) and ((open $"/proc/($pid)/stat" | split row " " | get 2) != "Z") }

def main [] {
  let server_bin = ($env.PROV_BIN_DIR | path join "prov_loopback_server")
  let fixtures = ($env.PROV_REPO | path join "tests" "providers")
  run-tests "providers" {
    "provider list: builtin local and the example Nu provider, config redacted": {||
      cd (new-workspace)
      let ps = (prov provider list)
      assert equal ($ps | columns) [name kind path available default config message]
      let local = ($ps | where name == local | first)
      assert equal $local.kind builtin
      assert equal $local.path null
      assert $local.available
      assert $local.default
      let folder = ($ps | where name == folder | first)
      assert equal $folder.kind nu
      assert ($folder.path | str ends-with "providers/folder/nulib/provider.nu")
      assert $folder.available $folder.message
      assert equal $folder.config.api_token "<redacted>"
      assert equal (prov provider list --show-secrets | where name == folder | first | get config.api_token) "tok-e2e-secret"
    }
    "local: a server on a loopback port answers, is deleted, and its process is gone": {||
      cd (new-workspace)
      let port = (free-port)
      let s = (prov server create web --command [$server_bin ($port | into string)] --ports [$port])
      assert equal $s.provider local
      assert equal $s.name web
      assert equal $s.state running
      assert ($s.id | str starts-with "web")
      or-delete $s.id {||
        assert (alive $s.pid)
        let answer = (http get $"http://127.0.0.1:($port)/")
        assert ($answer | str starts-with "pong") $answer
        let got = (prov server get $s.id)
        assert equal $got.pid $s.pid
        assert equal ($got.uptime | describe) duration
        assert (($got.created | describe) in [date datetime])
        assert equal (prov server list | where id == $s.id | length) 1
      }
      let d = (prov server delete $s.id)
      assert equal $d.state deleted
      assert not (alive $s.pid)
      assert equal (prov server list | where id == $s.id | length) 0
      let e = (expect-error { prov server get $s.id })
      assert equal $e.code "provisioning::provider::not_found"
      assert ((label-text $e) in [$s.id '$s.id'])  # the argument's text: the value, or (0.108) the expression
    }
    "local: a server outlives the Nu session that created it": {||
      let ws = (new-workspace)
      cd $ws
      let port = (free-port)
      let id = (^$env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN)]" -c $"cd ($ws); prov server create lone --command [($server_bin) ($port)] --ports [($port)] | get id" | str trim)
      or-delete $id {||
        assert equal (prov server get $id | get state) running
        assert ((http get $"http://127.0.0.1:($port)/") | str starts-with "pong")
      }
      let s = (prov server get $id)
      prov server delete $id | ignore
      assert not (alive $s.pid)
    }
    "local: an exit code is recorded; bad specs are refused": {||
      cd (new-workspace)
      let s = (prov server create quitter --command [sh -c "exit 3"])
      sleep 300ms
      let got = (prov server get $s.id)
      assert equal $got.state exited
      assert equal $got.exit_code 3
      prov server delete $s.id | ignore
      # --vars sets the process's environment, literally (--env names the workspace environment).
      let v = (prov server create vars --command [printenv PROV_T] --vars {PROV_T: "a;$(touch pwned) `id`"})
      sleep 300ms
      let vg = (prov server get $v.id)
      let printed = (open $vg.logs.stdout)
      prov server delete $v.id | ignore
      assert equal $vg.exit_code 0
      assert equal $printed "a;$(touch pwned) `id`\n"
      assert not ("pwned" | path exists)
      let e = (expect-error { prov server create nothing-to-run })
      assert equal $e.code "provisioning::provider::invalid_spec"
      let e2 = (expect-error { {name: x, ports: ["http"]} | prov server create })
      assert equal $e2.code "provisioning::provider::invalid_spec"
      let e3 = (expect-error { prov server create x --command ["true"] --provider nope })
      assert equal $e3.code "provisioning::provider::unknown"
      assert ((label-text $e3) | str ends-with "nope")
      let e4 = (expect-error { prov server create x --command ["true"] --provider foldr })
      assert ($e4.help | str contains "folder")
    }
    "workflow: three servers created, then a failure rolls them back": {||
      cd (new-workspace)
      let secs = (600 + (random int 1..1000000))
      let ops = [
        {id: s1, kind: server.create, provider: local, server: {name: wf-a, command: [sleep $secs]}}
        {id: s2, kind: server.create, provider: local, server: {name: wf-b, command: [sleep $secs]}}
        {id: s3, kind: server.create, provider: folder, server: {name: wf-c, plan: small}}
        {id: boom, kind: command, run: [false], depends_on: [s1 s2 s3]}
      ]
      let events = ({name: rollback-servers, settings: {retry: {attempts: 1}}, operations: $ops} | prov workflow run --allow-failure)
      let last = ($events | last)
      assert equal $last.type workflow_failed
      assert equal $last.status rolled_back
      let created = ($events | where type == resource_created)
      let deleted = ($events | where type == resource_deleted)
      assert equal ($created | length) 3
      assert equal ($deleted | length) 3
      assert equal ($created | get resource.name | sort) [wf-a wf-b wf-c]
      assert equal ($deleted | get resource.id | sort) ($created | get resource.id | sort)
      # Deleted newest first, after the failure.
      assert equal ($events | where type == rollback_step | get operation | sort) [s1 s2 s3]
      assert equal (prov server list | length) 0
      assert equal (prov server list --provider folder | length) 0
      assert equal (count-sleepers $secs) 0
    }
    "workflow: server.create without a provider uses the workspace's default, as plan said it would": {||
      cd (new-workspace)
      let secs = (600 + (random int 1..1000000))
      let wf = {name: default-provider, settings: {retry: {attempts: 1}}, operations: [
        {id: s, kind: server.create, server: {name: dflt, command: [sleep $secs]}}
        {id: boom, kind: command, run: [false], depends_on: [s]}
      ]}
      assert equal ($wf | prov workflow plan | get id) [s boom]
      let events = ($wf | prov workflow run --allow-failure)
      assert equal ($events | where type == resource_created | get resource.provider) [local]
      assert equal ($events | where type == rollback_step | get operation) [s]
      assert equal (count-sleepers $secs) 0
    }
    "workflow: the runner configures providers with the run's --env": {||
      let ws = (new-workspace)
      cd $ws
      $"[providers.folder]\npath = \"($ws | path join dev-servers)\"\n" | save config.dev.toml
      let op = {id: s, kind: server.create, provider: folder, server: {name: dev-box, plan: small}}
      let last = ({name: dev, operations: [$op]} | prov workflow run --env dev | last)
      assert equal $last.status completed
      assert equal (prov server list --provider folder --env dev | get name) [dev-box]
      assert equal (prov server list --provider folder | length) 0
      assert (($ws | path join dev-servers) | path exists)
      prov server list --provider folder --env dev | each {|s| prov server delete $s.id --provider folder --env dev } | ignore
    }
    "workflow: server.create with a bad spec or an unknown provider is refused before anything runs": {||
      cd (new-workspace)
      let e = (expect-error { {name: bad, operations: [{id: s, kind: server.create, provider: local, server: {plan: small}}]} | prov workflow plan })
      assert equal $e.code "provisioning::workflow::missing_field"
      assert ($e.msg | str contains "server.name") $e.msg
      # An unknown provider too: refused by plan and run alike, nothing recorded.
      for cmd in [plan run] {
        let e = (expect-error { {name: unknown, operations: [{id: s, kind: server.create, provider: nope, server: {name: x}}]} | if $cmd == plan { prov workflow plan } else { prov workflow run } })
        assert equal $e.code "provisioning::provider::unknown"
        assert ($e.msg | str contains "operation 's': no provider called `nope`") $e.msg
      }
      assert not (".provisioning/workflows" | path exists)
    }
    "folder provider: create, get, list, delete through the Nu module": {||
      cd (new-workspace)
      let s = ({name: "db; rm -rf / $(touch pwned) `x` \"q\" --force", plan: small, labels: {tier: data}} | prov server create --provider folder)
      assert equal $s.provider folder
      assert equal $s.name "db; rm -rf / $(touch pwned) `x` \"q\" --force"
      assert not ("pwned" | path exists)
      assert equal (prov server get $s.id --provider folder | get name) $s.name
      assert equal (prov server list --provider folder | where id == $s.id | length) 1
      assert equal (prov server delete $s.id --provider folder | get state) deleted
      assert equal (prov server list --provider folder | where id == $s.id | length) 0
    }
    "hostile provider modules give clear labeled errors": {||
      cd (new-workspace --providers $fixtures)
      let e = (expect-error { prov server list --provider raising })
      assert equal $e.code "provisioning::provider::failed"
      assert ($e.msg | str contains "quota exceeded in region x") $e.msg
      let t0 = (date now)
      let h = (expect-error { prov server list --provider hanging })
      assert equal $h.code "provisioning::provider::timeout"
      assert (((date now) - $t0) < 20sec)
      let g = (expect-error { prov server list --provider garbage })
      assert equal $g.code "provisioning::provider::bad_response"
    }
    "server list --all: the usable providers' servers, and one row per provider that failed": {||
      cd (new-workspace --providers $fixtures)
      let rows = (prov server list --all)
      let failed = ($rows | where state == error)
      assert equal ($failed | get provider | sort) [garbage hanging raising]
      let raising = ($failed | where provider == raising | first)
      assert equal $raising.id null
      assert equal $raising.name null
      assert equal $raising.error.code "provisioning::provider::failed"
      assert ($raising.error.msg | str contains "quota exceeded in region x") $raising.error.msg
      assert equal ($failed | where provider == hanging | first | get error.code) "provisioning::provider::timeout"
      # The others answered: noisy lists its one server (local has none here).
      assert equal ($rows | where state != error | select id provider) [{id: n1, provider: noisy}]
    }
    "extensions: valid, incompatible and escaping ones are listed with their problems": {||
      let ws = (new-workspace)
      let ext = ($ws | path join extensions)
      mkdir ($ext | path join good nulib) ($ext | path join escape nulib) ($ext | path join old nulib)
      "" | save ($ext | path join good nulib provider.nu)
      "" | save ($ext | path join old nulib provider.nu)
      "export def list-servers [] { [] }" | save ($ws | path join outside.nu)
      ^ln -s ($ws | path join outside.nu) ($ext | path join escape nulib provider.nu)
      let manifest = {|name, range| $"[extension]\nname = \"($name)\"\nversion = \"1.0.0\"\ntype = \"provider\"\nentry_points = { provider = \"nulib/provider.nu\" }\n[compatibility]\nprovisioning = \"($range)\"\n" }
      do $manifest good ">=0.1.0, <1.0.0" | save ($ext | path join good extension.toml)
      do $manifest escape "*" | save ($ext | path join escape extension.toml)
      do $manifest old "<0.1.0" | save ($ext | path join old extension.toml)
      cd $ws
      let list = (prov extension list)
      assert equal ($list | get name) [escape good old]
      # The file's `type` is the `kind` column, as for providers and operations.
      assert equal ($list | get kind) [provider provider provider]
      assert not ("type" in ($list | columns))
      let esc = ($list | where name == escape | first)
      assert not $esc.valid
      assert ($esc.problems | any {|p| $p | str contains "symlink leading out of the extension's folder" })
      let good = ($list | where name == good | first)
      assert ($good.valid and $good.compatible)
      let old = ($list | where name == old | first)
      assert ($old.valid and not $old.compatible)
      # Only the good one becomes a provider.
      let ps = (prov provider list | where kind == extension | get name)
      assert equal $ps [good]
      # One by name: the same record as its row; a near miss suggests the name.
      assert equal (prov extension get old) $old
      let miss = (expect-error { prov extension get godo })
      assert equal $miss.code "provisioning::extension::not_found"
      assert equal (label-text $miss) "godo"
      assert ($miss.help | str contains "good")
    }
    "cache: availability is cached, stats count it, clear empties it": {||
      cd (new-workspace)
      prov cache clear | ignore
      prov provider list | ignore
      let s1 = (prov cache stats)
      assert ($s1.entries >= 1)
      prov provider list | ignore
      let s2 = (prov cache stats)
      assert ($s2.hits > $s1.hits)
      assert ((prov cache clear).cleared >= 1)
      assert equal (prov cache stats | get entries) 0
    }
  }
}
