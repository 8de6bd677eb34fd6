# `prov workflow logs --output` through real nu: a table of time, attempt, stream and line, so
# stdout and stderr of each attempt can be told apart; --raw still gives the text as bytes.
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"op-logs\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# An operation that prints to stdout and stderr in turn, and fails its first attempt.
const FLAKY = 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count
echo "out $n a"; echo "err $n a" >&2; echo "out $n b"; echo "err $n b" >&2; printf "err $n c" >&2
[ "$n" -ge 2 ]'

def run-flaky [] {
  let events = ({name: flaky, operations: [
    {id: a, kind: command, run: [sh -c $FLAKY], retry: {attempts: 2, backoff: "10ms"}, rollback: [sh -c "echo undone"]}
    {id: b, kind: command, run: [false], depends_on: [a], retry: {attempts: 1}}
  ]} | prov workflow run --allow-failure)
  assert equal ($events | where type == operation_retrying | get operation) [a]
  $events | first | get workflow_id
}

def main [] {
  run-tests "op_logs" {
    "--output: stderr apart from stdout, each line with its attempt, as written": {||
      cd (new-workspace)
      let id = (run-flaky)
      let rows = (prov workflow logs $id --output a)
      assert equal ($rows | columns) [time attempt stream line]
      let err = ($rows | where stream == stderr)
      assert equal ($err | get line) ["err 1 a" "err 1 b" "err 1 c" "err 2 a" "err 2 b" "err 2 c"]
      assert equal ($err | get attempt) [1 1 1 2 2 2]
      let out = ($rows | where stream == stdout)
      assert equal ($out | where attempt != null | get line) ["out 1 a" "out 1 b" "out 2 a" "out 2 b"]
      assert equal ($out | where attempt != null | get attempt) [1 1 2 2]
      # The rollback's output has no attempt.
      assert equal ($out | where attempt == null | get line) [undone]
      assert ($rows | all {|r| ($r.time | describe) == datetime })
      # Within a stream, times never go back.
      assert equal ($err | get time) ($err | get time | sort)
      # The runner's lines open and close each action: two attempts and a rollback.
      let frame = ($rows | where stream == prov | get line)
      assert equal ($frame | length) 6
      assert ($frame.0 starts-with "==> ") $frame.0
      assert ($frame.1 starts-with "<== ") $frame.1
      assert ($frame.1 =~ "failed") $frame.1
      assert ($frame.3 =~ ": ok") $frame.3
      assert ($frame.4 =~ "a \\(command\\) rollback") $frame.4
      assert equal ($rows | where stream == prov | get attempt) [1 1 2 2 null null]
      assert equal (prov workflow logs $id --output a --tail 2 | get line) [undone ($frame | last)]
      assert equal (prov workflow logs $id --output a --tail 0) []
    }
    "--raw: the text as it was written, a byte stream": {||
      cd (new-workspace)
      let id = (run-flaky)
      let raw = (prov workflow logs $id --output a --raw)
      assert equal ($raw | describe) string
      assert equal (prov workflow logs $id --output a --raw | metadata | get content_type?) "text/plain; charset=utf-8"
      let lines = ($raw | lines)
      assert equal $lines (prov workflow logs $id --output a | get line)
      assert ("err 2 c" in $lines)
      assert ($lines | any {|l| $l == "out 1 b" })
    }
    "a failure event carries the output's last lines": {||
      cd (new-workspace)
      let events = ({name: f, operations: [{id: a, kind: command, run: [sh -c "echo to-out; echo to-err >&2; exit 3"], retry: {attempts: 1}}]} | prov workflow run --allow-failure)
      let failed = ($events | where type == operation_failed | first)
      assert ($failed.output =~ "to-err") $failed.output
      let id = ($events | first | get workflow_id)
      assert equal (prov workflow logs $id --output a | where stream == stderr | get line) [to-err]
    }
    "invalid UTF-8 and a line over 1 MiB: lines in pieces, bytes replaced in the table": {||
      cd (new-workspace)
      let events = ({name: bin, operations: [
        {id: a, kind: command, run: [sh -c "printf 'ok\\n\\377\\376bad\\n' >&2; head -c 1500000 /dev/zero | tr '\\0' z"]}
      ]} | prov workflow run --allow-failure)
      let id = ($events | first | get workflow_id)
      let rows = (prov workflow logs $id --output a | where stream != prov)
      assert equal ($rows | where stream == stderr | get line) [ok "\u{FFFD}\u{FFFD}bad"]
      assert equal ($rows | where stream == stdout | get line | each { str length }) [1048576 451424]
      # --raw: the bytes as written.
      assert ((prov workflow logs $id --output a --raw | into binary | bytes index-of 0x[6f 6b 0a ff fe 62 61 64 0a]) > 0)
    }
    "stdout that is not UTF-8: the run's events still reach nu, the result's bytes replaced": {||
      cd (new-workspace)
      # Nushell refuses a whole answer holding a string that is not UTF-8: the plugin writes
      # U+FFFD for each bad byte, wherever the string came from.
      let events = ({name: bin, operations: [{id: a, kind: command, run: [printf "\\377\\376 ok\\n"]}]} | prov workflow run)
      assert equal ($events | last | get type) workflow_completed
      assert equal ($events | where type == operation_succeeded | get 0.out) "\u{FFFD}\u{FFFD} ok"
      let id = ($events | first | get workflow_id)
      assert equal (prov workflow logs $id --output a | where stream == stdout | get line) ["\u{FFFD}\u{FFFD} ok"]
      assert equal (prov events --workflow $id | where type == operation_succeeded | get 0.out) "\u{FFFD}\u{FFFD} ok"
    }

    "--follow: lines as they are written, until the workflow ends": {||
      let ws = (new-workspace)
      cd $ws
      # The operation waits for a file that the follower makes once it has seen the first line.
      let script = 'echo first; while [ ! -f go ]; do sleep 0.02; done; echo second >&2'
      let sub = ({name: gated, operations: [{id: a, kind: command, run: [sh -c $script]}]} | prov workflow submit)
      let rows = (prov workflow logs $sub.workflow_id --output a --follow
        | each {|r| if $r.line == first { touch ($ws | path join go) }; $r })
      assert equal ($rows | where stream != prov | select stream line) [[stream line]; [stdout first] [stderr second]]
      assert equal (prov workflow status $sub.workflow_id | get status) completed
      # A workflow that has ended: at once, the same rows.
      assert equal (prov workflow logs $sub.workflow_id --output a --follow) (prov workflow logs $sub.workflow_id --output a)
      let e = (expect-error { prov workflow logs $sub.workflow_id --output a --follow --tail 1 })
      assert equal $e.code? provisioning::input::bad_value
      assert ($e.msg =~ "--tail and --follow") $e.msg
    }
    "an operation that printed nothing: an empty table": {||
      cd (new-workspace)
      let id = ({name: quiet, operations: [{id: a, kind: command, run: [true]}]} | prov workflow run | first | get workflow_id)
      assert equal (prov workflow logs $id --output a) []
      assert equal (prov workflow logs $id --output a --raw | into string) ""
    }
  }
}
