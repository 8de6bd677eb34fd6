# A run takes the settings of the configuration it was submitted with: the workspace's
# [workflow] table from every layer (defaults file, env file, plugin config, --config), under
# the workflow's own settings, under flags. Plan-time refusal of what the run would refuse.
use std/assert
use harness.nu *

# A workspace whose config.defaults.toml holds `defaults` (TOML text); returns its path.
def new-workspace [defaults: string = ""] {
  let ws = (mktemp -d)
  $"[project]\nname = \"settings\"\n($defaults)" | save ($ws | path join "config.defaults.toml")
  $ws
}

# The settings under test, as TOML: one operation at a time, three attempts 10 ms apart, 300 ms
# per attempt, no rollback.
const STRICT = "[workflow]\nparallel = 1\nretry = { attempts = 3, backoff = \"10ms\", max_backoff = \"10ms\" }\ntimeout = \"300ms\"\nrollback_on_failure = false\n"
const STRICT_RECORD = {workflow: {parallel: 1, retry: {attempts: 3, backoff: 10ms, max_backoff: 10ms}, timeout: 300ms, rollback_on_failure: false}}

# Two independent operations of 200 ms (one with a rollback), then one that outlasts any timeout.
def probe [--settings: record = {}] {
  {name: probe, settings: $settings, operations: [
    {id: one, kind: command, run: [sleep "0.2"], rollback: [true]}
    {id: two, kind: command, run: [sleep "0.2"]}
    {id: slow, kind: command, run: [sleep "5"], depends_on: [one two]}
  ]}
}

# What a run's events show of its settings.
def observed [events: list] {
  let ev = ($events | enumerate)
  let first_done = ($ev | where {|e| $e.item.type == operation_succeeded } | first | get index)
  let second_start = ($ev | where {|e| $e.item.type == operation_started and $e.item.operation in [one two] } | get 1.index)
  let failed = ($events | where type == operation_failed)
  {
    serial: ($second_start > $first_done)
    attempts: ($events | where type == operation_started and operation == slow | length)
    timed_out: ($failed | any {|e| ($e.message? | default "") =~ "timed out" })
    rolled_back: ($events | any {|e| $e.type == rollback_started })
  }
}

const STRICT_SEEN = {serial: true, attempts: 3, timed_out: true, rolled_back: false}

