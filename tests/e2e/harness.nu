# Test harness for the end-to-end suites: each suite file calls `run-tests` with a record of
# named closures. Prints one line per test and a closing "N passed, M failed" line; exits 1 on
# any failure.

# The error record of a caught error, as a record {msg, labels, code, help, inner}, across
# Nushell versions (0.115 has `details`, 0.108 has `json`).
export def err-details [e: record] {
  if "details" in ($e | columns) { $e.details } else { $e.json | from json }
}

# Runs `body`, which must fail; returns the error's details.
export def expect-error [body: closure] {
  let outcome = try { null | do $body; {failed: false} } catch {|e| {failed: true, details: (err-details $e)} }
  if not $outcome.failed { error make {msg: "expected an error, but the command succeeded"} }
  $outcome.details
}

# The source text that a label of an error points at.
export def label-text [details: record, index: int = 0] {
  let span = ($details.labels | get $index | get span)
  view span $span.start $span.end
}

export def run-tests [suite: string, tests: record] {
  let results = ($tests | transpose name body | each {|t|
    let outcome = try { null | do $t.body; {ok: true, why: ""} } catch {|e| {ok: false, why: (err-details $e | each {|d| [$d.msg] ++ ($d.labels? | default [] | get text) | str join " | " })} }
    if $outcome.ok { print $"  ok    ($suite): ($t.name)" } else { print $"  FAIL  ($suite): ($t.name): ($outcome.why)" }
    $outcome.ok
  })
  let passed = ($results | where {|r| $r } | length)
  let failed = ($results | where {|r| not $r } | length)
  print $"($suite): ($passed) passed, ($failed) failed"
  if $failed > 0 { exit 1 }
}

# SIGKILLs every process whose command line is exactly `cmd`. `ps` fails when a process exits
# while it reads it (parallel suites), so it is tried again.
export def kill-procs [cmd: string] {
  for attempt in 1..10 {
    let pids = (try { ps --long | where {|p| ($p.command? | default "") == $cmd } | get pid } catch { null })
    if $pids != null {
      for pid in $pids { try { kill -s 9 $pid } }
      return
    }
    sleep 20ms
  }
  error make {msg: "ps kept failing"}
}
