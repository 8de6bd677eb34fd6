# Completions through real nu: `nu --ide-complete OFFSET script.nu` runs Nushell's own completer
# on a script whose first line loads the plugin (`plugin use --plugin-config`: `--plugins` is
# not read in IDE mode). Engines from 0.109 ask the plugin (GetCompletion) for workflow ids,
# server ids, config keys, providers, environments and formats (0.109 to 0.114 refuse the
# plugin's engine calls during a completion: it then uses the $env.PWD it was started with);
# older engines never ask, and then no value of the plugin's may appear and nothing may fail.
use std/assert
use harness.nu *

# A workspace with known configuration, the example providers (`folder`) and a staging environment.
def new-workspace [] {
  let ws = (mktemp -d)
  ^cp -r ($env.PROV_REPO | path join "examples" "providers") $ws
  "[project]\nname = \"e2e\"\ntier = \"gold\"\n\n[providers.folder]\ntimeout = \"5s\"\n" | save ($ws | path join "config.defaults.toml")
  "[project]\ntier = \"silver\"\n" | save ($ws | path join "config.staging.toml")
  $ws
}

# A plugin registry file holding this plugin, written by the nu under test.
def new-registry [] {
  let reg = ((mktemp -d) | path join "plugins.msgpackz")
  ^$env.PROV_NU -n -c $"plugin add --plugin-config ($reg | to json) ($env.PROV_PLUGIN | to json)"
  $reg
}

# The completions nu offers at the end of `line`, asked in workspace `ws`.
def complete-at [ws: string, reg: string, line: string] {
  let script = ((mktemp -d) | path join "complete.nu")
  $"plugin use --plugin-config ($reg | to json) provisioning\n($line)" | save $script
  let offset = (open --raw $script | into binary | bytes length)
  let out = (do { cd $ws; ^$env.PROV_NU -n --ide-complete $offset $script } | complete)
  rm -rf ($script | path dirname)
  assert equal $out.exit_code 0 $out.stderr
  $out.stdout | from json | get completions
}

# Waits until the workflow reaches a final status.
def wait-final [id: string] {
  let deadline = ((date now) + 60sec)
  while (prov workflow status $id | get status) in ["pending" "running"] {
    if (date now) > $deadline { error make {msg: $"workflow ($id) did not finish"} }
    sleep 50ms
  }
}

def main [] {
  let asked = ((version | get version | split row "." | get 1 | into int) >= 109)
  let reg = (new-registry)
  run-tests "completions" {
    "workflow ids for status, logs, cancel, resume and rollback; logs --output: its operations": {||
      let ws = (new-workspace)
      cd $ws
      let id = ({name: nap, operations: [{id: nap, kind: command, run: [true]} {id: nap2, kind: command, run: [true]}]} | prov workflow submit | get workflow_id)
      wait-final $id
      for cmd in [status logs cancel resume rollback] {
        let got = (complete-at $ws $reg $"prov workflow ($cmd) ")
        if $asked { assert equal $got [$id] $cmd } else { assert ($id not-in $got) $cmd }
      }
      let ops = (complete-at $ws $reg $"prov workflow logs ($id) --output ")
      if $asked { assert equal $ops [nap nap2] } else { assert ("nap" not-in $ops) }
    }
    "workflow names from paths.workflows for run, plan, submit and graph, then the folder's files": {||
      let ws = (new-workspace)
      mkdir ($ws | path join workflows)
      "name = \"d\"\noperations = []\n" | save ($ws | path join workflows deploy.toml)
      "{}" | save ($ws | path join workflows check.json)
      "x" | save ($ws | path join notes.txt)
      "name = \"l\"\noperations = []\n" | save ($ws | path join local.toml)
      for cmd in [run plan submit graph] {
        let got = (complete-at $ws $reg $"prov workflow ($cmd) ")
        if $asked {
          assert ("check" in $got) $cmd
          assert ("deploy" in $got) $cmd
          assert ("local.toml" in $got) $cmd
          assert ("workflows/" in $got) $cmd
          assert ("notes.txt" not-in $got) $cmd
        } else { assert ("deploy" not-in $got) $cmd }
      }
    }
    "no workflows, no state directory made": {||
      let ws = (new-workspace)
      let got = (complete-at $ws $reg "prov workflow status ")
      if $asked { assert equal $got [] }
      assert not (($ws | path join ".provisioning") | path exists)
    }
    "extension names for extension get, with the example workspace's extensions": {||
      let ws = ((mktemp -d) | path join "examples")
      ^cp -r ($env.PROV_REPO | path join "examples") $ws
      let got = (complete-at $ws $reg "prov extension get ")
      if $asked { assert equal $got [legacy-dns redis-taskserv] } else { assert ("redis-taskserv" not-in $got) }
    }
    "--provider: the workspace's providers, built-in local and the Nu module folder": {||
      let ws = (new-workspace)
      for line in ["prov server list --provider " "prov server get --provider " "prov server create web --provider "] {
        let got = (complete-at $ws $reg $line)
        if $asked { assert equal ($got | sort) [folder local] $line } else { assert ("local" not-in $got) $line }
      }
    }
    "server ids of the local provider, from its records, without starting any provider": {||
      let ws = (new-workspace)
      cd $ws
      let s = (prov server create sleeper --command [sleep 600])
      let failure = try {
        for line in ["prov server get " "prov server delete " "prov server get --provider local "] {
          let got = (complete-at $ws $reg $line)
          if $asked { assert equal $got [$s.id] $line } else { assert ($s.id not-in $got) $line }
        }
        # The folder provider's list is not cached in a fresh plugin: nothing, and no worker.
        let folder = (complete-at $ws $reg "prov server get --provider folder ")
        if $asked { assert equal $folder [] }
        null
      } catch {|e| $e.msg }
      prov server delete $s.id | ignore
      if $failure != null { error make {msg: $failure} }
    }
    "config keys: every table and leaf, as dotted paths; prefixes narrow them": {||
      let ws = (new-workspace)
      cd $ws
      let got = (complete-at $ws $reg "prov config get project.")
      if $asked { assert equal $got ["project.name" "project.tier"] } else { assert ("project.tier" not-in $got) }
      let leaves = (prov config sources | get key)
      let all = (complete-at $ws $reg "prov config get ")
      if $asked {
        for key in $leaves { assert ($key in $all) $key }
        assert ("providers.folder" in $all)
        assert ("providers.folder.timeout" in $all)
      }
    }
    "--env: the workspace's environments; --format: dot, mermaid and svg": {||
      let ws = (new-workspace)
      let envs = (complete-at $ws $reg "prov config get --env ")
      let formats = (complete-at $ws $reg "prov workflow graph --format ")
      if $asked {
        assert equal $envs [staging]
        assert equal $formats [dot mermaid svg]
      } else {
        assert ("staging" not-in $envs)
        assert ("mermaid" not-in $formats)
      }
    }
    "arguments the plugin does not complete are left to nu: files": {||
      let ws = (new-workspace)
      let got = (complete-at $ws $reg "prov workflow plan ")
      assert ("config.defaults.toml" in $got)
    }
  }
}
