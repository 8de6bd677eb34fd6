# `prov version` and the protocol basics, run once per Nushell version and encoding.
use std/assert
use harness.nu *

def main [] {
  run-tests "version" {
    "prov version is a record with the engine's version": {||
      let v = (prov version)
      assert equal ($v | describe | str substring 0..5) "record"
      assert equal $v.engine_version (version | get version)
      assert equal $v.protocol "nu-plugin"
      assert equal $v.plugin "nu_plugin_provisioning"
      assert ($v.plugin_version =~ '^\d+\.\d+\.\d+$')
      assert equal $v.supported_engines "0.107.0 through 0.115.x"
    }
    "the encoding in use is the one asked for": {||
      let want = ($env.PROVISIONING_PLUGIN_ENCODING? | default "msgpack")
      assert equal (prov version | get encoding) $want
    }
    "features name the value dialect of the engine": {||
      let v = (prov version)
      let text_shapes = ((version | get version | split row "." | get 1 | into int) >= 114)
      assert equal ("text-ranges-and-cell-paths" in $v.features) $text_shapes
      let completions = ((version | get version | split row "." | get 1 | into int) >= 109)
      assert equal ("completions" in $v.features) $completions
    }
    "prov lists the subcommands": {||
      let help = (prov)
      assert ($help | str contains "prov version")
      assert ($help | str contains "prov config")
    }
    "every command has a description, search terms and examples": {||
      let cmds = (help commands | where name starts-with "prov" | where command_type == "plugin")
      assert (($cmds | length) >= 5)
      for c in $cmds {
        assert (($c.description | str length) > 10) $"($c.name) has no description"
      }
    }
    "many calls in one session": {||
      let n = (1..200 | each { prov version | get plugin } | uniq)
      assert equal $n ["nu_plugin_provisioning"]
    }
  }
}
