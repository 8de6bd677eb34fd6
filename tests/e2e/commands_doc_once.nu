# docs/COMMANDS.md is what tools/commands_doc.nu makes from the built plugin's signatures now:
# a changed command, flag or example without `make docs` fails here.
use std/assert
use harness.nu *

def main [] {
  run-tests "commands_doc" {
    "docs/COMMANDS.md is up to date": {||
      let dir = (mktemp -d)
      let fresh = ($dir | path join "COMMANDS.md")
      let plugins = $"[($env.PROV_PLUGIN | to nuon)]"
      let out = (do { cd $env.PROV_REPO; ^$env.PROV_NU -n --plugins $plugins tools/commands_doc.nu $fresh } | complete)
      if $out.exit_code != 0 { rm -rf $dir; error make {msg: $"tools/commands_doc.nu failed:\n($out.stderr)"} }
      let committed = ($env.PROV_REPO | path join "docs" "COMMANDS.md")
      let want = (open --raw $fresh)
      let have = (if ($committed | path exists) { open --raw $committed } else { "" })
      rm -rf $dir
      if $have != $want {
        let first = ($want | lines | zip ($have | lines | append (1..($want | lines | length) | each { "" }))
          | enumerate | where {|l| $l.item.0 != $l.item.1 } | first 1)
        let where = if ($first | is-empty) { "it has lines beyond the end" } else {
          $"first difference at line ($first.0.index + 1): expected `($first.0.item.0)`, found `($first.0.item.1)`"
        }
        error make {msg: $"docs/COMMANDS.md is stale \(($where)\): run `make docs` and commit it"}
      }
    }
  }
}
