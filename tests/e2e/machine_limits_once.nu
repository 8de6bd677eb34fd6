# The limits of the machine through real nu, run under `ulimit` (bash, then nu with the plugin):
# a log that reaches the file size limit is cut with a marker and the workflow goes on (the
# runner ignores SIGXFSZ and handles EFBIG); with too little address space for `parallel: 16`
# the runner never aborts without a record: the run ends with a journaled terminal event; with
# too few descriptors the operations that get none fail, saying so.
# ctest-labels: limits;fault
# ctest-sanitizers: no   (ulimit -v leaves no room for ASan's shadow memory, and ASan holds descriptors of its own)
use std/assert
use harness.nu *

# A fresh workspace with a config.defaults.toml; returns its path.
def new-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"machine-limits\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# Runs the Nu script `script` (in workspace `ws`) in a nu started under `ulimit -<flag> <value>`,
# with this plugin; returns the record its last stdout line holds (JSON), and its stderr.
def under-ulimit [ws: string, flag: string, value: int, script: string] {
  let file = ($ws | path join "inner.nu")
  $script | save -f $file
  let r = (do {
    cd $ws
    ^bash -c $"ulimit -($flag) ($value); exec \"$0\" -n --plugins \"[$1]\" \"$2\"" $env.PROV_NU $env.PROV_PLUGIN $file
  } | complete)
  let last = ($r.stdout | lines | where {|l| $l starts-with "{" } | last)
  assert ($last != null) $"the inner nu printed no result: ($r.stdout) ($r.stderr)"
  $last | from json | insert stderr $r.stderr
}

def main [] {
  run-tests "machine_limits" {
    "ulimit -f 2048: a 5 MB output is cut at the limit with a marker and the workflow goes on": {||
      let ws = (new-workspace)
      let script = "
        let ops = [
          {id: big, kind: command, run: [sh -c 'head -c 5000000 /dev/zero | tr \"\\\\000\" x; echo; echo after-the-flood']}
          {id: next, kind: command, run: [sh -c 'echo second'], depends_on: [big]}
        ]
        let r = (try { {name: flood, operations: $ops} | prov workflow run --allow-failure | last } catch {|e| {type: error, msg: $e.msg} })
        print ({type: $r.type, msg: ($r.msg? | default ''), id: (prov workflow list | first | get workflow_id)} | to json -r)
      "
      let r = (under-ulimit $ws f 2048 $script)
      assert equal $r.type workflow_completed $"the run ended: ($r.msg) ($r.stderr)"
      cd $ws
      let st = (prov workflow status $r.id)
      assert equal $st.status completed
      assert equal $st.succeeded 2
      let log_file = ($ws | path join .provisioning workflows $r.id logs big.log)
      let size = (ls $log_file | get 0.size | into int)
      assert ($size <= 2048 * 1024) $"the log stays within the limit: ($size)"
      assert ($size >= 2000 * 1024) $"the log holds the output up to the limit: ($size)"
      let tail = (open --raw $log_file | str substring (($size - 200)..) | lines | last)
      assert ($tail =~ "output cut here: the log reached the file size limit") $"ends with the marker: ($tail)"
      assert ((prov workflow logs $r.id --output next | get line | str join "\n") =~ "second")
      let runner_log = (open --raw ($ws | path join .provisioning workflows $r.id runner.log))
      assert equal $runner_log "" "the runner reported nothing"
      print $"  figures: log_bytes=($size) limit=(2048 * 1024)"
    }
    "ulimit -v 400000, parallel 16: the runner ends with a journaled event, never an abort": {||
      mut outcomes = []
      for round in 1..3 {
        let ws = (new-workspace)
        let script = "
          let ops = (0..<64 | each {|i| {id: $'op($i)', kind: command, run: [sh -c 'echo \"$1\"; sleep 0.3; echo done' sh $'($i)']} })
          let r = (try { {name: mem, settings: {parallel: 16}, operations: $ops} | prov workflow run --allow-failure | last } catch {|e| {type: error, msg: $e.msg} })
          print ({type: $r.type, msg: ($r.msg? | default ''), id: (prov workflow list | first | get workflow_id)} | to json -r)
        "
        let r = (under-ulimit $ws v 400000 $script)
        let runner_log = (open --raw ($ws | path join .provisioning workflows $r.id runner.log))
        assert (not ($runner_log =~ "terminate called")) $"round ($round): the runner aborted: ($runner_log)"
        assert ($r.type in [workflow_completed workflow_failed]) $"round ($round): the run ended with a journaled event, not ($r.type) ($r.msg)"
        cd $ws
        let st = (prov workflow status $r.id)
        assert ($st.status in [completed failed rolled_back]) $"round ($round): ($st.status)"
        $outcomes = ($outcomes | append $"($st.status):($st.succeeded)/($st.total)")
      }
      print $"  figures: outcomes=($outcomes | str join ',')"
    }
    "ulimit -n 40, parallel 16: operations that get no descriptor fail saying so; the run ends journaled": {||
      let ws = (new-workspace)
      let script = "
        let ops = (0..<64 | each {|i| {id: $'op($i)', kind: command, run: [sh -c 'echo \"$1\"; sleep 0.3' sh $'($i)']} })
        let r = (try { {name: fds, settings: {parallel: 16, retry: {attempts: 1}}, operations: $ops} | prov workflow run --allow-failure | last } catch {|e| {type: error, msg: $e.msg} })
        print ({type: $r.type, msg: ($r.msg? | default ''), id: (prov workflow list | first | get workflow_id)} | to json -r)
      "
      let r = (under-ulimit $ws n 40 $script)
      assert ($r.type in [workflow_completed workflow_failed]) $"the run ended with a journaled event, not ($r.type) ($r.msg)"
      cd $ws
      let failures = (prov workflow logs $r.id | where type == operation_failed | get message | uniq)
      assert (($failures | where {|m| not ($m =~ "Too many open files") }) == []) $"each failure names the cause: ($failures)"
      let runner_log = (open --raw ($ws | path join .provisioning workflows $r.id runner.log))
      assert (not ($runner_log =~ "terminate called")) $runner_log
      print $"  figures: status=(prov workflow status $r.id | get status) failed_ops=(prov workflow logs $r.id | where type == operation_failed | length)"
    }
  }
}
