# Engines outside the tested range are refused with a message; garbage on the plugin's stdin
# ends it with one line on stderr and a non-zero exit, never a hang.
use std/assert
use harness.nu *

def main [] {
  let plugin = $env.PROV_PLUGIN
  run-tests "engines" {
    "an engine older than 0.107.0 is refused with the supported range": {||
      let r = (^$env.PROV_NU_OUTSIDE_RANGE -n --plugins $"[($plugin)]" -c "prov version" | complete)
      assert not equal $r.exit_code 0
      assert ($r.stderr | str contains "unsupported Nushell 0.101.0")
      assert ($r.stderr | str contains "0.107.0 through 0.115.x")
    }
    "run by hand it explains how to register it": {||
      let r = (^$plugin | complete)
      assert equal $r.exit_code 2
      assert ($r.stderr | str contains "plugin add")
    }
    "an unknown encoding is refused": {||
      let r = (with-env {PROVISIONING_PLUGIN_ENCODING: "xml"} { ^$plugin --stdio | complete })
      assert equal $r.exit_code 2
      assert ($r.stderr | str contains "must be 'msgpack' or 'json'")
    }
    "garbage on stdin: one line on stderr, non-zero exit": {||
      let hello = '{"Hello":{"protocol":"nu-plugin","version":"0.115.1","features":[]}}'
      let cases = [
        ["garbage", "\u{0}\u{1}binary junk"]
        ["truncated", ($hello + "\n" + '{"Call":[0,"Meta')]
        ["unknown variant", ($hello + "\n" + '{"Teleport":[1]}' + "\n")]
        ["wrong type", ($hello + "\n" + '{"Call":["zero","Metadata"]}' + "\n")]
      ]
      for c in $cases {
        let r = ($c.1 | with-env {PROVISIONING_PLUGIN_ENCODING: "json"} { ^timeout 10 $plugin --stdio | complete })
        assert equal $r.exit_code 1 $"($c.0): exit code"
        assert ($r.stderr | str starts-with "nu_plugin_provisioning: protocol error") $"($c.0): ($r.stderr)"
        assert equal ($r.stderr | lines | length) 1 $"($c.0): one line"
      }
    }
    "msgpack garbage too": {||
      let r = (0x[c1 c1 c1] | ^timeout 10 $plugin --stdio | complete)
      assert equal $r.exit_code 1
      assert ($r.stderr | str starts-with "nu_plugin_provisioning: protocol error")
    }
  }
}
