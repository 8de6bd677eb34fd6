# Many hosts on one etcd store through real nu: four Nu sessions, each on its own "host" (a copy
# of the workspace), queue 25 workflows each at the same time while three agents, on three more
# hosts, run them. All 100 complete, each run by exactly one agent (its operations' effects name
# the host that ran them: one host per workflow, each operation once, in order), and
# `prov workflow list` shows the same 100 on all seven hosts.
# ctest-labels: e2e;concurrency
use std/assert
use harness.nu *
use etcd_cluster.nu *

const BACKGROUND = (path self | path dirname | path join background.sh)
const SESSIONS = 4
const PER_SESSION = 25
const AGENTS = 3

# What each session runs: queue `count` workflows of three chained operations, each appending
# "<the host's workspace> <operation>" to the workflow's own effects file; print their ids.
const SESSION_SCRIPT = '
def main [ws: string, effects: string, session: int, count: int] {
  cd $ws
  for i in 1..$count {
    let name = $"s($session)-w($i)"
    let file = ($effects | path join $name)
    let ops = (1..3 | each {|k|
      {id: $"op($k)", kind: command, run: [sh -c "printf \"%s %s\\n\" \"$PWD\" \"$1\" >> \"$2\"" sh $"op($k)" $file],
       depends_on: (if $k == 1 { [] } else { [$"op($k - 1)"] })}
    })
    let r = ({name: $name, operations: $ops} | prov workflow submit --queue)
    print ({session: $session, name: $name, workflow_id: $r.workflow_id, status: $r.status} | to json -r)
  }
}
'

def main [] {
  run-tests "etcd fleet" {
    "four hosts queue 25 workflows each while three agents run them: 100 complete, each run once by one agent": {||
      let c = (start-cluster)
      let prefix = $"/e2e/(random chars -l 8)"
      let effects = (mktemp -d)
      let script = ($effects | path join "session.nu.script")
      $SESSION_SCRIPT | save $script
      let agent_hosts = (1..$AGENTS | each {|i| host-workspace $c $prefix })
      let session_hosts = (1..$SESSIONS | each {|i| host-workspace $c $prefix })
      let logs = (mktemp -d)
      let agents = (0..<$AGENTS | each {|i|
        ^bash $BACKGROUND ($logs | path join $"agent($i).log") $env.PROV_PLUGIN agent --workspace ($agent_hosts | get $i) --name $"agent($i)" | into int
      })
      try {
        # The four sessions at once, each a separate nu on its own host.
        let runs = (0..<$SESSIONS | par-each {|i|
          let r = (^$env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN)]" $script ($session_hosts | get $i) $effects $i $PER_SESSION | complete)
          {session: $i, exit_code: $r.exit_code, stdout: $r.stdout, stderr: $r.stderr}
        })
        for r in $runs { assert equal $r.exit_code 0 $"session ($r.session): ($r.stderr)" }
        let rows = ($runs | each {|r| $r.stdout | lines | where {|l| $l starts-with "{" } | each {|l| $l | from json } } | flatten)
        assert equal ($rows | length) ($SESSIONS * $PER_SESSION)
        assert equal ($rows | get status | uniq) [pending] "--queue starts no runner"
        let ids = ($rows | get workflow_id)
        assert equal ($ids | uniq | length) ($SESSIONS * $PER_SESSION) "every submit got its own id"
        # The agents run them all. The test fails once none completes for 60 s (a stall), not
        # after a fixed time: a slow machine (or a sanitizer's build) only takes longer.
        cd ($session_hosts | first)
        mut list = (prov workflow list)
        mut done = 0
        mut progress_at = (date now)
        while ($list | where status != completed | length) > 0 {
          let now_done = ($list | where status == completed | length)
          if $now_done > $done { $done = $now_done; $progress_at = (date now) }
          if (date now) - $progress_at > 60sec {
            let agent_logs = (0..<$AGENTS | each {|i| open --raw ($logs | path join $"agent($i).log") } | str join "\n")
            error make {msg: $"none completed for 60 s; not completed: ($list | where status != completed | select workflow_id status runner_host | to nuon)\n($agent_logs)"}
          }
          sleep 1sec  # (a list of 100 reads each one's journal: asked often, it would slow the agents)
          $list = (prov workflow list)
        }
        # Each workflow ran on one agent's host, each operation once, in order.
        mut ran_by = {}
        for r in $rows {
          let lines = (open --raw ($effects | path join $r.name) | lines | each {|l| $l | parse "{host} {op}" | first })
          assert equal ($lines | get op) [op1 op2 op3] $"($r.name): ($lines | to nuon)"
          let host = ($lines | get host | uniq)
          assert equal ($host | length) 1 $"($r.name) ran on one host: ($host | to nuon)"
          assert ($host.0 in $agent_hosts) $"($r.name) ran on an agent's host: ($host.0)"
          let events = (prov events --workflow $r.workflow_id)
          assert equal ($events | where type == workflow_started | length) 1 $"($r.name) started once"
          assert equal ($events | where type == workflow_resumed | length) 0 $"($r.name) was never taken over"
          $ran_by = ($ran_by | upsert $host.0 (($ran_by | get -o $host.0 | default 0) + 1))
        }
        # Every host lists the same 100, completed, nobody running them.
        let expected = ($ids | sort)
        for ws in ($agent_hosts ++ $session_hosts) {
          cd $ws
          let l = (prov workflow list)
          assert equal ($l | get workflow_id | sort) $expected $"the list on ($ws)"
          assert equal ($l | get status | uniq) [completed]
          assert equal ($l | get runner_host | uniq) [null]
        }
        let counts = $ran_by
        let per_agent = ($agent_hosts | each {|h| $counts | get -o $h | default 0 })
        print $"  figures: workflows=($ids | length) per_agent=($per_agent | to nuon)"
      } catch {|e|
        for pid in $agents { try { kill -s 9 $pid } }
        stop-cluster $c
        error make {msg: $e.msg}
      }
      for pid in $agents { kill -s 15 $pid }
      for attempt in 1..100 { if (ps | where pid in $agents | is-empty) { break }; sleep 50ms }
      assert (ps | where pid in $agents | is-empty) "the agents stopped"
      stop-cluster $c
    }
  }
}
