# A damaged journal through real nu: a changed byte or a cut that no crash can leave makes
# `status`, `resume` and `rollback` refuse with provisioning::state::corrupt_journal, naming the
# record and byte, and leaves the journal byte for byte as it was; `list` shows the workflow as
# corrupt. A torn last record is still cut off and reported. `prov workflow repair` keeps the
# intact prefix, reports what was lost, keeps the cut bytes beside the journal and journals
# itself; afterwards status and resume work from the prefix.
# ctest-labels: fault
use std/assert
use harness.nu *

# A fresh workspace with a config.defaults.toml; returns its path.
def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"journal-damage\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# Three operations a → b → c that append their id to ran.log, and undo it into undone.log.
def ops [ws: string] {
  let ran = ($ws | path join ran.log)
  let undone = ($ws | path join undone.log)
  [a b c] | enumerate | each {|it|
    {id: $it.item, kind: command, depends_on: (if $it.index == 0 { [] } else { [([a b c] | get ($it.index - 1))] }),
     run: [sh -c 'printf "%s\n" "$1" >> "$2"' sh $it.item $ran],
     rollback: [sh -c 'printf "%s\n" "$1" >> "$2"' sh $it.item $undone]}
  }
}

# Runs the three operations to completion; returns the workflow id.
def finished-workflow [ws: string] {
  let events = ({name: damage, operations: (ops $ws)} | prov workflow run --allow-failure)
  assert equal ($events | last | get type) "workflow_completed"
  $events | last | get workflow_id
}

def journal-of [ws: string, id: string] { $ws | path join .provisioning workflows $id journal }

# Byte offsets where each line of the journal starts: [0] the header, [k] record k.
def line-starts [journal: string] {
  let lines = (open --raw $journal | into binary | bytes index-of --all 0x[0a])
  [0] ++ ($lines | each {|i| $i + 1 } | drop 1)
}

# The journal with the byte at `at` xor-ed with 1.
def flip-byte [journal: string, at: int] {
  let b = (open --raw $journal | into binary)
  let x = ($b | bytes at $at..$at | into int | bits xor 1)
  bytes build ($b | bytes at 0..<$at) ($x | into binary | bytes at 0..0) ($b | bytes at ($at + 1)..) | save --force --raw $journal
}

# status, resume and rollback each refuse with corrupt_journal naming record `k` at byte `at`;
# the journal is unchanged and `list` shows the workflow as corrupt.
def assert-refused [ws: string, id: string, k: int, at: int] {
  let journal = (journal-of $ws $id)
  let before = (open --raw $journal | into binary | hash sha256)
  for cmd in [status resume rollback] {
    let d = (expect-error { match $cmd { status => { prov workflow status $id }, resume => { prov workflow resume $id }, _ => { prov workflow rollback $id } } })
    assert equal $d.code "provisioning::state::corrupt_journal" $"($cmd) refuses"
    assert ($d.msg | str contains $"record ($k)") $"($cmd) names the record: ($d.msg)"
    assert ($d.msg | str contains $"byte ($at)") $"($cmd) names the byte: ($d.msg)"
    assert ($d.help | str contains "prov workflow repair") $"($cmd) says how to repair: ($d.help)"
    assert equal (open --raw $journal | into binary | hash sha256) $before $"($cmd) left the journal as it was"
  }
  let row = (prov workflow list | where workflow_id == $id | first)
  assert equal $row.status "corrupt"
  assert ($row.problem | str contains $"record ($k)")
  assert equal (ls ($journal | path dirname) | where name =~ 'damaged' | length) 0 "nothing was cut"
}

