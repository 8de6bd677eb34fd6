# Limits through real nu: operations per workflow, nesting depth, input stream length and
# protocol message size, each lowered (in the environment the plugin starts with, or in the
# workspace's [limits]) and exceeded; each fails with its own code, the size and the key to
# raise, and the plugin keeps serving (or, for a message it cannot read, says why and exits).
# ctest-labels: bad-input;limits
use std/assert
use harness.nu *

def new-workspace [limits: string = ""] {
  let ws = (mktemp -d)
  $"[project]\nname = \"limits\"\n($limits)" | save ($ws | path join "config.defaults.toml")
  $ws
}

# Runs Nu `code` in a fresh nu with the plugin, in `dir`, with `env` set when the plugin starts.
# Returns {ok, code, text (the error as JSON), value (the result as JSON text), stderr, took}.
def attempt [dir: string, code: string, vars: record = {}] {
  let script = $"cd ($dir | to json); try { let v = \(($code)\); {ok: true, value: \($v | to json -r\)} | to json -r } catch {|e| let d = \(if 'details' in \($e | columns) { $e.details } else { $e.json | from json }\); {ok: false, code: $d.code?, text: \($d | to json -r\)} | to json -r }"
  let start = (date now)
  let out = (with-env $vars { ^$env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN | to json)]" -c $script } | complete)
  let took = ((date now) - $start)
  let last = ($out.stdout | lines | where {|l| $l starts-with "{" } | last 1)
  if ($last | is-empty) { return {ok: false, code: null, text: "", stderr: $out.stderr, took: $took, exit_code: $out.exit_code} }
  $last | first | from json | merge {stderr: $out.stderr, took: $took, exit_code: $out.exit_code}
}

def expect-code [r: record, code: string, mentions: list<string>] {
  if $r.ok { error make {msg: $"succeeded; expected ($code)"} }
  assert equal $r.code $code $r.text
  for m in $mentions { assert ($r.text | str contains $m) $"does not mention '($m)': ($r.text)" }
}

# A workflow record of `n` no-op operations, as Nu code.
def ops-code [n: int] {
  $"{name: many, operations: \(1..($n) | each {|i| {id: $'o\($i\)', kind: command, run: [true]}}\)}"
}

def main [] {
  run-tests "limits" {
    "operations: the environment's limit, labeled at the input": {||
      let ws = (new-workspace)
      let r = (attempt $ws $"(ops-code 11) | prov workflow plan" {PROVISIONING_LIMITS_OPERATIONS: "10"})
      expect-code $r "provisioning::limits::operations" ["11 operations" "limit of 10" "limits.operations" "PROVISIONING_LIMITS_OPERATIONS"]
      assert (($r.text | from json | get labels | length) > 0) "no label"
      let ok = (attempt $ws $"(ops-code 10) | prov workflow plan | length" {PROVISIONING_LIMITS_OPERATIONS: "10"})
      assert equal $ok.value "10"
    }
    "operations: the workspace's [limits] apply to run, and nothing is started": {||
      let ws = (new-workspace "[limits]\noperations = 3\n")
      let r = (attempt $ws $"(ops-code 4) | prov workflow run")
      expect-code $r "provisioning::limits::operations" ["4 operations" "limit of 3"]
      let listed = (attempt $ws "prov workflow list | length")
      assert equal $listed.value "0"
      let ok = (attempt $ws $"(ops-code 3) | prov workflow run | last | get type")
      assert equal $ok.value "\"workflow_completed\""
    }
    "depth: a workflow nested deeper than limits.depth names where": {||
      let ws = (new-workspace)
      let code = "{name: d, operations: [{id: a, kind: nu, code: '$in', input: {a: {b: {c: {d: {e: {f: 1}}}}}}}]} | prov workflow plan"
      let r = (attempt $ws $code {PROVISIONING_LIMITS_DEPTH: "6"})
      expect-code $r "provisioning::limits::depth" ["limit of 6" "operations.0.input.a.b.c" "limits.depth"]
      let ok = (attempt $ws $code {PROVISIONING_LIMITS_DEPTH: "9"})
      assert $ok.ok $"($ok)"
    }
    "depth: the configuration nested deeper than limits.depth": {||
      let ws = (new-workspace "[limits]\ndepth = 3\n[a.b.c]\nd = 1\n")
      let r = (attempt $ws "prov config")
      expect-code $r "provisioning::limits::depth" ["limit of 3" "a.b.c"]
    }
    "depth: a message nested beyond what the protocol reads ends the plugin with a clear message": {||
      let ws = (new-workspace)
      let deep = (1..40 | reduce -f "1" {|i, acc| $"[($acc)]" })
      let r = (attempt $ws $"{name: d, operations: [{id: a, kind: nu, code: '$in', input: ($deep)}]} | prov workflow plan" {PROVISIONING_LIMITS_DEPTH: "4"})
      assert (not $r.ok)
      assert ($r.stderr | str contains "provisioning::limits::depth") $r.stderr
      assert ($r.stderr | str contains "PROVISIONING_LIMITS_DEPTH") $r.stderr
    }
    "stream_length: a closure's long output stream is stopped at the limit, not read to its end": {||
      # Nu itself refuses a list stream piped into a prov command (their input is a record), so
      # the streams the plugin reads are what closures return: here a `nu` operation's closure.
      let ws = (new-workspace)
      let code = "{name: s, operations: [{id: long, kind: nu, code: {|| 1..2000000 | each {|i| {n: $i} } }}]} | prov workflow run | where type == operation_failed | first | get message"
      let r = (attempt $ws $code {PROVISIONING_LIMITS_STREAM_LENGTH: "1000"})
      assert $r.ok $"($r)"
      let message = ($r.value | from json)
      assert ($message | str contains "more than 1000 items") $message
      assert ($message | str contains "limits.stream_length") $message
      assert ($r.took < 20sec) $"took ($r.took): the stream was read on"
      let ok = (attempt $ws "{name: s, operations: [{id: short, kind: nu, code: {|| 1..1000 | each {|i| $i } }}]} | prov workflow run | last | get type" {PROVISIONING_LIMITS_STREAM_LENGTH: "1000"})
      assert equal $ok.value "\"workflow_completed\""
    }
    "message_size: a huge argument over the limit ends the plugin with a clear message, not a hang": {||
      let ws = (new-workspace)
      let r = (attempt $ws "prov config get ('' | fill -c x -w 200000)" {PROVISIONING_LIMITS_MESSAGE_SIZE: "100000"})
      assert (not $r.ok)
      assert ($r.stderr | str contains "provisioning::limits::message_size") $r.stderr
      assert ($r.stderr | str contains "100000 bytes") $r.stderr
      assert ($r.took < 30sec)
      let ok = (attempt $ws "prov config get ('' | fill -c x -w 1000)" {PROVISIONING_LIMITS_MESSAGE_SIZE: "100000"})
      expect-code $ok "provisioning::config::key_not_found" []
    }
    "a limit that is not a number stops the plugin at start, naming the variable": {||
      let ws = (new-workspace)
      let r = (attempt $ws "prov version" {PROVISIONING_LIMITS_DEPTH: "deep"})
      assert (not $r.ok)
      assert ($r.exit_code != 0)
      assert ($r.stderr | str contains "PROVISIONING_LIMITS_DEPTH must be a whole number") $r.stderr
    }
  }
}