def main [] {
  run-tests "run_settings" {
    "the defaults file's [workflow] settings reach the run": {||
      cd (new-workspace $STRICT)
      assert equal (observed (probe | prov workflow run --allow-failure)) $STRICT_SEEN
    }
    "the env layer's settings reach the run, by --env and by $env.PROVISIONING_ENV": {||
      let ws = (new-workspace)
      cd $ws
      $STRICT | save config.ci.toml
      assert equal (observed (probe | prov workflow run --allow-failure --env ci)) $STRICT_SEEN
      with-env {PROVISIONING_ENV: ci} { assert equal (observed (probe | prov workflow run --allow-failure)) $STRICT_SEEN }
    }
    "the plugin config's settings reach the run": {||
      cd (new-workspace)
      $env.config = ($env.config | upsert plugins.provisioning $STRICT_RECORD)
      assert equal (observed (probe | prov workflow run --allow-failure)) $STRICT_SEEN
    }
    "a --config record's settings reach the run": {||
      cd (new-workspace)
      assert equal (observed (probe | prov workflow run --allow-failure --config $STRICT_RECORD)) $STRICT_SEEN
    }
    "a submitted workflow's runner has them too": {||
      cd (new-workspace $STRICT)
      let id = (probe | prov workflow submit | get workflow_id)
      # The logs of a running workflow are what is journaled so far: wait for its end first.
      mut st = (prov workflow status $id)
      while $st.status in [pending running] { sleep 50ms; $st = (prov workflow status $id) }
      assert equal (observed (prov workflow logs $id)) $STRICT_SEEN
    }
    "the README's --config example: three attempts": {||
      cd (new-workspace)
      let starts = ({name: w, operations: [{id: a, kind: command, run: [false]}]} | prov workflow run --allow-failure --config {workflow: {retry: {attempts: 3, backoff: 10ms}}} | where type == operation_started | length)
      assert equal $starts 3
    }
    "the configuration snapshot keeps secret values out of the journal, in a private file": {||
      let ws = (new-workspace "[providers.vault]\napi_token = \"tok-8f3a91\"\n[workflow]\nparallel = 1\n")
      cd $ws
      let id = ({name: w, operations: [{id: a, kind: command, run: [true]}]} | prov workflow run | first | get workflow_id)
      let dir = ($ws | path join .provisioning workflows $id)
      assert not ((open --raw ($dir | path join journal)) =~ "tok-8f3a91")
      assert ((open --raw ($dir | path join journal)) =~ "<redacted>")
      let secrets = ($dir | path join config-secrets.json)
      assert ((open --raw $secrets) =~ "tok-8f3a91")
      assert equal (ls -l $secrets | get 0.mode) "rw-------"
    }
    "a resume whose configuration secrets are gone is refused at once, by the runner, with its reason": {||
      let ws = (new-workspace "[providers.vault]\napi_token = \"tok-8f3a91\"\n")
      cd $ws
      let id = ({name: w, operations: [{id: a, kind: command, run: [sleep "31"]}]} | prov workflow submit | get workflow_id)
      kill -s 9 (prov workflow status $id | get runner_pid)
      kill-procs "sleep 31"
      rm ($ws | path join .provisioning workflows $id config-secrets.json)
      let err = (expect-error { prov workflow resume $id })
      assert equal $err.code "provisioning::state::corrupt_secrets"
      assert ($err.msg =~ "config-secrets.json does not exist")
      assert equal (prov workflow status $id | get status) interrupted
    }
    "a resume keeps the configuration the workflow was submitted with, not the files as they are now": {||
      let ws = (new-workspace "[workflow]\nrollback_on_failure = false\n")
      cd $ws
      # b sleeps the first time (and is killed), fails the second: then the snapshot decides.
      let wf = {name: snap, settings: {retry: {attempts: 1}}, operations: [
        {id: a, kind: command, run: [true], rollback: [true]}
        {id: b, kind: command, run: [sh -c "test -f marker && exit 1; touch marker; sleep 32"], depends_on: [a]}
      ]}
      let id = ($wf | prov workflow submit | get workflow_id)
      while not ($ws | path join marker | path exists) { sleep 20ms }
      kill -s 9 (prov workflow status $id | get runner_pid)
      kill-procs "sleep 32"
      "[workflow]\nrollback_on_failure = true\n" | save -f config.defaults.toml
      let events = (prov workflow resume $id --allow-failure)
      assert equal ($events | last | get status) failed
      assert not ($events | any {|e| $e.type == rollback_started })
    }
    "the workflow's settings win over the workspace's, field by field": {||
      cd (new-workspace $STRICT)
      let seen = (observed (probe --settings {parallel: 2, retry: {attempts: 2}} | prov workflow run --allow-failure))
      assert equal $seen {serial: false, attempts: 2, timed_out: true, rolled_back: false}
    }
    "a flag wins over the workflow's settings": {||
      cd (new-workspace $STRICT)
      let seen = (observed (probe --settings {parallel: 1} | prov workflow run --allow-failure --parallel 2))
      assert equal $seen.serial false
    }
    "the built-in settings without any": {||
      cd (new-workspace)
      let events = ({name: t, operations: [{id: one, kind: command, run: [true], rollback: [true]} {id: bad, kind: command, run: [false], depends_on: [one]}]} | prov workflow run --allow-failure)
      # one attempt, and rollback on failure
      assert equal ($events | where type == operation_started and operation == bad | length) 1
      assert ($events | any {|e| $e.type == rollback_started })
    }
    "a bad [workflow] setting is refused before anything runs, naming the key": {||
      let ws = (new-workspace "[workflow]\ntimeout = \"soon\"\n")
      cd $ws
      let err = (expect-error { probe | prov workflow run })
      assert equal $err.code "provisioning::config::bad_duration"
      assert ($err.msg =~ "workflow.timeout")
      assert not ($ws | path join .provisioning workflows | path exists)
    }
    "a misspelled $env.PROVISIONING_ENV is an error with a did-you-mean": {||
      let ws = (new-workspace)
      cd $ws
      "[workflow]\nparallel = 1\n" | save config.staging.toml
      with-env {PROVISIONING_ENV: stagng} {
        let err = (expect-error { probe | prov workflow run })
        assert equal $err.code "provisioning::config::environment_not_found"
        assert ($err.msg =~ "from \\$env.PROVISIONING_ENV")
        assert ($err.help =~ "did you mean staging")
        let err = (expect-error { prov config get workflow.parallel })
        assert equal $err.code "provisioning::config::environment_not_found"
      }
      assert not ($ws | path join .provisioning workflows | path exists)
    }
    "plan, --dry-run and submit refuse an unknown provider and unparsable Nu code, all at once": {||
      let ws = (new-workspace)
      cd $ws
      let bad = {name: bad, operations: [
        {id: mk, kind: server.create, provider: lcoal, server: {name: s, command: [sleep "1"]}}
        {id: calc, kind: nu, code: "1 + "}
        {id: undo, kind: nu, code: "1", rollback: "if true {"}
        {id: out, kind: file.write, path: "../escape.txt", content: x}
      ]}
      for cmd in [plan dry-run submit run] {
        let err = (expect-error {
          match $cmd {
            plan => { $bad | prov workflow plan }
            dry-run => { $bad | prov workflow run --dry-run }
            submit => { $bad | prov workflow submit }
            run => { $bad | prov workflow run }
          }
        })
        assert equal $err.code "provisioning::workflow::invalid" $cmd
        let codes = ($err.inner | get code)
        assert equal $codes [provisioning::provider::unknown provisioning::workflow::nu_parse provisioning::workflow::nu_parse provisioning::operation::path_outside_workspace] $cmd
        assert (($err.inner | where code == provisioning::provider::unknown | first | get help) =~ "local") $cmd
      }
      assert not ($ws | path join .provisioning workflows | path exists)
      assert not ($ws | path join .. escape.txt | path exists)
    }
    "one unparsable Nu code alone is its own error, labeled at the file argument": {||
      let ws = (new-workspace)
      cd $ws
      {name: one, operations: [{id: calc, kind: nu, code: "let x = "}]} | to json | save wf.json
      let err = (expect-error { prov workflow plan wf.json })
      assert equal $err.code "provisioning::workflow::nu_parse"
      assert ($err.msg =~ "operation 'calc': `code` is not valid Nu")
      assert equal (label-text $err) "wf.json"
      # Several problems of a file: each one's label points at the file argument too.
      {name: two, operations: [{id: calc, kind: nu, code: "let x = "} {id: s, kind: server.create, provider: nope, server: {name: x}}]} | to json | save two.json
      let err = (expect-error { prov workflow plan two.json })
      assert equal $err.code "provisioning::workflow::invalid"
      assert equal ($err.inner | length) 2
      for inner in $err.inner { assert equal (label-text $inner) "two.json" }
    }
  }
}
