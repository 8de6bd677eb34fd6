# Concurrency through real nu: four separate Nu sessions, released at once, each submit 25
# workflows to the same workspace. All 100 complete, `prov workflow list` shows exactly 100,
# and every state file is valid: each journal reads, each events.jsonl line is JSON, no
# temporary file is left, files are 0600 and folders 0700.
# ctest-labels: concurrency
use std/assert
use harness.nu *

const SESSIONS = 4
const PER_SESSION = 25

# What each session runs: wait for the start signal, submit 25 workflows, print their ids.
const SESSION_SCRIPT = '
def main [ws: string, go: string, session: int, count: int] {
  cd $ws
  while not ($go | path exists) { sleep 5ms }
  if $session == 0 {
    # The observer: lists the workspace while the others submit; every row must read.
    mut lists = 0
    mut unreadable = []
    while not ($"($go).done" | path exists) {
      let rows = (prov workflow list)
      $unreadable = ($unreadable | append ($rows | where status == unreadable | get problem))
      $lists += 1
    }
    print ({observer: true, lists: $lists, unreadable: $unreadable} | to json -r)
    return
  }
  for i in 1..$count {
    let name = $"s($session)-w($i)"
    let ops = [
      {id: a, kind: command, run: [sh -c "printf \"%s\\n\" \"$1\"" sh $name]}
      {id: b, kind: command, run: [true]}
      {id: c, kind: command, run: [true], depends_on: [a b]}
    ]
    let r = ({name: $name, settings: {parallel: 2}, operations: $ops} | prov workflow submit)
    print ({session: $session, name: $name, workflow_id: $r.workflow_id} | to json -r)
  }
}
'

def main [] {
  run-tests "concurrency" {
    "four Nu sessions submit 25 workflows each to one workspace: 100 complete, state valid": {||
      let ws = (mktemp -d)
      "[project]\nname = \"concurrency\"\n" | save ($ws | path join "config.defaults.toml")
      let script = ($ws | path join "session.nu")
      $SESSION_SCRIPT | save $script
      let go = ($ws | path join "go")
      # Four sessions as separate processes, released together by the `go` file; argv only.
      # Session 0 observes with `prov workflow list` until the others are done.
      let launcher = 'n=$1; per=$2; shift 2; "$@" 0 $per > "$OUT.0" 2>&1 & obs=$!; pids=; i=1; while [ $i -le $n ]; do "$@" $i $per > "$OUT.$i" 2>&1 & pids="$pids $!"; i=$((i+1)); done; sleep 0.5; touch "$GO"; wait $pids; touch "$GO.done"; wait $obs'
      let out = ($ws | path join "session-out")
      let started = (date now)
      let run = (with-env {OUT: $out, GO: $go} {
        ^sh -c $launcher sh $SESSIONS $PER_SESSION $env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN)]" $script $ws $go | complete
      })
      let submitted_in = ((date now) - $started)
      assert equal $run.exit_code 0
      let rows = (1..$SESSIONS | each {|i|
        let text = (open --raw $"($out).($i)")
        let lines = ($text | lines | where {|l| $l starts-with "{" })
        assert equal ($lines | length) $PER_SESSION $"session ($i) submitted ($PER_SESSION): ($text)"
        $lines | each {|l| $l | from json }
      } | flatten)
      let observed = (open --raw $"($out).0" | lines | where {|l| $l starts-with "{" } | first | from json)
      assert ($observed.lists > 0) "the observer listed while sessions submitted"
      assert equal $observed.unreadable [] "a workflow being submitted never lists as unreadable"
      let ids = ($rows | get workflow_id)
      assert equal ($ids | uniq | length) ($SESSIONS * $PER_SESSION) "every submit got its own id"
      cd $ws
      # Wait for all of them to end.
      let deadline = ((date now) + 100sec)
      mut list = (prov workflow list)
      while ($list | where status in [pending running] | length) > 0 {
        assert ((date now) < $deadline) $"still running: ($list | where status in [pending running] | length)"
        sleep 200ms
        $list = (prov workflow list)
      }
      let elapsed = ((date now) - $started)
      assert equal ($list | length) ($SESSIONS * $PER_SESSION) "prov workflow list shows exactly 100"
      assert equal ($list | get workflow_id | sort) ($ids | sort)
      assert equal ($list | where status == completed | length) ($SESSIONS * $PER_SESSION) "all completed"
      assert equal ($list | get succeeded | uniq) [3]
      assert equal ($list | get problem? | compact | where {|p| $p != "" }) [] "every journal reads whole"
      # Every event log line is an event; each workflow ran once: one start, one end.
      let state = ($ws | path join .provisioning)
      for id in $ids {
        let events = (open --raw ($state | path join workflows $id events.jsonl) | lines | each {|l| $l | from json })
        assert equal ($events | where type == workflow_started | length) 1 $"($id) started once"
        assert equal ($events | last | get type) "workflow_completed" $"($id) ended completed"
        assert equal (prov workflow logs $id | length) ($events | length)
      }
      # Every name ran exactly once, in the workflow it was submitted as.
      for r in $rows {
        assert equal (prov workflow logs $r.workflow_id --output a | get 1.line) $r.name
      }
      # No temporary file anywhere; files 0600, folders 0700.
      let entries = (ls -la ($"($state)/**/*" | into glob))
      let temps = ($entries | where {|e| ($e.name | path basename) =~ '\.tmp' })
      assert equal $temps [] "no temporary files are left"
      let bad_dirs = ($entries | where type == dir and mode != "rwx------")
      assert equal $bad_dirs [] "folders are 0700"
      let bad_files = ($entries | where type == file and mode != "rw-------")
      assert equal ($bad_files | select name mode) [] "files are 0600"
      print $"  figures: sessions=($SESSIONS) workflows=($ids | length) completed=($list | where status == completed | length) submit_phase=($submitted_in) total=($elapsed) state_entries_checked=($entries | length) concurrent_lists=($observed.lists)"
    }
  }
}
