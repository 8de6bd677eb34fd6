# Closures and `prov workflow run`: the --on-event closure sees every event in order; a failing
# one ends the stream with its error; closures as `nu` operations' code run in this session
# (refused by submit, failing clearly once the session is gone); the progress line appears on a
# terminal only.
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"e2e\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

def wf [ops: list, --name: string = "t"] { {name: $name, operations: $ops} }

def three-ops [] {
  wf [{id: a, kind: command, run: [true]} {id: b, kind: command, run: [true], depends_on: [a]} {id: c, kind: command, run: [true], depends_on: [a]}]
}

# Waits until the workflow reaches a final status; returns its status record.
def wait-final [id: string] {
  mut st = (prov workflow status $id)
  for i in 1..1200 {
    if $st.status not-in ["pending" "running"] { break }
    sleep 50ms
    $st = (prov workflow status $id)
  }
  $st
}

# A Nu command line that runs `code` in a workspace with the plugin loaded.
def nu-line [ws: string, code: string] {
  $"cd ($ws); ($code)"
}

def main [] {
  run-tests "closures" {
    "on-event sees every event, in order, as the stream has them (| length, | last, | ignore)": {||
      let ws = (new-workspace)
      cd $ws
      let log = ($ws | path join "seen.txt")
      let events = (three-ops | prov workflow run --on-event {|e| $"($e.type) ($e.operation? | default '-') ($e.time)\n" | save --append $log })
      let seen = (open $log | lines)
      assert equal $seen ($events | each {|e| $"($e.type) ($e.operation? | default '-') ($e.time)" })
      assert equal ($seen | length) 8
      rm $log
      let n = (three-ops | prov workflow run --on-event {|e| $"($e.type)\n" | save --append $log } | length)
      assert equal (open $log | lines | length) $n
      rm $log
      let last = (three-ops | prov workflow run --on-event {|e| $"($e.type)\n" | save --append $log } | last)
      assert equal (open $log | lines | last) $last.type
      assert equal (open $log | lines | length) 8
      rm $log
      three-ops | prov workflow run --on-event {|e| $"($e.type)\n" | save --append $log } | ignore
      assert equal (open $log | lines | length) 8
      assert equal (open $log | lines | last) workflow_completed
    }
    "on-event gets the event as its argument and as its input": {||
      let ws = (new-workspace)
      cd $ws
      let log = ($ws | path join "seen.txt")
      three-ops | prov workflow run --on-event {|e| $"($e.type == $in.type)\n" | save --append $log } | ignore
      assert equal (open $log | lines | uniq) ["true"]
    }
    "a failing on-event closure ends the stream with its error; the workflow goes on": {||
      let ws = (new-workspace)
      cd $ws
      if ((version | get version | split row "." | get 1 | into int) >= 108) {
        let d = (expect-error {|| three-ops | prov workflow run --on-event {|e| if $e.type == operation_started { error make {msg: "boom"} } } | collect })
        assert equal $d.code "provisioning::workflow::on_event_failed"
        assert ($d.msg =~ "operation_started")
        assert ((label-text $d) | str ends-with "{|e| if $e.type == operation_started { error make {msg: \"boom\"} } }")
        assert ($d.labels.0.text =~ "boom")
      } else {
        # Nu 0.107's `try` lets an error inside a stream escape, so the session's own output is checked.
        let code = $"(three-ops | to nuon) | prov workflow run --on-event {|e| if $e.type == operation_started { error make {msg: 'boom'} } } | collect | to nuon"
        let out = (^$env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN | to json)]" -c $code | complete)
        assert not equal $out.exit_code 0
        assert ($out.stderr =~ "provisioning::workflow::on_event_failed") $out.stderr
        assert ($out.stderr =~ "boom")
      }
      let id = (prov workflow list | first | get workflow_id)
      assert equal (wait-final $id | get status) completed
    }
    "a closure as a nu operation's code runs in this session; its output is logged": {||
      let ws = (new-workspace)
      cd $ws
      let events = ({name: w, operations: [
        {id: a, kind: nu, code: {|| "hi" | save out.txt; "from the closure" }}
        {id: b, kind: command, run: [true], depends_on: [a]}
      ]} | prov workflow run --allow-failure)
      assert equal ($events | last | get type) workflow_completed
      assert equal (open ($ws | path join out.txt)) "hi"
      let id = ($events | first | get workflow_id)
      assert ((prov workflow logs $id --output a | get line | str join "\n") =~ "from the closure")
      # The journal holds a reference, never the closure.
      let journal = (open --raw ($ws | path join .provisioning workflows $id journal) | decode utf-8)
      assert ($journal =~ "session_closure")
      assert not ($journal =~ "save out.txt")
    }
    "a closure operation gets the operation's input; its error fails the operation": {||
      let ws = (new-workspace)
      cd $ws
      let events = ({name: w, operations: [
        {id: a, kind: nu, input: {n: 41}, code: {|x| $x.n + $in.n + 1 | save n.txt }}
        {id: b, kind: nu, code: {|| error make {msg: "closure says no"} }, depends_on: [a], retry: {attempts: 1}}
      ]} | prov workflow run --allow-failure)
      assert equal (open ($ws | path join n.txt) | into int) 83
      let failed = ($events | where type == operation_failed | first)
      assert equal $failed.operation b
      assert ($failed.message =~ "closure says no")
      assert equal ($events | last | get type) workflow_failed
    }
    "submit refuses a closure operation, pointing at the closure": {||
      let ws = (new-workspace)
      cd $ws
      let d = (expect-error {|| {name: w, operations: [{id: a, kind: command, run: [true]} {id: c, kind: nu, code: {|| 1 }}]} | prov workflow submit })
      assert equal $d.code "provisioning::workflow::closure_in_background"
      assert ($d.msg =~ "'c'")
      assert ((label-text $d) | str ends-with "{|| 1 }")
      assert equal (prov workflow list | length) 0
    }
    "a closure operation whose session is gone fails clearly": {||
      let ws = (new-workspace)
      cd $ws
      # Cutting the stream short ends this session's part: the closure runs after that.
      let first = ({name: w, operations: [
        {id: slow, kind: command, run: [sleep 0.5]}
        {id: a, kind: nu, code: {|| "x" | save late.txt }, depends_on: [slow], retry: {attempts: 3, backoff: "10ms"}}
      ]} | prov workflow run | first)
      let st = (wait-final $first.workflow_id)
      assert ($st.status in [failed rolled_back])
      assert not ($ws | path join late.txt | path exists)
      let failed = (prov workflow logs $first.workflow_id | where type == operation_failed | first)
      assert equal $failed.operation a
      assert ($failed.message =~ "belonged to the Nu session that ran the workflow")
      assert ($failed.message =~ "re-run it with `prov workflow run`")
      # The session does not come back: no retry, whatever the policy.
      assert equal (prov workflow logs $first.workflow_id | where type == operation_retrying | length) 0
    }
    "resuming from another session: the closure operation fails clearly, the rest resumes": {||
      let ws = (new-workspace)
      cd $ws
      let started = ($ws | path join started)
      let first = ({name: w, settings: {rollback_on_failure: false}, operations: [
        {id: slow, kind: command, run: [sh -c $"touch '($started)'; sleep 2"]}
        {id: a, kind: nu, code: {|| "x" | save late.txt }, depends_on: [slow], retry: {attempts: 3, backoff: "10ms"}}
      ]} | prov workflow run | first)
      let id = $first.workflow_id
      mut tries = 0
      while not ($started | path exists) and $tries < 200 { sleep 25ms; $tries += 1 }
      ^kill -9 (prov workflow status $id | get runner_pid)
      sleep 200ms
      assert equal (prov workflow status $id | get status) interrupted
      let events = (prov workflow resume $id --allow-failure)
      assert equal ($events | where type == operation_succeeded | get operation) [slow]
      let failed = ($events | where type == operation_failed | first)
      assert equal $failed.operation a
      assert ($failed.message =~ "re-run it with `prov workflow run`")
      assert equal ($events | last | get type) workflow_failed
      assert not ($ws | path join late.txt | path exists)
    }
    "a closure operation refuses cwd and env, which only a nu process could take": {||
      let ws = (new-workspace)
      cd $ws
      let e = (expect-error {|| {name: w, operations: [{id: a, kind: nu, cwd: "sub", code: {|| 1 }}]} | prov workflow run })
      assert equal $e.code "provisioning::workflow::closure_process_field"
      assert equal (label-text $e) '"sub"'
      let e2 = (expect-error {|| {name: w, operations: [{id: a, kind: nu, env: {A: "1"}, code: {|| 1 }}]} | prov workflow run })
      assert equal $e2.code "provisioning::workflow::closure_process_field"
      assert equal (prov workflow list | length) 0
    }
    "progress line on a terminal only": {||
      let ws = (new-workspace)
      let wf = ($ws | path join w.json)
      {name: w, operations: [{id: a, kind: command, run: [sleep 0.3]} {id: b, kind: command, run: [true], depends_on: [a]}]} | save $wf
      # script(1) runs the line with sh: the paths here hold no quotes.
      let line = $"($env.PROV_NU) -n --plugins '[($env.PROV_PLUGIN)]' -c 'cd ($ws); prov workflow run ($wf) | length'"
      let on_tty = (^script -qfec $line /dev/null | complete)
      assert equal $on_tty.exit_code 0
      assert ($on_tty.stdout =~ '\d+/2 done, \d+ running, \d+ failed')
      let err_file = ($ws | path join err.txt)
      let off_tty = (^script -qfec $"($line) 2>($err_file)" /dev/null | complete)
      assert equal $off_tty.exit_code 0
      assert equal ($off_tty.stdout | str trim) "6"
      assert not ($off_tty.stdout =~ 'done,')
      assert not ((open --raw $err_file | into binary | decode utf-8) =~ 'done,')
    }
    "resume draws the progress line too, counting what the first run finished": {||
      let ws = (new-workspace)
      cd $ws
      let started = ($ws | path join started)
      let id = ({name: w, operations: [
        {id: a, kind: command, run: [true]}
        {id: b, kind: command, run: [sh -c $"touch '($started)'; sleep 1"], depends_on: [a]}
      ]} | prov workflow submit | get workflow_id)
      mut tries = 0
      while not ($started | path exists) and $tries < 400 { sleep 25ms; $tries += 1 }
      ^kill -9 (prov workflow status $id | get runner_pid)
      mut st = (prov workflow status $id | get status)
      for _ in 1..100 { if $st == interrupted { break }; sleep 20ms; $st = (prov workflow status $id | get status) }
      assert equal $st interrupted
      let line = $"($env.PROV_NU) -n --plugins '[($env.PROV_PLUGIN)]' -c 'cd ($ws); prov workflow resume ($id) | length'"
      let on_tty = (^script -qfec $line /dev/null | complete)
      assert equal $on_tty.exit_code 0
      # `a` finished before the kill: the line starts from it.
      assert ($on_tty.stdout =~ '1/2 done, 1 running, 0 failed')
      assert not ($on_tty.stdout =~ '0/2 done')
      assert equal (prov workflow status $id | get status) completed
    }
  }
}
