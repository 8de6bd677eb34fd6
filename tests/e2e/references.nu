# Operation outputs and references through real nu: typed and textual references, implicit
# dependencies in the plan, command output as text or JSON, file.write's result, config/env/vars,
# refusals with did-you-mean before anything runs, a result kept across a SIGKILL and resume
# without running its producer again, and a secret result kept out of the journal and events.
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"e2e\"\n[app]\nport = 9000\napi_token = \"tok-7d1e4c9a-ffee\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

def wf [ops: list, --vars: record = {}] {
  {name: refs, vars: $vars, operations: $ops}
}

def main [] {
  run-tests "references" {
    "typed and textual references; the reference is an implicit dependency in the plan": {||
      let ws = (new-workspace)
      cd $ws
      let w = (wf [
        {id: use, kind: nu, input: "{{ops.mk.out.ports}}", code: '$in | describe'}
        {id: text, kind: file.write, path: "url.txt", content: "http://{{ops.mk.out.name}}:{{ops.mk.out.ports.0}}/ exit={{ops.mk.exit_code}}"}
        {id: mk, kind: command, run: [printf '{"ports": [8080, 8081], "name": "web"}\n'], output: json}
      ])
      let plan = ($w | prov workflow plan)
      assert equal ($plan | get id) [mk use text]
      assert equal ($plan | where id == use | first | get depends_on) [mk]
      assert equal ($plan | where id == use | first | get implicit) [mk]
      assert equal ($plan | where id == mk | first | get implicit) []
      let events = ($w | prov workflow run)
      assert equal ($events | last | get type) workflow_completed
      let done = ($events | where type == operation_succeeded)
      assert equal ($done | where operation == mk | first | get out) {ports: [8080 8081], name: web}
      assert equal ($done | where operation == use | first | get out) "list<int>"
      assert equal (open --raw url.txt) "http://web:8080/ exit=0"
    }
    "command out is stdout without its final newline; file.write out is path, bytes, sha256": {||
      let ws = (new-workspace)
      cd $ws
      let events = (wf [
        {id: say, kind: command, run: [printf "two\nlines\n"]}
        {id: w, kind: file.write, path: "sub/f.txt", content: "{{ops.say.out}}"}
        {id: n, kind: nu, code: '$in', input: "{{ops.w.out.bytes}}"}
      ] | prov workflow run)
      let done = ($events | where type == operation_succeeded)
      assert equal ($done | where operation == say | first | get out) "two\nlines"
      let w = ($done | where operation == w | first | get out)
      assert equal $w.path "sub/f.txt"
      assert equal $w.bytes 9
      assert equal $w.sha256 (open --raw sub/f.txt | hash sha256)
      assert equal ($done | where operation == n | first | get out) 9
    }
    "output = json that is not JSON fails the operation": {||
      let ws = (new-workspace)
      cd $ws
      let events = (wf [{id: j, kind: command, run: [echo "not json"], output: json}] | prov workflow run --allow-failure)
      let failed = ($events | where type == operation_failed | first)
      assert equal $failed.operation j
      assert ($failed.message | str contains "not JSON") $failed.message
      assert equal ($events | last | get type) workflow_failed
    }
    "the README's example: a result in another operation's field, and --vars": {||
      let ws = (new-workspace)
      cd $ws
      let out = ({name: refs, operations: [{id: port, kind: command, run: [echo 8080]}, {id: url, kind: nu, input: '{{ops.port.out}}', code: '$"http://localhost:($in){{vars.path}}"'}]} | prov workflow run --vars {path: /v2} | where type == operation_succeeded | get out)
      assert equal $out ["8080" "http://localhost:8080/v2"]
    }
    "more than 1 MiB of referenced stdout fails the operation, naming the bound; unreferenced, out is left empty": {||
      let ws = (new-workspace)
      cd $ws
      let big = {id: big, kind: command, run: [sh -c "head -c 1100000 /dev/zero | tr '\\0' a"]}
      let events = (wf [$big {id: use, kind: file.write, path: "b.txt", content: "{{ops.big.out}}"}] | prov workflow run --allow-failure)
      let failed = ($events | where type == operation_failed | first)
      assert equal $failed.operation big
      assert ($failed.message | str contains "more than 1 MiB to stdout") $failed.message
      let alone = (wf [$big] | prov workflow run)
      assert equal ($alone | last | get type) workflow_completed
      assert equal ($alone | where type == operation_succeeded | first | get out?) null
      let json = (wf [($big | insert output json)] | prov workflow run --allow-failure)
      assert ($json | where type == operation_failed | first | get message | str contains "more than 1 MiB") 
    }
    "config.set out is the new value, redacted for a secret key; server.create and server.delete outs": {||
      let ws = (new-workspace)
      cd $ws
      let events = (wf [
        {id: port, kind: config.set, key: "app.port", value: 9100}
        {id: tok, kind: config.set, key: "app.api_token", value: "tok-new-0123456789"}
        {id: s, kind: server.create, server: {name: refs-web, command: [sleep 600]}}
        {id: d, kind: server.delete, server_id: "{{ops.s.out.id}}"}
      ] | prov workflow run)
      assert equal ($events | last | get type) workflow_completed
      let done = ($events | where type == operation_succeeded)
      assert equal ($done | where operation == port | first | get out) 9100
      assert equal ($done | where operation == tok | first | get out) "<redacted>"
      let server = ($done | where operation == s | first | get out)
      assert equal $server.name refs-web
      assert equal ($done | where operation == d | first | get out) {id: $server.id, deleted: true}
    }
    "config, env and vars; --vars over the workflow's vars": {||
      let ws = (new-workspace)
      cd $ws
      let w = (wf --vars {who: world, n: 1} [
        {id: f, kind: file.write, path: "v.txt", content: "{{config.app.port}} {{env.REFS_E2E}} {{vars.who}}"}
        {id: t, kind: nu, input: "{{config.app.port}}", code: '$in | describe'}
        {id: v, kind: nu, input: "{{vars.n}}", code: '$in + 1'}
      ])
      let events = (with-env {REFS_E2E: hello} { $w | prov workflow run --vars {who: nu} })
      assert equal ($events | last | get type) workflow_completed
      assert equal (open --raw v.txt) "9000 hello nu"
      let done = ($events | where type == operation_succeeded)
      assert equal ($done | where operation == t | first | get out) int
      assert equal ($done | where operation == v | first | get out) 2
    }
    "references that cannot resolve are refused before anything runs, with did-you-mean": {||
      let ws = (new-workspace)
      cd $ws
      let bad = (wf --vars {port: 80} [
        {id: mk, kind: command, run: [date]}
        {id: w, kind: file.write, path: "a.txt", content: "x"}
        {id: use, kind: command, run: [echo "{{ops.mj.out}}"]}
      ])
      let e = (expect-error {|| $bad | prov workflow plan })
      assert equal $e.code "provisioning::workflow::bad_reference"
      assert ($e.msg | str contains "operation 'use': field 'run.1': {{ops.mj.out}} names an operation that is not in this workflow") $e.msg
      assert equal $e.help "did you mean mk?"
      let e2 = (expect-error {|| wf [{id: w, kind: file.write, path: "a.txt", content: "x"} {id: u, kind: command, run: [echo "{{ops.w.out.nope}}"]}] | prov workflow run })
      assert equal $e2.code "provisioning::workflow::bad_reference"
      assert ($e2.msg | str contains "'nope', which the out of a file.write operation does not have") $e2.msg
      let e3 = (expect-error {|| wf --vars {port: 80} [{id: u, kind: command, run: [echo "{{vars.prot}}"]}] | prov workflow submit })
      assert equal $e3.help "did you mean port?"
      let e4 = (expect-error {|| wf [{id: u, kind: command, run: [echo "{{opps.u.out}}"]}] | prov workflow plan })
      assert ($e4.msg | str contains "unknown root 'opps'") $e4.msg
      assert equal $e4.help "did you mean ops?"
      let e5 = (expect-error {|| wf [{id: a, kind: command, run: [echo "{{ops.b.out}}"]} {id: b, kind: command, run: [echo "{{ops.a.out}}"]}] | prov workflow plan })
      assert equal $e5.code "provisioning::workflow::cycle"
      assert equal (prov workflow list | length) 0
    }
    "after a SIGKILL and resume the later operation sees the first run's result; its producer does not run again": {||
      let ws = (new-workspace)
      cd $ws
      let started = ($ws | path join started)
      let first = (wf [
        {id: rand, kind: command, run: [sh -c 'echo ran >> runs.txt; od -An -N8 -tu8 /dev/urandom | tr -d " "']}
        {id: slow, kind: command, run: [sh -c $"touch '($started)'; sleep 3"], depends_on: [rand]}
        {id: use, kind: file.write, path: "seen.txt", content: "{{ops.rand.out}}", depends_on: [slow]}
      ] | prov workflow run | first)
      let id = $first.workflow_id
      mut tries = 0
      while not ($started | path exists) and $tries < 400 { sleep 25ms; $tries += 1 }
      ^kill -9 (prov workflow status $id | get runner_pid)
      sleep 200ms
      assert equal (prov workflow status $id | get status) interrupted
      let before = (open ($ws | path join .provisioning workflows $id events.jsonl) --raw | lines | each {|l| $l | from json } | where type == operation_succeeded | where operation == rand | first | get out)
      let events = (prov workflow resume $id)
      assert equal ($events | last | get type) workflow_completed
      assert equal (open --raw seen.txt) $before
      assert equal (open --raw runs.txt | lines | length) 1
    }
    "a result that shows a secret is redacted in the journal and events; later operations get it whole": {||
      let ws = (new-workspace)
      cd $ws
      let events = (wf [
        {id: show, kind: command, run: [echo "token={{config.app.api_token}}"]}
        {id: keep, kind: file.write, path: "t.txt", content: "{{ops.show.out}}"}
      ] | prov workflow run)
      assert equal ($events | last | get type) workflow_completed
      assert equal (open --raw t.txt) "token=tok-7d1e4c9a-ffee"
      assert equal ($events | where operation? == show | where type == operation_succeeded | first | get out) "token=<redacted>"
      let id = ($events | first | get workflow_id)
      let dir = ($ws | path join .provisioning workflows $id)
      for f in [journal events.jsonl] {
        let text = (open --raw ($dir | path join $f))
        assert not ($text | str contains "tok-7d1e4c9a-ffee") $"($f) holds the secret"
      }
    }
  }
}
