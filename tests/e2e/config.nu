# `prov config`, `prov config sources`, `prov config get` through real nu, on the example
# workspace and on broken fixtures: every layer, types, provenance, flags, runtime record,
# plugin config, streams cut short, and errors with their code and span.
use std/assert
use harness.nu *

def examples [] { $env.PROV_REPO | path join "examples" }
def fixture [name: string] { $env.PROV_REPO | path join "tests" "config" $name }

def main [] {
  let ws = (examples)
  run-tests "config" {
    "the workspace is found from Nu's current directory, not the plugin's": {||
      cd $ws
      assert equal (prov config get paths.base) $ws
      cd ($ws | path join "..")
      # From the repo root there is no config.defaults.toml upwards: the cwd is the workspace.
      assert equal (prov config get paths.base) ($ws | path dirname)
    }
    "redaction names whole key segments, and keeps a secret table's shape": {||
      {app: {monkey: banana, keycloak_url: "https://id.example", db_password: hunter2, secretAccessKey: abc, creds_token: {user: ada, pass: pw}}}
      | prov config get app
      | do {|app|
        assert equal $app.monkey banana
        assert equal $app.keycloak_url "https://id.example"
        assert equal $app.db_password "<redacted>"
        assert equal $app.secretAccessKey "<redacted>"
        # A table under a secret key: its members are there, each redacted.
        assert equal ($app.creds_token | columns) [user pass]
        assert equal $app.creds_token.user "<redacted>"
      } $in
      assert equal ({app: {creds_token: {user: ada}}} | prov config get app.creds_token.user) "<redacted>"
      assert equal ({app: {creds_token: {user: ada}}} | prov config get app.creds_token.user --show-secrets) ada
    }
    "config get takes optional members as get does: a missing `?` member is null": {||
      cd $ws
      assert equal (prov config get workflow.nope?) null
      assert equal (prov config get nope?.deeper) null
      assert equal (prov config get workflow.retry.attempts?) (prov config get workflow.retry.attempts)
      # A missing member not marked optional is still an error, even with a `?` after it.
      let e = (expect-error { prov config get nope.deeper? })
      assert equal $e.code "provisioning::config::key_not_found"
    }
    "a placeholder fails only the keys that use it, naming the key and its file": {||
      let root = (mktemp -d)
      let file = ($root | path join "config.defaults.toml")
      # mktemp's folder is in no git repository: {{git.branch}} has no value there.
      "[project]\nname = \"lazy\"\nbranch = \"{{git.branch}}\"\nlabel = \"b-{{config.project.branch}}\"\n" | save $file
      cd $root
      let name = (prov config get project.name)
      let listed = (prov workflow list | length)
      let e = (expect-error { prov config get project.branch })
      let dependent = (expect-error { prov config get project.label })
      let whole = (expect-error { prov config })
      let table = (expect-error { prov config get project })
      cd $ws
      rm -rf $root
      assert equal $name "lazy"
      assert equal $listed 0
      assert equal $e.code "provisioning::config::git"
      assert ($e.msg | str contains "{{git.branch}} in project.branch")
      assert ($e.msg | str contains $"project.branch is set in ($file)")
      assert equal (label-text $e) "project.branch"
      assert ($dependent.msg | str contains "project.label needs project.branch")
      assert ($dependent.msg | str contains $"project.label is set in ($file)")
      assert equal $whole.code "provisioning::config::git"
      assert ($whole.msg | str contains "project.branch")
      assert equal $table.code "provisioning::config::git"
    }
    "a fallback after ?? stands in for a source without a value": {||
      let root = (mktemp -d)
      [
        "[project]"
        "branch = '{{git.branch ?? \"main\"}}'"
        "region = '{{env.PROV_TEST_UNSET ?? env.PROV_TEST_REGION ?? \"eu\"}}'"
        "zone = '{{env.PROV_TEST_UNSET ?? \"eu\"}}-1'"
        "owner = \"{{config.project.nobody ?? 'ada'}}\""
        "kept = '{{env.PROV_TEST_REGION ?? \"x\"}}'"
      ] | str join "\n" | save ($root | path join "config.defaults.toml")
      let c = (with-env {PROV_TEST_REGION: "us"} { prov config --workspace $root })
      let bare = (prov config --workspace $root)
      rm -rf $root
      assert equal $c.project.branch "main"
      assert equal $c.project.region "us"
      assert equal $bare.project.region "eu"
      assert equal $c.project.zone "eu-1"
      assert equal $c.project.owner "ada"
      assert equal $c.project.kept "us"
    }
    "known duration keys come out as durations and dates as dates, in every command": {||
      cd $ws
      let c = (prov config)
      assert equal $c.workflow.timeout 15min
      assert equal $c.workflow.retry.backoff 500ms
      assert equal ($c.workflow.retry.max_backoff | describe) "duration"
      assert equal $c.providers.folder.timeout 10sec
      assert equal $c.providers.local.timeout 30sec          # a provider's timeout in seconds
      assert equal (prov config get workflow.timeout) 15min
      assert equal (prov config --env dev | get providers.local.timeout) 5sec
      assert equal ({providers: {cache_ttl: "2m"}} | prov config get providers.cache_ttl) 2min
      assert equal ({providers: {local: {ready_timeout: "3s", kill_grace: 1sec}}} | prov config get providers.local) {timeout: 30sec, log_dir: ($ws | path join ".provisioning" "local"), ready_timeout: 3sec, kill_grace: 1sec}
      let s = (prov config sources)
      assert equal ($s | where key == "workflow.retry.backoff" | first | get value) 500ms
      assert equal ($s | where key == "project.created" | first | get value | describe) "datetime"
      assert equal (prov config get project.created) 2024-03-18T09:30:00+01:00
      assert equal ({d: 2025-01-02} | prov config get d | describe) "datetime"
    }
    "a duration key that does not parse is an error naming the key and the file": {||
      let root = (mktemp -d)
      let file = ($root | path join "config.defaults.toml")
      "[workflow]\nparallel = 2\ntimeout = \"soon\"\n" | save $file
      cd $root
      let parallel = (prov config get workflow.parallel)
      let e = (expect-error { prov config get workflow.timeout })
      let whole = (expect-error { prov config })
      cd $ws
      rm -rf $root
      assert equal $parallel 2
      assert equal $e.code "provisioning::config::bad_duration"
      assert ($e.msg | str contains "workflow.timeout is not a length of time")
      assert ($e.msg | str contains $"workflow.timeout is set in ($file)")
      assert equal (label-text $e) "workflow.timeout"
      assert equal $whole.code "provisioning::config::bad_duration"
    }
    "config.set edits config.user.toml in place and leaves no lock file": {||
      let root = (mktemp -d)
      "[project]\nname = \"x\"\n" | save ($root | path join "config.defaults.toml")
      let user = ($root | path join "config.user.toml")
      let text = "# mine\n[project]\nowner = 'ada'   # who\n\n[workflow]\nparallel = 2\n"
      $text | save $user
      cd $root
      {name: edit, operations: [{id: s, kind: config.set, key: workflow.parallel, value: 3}]} | prov workflow run | ignore
      let after = (open --raw $user)
      let files = (ls -a $root | get name | path basename)
      cd $ws
      rm -rf $root
      assert equal $after "# mine\n[project]\nowner = 'ada'   # who\n\n[workflow]\nparallel = 3\n"
      assert equal ($files | where $it =~ 'lock') []
    }
    "config set runs a workflow that edits in place, and rollback gives back the exact bytes": {||
      let root = (mktemp -d)
      "[project]\nname = \"x\"\n" | save ($root | path join "config.defaults.toml")
      let user = ($root | path join "config.user.toml")
      let text = "# mine\n[project]\nowner = 'ada'   # who\n\n[workflow]\nparallel = 2\n"
      $text | save $user
      cd $root
      let r = (prov config set project.owner grace)
      let after = (open --raw $user)
      let got = (prov config get project.owner)
      let r2 = (prov config set workflow.timeout 90sec)
      let after2 = (open --raw $user)
      let timeout = (prov config get workflow.timeout)
      let events = (prov workflow rollback $r2.workflow_id | get type)
      let back2 = (open --raw $user)
      prov workflow rollback $r.workflow_id | ignore
      let back = (open --raw $user)
      let secret = (prov config set db.password hunter2)
      let refused = (expect-error { prov config set project 5 })
      let unchanged = (open --raw $user)
      let listed = (prov workflow list | where workflow_id? == $r.workflow_id or id? == $r.workflow_id | length)
      cd $ws
      rm -rf $root
      assert equal ($r | columns) [workflow_id key value file status]
      assert equal $r.status completed
      assert equal $r.key "project.owner"
      assert equal $r.value grace
      assert equal $r.file $user
      assert equal $listed 1
      assert equal $after "# mine\n[project]\nowner = \"grace\"   # who\n\n[workflow]\nparallel = 2\n"
      assert equal $got grace
      assert equal $after2 "# mine\n[project]\nowner = \"grace\"   # who\n\n[workflow]\nparallel = 2\ntimeout = \"1m30s\"\n"
      assert equal $timeout 90sec
      assert ("configuration_changed" in $events)
      assert equal $back2 $after
      assert equal $back $text
      assert equal $secret.value "<redacted>"
      assert equal $refused.code "provisioning::workflow::failed"
      assert ($refused.msg | str contains "cannot set project in")
      assert ($refused.msg | str contains "it holds the table [project]")
      assert equal $unchanged ($text + "\n[db]\npassword = \"hunter2\"\n")
    }
    "a table of 100,000 keys and keys of 255 parts load (their times are in docs/BENCHMARKS.md)": {||
      let wide = (mktemp -d)
      # awk writes them: a Nu closure per line would take longer than the loading.
      ^awk 'BEGIN { print "[t]"; print "k0 = \"base\""; for (i = 1; i < 100000; i++) printf "k%d = \"{{config.t.k0}}-%d\"\n", i, i }' | save ($wide | path join "config.defaults.toml")
      let deep = (mktemp -d)
      let chain = (0..<254 | each {|j| $"p($j)" } | str join ".")
      ^awk -v $"c=($chain)" 'BEGIN { for (i = 0; i < 1000; i++) printf "%s.k%d = %d\n", c, i, i; print "[limits]"; print "depth = 512" }' | save ($deep | path join "config.defaults.toml")
      let last = (prov config get --workspace $wide t.k99999)
      # (not the whole table: Nu takes seconds to build a record of 100,000 columns)
      let first = (prov config get --workspace $wide t.k1)
      let leaf = (prov config get --workspace $deep $"($chain).k999")
      rm -rf $wide $deep
      assert equal $last "base-99999"
      assert equal $first "base-1"
      assert equal $leaf 999
    }
    "a subdirectory finds its nearest workspace upwards": {||
      let root = (mktemp -d)
      "[project]\nname = \"nested\"\n" | save ($root | path join "config.defaults.toml")
      let sub = ($root | path join "a" "b")
      mkdir $sub
      cd $sub
      let got = (prov config)
      cd $ws
      rm -rf $root
      assert equal $got.paths.base $root
      assert equal $got.project.name "nested"
    }
    "TOML types arrive as Nu types": {||
      let c = (prov config --workspace $ws)
      assert equal ($c.workflow.parallel | describe) "int"
      assert equal ($c.workflow.rollback_on_failure | describe) "bool"
      assert equal ($c.project.created | describe) "datetime"
      assert equal $c.project.created 2024-03-18T09:30:00+01:00
      assert equal ($c.secrets.patterns | describe) "list<string>"
      assert equal ($c.project.labels | describe | str substring 0..5) "record"
    }
    "layers: defaults < user < env < plugin config < runtime record": {||
      cd $ws
      assert equal (prov config get project.owner) "ada"          # user over defaults
      assert equal (prov config get project.name) "atlas"         # defaults kept
      assert equal (prov config get workflow.parallel) 4
      assert equal (prov config --env dev | get workflow.parallel) 2
      with-env {PROVISIONING_ENV: "dev"} { assert equal (prov config get workflow.parallel) 2 }
      $env.config = ($env.config | upsert plugins.provisioning {workflow: {parallel: 7}})
      assert equal (prov config --env dev | get workflow.parallel) 7
      assert equal ({workflow: {parallel: 9}} | prov config --env dev | get workflow.parallel) 9
      # Tables merge deeply: the runtime record changes one key and keeps its siblings.
      let retry = ({workflow: {retry: {attempts: 5}}} | prov config | get workflow.retry)
      assert equal $retry {attempts: 5, backoff: 500ms, max_backoff: 10sec}
    }
    "the global layer comes from XDG_CONFIG_HOME of the Nu session": {||
      let home = (mktemp -d)
      mkdir ($home | path join "provisioning")
      "[project]\nname = \"from-global\"\nowner = \"global\"\n" | save ($home | path join "provisioning" "config.toml")
      let c = (with-env {XDG_CONFIG_HOME: $home} { prov config --workspace $ws })
      rm -rf $home
      assert equal $c.project.name "from-global"   # global over defaults
      assert equal $c.project.owner "ada"          # user over global
    }
    "interpolation works on parsed values and keeps types": {||
      let c = (prov config --workspace $ws --env dev)
      assert equal $c.deploy.name "atlas-dev"
      assert equal $c.deploy.parallel 2
      assert equal ($c.deploy.parallel | describe) "int"
      assert equal $c.providers.local.log_dir ($ws | path join ".provisioning" "local")
      assert ($c.deploy.artifacts | str ends-with (date now | date to-timezone UTC | format date "%Y-%m-%d"))
    }
    "sources name the layer and file of every leaf": {||
      let s = (prov config sources --workspace $ws --env dev)
      let row = {|k| $s | where key == $k | first }
      assert equal (do $row "project.owner" | get layer) "user"
      assert equal (do $row "project.owner" | get source) ($ws | path join "config.user.toml")
      assert equal (do $row "workflow.parallel" | get layer) "env"
      assert equal (do $row "project.name" | get layer) "defaults"
      assert equal (do $row "paths.base" | get layer) "builtin"
      let rt = ({x: {y: 1}} | prov config sources --workspace $ws | where key == "x.y" | first)
      assert equal $rt.layer "runtime"
      assert equal $rt.value 1
      # Every leaf appears once.
      assert equal ($s | get key | uniq | length) ($s | length)
    }
    "a stream cut short by first": {||
      let three = (prov config sources --workspace $ws | first 3)
      assert equal ($three | length) 3
      assert equal ($three | get key | first) "paths.base"
      # And the plugin is still healthy afterwards.
      assert equal (prov config get --workspace $ws project.name) "atlas"
    }
    "get takes cell paths, list indexes and whole tables": {||
      cd $ws
      assert equal (prov config get secrets.patterns.1) "secret"
      assert equal (prov config get workflow.retry) {attempts: 3, backoff: 500ms, max_backoff: 10sec}
      assert equal ({a: {b: 5}} | prov config get a.b) 5
    }
    "a missing key names the nearest keys": {||
      cd $ws
      let d = (expect-error { prov config get providers.locall.timeout })
      assert equal $d.code "provisioning::config::key_not_found"
      assert (($d.help | default "") | str contains "providers.local.timeout")
      assert equal (label-text $d) "providers.locall.timeout"
    }
    "malformed TOML names file, line and column": {||
      let d = (expect-error { prov config --workspace (fixture malformed) })
      assert equal $d.code "provisioning::config::parse"
      assert ($d.msg | str contains "config.defaults.toml")
      assert ($d.msg =~ 'line 5')
    }
    "an unknown placeholder is an error naming the key": {||
      let d = (expect-error { prov config --workspace (fixture unknown_placeholder) })
      assert equal $d.code "provisioning::config::unknown_placeholder"
      assert ($d.msg | str contains "deploy.wait")
    }
    "a reference cycle is an error naming the cycle": {||
      let d = (expect-error { prov config --workspace (fixture cycle) })
      assert equal $d.code "provisioning::config::interpolation_cycle"
      assert ($d.msg | str contains "deploy.source")
      assert ($d.msg | str contains "deploy.target")
    }
    "a workspace that does not exist is blamed on the flag": {||
      let d = (expect-error { prov config --workspace /nonexistent/place })
      assert equal $d.code "provisioning::config::workspace_not_found"
      # Nushell gives a flag's value the span of the whole flag.
      assert equal (label-text $d) "--workspace /nonexistent/place"
    }
    "an environment without its file is blamed on --env": {||
      let d = (expect-error { prov config --workspace $ws -e staging })
      assert equal $d.code "provisioning::config::environment_not_found"
      assert equal (label-text $d) "-e staging"
      assert ($d.msg | str contains "config.staging.toml")
    }
    "an environment name that could escape the workspace is refused": {||
      let d = (expect-error { prov config --workspace $ws --env "../etc" })
      assert equal $d.code "provisioning::config::bad_environment"
    }
    "runtime input must be a record": {||
      # The engine itself holds commands to their declared input types.
      let d = (expect-error { "[1, 2, 3]" | from json | prov config --workspace $ws })
      assert equal $d.code "nu::shell::only_supports_this_input_type"
      let d2 = (expect-error { {f: {|| 1 }} | prov config --workspace $ws })
      assert equal $d2.code "provisioning::input::unsupported_type"
    }
    "a list stream piped in is refused as not a record": {||
      let d = (expect-error { 1..3 | each {|i| $i } | prov config --workspace $ws })
      assert equal $d.code "nu::shell::only_supports_this_input_type"
    }
    "secrets are redacted in every output unless --show-secrets": {||
      cd $ws
      assert equal (prov config | get providers.folder.api_token) "<redacted>"
      assert equal (prov config get providers.folder.api_token) "<redacted>"
      assert equal (prov config get providers.folder | get api_token) "<redacted>"
      let row = (prov config sources | where key == "providers.folder.api_token" | first)
      assert equal $row.value "<redacted>"
      assert equal $row.layer "user"
      assert not (prov config sources | to json | str contains "dev-token-not-real")
      assert not (prov config | to json | str contains "dev-token-not-real")
      assert equal (prov config get --show-secrets providers.folder.api_token) "dev-token-not-real"
      assert equal (prov config --show-secrets | get providers.folder.api_token) "dev-token-not-real"
      # Non-secret keys and the pattern list itself stay visible.
      assert equal (prov config get providers.folder.timeout) 10sec
      assert equal (prov config get secrets.patterns | length) 4
      # A runtime record's secrets too.
      assert equal ({db: {password: "hunter2"}} | prov config | get db.password) "<redacted>"
    }
    "relative --workspace is relative to Nu's current directory": {||
      cd ($ws | path dirname)
      assert equal (prov config --workspace examples | get project.name) "atlas"
    }
  }
}
