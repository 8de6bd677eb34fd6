# Every example of every `prov` command, as `help` shows it, typed into a fresh Nu session in a
# copy of the example workspace, its output compared with the result the example states: the
# way Nushell tests its own commands' examples. Every example states its result. The examples
# are read from the engine (`scope commands`), so what is tested is exactly what users see.
use std/assert
use harness.nu *

# A workflow that waits: something to cancel, or to kill in mid-run and resume.
const SLOW = "{name: slow, operations: [{id: wait, kind: command, run: [sleep 30]}]}"
const BRIEF = "{name: brief, operations: [{id: wait, kind: command, run: [sleep 2]}]}"

# Nu code that waits (up to 30s) until workflow `$id` is running with its runner.
const WAIT_RUNNING = "
  mut st = (prov workflow status $id)
  for _ in 1..600 { if $st.status == running and $st.runner_pid? != null { break }; sleep 50ms; $st = (prov workflow status $id) }
  if $st.status != running { error make {msg: $'workflow ($id) is ($st.status), not running'} }
"

# Per-command setup, run in the workspace (in a session of its own) before each of the
# command's examples: the state the examples talk about.
const SETUP = {
  "prov events": "prov workflow run workflows/deploy.toml | ignore"
  "prov workflow list": "prov workflow run workflows/deploy.toml | ignore; prov workflow run --allow-failure workflows/broken.toml | ignore"
  "prov workflow status": "prov workflow run workflows/deploy.toml | ignore"
  "prov workflow logs": "prov workflow run --allow-failure workflows/broken.toml | ignore"
  "prov workflow rollback": "prov workflow run workflows/deploy.toml | ignore"
  "prov workflow repair": "prov workflow run workflows/deploy.toml | ignore"
  "prov workflow cancel": $"let id = \(($SLOW) | prov workflow submit | get workflow_id\)\n($WAIT_RUNNING)"
  "prov workflow resume": $"let id = \(($BRIEF) | prov workflow submit | get workflow_id\)\n($WAIT_RUNNING)
    ^kill -9 $st.runner_pid
    for _ in 1..600 { if \(prov workflow status $id | get status\) == interrupted { break }; sleep 50ms }"
  "prov server list": "prov server create web --command [sleep 600] | ignore; {name: db, plan: small} | prov server create --provider folder | ignore"
  "prov server get": "prov server create web --command [sleep 600] | ignore"
  "prov server create": "prov server create web --command [sleep 600] | ignore"
  "prov server stop": "prov server create web --command [sleep 600] | ignore"
  "prov server restart": "prov server create web --command [sleep 600] | ignore"
  "prov server start": "let s = (prov server create web --command [sleep 600]); prov server stop $s.id | ignore"
  "prov server logs": "let s = (prov server create hello --command [sh -c 'echo hi; echo oops >&2'])
    prov server logs $s.id --follow | ignore"
  "prov serve stop": "prov serve start --listen 127.0.0.1:0 | ignore"
  "prov server delete": "prov server create web --command [sleep 600] | ignore
    let once = (prov server create once --command [echo hello])
    for _ in 1..600 { if (prov server get $once.id | get state) == exited { break }; sleep 50ms }"
}

# Leaves the workspace as found: every server deleted, every workflow ended (cancelled when
# still running), the HTTP service stopped, so no server, runner, worker or service process
# outlives the example.
const TEARDOWN = "
  if (prov serve status | get running) { prov serve stop | ignore }
  prov server list --all | each {|s| prov server delete $s.id --provider $s.provider } | ignore
  for w in (prov workflow list | where status in [pending running]) { try { prov workflow cancel $w.workflow_id | ignore } }
  for _ in 1..600 { if (prov workflow list | where status in [pending running] | is-empty) { break }; sleep 50ms }
  let left = (prov workflow list | where status in [pending running] | get workflow_id)
  if ($left | is-not-empty) { error make {msg: $'workflows still running: ($left)'} }
"

# Runs Nu `code` in a fresh session with the plugin, in `dir`; returns its stdout, or fails
# with `what` and the session's error.
def run-nu [dir: string, code: string, what: string] {
  let plugins = $"[($env.PROV_PLUGIN | to nuon)]"
  let out = (do { cd $dir; ^$env.PROV_NU -n --plugins $plugins -c $code } | complete)
  if $out.exit_code != 0 { error make {msg: $"($what) failed:\n($out.stderr)"} }
  $out.stdout
}

# A copy of the example workspace without any state a demo left in it.
def new-workspace [] {
  let ws = (mktemp -d | path join "examples")
  cp -r ($env.PROV_REPO | path join "examples") $ws
  rm -rf ($ws | path join ".provisioning")
  $ws
}

# Runs one example of `command` in a fresh workspace and compares its result.
def check-example [command: string, ex: record] {
  let ws = (new-workspace)
  let failure = try {
    if $command in ($SETUP | columns) { run-nu $ws ($SETUP | get $command) $"setup of `($command)`" | ignore }
    let got = (run-nu $ws $"($ex.example)\n| to nuon" $"example `($ex.example)`" | str trim --right --char "\n")
    if $ex.result != null {
      let want = ($ex.result | to nuon)
      if $got != $want {
        error make {msg: $"`($command)` example `($ex.example)` gives a different result\n  stated: ($want)\n  got:    ($got)"}
      }
    }
    null
  } catch {|e| $e.msg }
  let cleanup = try {
    if ($ws | path join ".provisioning" | path exists) { run-nu $ws $TEARDOWN $"cleanup after `($ex.example)`" | ignore }
    null
  } catch {|e| $e.msg }
  rm -rf ($ws | path dirname)
  if $failure != null { error make {msg: $failure} }
  if $cleanup != null { error make {msg: $cleanup} }
}

def main [] {
  let commands = (scope commands | where name starts-with "prov" | select name examples | sort-by name)
  let tests = ($commands | each {|c|
    $c.examples | enumerate | each {|e| {name: $"($c.name) #($e.index + 1): ($e.item.example)", body: {|| check-example $c.name $e.item }} }
  } | flatten)
  let without = {
    name: "every command has examples"
    body: {||
      let none = ($commands | where {|c| $c.examples | is-empty } | get name)
      assert (($commands | length) > 20) "the plugin's commands are in scope"
      assert equal $none [] $"commands without examples: ($none | str join ', ')"
      # A stated result is what makes an example a test (Nushell shows none as null).
      let unstated = ($commands | each {|c| $c.examples | where result == null | each {|e| $"($c.name): ($e.example)" } } | flatten)
      assert equal $unstated [] $"examples without a stated result: ($unstated | str join '; ')"
    }
  }
  run-tests "examples" ([$without] ++ $tests | reduce --fold {} {|t, acc| $acc | merge {($t.name): $t.body} })
}