def main [] {
  run-tests "journal_damage" {
    "one byte changed in a finished workflow's checkpoint: status, resume and rollback refuse; nothing changes": {||
      let ws = (new-workspace)
      cd $ws
      let id = (finished-workflow $ws)
      let journal = (journal-of $ws $id)
      let starts = (line-starts $journal)
      assert equal ($starts | length) 2 "a finished journal is its header and one checkpoint"
      let size = (ls $journal | first | get size | into int)
      flip-byte $journal ((($starts.1 + $size) / 2) | into int)
      assert-refused $ws $id 1 $starts.1
      assert equal (open --raw ($ws | path join ran.log) | lines) [a b c] "nothing ran again"
      assert not (($ws | path join undone.log) | path exists) "nothing was rolled back"
    }
    "a finished workflow's journal cut in half: the checkpoint was written whole, so it is corruption": {||
      let ws = (new-workspace)
      cd $ws
      let id = (finished-workflow $ws)
      let journal = (journal-of $ws $id)
      let starts = (line-starts $journal)
      let b = (open --raw $journal | into binary)
      let half = ((($starts.1 + ($b | bytes length)) / 2) | into int)
      $b | bytes at 0..<$half | save --force --raw $journal
      assert-refused $ws $id 1 $starts.1
    }
    "a changed byte in a middle record, valid records after it: corruption, not a torn tail": {||
      let ws = (new-workspace)
      cd $ws
      let ran = ($ws | path join ran.log)
      let slow = [
        {id: first, kind: command, run: [sh -c 'printf "first\n" >> "$1"' sh $ran]}
        {id: slow, kind: command, run: [sh -c 'printf "slow\n" >> "$1"; sleep 2' sh $ran], depends_on: [first]}
      ]
      let id = ({name: slow, operations: $slow} | prov workflow submit | get workflow_id)
      mut tries = 0
      while not (($ran | path exists) and (open --raw $ran | str contains "slow")) and $tries < 400 { sleep 25ms; $tries += 1 }
      let st = (prov workflow status $id)
      ^kill -9 $st.runner_pid
      sleep 200ms
      let journal = (journal-of $ws $id)
      let starts = (line-starts $journal)
      assert (($starts | length) >= 4) "workflow_started, first's start and success, slow's start"
      flip-byte $journal ($starts.2 + 20)
      assert-refused $ws $id 2 $starts.2
    }
    "a torn last record is still cut off, reported, and the workflow rolls back": {||
      let ws = (new-workspace)
      cd $ws
      let id = (finished-workflow $ws)
      let journal = (journal-of $ws $id)
      let size = (ls $journal | first | get size | into int)
      "57 0badf00d {\"time\":" | save --append --raw $journal
      let st = (prov workflow status $id)
      assert equal $st.status "completed"
      assert ($st.problem | str contains "journal tail damaged")
      let events = (prov workflow rollback $id --allow-failure)
      assert equal ($events | where type == journal_repaired | length) 1
      assert equal ($events | where type == rollback_step | get operation) [c b a]
      assert equal (open --raw ($journal + $".damaged-($size)")) "57 0badf00d {\"time\":"
    }
    "repair keeps the intact prefix, reports the lost transitions, keeps the cut bytes; then status and resume work": {||
      let ws = (new-workspace)
      cd $ws
      let id = (finished-workflow $ws)
      let journal = (journal-of $ws $id)
      let starts = (line-starts $journal)
      let text = (open --raw $journal)
      # Change a letter of a field name: the record still decodes, its checksum fails.
      let at = ($text | into binary | bytes index-of ('"completed_operations"' | into binary)) + 2
      flip-byte $journal $at
      let damaged = (open --raw $journal | into binary | bytes at $starts.1..)
      let r = (prov workflow repair $id)
      assert equal $r.workflow_id $id
      assert equal $r.repaired true
      assert equal $r.kept_records 0
      assert equal $r.byte $starts.1
      assert ($r.problem | str contains "record 1")
      assert equal ($r.lost | get record) [1]
      assert ($r.lost.0.problem | str contains "checksum")
      assert equal ($r.lost_transitions | where type == operation_succeeded | get operation) [a b c]
      assert equal ($r.lost_transitions | last | get type) "workflow_completed"
      assert equal (open --raw $r.damaged_file | into binary) $damaged "the cut bytes are kept"
      assert equal $r.damaged_file ($journal + $".damaged-($starts.1)")
      # The repair is journaled, and the journal reads again.
      let st = (prov workflow status $id)
      assert equal $st.status "pending"
      assert equal $st.succeeded 0
      assert equal ($st.problem? | default "") ""
      assert (open --raw $journal | lines | last | str contains '"journal_repaired"')
      assert equal (prov workflow logs $id | where type == journal_repaired | length) 1
      # A second repair finds nothing to do.
      assert equal (prov workflow repair $id | get repaired) false
      let events = (prov workflow resume $id --allow-failure)
      assert equal ($events | last | get type) "workflow_completed"
      assert equal (open --raw ($ws | path join ran.log) | lines) [a b c a b c] "the lost operations ran again"
      assert equal (prov workflow status $id | get status) "completed"
    }
    "repair of a damaged middle record names every lost record after it": {||
      let ws = (new-workspace)
      cd $ws
      let ran = ($ws | path join ran.log)
      let slow = [
        {id: first, kind: command, run: [sh -c 'printf "first\n" >> "$1"' sh $ran]}
        {id: slow, kind: command, run: [sh -c 'printf "slow\n" >> "$1"; sleep 2' sh $ran], depends_on: [first]}
      ]
      let id = ({name: slow, operations: $slow} | prov workflow submit | get workflow_id)
      mut tries = 0
      while not (($ran | path exists) and (open --raw $ran | str contains "slow")) and $tries < 400 { sleep 25ms; $tries += 1 }
      ^kill -9 (prov workflow status $id | get runner_pid)
      sleep 200ms
      let journal = (journal-of $ws $id)
      let starts = (line-starts $journal)
      let n = ($starts | length) - 1
      flip-byte $journal ($starts.2 + 20)
      let r = (prov workflow repair $id)
      assert equal $r.kept_records 1
      assert equal ($r.lost | get record) (2..$n | each {|k| $k })
      assert equal ($r.lost | skip 1 | where problem != "" | length) 0 "the records after the damaged one are intact"
      assert ("slow" in ($r.lost_transitions | where type == operation_started | get operation)) "slow's start is lost"
      let st = (prov workflow status $id)
      assert equal $st.status "interrupted"
      assert equal $st.succeeded 0
    }
  }
}
