# Big outputs through real nu: a `nu` operation whose closure returns more than 64 MiB is read
# whole, in linear time; an answer over limits.message_size fails with that limit's error (which
# names the limit and how to raise it), not as a session that is gone. Figures (time, the
# plugin's peak RSS from /proc/<pid>/status VmHWM) are printed.
# ctest-labels: limits
# ctest-sanitizers: no   (ASan multiplies the plugin's memory and time, which these cases measure)
use std/assert
use harness.nu *

def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"big-outputs\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# The plugin's peak resident memory in bytes.
def plugin-peak [] {
  let pid = (plugin list | where name == provisioning | first | get pid)
  open $"/proc/($pid)/status" | lines | where $it starts-with "VmHWM" | first | parse -r '(?<kb>\d+)' | first | get kb | into int | $in * 1024
}

def main [] {
  run-tests "big_outputs" {
    # First: the plugin's peak RSS is its whole life's, so nothing big may run before.
    "logs --output streams a 200 MB log in bounded memory; --tail N gives the last N lines": {||
      let ws = (new-workspace)
      cd $ws
      let script = "head -c 200000000 /dev/zero | tr '\\0' x | fold -w 9999; printf 'last one\\n'"
      let events = ({name: logs, operations: [{id: a, kind: command, run: [sh -c $script]}]} | prov workflow run --allow-failure)
      assert equal ($events | last | get type) "workflow_completed"
      let id = ($events | first | get workflow_id)
      let log = ($ws | path join .provisioning workflows $id logs a.log)
      let size = (ls $log | first | get size | into int)
      assert ($size > 200_000_000)
      let start = (date now)
      let lines = (prov workflow logs $id --output a | length)
      let took = ((date now) - $start)
      assert equal $lines 20005 "20,002 lines of x, the last (xx, then 'last one'), and the two that frame them"
      let peak = (plugin-peak)
      print $"  figures: log=($size | into filesize) lines=($lines) took=($took) plugin_peak_rss=($peak | into filesize)"
      assert ($peak < 64_000_000) $"the plugin peaked at ($peak | into filesize)"
      let last3 = (prov workflow logs $id --output a --tail 3)
      assert equal ($last3 | get stream) [stdout stdout prov]
      assert equal ($last3.0.line) ("" | fill -c x -w 9999)
      assert equal ($last3.1.line) "xxlast one"
      assert equal (prov workflow logs $id --output a --tail 1) ($last3 | last 1)
      assert equal (prov workflow logs $id --output a --tail 0) []
    }
    "logs --output: lines as written, a last line without newline, a line over 1 MiB in pieces, --tail past the start": {||
      let ws = (new-workspace)
      cd $ws
      let events = ({name: small, operations: [
        {id: a, kind: command, run: [sh -c "printf 'one\\ntwo\\n\\nthree'"]}
        {id: b, kind: command, run: [sh -c "head -c 2500000 /dev/zero | tr '\\0' y"]}
      ]} | prov workflow run --allow-failure)
      let id = ($events | first | get workflow_id)
      let a = (prov workflow logs $id --output a | get line)
      assert equal ($a | skip 1 | first 4) [one two "" three]
      assert equal $a (prov workflow logs $id --output a --raw | lines)
      assert equal (prov workflow logs $id --output a --tail 100 | get line) $a
      assert equal (prov workflow logs $id --output a --tail 2 | get line) ($a | last 2)
      # The runner frames the output with a line before (==>) and after (<==).
      let b = (prov workflow logs $id --output b | where stream != prov | get line)
      assert equal ($b | first 3 | each { str length }) [1048576 1048576 402848]
      assert equal ($b | first 3 | str join) ("" | fill -c y -w 2500000)
    }
    "a closure's 70 MB result is read whole (past the old 64 MiB cut-off)": {||
      let ws = (new-workspace)
      cd $ws
      let size = 70_000_000
      let start = (date now)
      let events = ({name: big, operations: [{id: a, kind: nu, code: {|| "" | fill -c x -w $size }}]} | prov workflow run --allow-failure)
      let took = ((date now) - $start)
      assert equal ($events | last | get type) "workflow_completed" ($events | where type == operation_failed | get message? | to nuon)
      let id = ($events | first | get workflow_id)
      let log = ($ws | path join .provisioning workflows $id logs a.log)
      assert ((ls $log | first | get size | into int) > $size) "the whole result is in the log"
      print $"  figures: closure_result=($size) bytes took=($took) plugin_peak_rss=(plugin-peak | into filesize)"
      # Its time is a figure (printed above), not an assertion.
    }
    "a closure's result over limits.message_size fails with that limit's error": {||
      let ws = (new-workspace)
      cd $ws
      # The runner has the session's environment: its limit, not the plugin's, is 10 MB.
      $env.PROVISIONING_LIMITS_MESSAGE_SIZE = "10000000"
      let events = ({name: big, operations: [{id: a, kind: nu, code: {|| "" | fill -c x -w 20_000_000 }}]} | prov workflow run --allow-failure)
      assert equal ($events | last | get type) "workflow_failed"
      let failed = ($events | where type == operation_failed | first)
      assert ($failed.message | str contains "over the limit of 10000000 bytes (limits.message_size)") $failed.message
      assert ($failed.message | str contains "PROVISIONING_LIMITS_MESSAGE_SIZE") $failed.message
      assert not ($failed.message | str contains "session is gone") $failed.message
    }
  }
}
