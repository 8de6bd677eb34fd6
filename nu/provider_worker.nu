# The provider worker: one long-lived Nu process that loads a Nu-module provider and answers
# the core's requests until its stdin ends (core/providers/nu_worker.cpp starts it).
#
# Started as: nu -n -I <module dir>/nulib --stdin -c <this file>
# so that `use provider.nu` below names the module by a constant: nothing from a request ever
# becomes Nu code; requests are parsed from JSON and passed to the module's commands as values.
#
# Requests, one JSON object per line on stdin:
#   {"id": 7, "method": "get-server", "args": {"id": "srv-1"},
#    "context": {"name": "folder", "config": {…}, "workspace": "/ws", "state_dir": "/ws/.provisioning"}}
# Answers, one JSON object per line on file descriptor 3 (never stdout):
#   {"id": 7, "ok": true, "value": …}   or   {"id": 7, "ok": false, "error": {"msg": "…"}}
# Whatever the module prints (stdout or stderr) goes to the worker's log, so it cannot be taken
# for an answer. Values use the core's tagged JSON both ways (core/support/datum_json.hpp):
# {"$date": rfc3339}, {"$duration": nanoseconds}, {"$bytes": hex}, {"$record": [[key, value]]}.
#
# Methods and the module commands they call (see nu/provider_template.nu):
#   list-servers               provider list-servers
#   create-server {spec}       provider create-server $spec
#   get-server {id}            provider get-server $id
#   delete-server {id}         provider delete-server $id
#   test-connectivity          provider test-connectivity, or list-servers when the module
#                              does not export it
#   spec-fields                provider spec-fields, or [] when the module does not export it
# During a call $env.PROVISIONING_PROVIDER holds the request's context record and the current
# directory is the workspace.

# Reading stdin must be the script's first pipeline: only that one receives it, as a stream.
lines | each {|line| prov-worker-answer $line | save --append --raw /dev/fd/3 } | ignore

# The answer to one request line, as one line of JSON.
def prov-worker-answer [line: string]: nothing -> string {
  let request = try { $line | from json } catch { null }
  let id = try { $request.id } catch { null }
  let answer = if ($request | describe | str starts-with "record") {
    try {
      {id: $id, ok: true, value: (prov-worker-call $request $line | prov-worker-tag)}
    } catch {|e|
      {id: $id, ok: false, error: {msg: $e.msg}}
    }
  } else {
    {id: $id, ok: false, error: {msg: "the worker received a request that is not a JSON record"}}
  }
  ($answer | to json --raw) + "\n"
}

# Calls the module's command for one request and returns what it returned.
def prov-worker-call [request: record, line: string]: nothing -> any {
  use provider.nu
  let args = if ($request.args? | describe | str starts-with "record") { $request.args } else { {} }
  let context = if ($request.context? | describe | str starts-with "record") { $request.context } else { {} }
  # Only a line holding `"$` can hold a tag.
  let tagged = $line | str contains '"$'
  let args = if $tagged { $args | prov-worker-untag } else { $args }
  let context = if $tagged { $context | prov-worker-untag } else { $context }
  let method = $request.method? | default ""
  with-env {PROVISIONING_PROVIDER: $context} {
    let workspace = $context.workspace? | default ""
    if $workspace != "" and ($workspace | path type) == "dir" { cd $workspace }
    match $method {
      "list-servers" => { provider list-servers }
      "create-server" => { provider create-server $args.spec }
      "get-server" => { provider get-server $args.id }
      "delete-server" => { provider delete-server $args.id }
      "test-connectivity" => {
        let answer = provider test-connectivity
        if $answer == (prov-worker-no-test-connectivity) {
          provider list-servers | ignore
          {ok: true, message: "list-servers answered"}
        } else { $answer }
      }
      "spec-fields" => { provider spec-fields }
      _ => { error make {msg: $"the worker knows no method '($method)'"} }
    }
  }
}

# Stands in for the module's test-connectivity when it exports none: a `use` of a module that
# has one shadows this definition.
def "provider test-connectivity" []: nothing -> record { prov-worker-no-test-connectivity }
def prov-worker-no-test-connectivity []: nothing -> record { {prov_worker: "no test-connectivity"} }
# The module's spec-fields, when it exports one, shadows this: no fields beyond name, plan, labels.
def "provider spec-fields" []: nothing -> list<string> { [] }

# A Nu value as the core's tagged JSON tree. Loops, not closures: closures cost a lot per call.
def prov-worker-tag []: any -> any {
  let value = $in
  let type = $value | describe
  if (prov-worker-plain $type) { return $value }
  if ($type | str starts-with "record") {
    let keys = $value | columns
    if ($keys | length) == 1 and ($keys.0 | str starts-with "$") {
      return {"$record": [[$keys.0 ($value | get $keys.0 | prov-worker-tag)]]}
    }
    mut out = $value
    for key in $keys {
      let cell = $value | get $key
      if ($cell | describe) not-in [string int bool nothing float] {
        $out = ($out | update $key ($cell | prov-worker-tag))
      }
    }
    $out
  } else if ($type | str starts-with "list") or ($type | str starts-with "table") or $type == "range" {
    mut out = []
    for item in $value { $out = ($out | append [($item | prov-worker-tag)]) }
    $out
  } else {
    match $type {
      "datetime" | "date" => { {"$date": ($value | format date "%Y-%m-%dT%H:%M:%S%.f%:z")} }
      "duration" => { {"$duration": ($value | into int)} }
      "filesize" => { $value | into int }
      "binary" => { {"$bytes": ($value | encode hex --lower)} }
      _ => { $value }
    }
  }
}

# A tagged JSON tree (parsed with `from json`) as the Nu value it stands for.
def prov-worker-untag []: any -> any {
  let value = $in
  let type = $value | describe
  if ($type | str starts-with "record") {
    let keys = $value | columns
    if ($keys | length) == 1 {
      match $keys.0 {
        "$date" => { return ($value | get '$date' | into datetime) }
        "$duration" => { return ($value | get '$duration' | into duration) }
        "$bytes" => { return ($value | get '$bytes' | decode hex) }
        "$float" => { return ($value | get '$float' | into float) }
        "$record" => {
          mut out = {}
          for pair in ($value | get '$record') { $out = ($out | insert $pair.0 ($pair.1 | prov-worker-untag)) }
          return $out
        }
      }
    }
    mut out = $value
    for key in $keys {
      let cell = $value | get $key
      let t = $cell | describe
      if ($t | str starts-with "record") or ($t | str starts-with "list") or ($t | str starts-with "table") {
        $out = ($out | update $key ($cell | prov-worker-untag))
      }
    }
    $out
  } else if ($type | str starts-with "list") or ($type | str starts-with "table") {
    mut out = []
    for item in $value { $out = ($out | append [($item | prov-worker-untag)]) }
    $out
  } else {
    $value
  }
}

# True when `to json` says all of a value of this type (from `describe`): no dates, durations,
# filesizes, binaries, `$` keys, or parts of unknown type (any, oneof, a bare table).
def prov-worker-plain [type: string]: nothing -> bool {
  $type !~ 'date|duration|filesize|binary|\$|any|oneof|range|closure|table[^<]|table$'
}
