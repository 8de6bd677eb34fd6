# `prov workflow …` through real nu: plan, graph, run and its stream, submit and status from
# another session, cancel, rollback, resume after a SIGKILL, and bad workflows with their codes.
use std/assert
use harness.nu *

# A fresh workspace with a config.defaults.toml; returns its path.
def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"e2e\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

def wf [ops: list, --name: string = "t", --settings: record = {}] {
  {name: $name, settings: $settings, operations: $ops}
}

# How many processes run exactly `cmd`. `ps` fails when a process exits while it reads it
# (parallel suites), so it is tried again.
def count-procs [cmd: string] {
  for attempt in 1..10 {
    let n = (try { ps --long | where {|p| $p.command == $cmd } | length } catch { null })
    if $n != null { return $n }
    sleep 20ms
  }
  error make {msg: "ps kept failing"}
}

# Waits until the workflow reaches a final status; returns its status record.
def wait-final [id: string, --timeout: duration = 60sec] {
  let deadline = ((date now) + $timeout)
  mut st = (prov workflow status $id)
  while $st.status in ["pending" "running"] {
    if (date now) > $deadline { error make {msg: $"workflow ($id) still ($st.status) after ($timeout)"} }
    sleep 50ms
    $st = (prov workflow status $id)
  }
  $st
}

