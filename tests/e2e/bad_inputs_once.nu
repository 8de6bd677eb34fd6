# The bad-input corpus (tests/bad-inputs/cases.toml) through real nu: every bad workflow,
# configuration, extension manifest and protocol frame must fail with its own error code and a
# message naming what is wrong, and leave the workspace (config files, .provisioning/ state)
# exactly as it was.
# ctest-labels: bad-input
use std/assert
use harness.nu *

def corpus [] { $env.PROV_REPO | path join tests bad-inputs }

# A workspace with prior state: a configuration and one finished workflow.
def prepared-workspace [] {
  let ws = (mktemp -d)
  "[project]\nname = \"bad-inputs\"\n" | save ($ws | path join "config.defaults.toml")
  let ok = {name: "ok", operations: [
    {id: "hello", kind: "command", run: ["true"]}
    {id: "note", kind: "file.write", path: "note.txt", content: "written", depends_on: ["hello"]}
  ]}
  $ok | to toml | save ($ws | path join "ok.toml")
  let run = (do { cd $ws; prov workflow run ok.toml } | last)
  assert equal $run.type "workflow_completed"
  assert (($ws | path join ".provisioning") | path exists)
  mkdir ($ws | path join "extensions")
  $ws
}

# Every entry of the workspace with its type, mode and size, and every file's content hash.
def checksum [ws: string] {
  do {
    cd $ws
    let entries = (^find . -printf "%y %m %s %p\n" | lines | sort)
    let hashes = (^find . -type f -exec sha256sum "{}" "+" | lines | sort)
    $entries ++ $hashes | str join "\n" | hash sha256
  }
}

# Runs Nu `code` in a fresh nu with the plugin, in `dir`, with `env` set when the plugin
# starts. Returns {ok: true} or {ok: false, code, text} where text is the whole error as JSON.
def attempt [dir: string, code: string, vars: record] {
  let script = $"cd ($dir | to json); try { ($code) | ignore; {ok: true} | to json -r } catch {|e| let d = \(if 'details' in \($e | columns) { $e.details } else { $e.json | from json }\); {ok: false, code: $d.code?, text: \($d | to json -r\)} | to json -r }"
  let out = (with-env $vars { ^$env.PROV_NU -n --plugins $"[($env.PROV_PLUGIN | to json)]" -c $script } | complete)
  if $out.exit_code != 0 { error make {msg: $"nu failed \(($out.exit_code)\): ($out.stderr)"} }
  $out.stdout | from json
}

# Asserts that `r` failed with the case's code and mentions.
def assert-fails [r: record, case: record, what: string] {
  if $r.ok { error make {msg: $"($what) succeeded; expected ($case.code)"} }
  assert equal $r.code $case.code $"($what): code \(($r.text)\)"
  for m in ($case.mentions? | default []) {
    assert ($r.text | str contains $m) $"($what): the error does not mention '($m)': ($r.text)"
  }
}

def run-workflow-case [ws: string, case: record] {
  let file = ((corpus) | path join $case.file)
  let command = if ($case.feed? | default "run") == "submit" { "prov workflow submit" } else { "prov workflow run" }
  let r = (attempt $ws $"($command) ($file | to json)" ($case.env? | default {}))
  assert-fails $r $case $command
}

def run-config-case [ws: string, case: record] {
  let target = ($ws | path join "config.user.toml")
  open --raw ((corpus) | path join $case.file) | save -f --raw $target
  let before = (checksum $ws)
  let vars = ($case.env? | default {})
  assert-fails (attempt $ws "prov config" $vars) $case "prov config"
  assert-fails (attempt $ws "prov workflow run ok.toml" $vars) $case "prov workflow run with this configuration"
  assert equal (checksum $ws) $before "the workspace changed"
  rm $target
}

def run-manifest-case [ws: string, case: record] {
  let name = ($case.file | path basename)
  let target = ($ws | path join "extensions" $name)
  cp -r ((corpus) | path join $case.file) $target
  let before = (checksum $ws)
  let ext = (do { cd $ws; prov extension get $name })
  assert (not ($ext.valid and $ext.compatible)) $"extension ($name) is usable"
  assert ($ext.problems | any {|p| $p | str contains $case.problem }) $"no problem mentions '($case.problem)': ($ext.problems)"
  assert-fails (attempt $ws $"prov server list --provider ($name)" {}) $case "prov server list --provider"
  assert equal (checksum $ws) $before "the workspace changed"
  rm -r $target
}

def run-frame-case [ws: string, case: record] {
  let path = ((corpus) | path join $case.file)
  let raw = (open --raw $path)
  let body = if ($path | str ends-with ".hex") { $raw | decode hex } else if ($raw | describe) == "binary" { $raw } else { $raw | into binary }
  let hello = {Hello: {protocol: "nu-plugin", version: "0.115.1", features: []}}
  let prefix = if not $case.hello { 0x[] } else if $case.encoding == "json" { $"($hello | to json -r)\n" | into binary } else { $hello | to msgpack }
  let vars = ($case.env? | default {}) | merge {PROVISIONING_PLUGIN_ENCODING: $case.encoding}
  let out = (do { cd $ws; with-env $vars { $prefix | bytes add --end $body | ^$env.PROV_PLUGIN --stdio | complete } })
  assert equal $out.exit_code $case.exit $"exit code \(stderr: ($out.stderr)\)"
  # The code is in the error response (stdout) or the one-line message on stderr.
  let answer = ($out.stdout | into binary)
  let said = ($answer | bytes add --end ($out.stderr | into binary))
  assert (($said | bytes index-of ($case.code | into binary)) >= 0) $"($case.code) is not in the answer: ($out.stderr)"
  for m in ($case.mentions? | default []) {
    assert (($said | bytes index-of ($m | into binary)) >= 0) $"the answer does not mention '($m)': ($out.stderr)"
  }
  if $out.exit_code != 0 {
    let stderr = ($out.stderr | into binary)
    assert ($stderr | bytes starts-with ("nu_plugin_provisioning: " | into binary)) "no message on stderr"
  }
}

def main [] {
  let cases = (open ((corpus) | path join "cases.toml") | get case)
  let ws = (prepared-workspace)
  let tests = ($cases | reduce -f {} {|case, acc|
    let name = $"($case.kind) ($case.file)(if ($case.feed? | default '') != '' { $' \(($case.feed)\)' } else { '' })"
    $acc | merge {($name): {||
      let before = (checksum $ws)
      match $case.kind {
        "workflow" => { run-workflow-case $ws $case }
        "config" => { run-config-case $ws $case }
        "manifest" => { run-manifest-case $ws $case }
        "frame" => { run-frame-case $ws $case }
        _ => { error make {msg: $"unknown kind ($case.kind)"} }
      }
      assert equal (checksum $ws) $before "the workspace changed"
    }}
  })
  let kinds = ($cases | group-by kind | transpose kind cases | each {|g| $"($g.cases | length) ($g.kind)s" } | str join ", ")
  print $"bad inputs tried: ($cases | length) \(($kinds)\)"
  assert (($cases | length) >= 40)
  run-tests "bad_inputs" ($tests | merge {
    "the corpus covers every kind and every case file exists": {||
      assert equal ($cases | get kind | uniq | sort) [config frame manifest workflow]
      for c in ($cases | where kind != "workflow" or file !~ "does_not_exist") {
        assert (((corpus) | path join $c.file) | path exists) $"missing ($c.file)"
      }
    }
  })
}
