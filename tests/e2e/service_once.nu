# The HTTP service (`nu_plugin_provisioning serve`, `prov serve start|status|stop`) with real
# clients, curl and Nu's own `http`: the routes, the envelope, the token, the event stream, the
# same workflows as Nu's, and bad input and abuse that leave the service serving and the state
# unchanged. Each test starts its own service on a free loopback port.
# ctest-labels: e2e;security;bad-input
use std/assert
use harness.nu *

def new-workspace [--limits: string = ""] {
  let ws = (mktemp -d)
  $"[project]\nname = \"svc\"\n($limits)" | save ($ws | path join "config.defaults.toml")
  $ws
}

# Starts a service for the current workspace; returns {url, token, h (the auth header)}.
def start [] {
  let s = (prov serve start --listen 127.0.0.1:0)
  let token = (open $s.token_file | str trim)
  $s | merge {token: $token, h: [Authorization $"Bearer ($token)"]}
}

# curl: [status, body] of a request (the body parsed as JSON when it is).
def curl-json [method: string, url: string, token: string, body: string = ""] {
  let args = (if $body == "" { [] } else { [-H "Content-Type: application/json" --data-binary $body] })
  let out = (^curl -s -X $method -H $"Authorization: Bearer ($token)" -w "\n%{http_code}" ...$args $url)
  let lines = ($out | lines)
  let status = ($lines | last | into int)
  let text = ($lines | drop 1 | str join "\n")
  {status: $status, body: (try { $text | from json } catch { $text })}
}

# A checksum of everything under the state folder's workflows/ (names, sizes, contents).
def state-sum [ws: string] {
  let dir = ($ws | path join .provisioning workflows)
  if not ($dir | path exists) { return "none" }
  ls -a ($dir | path join "**" "*" | into glob) | where type == file | sort-by name
    | each {|f| $"($f.name) (open --raw $f.name | hash sha256)" } | str join "\n" | hash sha256
}

def wait-status [id: string] { prov workflow wait --allow-failure $id | get status }

