# Security through real nu: hostile strings reach programs literally and nothing else runs;
# configured secrets appear in no output, event, log, journal or state file; state files are
# 0600 and folders 0700; the state directory refuses symlinks that lead out of the workspace.
# ctest-labels: security
use std/assert
use harness.nu *

# Strings a shell would act on. Each would create `pwned` in the current directory if anything
# handed it to a shell, or took it for a flag of ours.
const HOSTILE = [
  "a; touch pwned"
  "$(touch pwned)"
  "`touch pwned`"
  "\"; touch pwned; echo \""
  "'; touch pwned; echo '"
  "line\ntouch pwned"
  "--help"
  "-rf"
  "&& touch pwned || touch pwned | touch pwned > pwned"
  "${IFS}touch${IFS}pwned"
]

# How printf '[%s]' prints the strings: each one literally, in brackets.
def bracketed [values: list<string>] { $values | each {|v| $"[($v)]" } | str join }

# Configured secrets: one per place a secret can be configured, each unique to this run.
def secrets [] {
  let tag = (random chars --length 10)
  {
    provider: $"tok-S3CR3T-($tag)-provider"
    table: $"pw-S3CR3T-($tag)-table"
    env: $"pw-S3CR3T-($tag)-env"
    user: $"key-S3CR3T-($tag)-user"
  }
}

# A workspace whose config holds every secret of `s`, and the example `folder` provider.
def new-workspace [s: record] {
  let ws = (mktemp -d)
  let providers = ($env.PROV_REPO | path join "examples" "providers")
  [
    "[paths]", $"providers = \"($providers)\""
    "[providers.folder]", $"api_token = \"($s.provider)\""
    "[secrets]", $"db = \"($s.table)\""
    "[app]", "password = \"{{env.APP_PW}}\"", "name = \"plain\""
  ] | str join "\n" | save ($ws | path join "config.defaults.toml")
  $"[deploy]\nssh_key = \"($s.user)\"\n" | save ($ws | path join "config.user.toml")
  $ws
}

# Every file under `dir` (hidden ones included), with its type and permission bits.
def tree [dir: string] {
  ^find $dir -printf "%y %m %p\n" | lines | parse "{type} {mode} {path}"
}

# The files under `dir` whose bytes contain `needle`.
def files-holding [dir: string, needle: string] {
  let found = (do { ^grep -rlF -e $needle $dir } | complete)
  $found.stdout | lines
}

# Waits until workflow `id` has ended; returns its status.
def wait-final [id: string] {
  for _ in 1..600 {
    let st = (prov workflow status $id)
    if $st.status not-in [pending running] { return $st }
    sleep 50ms
  }
  error make {msg: $"workflow ($id) did not end"}
}

