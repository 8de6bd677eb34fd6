# The state folder through real nu. Every path under a workflow's folder is used without
# following a symbolic link: a link put in place of an operation's log, of logs/, running/, a
# process record or undo/ before a resume is provisioning::state::unsafe_path, and nothing
# outside the workspace is written, read or removed (an outside folder's checksum). Every
# operation id the parser accepts (`.`, `..`, a 300-byte id) gets a log and a process record,
# so after a SIGKILL of the runner, resume stops what it left running: each operation runs once
# at a time.
# ctest-labels: security
use std/assert
use harness.nu *

# A fresh workspace with a config.defaults.toml holding a secret; returns its path.
def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"state-paths\"\n[secrets]\ndb = \"S3CR3T-old\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# An outside folder with two files and a symlink target; returns its path.
def outside-folder [] {
  let dir = (mktemp -d)
  "keep me\n" | save ($dir | path join "target")
  "keep me too\n" | save ($dir | path join "other")
  $dir
}

# Every entry of `dir` with its type, mode and size, and every file's content hash.
def checksum [dir: string] {
  do {
    cd $dir
    let entries = (^find . -printf "%y %m %s %p\n" | lines | sort)
    let hashes = (^find . -type f -exec sha256sum "{}" "+" | lines | sort)
    $entries ++ $hashes | str join "\n" | hash sha256
  }
}