def main [] {
  run-tests "service" {
    "start, status, health, stop; a second serve refuses naming the first": {||
      cd (new-workspace)
      let s = (start)
      assert ($s.url | str starts-with "http://127.0.0.1:")
      assert equal (prov serve status | get running) true
      let health = (http get $"($s.url)/health")
      assert equal $health.status success
      assert equal $health.data.status ok
      assert equal $health.error null
      assert ($health.metadata.request_id | str starts-with "req-")
      assert equal $health.metadata.version (prov version | get plugin_version)
      # The token file is private.
      assert equal (ls -l $s.token_file | get 0.mode) "rw-------"
      let second = (do { ^$env.PROV_PLUGIN serve --workspace (pwd) --listen 127.0.0.1:0 } | complete)
      assert equal $second.exit_code 1
      assert ($second.stderr | str contains "already serves") $second.stderr
      assert ($second.stderr | str contains $s.url) $second.stderr
      assert ($second.stderr | str contains ($s.pid | into string)) $second.stderr
      let stopped = (prov serve stop)
      assert equal $stopped.stopped_pid $s.pid
      assert equal (prov serve status | get running) false
      let e = (expect-error { prov serve stop })
      assert equal $e.code provisioning::service::not_running
    }
    "every route but /health needs the token; a wrong one is refused": {||
      cd (new-workspace)
      let s = (start)
      let none = (http get -e -f $"($s.url)/workflows")
      assert equal $none.status 401
      assert equal $none.body.status error
      assert equal $none.body.error.code provisioning::service::unauthorized
      let wrong = (http get -e -f -H [Authorization "Bearer 0123456789abcdef0123456789abcdef"] $"($s.url)/workflows")
      assert equal $wrong.status 401
      for route in [/openapi.json /events /providers /servers "/workflows/wf-20260101-000000-abcdef/status"] {
        assert equal (http get -e -f $"($s.url)($route)" | get status) 401 $route
      }
      assert equal (http get -f $"($s.url)/health" | get status) 200
      assert equal (http get -H $s.h $"($s.url)/openapi.json" | get openapi | str substring 0..1) "3."
      # A header over the size the server takes (8 KiB) is refused; the service goes on.
      let huge = (^curl -s -o /dev/null -w "%{http_code}" -H $"X-Big: ('' | fill -c a -w 10000)" $"($s.url)/health")
      assert (($huge | into int) >= 400) $huge
      assert equal (http get $"($s.url)/health" | get data.status) ok
      # The token is in no log, event or answer.
      {name: t, operations: [{id: a, kind: command, run: [true]}]} | prov workflow run | ignore
      let log = (open --raw (prov serve status | get token_file | path dirname | path join service.log))
      assert not ($log | str contains $s.token)
      assert not ((prov events | to json) | str contains $s.token)
      assert not ((http get -H $s.h $"($s.url)/workflows" | to json) | str contains $s.token)
      prov serve stop | ignore
    }
    "curl submits, follows the event stream to the end, reads status and logs": {||
      cd (new-workspace)
      let s = (start)
      let doc = ({name: viacurl, operations: [
        {id: a, kind: command, run: [sleep "0.3"]}
        {id: b, kind: command, run: [echo hello-from-b], depends_on: [a]}
      ]} | to json)
      let r = (curl-json POST $"($s.url)/workflows" $s.token $doc)
      assert equal $r.status 201
      assert equal $r.body.status success
      let id = $r.body.data.workflow_id
      let stream = (^curl -sN -H $"Authorization: Bearer ($s.token)" -H "Accept: text/event-stream" $"($s.url)/workflows/($id)/events")
      let types = ($stream | lines | where {|l| $l | str starts-with "event: " } | each {|l| $l | str substring 7.. })
      assert equal ($types | first) workflow_started
      assert equal ($types | last) workflow_completed
      let data = ($stream | lines | where {|l| $l | str starts-with "data: " } | each {|l| $l | str substring 6.. | from json })
      assert equal ($data | last | get succeeded) 2
      # Plain JSON for clients: times as text.
      assert equal ($data | first | get time | describe) string
      let st = (curl-json GET $"($s.url)/workflows/($id)/status" $s.token)
      assert equal $st.body.data.status completed
      let one = (curl-json GET $"($s.url)/workflows/($id)" $s.token)
      assert equal $one.body.data.name viacurl
      assert equal ($one.body.data.document.operations | length) 2
      let out = (^curl -s -H $"Authorization: Bearer ($s.token)" $"($s.url)/workflows/($id)/logs?op=b")
      # The output's text, as `prov workflow logs --raw` gives it (not the log's records).
      assert equal ($out | lines | get 1) hello-from-b $out
      let events = (curl-json GET $"($s.url)/workflows/($id)/logs" $s.token)
      assert equal ($events.body.data | last | get type) workflow_completed
      # The same workflow from Nu.
      assert equal (prov workflow status $id | get status) completed
      prov serve stop | ignore
    }
    "the seed's submit form works; workflows of Nu and of HTTP are the same workflows": {||
      cd (new-workspace)
      let s = (start)
      # The seed's submit-workflow, with the token and the content type this Nu needs to send a record.
      def submit-workflow [workflow: record] {
        let payload = ($workflow | to json)
        http post -t application/json -H $s.h $"($s.url)/workflows/submit" {headers: {"Content-Type": "application/json"} body: $payload}
      }
      let seed = (submit-workflow {
        workflow_id: "wf-456", name: multi_cloud_deployment,
        operations: [{id: a, kind: command, run: [true]}, {id: b, kind: command, run: [true]}],
        dependencies: {b: [a]}, configuration: {app: {port: 8080}}
      })
      assert equal $seed.status success
      let sid = $seed.data.workflow_id
      assert ($sid != "wf-456")
      assert equal (wait-status $sid) completed
      assert equal (http get -H $s.h $"($s.url)/workflows/($sid)" | get data.document | prov workflow plan | where id == b | get 0.depends_on) [a]
      let nid = ({name: fromnu, operations: [{id: x, kind: command, run: [true]}]} | prov workflow submit | get workflow_id)
      wait-status $nid | ignore
      let listed = (http get -H $s.h $"($s.url)/workflows" | get data)
      assert ($listed | any {|w| $w.workflow_id == $nid and $w.name == fromnu })
      assert ((prov workflow list | get workflow_id) | any {|i| $i == $sid })
      let only = (http get -H $s.h $"($s.url)/workflows?status=completed&limit=1" | get data)
      assert equal ($only | length) 1
      prov serve stop | ignore
    }
    "cancel over HTTP stops the workflow and its processes": {||
      cd (new-workspace)
      let s = (start)
      let id = (http post -t application/json -H $s.h $"($s.url)/workflows" ({name: long, settings: {rollback_on_failure: false}, operations: [{id: a, kind: command, run: [sleep "31.4159"]}]} | to json) | get data.workflow_id)
      prov events --follow --workflow $id | where type == operation_started | first | ignore
      let c = (http delete -f -H $s.h $"($s.url)/workflows/($id)")
      assert equal $c.status 202
      assert equal $c.body.status pending
      assert equal $c.body.data.status cancelling
      assert equal (wait-status $id) cancelled
      assert equal (do { ^pgrep -f "sleep 31.4159" } | complete | get exit_code) 1
      let again = (http post -e -f -H $s.h $"($s.url)/workflows/($id)/cancel" "")
      assert equal $again.status 409
      assert equal $again.body.error.code provisioning::workflow::not_running
      prov serve stop | ignore
    }
    "resume after the runner is SIGKILLed, and rollback, over HTTP": {||
      cd (new-workspace)
      let s = (start)
      let id = (http post -t application/json -H $s.h $"($s.url)/workflows" ({name: killed, operations: [
        {id: a, kind: command, run: [sleep "1"]}
        {id: b, kind: command, run: [true], depends_on: [a]}
      ]} | to json) | get data.workflow_id)
      prov events --follow --workflow $id | where type == operation_started | first | ignore
      kill -s 9 (prov workflow status $id | get runner_pid)
      prov events --follow --workflow $id | ignore
      assert equal (http get -H $s.h $"($s.url)/workflows/($id)/status" | get data.status) interrupted
      kill-procs "sleep 1"
      let r = (http post -f -H $s.h $"($s.url)/workflows/($id)/resume" "")
      assert equal $r.status 202
      assert equal (wait-status $id) completed
      let rb = (http post -f -H $s.h $"($s.url)/workflows/($id)/rollback" "")
      assert equal $rb.status 202
      assert equal (wait-status $id) rolled_back
      let no = (http post -e -f -H $s.h $"($s.url)/workflows/($id)/resume" "")
      assert equal $no.status 409
      prov serve stop | ignore
    }
    "bad input and abuse get their 4xx with the envelope, the service keeps serving, state unchanged": {||
      let ws = (new-workspace --limits "[limits]\nrequest_size = 4096\n")
      cd $ws
      let s = (start)
      ({name: seed, operations: [{id: a, kind: command, run: [true]}]} | prov workflow run | ignore)
      let before = (state-sum $ws)
      let malformed = (curl-json POST $"($s.url)/workflows" $s.token "{not json")
      assert equal $malformed.status 400
      assert equal $malformed.body.error.code provisioning::input::bad_json
      let cycle = (curl-json POST $"($s.url)/workflows" $s.token ({name: c, operations: [
        {id: a, kind: command, run: [true], depends_on: [b]}
        {id: b, kind: command, run: [true], depends_on: [a]}
      ]} | to json))
      assert equal $cycle.status 400
      assert ($cycle.body.error.code | str starts-with "provisioning::workflow::") $cycle.body.error.code
      assert (($cycle.body | to json) | str contains "cycle")
      let big = (curl-json POST $"($s.url)/workflows" $s.token ('{"name": "' + ("x" | fill -c x -w 10000) + '"}'))
      assert equal $big.status 413
      assert equal $big.body.error.code provisioning::limits::request_size
      let traversal = (curl-json GET $"($s.url)/workflows/..%2F..%2Fetc%2Fpasswd/status" $s.token)
      assert ($traversal.status == 404) ($traversal | to json)
      let notid = (curl-json GET $"($s.url)/workflows/wf-x/status" $s.token)
      assert equal $notid.status 404
      assert equal $notid.body.error.code provisioning::workflow::unknown_id
      let unknown = (curl-json GET $"($s.url)/no/such/route" $s.token)
      assert equal $unknown.status 404
      assert equal $unknown.body.status error
      let badq = (curl-json GET $"($s.url)/workflows?limit=lots" $s.token)
      assert equal $badq.status 400
      # A slow client that never finishes its request is cut off; others are served meanwhile.
      let port = ($s.listen | split row ":" | last)
      let slow = (^bash -c $"exec 3<>/dev/tcp/127.0.0.1/($port); printf 'GET /health HTTP/1.1\\r\\nHost: x\\r\\n' >&3; curl -s ($s.url)/health >/dev/null && echo served; timeout 20 cat <&3 >/dev/null; echo rc=$?")
      assert ($slow | str contains "served") $slow
      assert ($slow | str contains "rc=0") $slow
      # 500 connections opened and dropped.
      ^bash -c $"for i in $\(seq 500\); do exec 3<>/dev/tcp/127.0.0.1/($port) && exec 3>&-; done"
      assert equal (http get $"($s.url)/health" | get data.status) ok
      assert equal (http get -H $s.h $"($s.url)/workflows" | get data | length) 1
      assert equal (state-sum $ws) $before
      prov serve stop | ignore
    }
    "stopping the service loses no submitted workflow": {||
      cd (new-workspace)
      let s = (start)
      let id = (http post -t application/json -H $s.h $"($s.url)/workflows" ({name: outlives, operations: [{id: a, kind: command, run: [sleep "0.5"]}]} | to json) | get data.workflow_id)
      prov serve stop | ignore
      assert equal (wait-status $id) completed
    }
    "the token: rotated by --rotate-token, or set by the secret service.token": {||
      let ws = (new-workspace)
      cd $ws
      let s = (start)
      let old = $s.token
      let path = (^$env.PROV_PLUGIN serve --workspace $ws --rotate-token | str trim)
      assert equal $path $s.token_file
      let new = (open $s.token_file | str trim)
      assert ($new != $old)
      assert equal (http get -e -f -H $s.h $"($s.url)/workflows" | get status) 401
      assert equal (http get -f -H [Authorization $"Bearer ($new)"] $"($s.url)/workflows" | get status) 200
      prov serve stop | ignore
      "[service]\ntoken = \"a-long-configured-secret-1234\"\n" | save -a ($ws | path join config.defaults.toml)
      let c = (prov serve start --listen 127.0.0.1:0)
      assert equal $c.token_file null
      assert equal (http get -f -H [Authorization "Bearer a-long-configured-secret-1234"] $"($c.url)/workflows" | get status) 200
      assert equal (http get -e -f -H [Authorization $"Bearer ($new)"] $"($c.url)/workflows" | get status) 401
      # The configured secret stays out of what prov config shows.
      assert ((prov config | get service.token) != "a-long-configured-secret-1234")
      prov serve stop | ignore
    }
    "limits.streams bounds the live event streams": {||
      cd (new-workspace --limits "[limits]\nstreams = 1\n")
      let s = (start)
      # One live stream of every workflow's events, held open in the background for 4 s.
      ^bash -c $"timeout 4 curl -sN -H 'Accept: text/event-stream' -H 'Authorization: Bearer ($s.token)' ($s.url)/events >/dev/null &"
      sleep 1sec
      let second = (^curl -s -w "\n%{http_code}" -H "Accept: text/event-stream" -H $"Authorization: Bearer ($s.token)" $"($s.url)/events" | lines)
      assert equal ($second | last) "429"
      assert equal ($second | first | from json | get error.code) provisioning::limits::streams
      # A plain read of the events is no stream.
      assert equal (http get -f -H $s.h $"($s.url)/events" | get status) 200
      prov serve stop | ignore
    }
    "TLS: with a certificate and key it serves HTTPS, on a non-loopback address too": {||
      let ws = (new-workspace)
      cd $ws
      ^openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj "/CN=localhost" out+err> /dev/null
      $"[service.tls]\ncert_file = \"($ws)/cert.pem\"\nkey_file = \"($ws)/key.pem\"\n" | save -a config.defaults.toml
      let s = (prov serve start --listen 0.0.0.0:0)
      assert ($s.url | str starts-with "https://") $s.url
      let port = ($s.listen | split row ":" | last)
      let out = (^curl -sk $"https://127.0.0.1:($port)/health" | from json)
      assert equal $out.data.status ok
      let plain = (do { ^curl -s $"http://127.0.0.1:($port)/health" } | complete)
      assert ($plain.exit_code != 0 or not ($plain.stdout | str contains "success"))
      prov serve stop | ignore
    }
    "a non-loopback address without TLS is refused; a bad --listen is named": {||
      cd (new-workspace)
      let e = (expect-error { prov serve start --listen 0.0.0.0:0 })
      assert equal $e.code provisioning::service::insecure_listen
      let b = (expect-error { prov serve start --listen nonsense })
      assert equal $b.code provisioning::service::bad_listen
      assert equal (prov serve status | get running) false
      # A port another program holds: the service's own error reaches the command.
      let first = (prov serve start --listen 127.0.0.1:0)
      cd (new-workspace)
      let taken = (expect-error { prov serve start --listen $first.listen })
      assert equal $taken.code provisioning::service::bind
      assert ($taken.msg | str contains $first.listen) $taken.msg
      assert equal (prov serve status | get running) false
      cd ($first.token_file | path dirname | path dirname | path dirname)
      prov serve stop | ignore
    }
  }
}