$env.APP_PW = "unset"
run-tests "security" {
  "injection: hostile names, arguments, env values and config values are passed literally": {||
    let s = (secrets)
    let ws = (new-workspace $s)
    cd $ws
    let expected = (bracketed $HOSTILE)
    let vars = ($HOSTILE | enumerate | reduce --fold {} {|it, acc| $acc | insert $"H($it.index)" $it.item })
    # A command operation: argv and env values; a nu operation: input as data; config.set: a
    # config value written to TOML and read back.
    let ops = [
      {id: argv, kind: command, run: (["printf" "[%s]"] ++ $HOSTILE)}
      {id: env, kind: command, run: [printenv H0 H1 H2 H3 H4 H5 H6 H7 H8 H9], env: $vars}
      {id: nu, kind: nu, code: '$in | to json -r | print', input: $HOSTILE}
      {id: config, kind: config.set, key: "app.hostile", value: $HOSTILE}
    ]
    let events = ({name: inject, operations: $ops} | prov workflow run)
    assert equal ($events | last | get type) workflow_completed
    let id = ($events | first | get workflow_id)
    # What an operation printed: its output's text without the first and last line, which frame it.
    let log = {|op| prov workflow logs $id --output $op --raw | lines | skip 1 | drop 1 | str join "\n" }
    assert equal (do $log argv) $expected
    assert equal (do $log env) ($HOSTILE | str join "\n")
    assert equal (do $log nu | from json) $HOSTILE
    assert equal (prov config get app.hostile) $HOSTILE
    # A local server: its name, its command's arguments and its variables.
    let srv = (prov server create ($HOSTILE | str join " ") --command (["sh" "-c" 'printf "[%s]" "$@"; printenv X' "sh"] ++ $HOSTILE) --vars {X: ($HOSTILE | str join "|")})
    assert equal $srv.name ($HOSTILE | str join " ")
    sleep 300ms
    let printed = (open --raw (prov server get $srv.id | get logs.stdout) | decode utf-8)
    prov server delete $srv.id | ignore
    assert equal $printed ($expected + ($HOSTILE | str join "|") + "\n")
    # A Nu-module provider: the name travels as data.
    for h in $HOSTILE {
      let f = ({name: $h, plan: small} | prov server create --provider folder)
      assert equal $f.name $h
      assert equal (prov server get $f.id --provider folder | get name) $h
    }
    # Config values interpolated from the environment stay data.
    with-env {APP_PW: ($HOSTILE | str join "")} {
      assert equal (prov config get app.password --show-secrets) ($HOSTILE | str join "")
    }
    assert equal (glob ($ws | path join "**" "pwned")) []
    assert not ("pwned" | path exists)
  }

  "secrets: no configured secret in any output, event, log, journal or state file": {||
    let s = (secrets)
    let ws = (new-workspace $s)
    cd $ws
    with-env {APP_PW: $s.env} {
      let ops = [
        {id: first, kind: command, run: [true]}
        {id: set-plain, kind: config.set, key: "app.name", value: "changed", depends_on: [first]}
        {id: set-secret, kind: config.set, key: "app.password", value: "replaced", depends_on: [first]}
        {id: set-table, kind: config.set, key: "secrets.db", value: "replaced-too", depends_on: [first]}
        {id: set-key, kind: config.set, key: "deploy.ssh_key", value: "replaced-three", depends_on: [first]}
        {id: hello, kind: nu, code: 'print "hello"', depends_on: [first]}
        {id: server, kind: server.create, provider: folder, server: {name: wf-srv, plan: small}}
        {id: boom, kind: command, run: [false], depends_on: [set-plain set-secret set-table set-key hello server]}
      ]
      # Everything a user sees: command output, streams, errors, as text.
      let outputs = [
        (prov config | to nuon)
        (prov config sources | to nuon)
        (prov config get providers.folder | to nuon)
        (prov config get secrets | to nuon)
        (prov config get app.password | to nuon)
        (prov config get deploy.ssh_key | to nuon)
        (prov provider list | to nuon)
        ({name: direct, plan: small} | prov server create --provider folder | to nuon)
        (prov server list --provider folder | to nuon)
        ({name: rollback-secrets, settings: {retry: {attempts: 1}}, operations: $ops} | prov workflow run --allow-failure | to nuon)
      ]
      # Each change of configuration is an event naming the key, never the value.
      let changes = (prov workflow list | first | get workflow_id | prov workflow logs $in | where type == configuration_changed)
      assert equal ($changes | get resource.key | sort) [app.name app.name app.password app.password deploy.ssh_key deploy.ssh_key secrets.db secrets.db]
      # The rollback put back what the workflow replaced, secrets included.
      assert equal (open ($ws | path join config.user.toml) | get app?.password? | default "absent") "absent"
      assert equal (open ($ws | path join config.user.toml) | get deploy.ssh_key) $s.user
      assert equal (prov config get secrets.db --show-secrets) $s.table
      let sub = ({name: submitted, operations: ($ops | where id != boom)} | prov workflow submit)
      let final = (wait-final $sub.workflow_id)
      assert equal $final.status completed
      let ids = (prov workflow list | get workflow_id)
      let more = ($ids | each {|id| [
        (prov workflow status $id | to nuon)
        (prov workflow logs $id | to nuon)
        (prov workflow logs $id --output hello | to nuon)
      ] } | flatten)
      let all = ($outputs ++ $more ++ [(prov cache stats | to nuon)] | str join "\n")
      for secret in ($s | values) {
        assert not ($all | str contains $secret) $"a secret shows in the commands' output: ($secret)"
        # The places allowed, each as private as the config file it came from: what a config.set
        # replaced, kept for its rollback (0600, in the workflow's 0700 undo/ folder), and the
        # secret values of the configuration a workflow runs with (0600 config-secrets.json).
        let private = (files-holding ($ws | path join .provisioning) $secret | where {|f| ($f | path dirname | path basename) == "undo" or ($f | path basename) == "config-secrets.json" })
        for f in $private { assert equal (ls -l $f | get 0.mode) "rw-------" $f }
        let holders = (files-holding ($ws | path join .provisioning) $secret | where {|f| $f not-in $private })
        assert equal $holders [] $"a secret is in state files: ($holders | str join ', ')"
      }
      assert ($all | str contains "<redacted>")
      let kept = (files-holding ($ws | path join .provisioning) $s.user)
      assert (($kept | length) > 0) "the replaced secret was not kept for rollback"
      assert equal ($kept | each {|f| ^stat -c "%a" $f } | uniq) ["600"]
    }
  }

  "state files are 0600 and folders 0700, whatever the umask": {||
    let s = (secrets)
    let ws = (new-workspace $s)
    cd $ws
    let ops = [
      {id: a, kind: command, run: [echo hi]}
      {id: b, kind: nu, code: 'print "b"', depends_on: [a]}
      {id: c, kind: server.create, provider: folder, server: {name: perm, plan: small}}
      {id: d, kind: server.create, provider: local, server: {name: perm-local, command: [true]}}
    ]
    let events = ({name: perms, operations: $ops} | prov workflow run)
    assert equal ($events | last | get type) workflow_completed
    let sub = ({name: perms-bg, operations: [{id: x, kind: command, run: [true]}]} | prov workflow submit)
    wait-final $sub.workflow_id | ignore
    prov server list | ignore
    let entries = (tree ($ws | path join .provisioning))
    assert (($entries | length) > 10) "the state directory is nearly empty"
    let wrong = ($entries | where {|e| ($e.type == "d" and $e.mode != "700") or ($e.type == "f" and $e.mode != "600") or ($e.type == "s" and $e.mode != "600") })
    assert equal $wrong [] $"wrong modes: ($wrong | to nuon)"
    assert equal ($entries | where type not-in [d f s]) [] "state holds something other than files, folders and sockets"
  }

  "the state directory refuses symlinks that lead out of the workspace": {||
    let outside = (mktemp -d)
    # .provisioning itself a link out of the workspace
    let ws = (new-workspace (secrets))
    ^ln -s $outside ($ws | path join .provisioning)
    cd $ws
    let e = (expect-error { {name: x, operations: [{id: a, kind: command, run: [true]}]} | prov workflow run })
    assert equal $e.code "provisioning::state::unsafe_path"
    assert ($e.msg | str contains ".provisioning") $e.msg
    let e2 = (expect-error { prov workflow list })
    assert equal $e2.code "provisioning::state::unsafe_path"
    # workflows/ inside it a link out of the workspace
    let ws2 = (new-workspace (secrets))
    mkdir ($ws2 | path join .provisioning)
    ^chmod 700 ($ws2 | path join .provisioning)
    ^ln -s $outside ($ws2 | path join .provisioning workflows)
    cd $ws2
    let e3 = (expect-error { {name: x, operations: [{id: a, kind: command, run: [true]}]} | prov workflow run })
    assert equal $e3.code "provisioning::state::unsafe_path"
    # paths.state through a link out of the workspace
    let ws3 = (new-workspace (secrets))
    ^ln -s $outside ($ws3 | path join elsewhere)
    "\n[paths]\nstate = \"elsewhere/state\"\n" | save --append ($ws3 | path join config.user.toml)
    cd $ws3
    let e4 = (expect-error { prov workflow list })
    assert equal $e4.code "provisioning::state::unsafe_path"
    # nothing was written through any of them
    assert equal (ls -a $outside | length) 0
    # a link that stays inside the workspace is fine
    let ws4 = (new-workspace (secrets))
    mkdir ($ws4 | path join real-state)
    ^ln -s real-state ($ws4 | path join .provisioning)
    cd $ws4
    let ok = ({name: x, operations: [{id: a, kind: command, run: [true]}]} | prov workflow run)
    assert equal ($ok | last | get type) workflow_completed
  }
}