# Waits until no runner holds workflow `id`; returns its status record.
def wait-no-runner [id: string] {
  mut st = (prov workflow status $id)
  mut tries = 0
  while $st.runner_pid != null and $tries < 400 { sleep 25ms; $st = (prov workflow status $id); $tries += 1 }
  assert ($st.runner_pid == null) $"the runner of ($id) is still alive"
  $st
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

# How many processes run exactly `cmd` (`ps` is tried again when a process exits as it reads).
def count-procs [cmd: string] {
  for attempt in 1..10 {
    let n = (try { ps --long | where {|p| $p.command == $cmd } | length } catch { null })
    if $n != null { return $n }
    sleep 20ms
  }
  error make {msg: "ps kept failing"}
}

# Kills (by pid) the processes that run exactly `cmd`: what a failed case may leave behind.
def kill-procs [cmd: string] {
  for p in (ps --long | where {|p| $p.command == $cmd }) { try { ^kill -9 $p.pid } }
}

# A workspace holding an interrupted workflow: operation `a` printed and was in flight when its
# runner was SIGKILLed (its process has ended since); `s` (config.set of a secret, which keeps
# the old value under undo/) waits for it. Returns {ws, id, wf}: wf is the workflow's folder.
def interrupted [] {
  let ws = (new-workspace)
  cd $ws
  let id = ({name: links, operations: [
      {id: a, kind: command, run: [sh -c 'echo output-of-a; sleep 0.6']}
      {id: s, kind: config.set, key: secrets.db, value: S3CR3T-new, depends_on: [a]}
    ]} | prov workflow submit | get workflow_id)
  let wf = ($ws | path join .provisioning workflows $id)
  for _ in 1..400 { if ($wf | path join logs a.log | path exists) { break }; sleep 10ms }
  assert ($wf | path join logs a.log | path exists) "operation a printed"
  ^kill -9 (prov workflow status $id | get runner_pid)
  let st = (wait-no-runner $id)
  assert equal $st.status interrupted
  sleep 700ms  # a's process, left running by the killed runner, ends by itself
  {ws: $ws, id: $id, wf: $wf}
}

# Resumes workflow `id` in `ws` and expects unsafe_path; `outside` is unchanged.
def resume-refused [ws: string, id: string, outside: string, before: string, what: string] {
  cd $ws
  let e = (expect-error { prov workflow resume $id | collect })
  assert equal $e.code "provisioning::state::unsafe_path" $"($what): ($e.msg)"
  sleep 300ms  # a runner that was started anyway would have written by now
  assert equal (checksum $outside) $before $"($what): nothing outside the workspace changed"
}

def main [] {
  run-tests "state_paths" {
    "an operation's log replaced by a link: unsafe_path, nothing appended outside": {||
      let w = (interrupted)
      let outside = (outside-folder)
      let before = (checksum $outside)
      rm ($w.wf | path join logs a.log)
      ^ln -s ($outside | path join target) ($w.wf | path join logs a.log)
      resume-refused $w.ws $w.id $outside $before "logs/a.log"
      # With the link gone, resume completes.
      rm ($w.wf | path join logs a.log)
      cd $w.ws
      assert equal (prov workflow resume $w.id | last | get type) workflow_completed
      assert ((prov workflow logs $w.id --output a | get line | str join "\n") =~ "output-of-a")
    }
    "logs/ replaced by a link: unsafe_path, no log written outside": {||
      let w = (interrupted)
      let outside = (outside-folder)
      let before = (checksum $outside)
      rm -r ($w.wf | path join logs)
      ^ln -s $outside ($w.wf | path join logs)
      resume-refused $w.ws $w.id $outside $before "logs/"
      cd $w.ws
      let e = (expect-error { prov workflow logs $w.id --output a })
      assert equal $e.code "provisioning::state::unsafe_path" "logs --output does not read through the link"
    }
    "running/ replaced by a link: unsafe_path, no file of the folder it points at removed": {||
      let w = (interrupted)
      let outside = (outside-folder)
      let before = (checksum $outside)
      rm -r ($w.wf | path join running)
      ^ln -s $outside ($w.wf | path join running)
      resume-refused $w.ws $w.id $outside $before "running/"
      assert equal (ls $outside | length) 2
    }
    "a process record replaced by a link: unsafe_path": {||
      let w = (interrupted)
      let outside = (outside-folder)
      let before = (checksum $outside)
      rm -f ($w.wf | path join running a)
      ^ln -s ($outside | path join target) ($w.wf | path join running a)
      resume-refused $w.ws $w.id $outside $before "running/a"
    }
    "undo/ replaced by a link: unsafe_path, no secret kept outside": {||
      let w = (interrupted)
      let outside = (outside-folder)
      let before = (checksum $outside)
      ^ln -s $outside ($w.wf | path join undo)
      resume-refused $w.ws $w.id $outside $before "undo/"
      assert equal (open --raw ($w.ws | path join config.defaults.toml) | str contains "S3CR3T-old") true
    }
    "ids `.`, `..` and a 300-byte id each get a log that `logs --output` finds": {||
      cd (new-workspace)
      let long = ("" | fill -c "x" -w 300)
      let ops = [["." dot] [".." dotdot] [$long long]] | each {|p|
        {id: $p.0, kind: command, run: [sh -c 'echo "hello from $1"; echo "to stderr $1" >&2' sh $p.1]}
      }
      let events = ({name: odd-ids, operations: $ops} | prov workflow run --allow-failure)
      assert equal ($events | last | get type) workflow_completed
      let id = ($events | first | get workflow_id)
      for p in [["." dot] [".." dotdot] [$long long]] {
        let out = (prov workflow logs $id --output $p.0 | get line | str join "\n")
        assert ($out =~ $"hello from ($p.1)") $"the log of ($p.1): ($out)"
        assert ($out =~ $"to stderr ($p.1)") $"the log of ($p.1): ($out)"
      }
      let logs = (ls -a (pwd | path join .provisioning workflows $id logs) | get name | path basename)
      assert equal ($logs | length) 3 $"one log each: ($logs)"
      assert equal ($logs | where {|n| ($n | str starts-with ".") } | length) 0 "no log is a hidden name"
    }
    "after a SIGKILL and resume, operations `.`, `..` and a 300-byte id each run once at a time": {||
      cd (new-workspace)
      let long = ("" | fill -c "y" -w 300)
      # A sleep of a length no other test uses, per operation, so that its processes can be counted.
      let base = (5000 + (random int 1..1000000) * 3)
      let ids = ["." ".." $long]
      let cmds = (0..2 | each {|i| $"sleep ($base + $i)" })
      let ops = (0..2 | each {|i| {id: ($ids | get $i), kind: command,
                                   run: [sh -c 'echo "started $1"; sleep "$1"' sh $"($base + $i)"]} })
      let id = ({name: odd-ids-kill, settings: {parallel: 3}, operations: $ops} | prov workflow submit | get workflow_id)
      try {
        for c in $cmds {
          for _ in 1..400 { if (count-procs $c) == 1 { break }; sleep 25ms }
          assert equal (count-procs $c) 1 $"($c) runs"
        }
        ^kill -9 (prov workflow status $id | get runner_pid)
        wait-no-runner $id | ignore
        let resumed = (prov workflow resume $id --allow-failure | first)
        assert equal $resumed.type workflow_resumed
        assert equal ($resumed.reexecuted? | sort) ($ids | sort)
        # The re-runs start; the copies the killed runner left are stopped: one of each, never two.
        for c in $cmds {
          for _ in 1..400 { if (count-procs $c) == 1 { break }; sleep 25ms }
        }
        for _ in 1..10 {
          let counts = ($cmds | each {|c| count-procs $c })
          assert equal $counts [1 1 1] $"each operation runs once: ($counts)"
          sleep 50ms
        }
        prov workflow cancel $id | ignore
        wait-final $id | ignore
        for c in $cmds {
          for _ in 1..400 { if (count-procs $c) == 0 { break }; sleep 25ms }
          assert equal (count-procs $c) 0 $"($c) was stopped by the cancel"
        }
      } catch {|e|
        for c in $cmds { kill-procs $c }
        error make {msg: (err-details $e | get msg)}
      }
    }
  }
}
