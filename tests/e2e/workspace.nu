# Workspaces through real nu: commands that keep state refuse outside one and say how to make
# one; `prov workspace init|info|use`; workflows found by name in paths.workflows; relative
# paths inside a workflow resolve against the named workspace, not Nu's current directory.
use std/assert
use harness.nu *

def hello-workflow [] {
  "name = \"hello\"\n\n[[operations]]\nid = \"write\"\nkind = \"file.write\"\npath = \"out/hello.txt\"\ncontent = \"hi\"\n"
}

def main [] {
  run-tests "workspace" {
    "outside a workspace, run and submit refuse, name the fix, and write nothing": {||
      let dir = (mktemp -d)
      cd $dir
      hello-workflow | save wf.toml
      for cmd in [run submit] {
        let e = (expect-error {|| if $cmd == run { prov workflow run wf.toml | ignore } else { prov workflow submit wf.toml | ignore } })
        assert equal $e.code "provisioning::workspace::none" $cmd
        assert ($e.msg | str contains "is not in a workspace") $e.msg
        assert ($e.help | str contains "prov workspace init") $e.help
      }
      assert not ($dir | path join ".provisioning" | path exists)
      assert not ($dir | path join "out" | path exists)
      # Reading workflows says the same: there is no workspace to read.
      assert equal (expect-error {|| prov workflow list }).code "provisioning::workspace::none"
      # plan works outside a workspace: nothing is written.
      assert equal (prov workflow plan wf.toml | get id) [write]
    }
    "server and provider commands refuse outside a workspace too": {||
      cd (mktemp -d)
      let e = (expect-error {|| prov server list | ignore })
      assert equal $e.code "provisioning::workspace::none"
      assert not ("." | path join ".provisioning" | path exists)
    }
    "workspace init makes a workspace, idempotently; info describes it": {||
      let parent = (mktemp -d)
      cd $parent
      let made = (prov workspace init infra)
      let root = ($parent | path join infra)
      assert equal $made.root $root
      assert equal $made.created [$root ($root | path join config.defaults.toml) ($root | path join workflows)]
      assert equal (prov workspace init infra).created []
      cd infra
      let info = (prov workspace info)
      assert equal $info.root $root
      assert equal $info.found_by "config.defaults.toml"
      assert equal $info.environment null
      assert equal $info.state ($root | path join .provisioning)
      assert equal $info.state_exists false
      assert equal ($info.layers | where found | get name) [builtin defaults]
      assert equal ($info.layers | get name) [builtin defaults global user env plugin runtime]
      # From a sub-folder, the same workspace.
      mkdir deep/er
      cd deep/er
      assert equal (prov workspace info).root $root
    }
    "workspace info outside a workspace says how to make one": {||
      cd (mktemp -d)
      let e = (expect-error {|| prov workspace info })
      assert equal $e.code "provisioning::workspace::none"
    }
    "workspace use sets PROVISIONING_WORKSPACE and PROVISIONING_ENV in the caller": {||
      let ws = (mktemp -d)
      prov workspace init $ws | ignore
      "[project]\ntier = \"prod\"\n" | save ($ws | path join config.prod.toml)
      cd (mktemp -d)
      let used = (prov workspace use $ws --env prod)
      assert equal $used {root: $ws, environment: prod}
      assert equal $env.PROVISIONING_WORKSPACE $ws
      assert equal $env.PROVISIONING_ENV prod
      let info = (prov workspace info)
      assert equal $info.root $ws
      assert equal $info.found_by "$env.PROVISIONING_WORKSPACE"
      assert equal $info.environment prod
      assert equal (prov config get project.tier) prod
    }
    "workspace use refuses a folder that is not a workspace, and a bad --env": {||
      let dir = (mktemp -d)
      let e = (expect-error {|| prov workspace use $dir })
      assert equal $e.code "provisioning::workspace::none"
      assert ($e.help | str contains "prov workspace init") $e.help
      assert ("PROVISIONING_WORKSPACE" not-in $env)
      prov workspace init $dir | ignore
      let bad = (expect-error {|| prov workspace use $dir --env "../x" })
      assert equal $bad.code "provisioning::config::bad_environment"
    }
    "relative paths in a workflow resolve against the named workspace, not Nu's current directory": {||
      let ws = (mktemp -d)
      prov workspace init $ws | ignore
      hello-workflow | save ($ws | path join workflows hello.toml)
      let elsewhere = (mktemp -d)
      cd $elsewhere
      prov workspace use $ws | ignore
      # A bare name is found in the workspace's workflows folder.
      let last = (prov workflow run hello | last)
      assert equal $last.type workflow_completed
      assert equal (open ($ws | path join out hello.txt)) "hi"
      assert not ($elsewhere | path join out | path exists)
      assert not ($elsewhere | path join .provisioning | path exists)
    }
    "a bare workflow name: found in paths.workflows; an unknown one suggests the nearest": {||
      let ws = (mktemp -d)
      prov workspace init $ws | ignore
      "[paths]\nworkflows = \"flows\"\n" | save -f ($ws | path join config.defaults.toml)
      mkdir ($ws | path join flows)
      hello-workflow | save ($ws | path join flows hello.toml)
      cd $ws
      assert equal (prov workflow plan hello | get id) [write]
      let e = (expect-error {|| prov workflow plan helo })
      assert equal $e.code "provisioning::workflow::not_found"
      assert ($e.help | str contains "hello") $e.help
      assert equal (label-text $e) "helo"
    }
  }
}