def main [] {
  let examples = ($env.PROV_REPO | path join "examples")
  run-tests "workflow" {
    "plan: levels and deterministic order": {||
      cd $examples
      let plan = (prov workflow plan workflows/deploy.toml)
      assert equal ($plan | columns) [step level id kind depends_on implicit]
      assert equal ($plan | get id) [render-config check-host fetch-artifact count-servers build-image announce]
      assert equal ($plan | get level) [0 0 1 1 2 3]
      assert equal ($plan | where id == announce | first | get depends_on) [build-image count-servers]
    }
    "plan takes a record on the pipeline": {||
      let ws = (new-workspace)
      cd $ws
      let plan = (wf [{id: b, kind: command, run: [true], depends_on: [a]} {id: a, kind: command, run: [true]}] | prov workflow plan)
      assert equal ($plan | get id) [a b]
    }
    "graph: DOT and Mermaid from the same plan": {||
      cd $examples
      let dot = (prov workflow graph workflows/deploy.toml)
      assert ($dot | str starts-with "digraph")
      assert ($dot | str contains '"check-host" -> "fetch-artifact"')
      let mm = (prov workflow graph --format mermaid workflows/deploy.toml)
      assert ($mm | str starts-with "flowchart")
    }
    "graph: SVG through Graphviz's dot, the package named when dot is missing": {||
      cd $examples
      # A byte stream whose metadata says what it is.
      assert equal (prov workflow graph --format svg workflows/deploy.toml | metadata | get content_type?) "image/svg+xml"
      let svg = (prov workflow graph --format svg workflows/deploy.toml)
      assert equal ($svg | describe) "string"
      assert ($svg | str contains "<svg")
      assert ($svg | str trim | str ends-with "</svg>")
      # Graphviz titles each node with its id ('-' written as &#45;).
      let titles = ($svg | parse --regex '<title>([^<]*)</title>' | get capture0 | str replace --all "&#45;" "-")
      for id in (prov workflow plan workflows/deploy.toml | get id) { assert ($id in $titles) $"($id) is not drawn" }
      let e = (expect-error {|| $env.PATH = []; prov workflow graph --format svg workflows/deploy.toml })
      assert equal $e.code "provisioning::graph::graphviz_missing"
      assert ($e.help | str contains "apt-get install graphviz")
      assert ((label-text $e) | str contains "svg")
      let bad = (expect-error {|| prov workflow graph --format png workflows/deploy.toml })
      assert equal $bad.code "provisioning::input::bad_value"
      assert ((label-text $bad) | str contains "png")
    }
    "nu string code: $in is the input with its type, and the code can call prov": {||
      let ws = (new-workspace)
      cd $ws
      let input = {when: 2024-01-02T03:04:05+00:00, wait: 5sec, n: 3, f: 1.5, s: "a \"b\"\n", l: [1 2], r: {k: true}, z: null}
      let code = 'let x = $in; {types: ($x | transpose k v | reduce -f {} {|it, acc| $acc | insert $it.k ($it.v | describe) }), same: $x, plugin: (prov version | get plugin)} | to nuon | save typed.nuon'
      let last = (wf [{id: t, kind: nu, code: $code, input: $input}] | prov workflow run | last)
      assert equal $last.type workflow_completed
      let got = (open --raw ($ws | path join typed.nuon) | from nuon)
      assert equal $got.types {when: "datetime", wait: "duration", n: "int", f: "float", s: "string", l: "list<int>", r: "record<k: bool>", z: "nothing"}
      assert equal $got.same $input
      assert equal $got.plugin "nu_plugin_provisioning"
    }
    "run streams events and ends with a summary": {||
      let ws = (new-workspace)
      cd $ws
      let events = (wf [
        {id: a, kind: command, run: [echo hello]}
        {id: b, kind: file.write, path: out/b.txt, content: "bee\n", depends_on: [a]}
        {id: c, kind: nu, code: '$in.n * 2', input: {n: 21}, depends_on: [a]}
      ] | prov workflow run)
      assert equal ($events | first | get type) "workflow_started"
      let last = ($events | last)
      assert equal $last.type "workflow_completed"
      assert equal $last.succeeded 3
      assert equal ($last.duration | describe) "duration"
      assert equal ($last.time | describe) "datetime"
      assert equal (open ($ws | path join out b.txt)) "bee\n"
      assert equal ($events | where type == operation_succeeded | get operation | sort) [a b c]
      let id = $last.workflow_id
      let logs = (prov workflow logs $id --output c | get line)
      assert ($logs | str join "\n" | str contains "42")
      # --raw: the output's text, a byte stream.
      assert equal (prov workflow logs $id --output c --raw | metadata | get content_type?) "text/plain; charset=utf-8"
      assert equal (prov workflow logs $id --output c --raw | lines) $logs
    }
    "a failure rolls back completed operations in reverse order": {||
      let ws = (new-workspace)
      cd $ws
      let events = (wf [
        {id: one, kind: file.write, path: one.txt, content: "1"}
        {id: two, kind: file.write, path: two.txt, content: "2", depends_on: [one]}
        {id: boom, kind: command, run: [false], depends_on: [two]}
        {id: never, kind: command, run: [true], depends_on: [boom]}
      ] | prov workflow run --allow-failure)
      let last = ($events | last)
      assert equal $last.type "workflow_failed"
      assert equal $last.status "rolled_back"
      assert equal ($events | where type == rollback_step | get operation) [two one]
      assert equal ($events | where type == operation_skipped | get operation) [never]
      assert not (($ws | path join one.txt) | path exists)
      assert not (($ws | path join two.txt) | path exists)
    }
    "failure events say why: the output's last lines, and the failed operations with their messages": {||
      let ws = (new-workspace)
      cd $ws
      let events = (wf [
        {id: ok, kind: command, run: [true]}
        {id: boom, kind: command, run: [sh -c "echo first line; echo 'disk quota exceeded' >&2; exit 3"]}
      ] | prov workflow run --allow-failure)
      let failed = ($events | where type == operation_failed | first)
      assert equal $failed.operation boom
      assert equal $failed.exit_code 3
      assert equal $failed.output "first line\ndisk quota exceeded"
      let last = ($events | last)
      assert equal $last.type workflow_failed
      assert equal $last.failed_operations [{operation: boom, message: "sh ended with exit status 3"}]
      assert equal $last.message "failed: boom: sh ended with exit status 3"
      # A success carries no output column.
      assert ("output" not-in ($events | where type == operation_succeeded | first | columns))
    }
    "submit returns at once; status and list work from another nu session": {||
      let ws = (new-workspace)
      cd $ws
      let sub = (wf [{id: nap, kind: command, run: [sleep "0.5"]}] | prov workflow submit)
      assert equal ($sub | columns) [workflow_id status]
      let id = $sub.workflow_id
      # Its runner holds it once submit returns: the list names the host that runs it.
      let listed = (prov workflow list | where workflow_id == $id | first)
      assert equal $listed.runner_host (sys host | get hostname)
      assert equal $listed.runner_pid (prov workflow status $id | get runner_pid)
      let other = (^$env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN)]" -c $"cd '($ws)'; prov workflow status ($id) | to json" | from json)
      assert equal $other.workflow_id $id
      let st = (wait-final $id)
      assert equal $st.status "completed"
      assert equal $st.succeeded 1
      assert equal (prov workflow list | where workflow_id == $id | length) 1
      # Nobody runs it now.
      assert equal (prov workflow list | where workflow_id == $id | first | get runner_host) null
    }
    "cancel stops a running workflow and its processes": {||
      let ws = (new-workspace)
      cd $ws
      let secs = $"30.(random int 100000..999999)"  # unique: other suites may be sleeping too
      let id = (wf [{id: long, kind: command, run: [sleep $secs]}] | prov workflow submit | get workflow_id)
      # Cancel once the operation is under way (a loaded machine may take a while to get there).
      mut tries = 0
      while (prov workflow logs $id | where type == operation_started | is-empty) and $tries < 400 { sleep 25ms; $tries += 1 }
      prov workflow cancel $id
      let st = (wait-final $id --timeout 20sec)
      assert equal $st.status "cancelled"
      assert equal (count-procs $"sleep ($secs)") 0
    }
    "cutting the stream short stops the stream, not the workflow": {||
      let ws = (new-workspace)
      cd $ws
      let first_two = (wf [
        {id: a, kind: command, run: [true]}
        {id: b, kind: command, run: [sleep "0.3"], depends_on: [a]}
        {id: c, kind: file.write, path: done.txt, content: "done", depends_on: [b]}
      ] | prov workflow run | first 2)
      assert equal ($first_two | length) 2
      let id = ($first_two | first | get workflow_id)
      let st = (wait-final $id)
      assert equal $st.status "completed"
      assert equal (open ($ws | path join done.txt)) "done"
    }
    "Ctrl-C (the engine's Interrupt) cancels the workflow and stops its processes": {||
      let ws = (new-workspace)
      let script = '
        cd "$WS"
        "$NU_BIN" -n --plugins "[$PLUGIN]" -c "{name: c, operations: [{id: long, kind: command, run: [sleep $SECS]}]} | prov workflow run | ignore" &
        pid=$!
        for i in $(seq 200); do
          grep -qs operation_started .provisioning/workflows/*/events.jsonl && break
          sleep 0.05
        done
        sleep 0.2
        kill -INT $pid
        wait $pid
        exit 0'
      let secs = $"31.(random int 100000..999999)"
      with-env {WS: $ws, NU_BIN: $env.PROV_NU, PLUGIN: $env.PROV_PLUGIN, SECS: $secs} { ^bash -c $script | complete | ignore }
      cd $ws
      let id = (prov workflow list | first | get workflow_id)
      let st = (wait-final $id --timeout 20sec)
      assert equal $st.status "cancelled"
      assert equal (prov workflow logs $id | where type == operation_failed | get operation) [long]
      assert equal (count-procs $"sleep ($secs)") 0
    }
    "rollback after the fact undoes a completed workflow": {||
      let ws = (new-workspace)
      cd $ws
      let events = (wf [{id: w, kind: file.write, path: keep.txt, content: "x"}] | prov workflow run)
      let id = ($events | last | get workflow_id)
      assert (($ws | path join keep.txt) | path exists)
      # A finished run's journal is folded into its header and one checkpoint.
      let journal = ($ws | path join .provisioning workflows $id journal)
      assert equal (open --raw $journal | lines | length) 2
      assert (open --raw $journal | lines | last | str contains '"completed_operations":["w"]')
      let rb = (prov workflow rollback $id)
      assert equal ($rb | where type == rollback_step | get operation) [w]
      assert not (($ws | path join keep.txt) | path exists)
      assert equal (prov workflow status $id | get status) "rolled_back"
    }
    "resume after the runner is killed does not re-run finished operations": {||
      let ws = (new-workspace)
      cd $ws
      let log = ($ws | path join "ran.log")
      let ops = [
        {id: first, kind: command, run: [sh -c $"echo first >> '($log)'"]}
        {id: slow, kind: command, run: [sh -c $"echo slow >> '($log)'; sleep 2"], depends_on: [first]}
        {id: last, kind: command, run: [sh -c $"echo last >> '($log)'"], depends_on: [slow]}
      ]
      let id = (wf $ops | prov workflow submit | get workflow_id)
      # Wait until `slow` is running, then kill the runner outright.
      mut tries = 0
      while not (($log | path exists) and (open --raw $log | str contains "slow")) and $tries < 200 { sleep 25ms; $tries += 1 }
      let pid = (prov workflow status $id | get runner_pid)
      assert ($pid != null) "the runner holds the workflow"
      ^kill -9 $pid
      sleep 200ms
      assert equal (prov workflow status $id | get status) "interrupted"
      # Tear the journal's tail as a crash in mid-write would: detected, reported, repaired.
      let journal = ($ws | path join .provisioning workflows $id journal)
      "57 0badf00d {\"time\":" | save --append --raw $journal
      assert ((prov workflow status $id | get problem) | str contains "journal tail damaged")
      let events = (prov workflow resume $id)
      assert equal ($events | where type == journal_repaired | length) 1
      let resumed = ($events | where type == workflow_resumed | first)
      assert equal $resumed.reexecuted [slow]
      assert equal ($events | last | get type) "workflow_completed"
      assert equal (open --raw $log | lines) [first slow slow last]
    }
    "bad workflows: every problem reported together with its code": {||
      let ws = (new-workspace)
      cd $ws
      let d = (expect-error { wf [
        {id: a, kind: command, run: [true], depends_on: [c]}
        {id: a, kind: comand, run: [true]}
        {id: c, kind: command, depends_on: [a]}
      ] | prov workflow plan })
      assert equal $d.code "provisioning::workflow::invalid"
      let codes = ($d.inner | get code)
      assert ("provisioning::workflow::duplicate_id" in $codes)
      assert ("provisioning::workflow::unknown_kind" in $codes)
      assert ("provisioning::workflow::missing_field" in $codes)
    }
    "a cycle names its path": {||
      let d = (expect-error { wf [
        {id: a, kind: command, run: [true], depends_on: [c]}
        {id: b, kind: command, run: [true], depends_on: [a]}
        {id: c, kind: command, run: [true], depends_on: [b]}
      ] | prov workflow plan })
      assert equal $d.code "provisioning::workflow::cycle"
      assert ($d.msg | str contains "a -> b -> c -> a")
    }
    "a missing workflow file is blamed on the argument": {||
      let d = (expect-error { prov workflow plan no-such-file.toml })
      assert equal (label-text $d) "no-such-file.toml"
    }
    "an unknown workflow id suggests near ones": {||
      cd (new-workspace)
      let d = (expect-error { prov workflow status wf-nope })
      assert equal $d.code "provisioning::workflow::unknown_id"
    }
    "events: every workflow's events in time order, one workflow's, and --follow": {||
      cd (new-workspace)
      assert equal (prov events) []
      # `first` ends the stream, not the run: each ends before the next starts, so that their
      # events do not interleave in time.
      let a = (wf [{id: x, kind: command, run: [true]}] --name first | prov workflow run | first | get workflow_id)
      wait-final $a | ignore
      let b = (wf [{id: y, kind: command, run: [false]}] --name second --settings {retry: {attempts: 1}} | prov workflow run | first | get workflow_id)
      wait-final $b | ignore
      let all = (prov events)
      assert equal ($all | where type =~ "^workflow_" | get type) [workflow_started workflow_completed workflow_started workflow_failed]
      assert equal ($all | get workflow_id | uniq) [$a $b]
      assert equal ($all | get time) ($all | get time | sort)
      assert equal (prov events --workflow $b | get type) (prov workflow logs $b | get type)
      let e = (expect-error { prov events --workflow wf-nope })
      assert equal $e.code "provisioning::workflow::unknown_id"
      assert equal (label-text $e) "--workflow wf-nope"
      # --follow: the old events first, then those of a workflow submitted after it started.
      let c = (wf [{id: z, kind: command, run: [sleep 0.3]}] --name third | prov workflow submit | get workflow_id)
      let followed = (prov events --follow | take until {|ev| $ev.workflow_id == $c and $ev.type == workflow_completed } | get workflow_id | uniq)
      assert equal $followed [$a $b $c]
    }
  }
}
