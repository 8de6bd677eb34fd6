# Workflows in scripts: a run that does not complete fails the pipeline and `nu -c`, naming its
# failed operations; --allow-failure streams the events only; `prov workflow wait` blocks and
# fails the same way.
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"scripts\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

const FAILING = {name: broken, settings: {retry: {attempts: 1}}, operations: [
  {id: ok, kind: command, run: [true]}
  {id: boom, kind: command, run: [sh, -c, "echo 'disk quota exceeded' >&2; exit 3"], depends_on: [ok]}
]}
const PASSING = {name: fine, operations: [{id: ok, kind: command, run: [true]}]}

# `code` run by a fresh nu with this plugin, in the current directory: its exit code and stderr.
def script [code: string] {
  let r = (^$env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN)]" -c $code | complete)
  {exit_code: $r.exit_code, stderr: $r.stderr}
}

def main [] {
  run-tests "scripts" {
    "a failing run ends its stream with an error naming the failed operation": {||
      cd (new-workspace)
      let err = (expect-error { $FAILING | prov workflow run | last | get type })
      assert equal $err.code "provisioning::workflow::rolled_back"
      assert ($err.msg =~ "failed and was rolled back \\(boom: sh ended with exit status 3\\)") $err.msg
      assert ($err.help =~ "--output boom") $err.help
      assert ($err.help =~ "--allow-failure") $err.help
    }
    "nu -c exits non-zero for a failing workflow, zero for a completing one": {||
      cd (new-workspace)
      $FAILING | to json | save broken.json
      $PASSING | to json | save fine.json
      let bad = (script "prov workflow run broken.json")
      assert ($bad.exit_code != 0)
      assert ($bad.stderr =~ "provisioning::workflow::rolled_back")
      assert ($bad.stderr =~ "boom")
      assert equal (script "prov workflow run fine.json" | get exit_code) 0
      assert equal (script "prov workflow run broken.json --allow-failure | ignore" | get exit_code) 0
    }
    "without rollback the status is failed, and the code says so": {||
      cd (new-workspace)
      let err = (expect-error { $FAILING | upsert settings.rollback_on_failure false | prov workflow run | last | get type })
      assert equal $err.code "provisioning::workflow::failed"
    }
    "--allow-failure streams the events only": {||
      cd (new-workspace)
      let events = ($FAILING | prov workflow run --allow-failure)
      assert equal ($events | last | get type) workflow_failed
      assert equal ($events | last | get status) rolled_back
    }
    "prov workflow wait returns the status of a completed workflow, and fails for a failed one": {||
      cd (new-workspace)
      let ok = ($PASSING | prov workflow submit | get workflow_id)
      let st = (prov workflow wait $ok)
      assert equal $st.status completed
      assert equal $st.workflow_id $ok
      let bad = ($FAILING | prov workflow submit | get workflow_id)
      let err = (expect-error { prov workflow wait $bad })
      assert equal $err.code "provisioning::workflow::rolled_back"
      assert ($err.msg =~ "boom") $err.msg
      assert equal (prov workflow wait $bad --allow-failure | get status) rolled_back
    }
    "prov workflow wait blocks until a running workflow ends": {||
      cd (new-workspace)
      let id = ({name: slow, operations: [{id: s, kind: command, run: [sleep "0.6"]}]} | prov workflow submit | get workflow_id)
      let t0 = (date now)
      assert equal (prov workflow wait $id | get status) completed
      assert (((date now) - $t0) >= 400ms)
    }
  }
}
