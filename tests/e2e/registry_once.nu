# `plugin add` / `plugin list` / `plugin use` against a temporary plugin registry, never the
# user's.
use std/assert
use harness.nu *

def main [] {
  let plugin = $env.PROV_PLUGIN
  let nu_bin = $env.PROV_NU
  run-tests "registry" {
    "plugin add registers it in a temporary registry and plugin list shows it": {||
      let dir = (mktemp -d)
      let reg = ($dir | path join "plugins.msgpackz")
      ^$nu_bin -n -c $"plugin add --plugin-config '($reg)' '($plugin)'"
      assert ($reg | path exists)
      let listed = (^$nu_bin -n -c $"plugin list --plugin-config '($reg)' --registry | to json" | from json)
      let ours = ($listed | where name == "provisioning")
      assert equal ($ours | length) 1
      assert equal ($ours | first | get filename) $plugin
      let commands = ($ours | first | get commands | each {|c| if ($c | describe | str starts-with "record") { $c.name } else { $c } })
      for c in ["prov" "prov version" "prov config" "prov config sources" "prov config get"] {
        assert ($c in $commands) $"($c) is registered"
      }
      let v = (^$nu_bin -n -c $"plugin use --plugin-config '($reg)' provisioning; prov version | to json" | from json)
      assert equal $v.plugin "nu_plugin_provisioning"
      rm -rf $dir
    }
  }
}
