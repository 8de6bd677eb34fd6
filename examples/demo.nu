# The tour `make demo` runs: the example workspace through the real plugin.
# Run from examples/: nu -n --plugins '[../build/bin/nu_plugin_provisioning]' demo.nu

def section [title: string] { print $"\n(ansi green_bold)== ($title)(ansi reset)" }

def main [] {
  section "prov version: who is talking to whom"
  print (prov version)

  section "prov config: every layer merged and interpolated"
  let cfg = (prov config)
  print ($cfg | get project)
  print ($cfg | get providers | table -e)

  section "Secrets are redacted unless --show-secrets"
  print {shown: (prov config get providers.folder.api_token), with_flag: (prov config get --show-secrets providers.folder.api_token)}

  section "prov config sources: where each key came from (a stream; the first 12)"
  print (prov config sources --env dev | first 12 | update source {|r| $r.source | path basename } | select key layer source)

  section "prov config --env dev: config.dev.toml layered on top"
  print ([
    [key, default, dev];
    [workflow.parallel, (prov config get workflow.parallel), (prov config --env dev | get workflow.parallel)]
    [providers.local.timeout, (prov config get providers.local.timeout), (prov config --env dev | get providers.local.timeout)]
  ])

  section "A runtime record overrides everything, for this call only"
  print ({workflow: {parallel: 1}} | prov config | get workflow)

  section "Typed values: TOML types arrive as Nu types"
  print (prov config sources | where key starts-with "project" | select key value | insert type {|r| $r.value | describe })

  section "prov workflow plan: the example deployment's order and levels"
  print (prov workflow plan workflows/deploy.toml)

  section "prov workflow graph --format mermaid"
  print (prov workflow graph --format mermaid workflows/deploy.toml)

  section "prov workflow graph --format svg: a picture, laid out by Graphviz's dot"
  let svg = (try { prov workflow graph --format svg workflows/deploy.toml } catch {|e| $e.msg })
  print $"($svg | str length) bytes, starting ($svg | lines | where $it =~ '<svg' | first | str substring 0..40)…  \(docs/deploy-workflow.svg is this picture\)"

  section "prov workflow run: events stream in as they happen"
  let events = (prov workflow run workflows/deploy.toml)
  print ($events | select type operation? attempt? duration? | update duration {|e| $e.duration? })
  let summary = ($events | last)
  print ($summary | select workflow_id type status succeeded failed duration)
  print "captured output of `count-servers`:"
  print (prov workflow logs $summary.workflow_id --output count-servers | get line | str join "\n")

  section "A failing workflow: retry, failure, rollback newest first"
  print (prov workflow run --allow-failure workflows/broken.toml | select type operation? message? | update message {|e| $e.message? | default "" | str substring 0..60 })

  section "prov workflow list: what ran here"
  print (prov workflow list | first 3 | select workflow_id name status succeeded)

  section "prov provider list: the built-in local provider and a Nu-module provider"
  print (prov provider list | select name kind available default message)

  section "prov server create: a local server is a supervised process that outlives this session"
  let web = (prov server create demo-web --command [sleep 600] --labels {role: demo})
  print ($web | select id name state pid command)
  sleep 200ms
  print (prov server get $web.id | select state pid uptime logs)
  print (prov server delete $web.id | select id state)

  section "A Nu-module provider (examples/providers/folder), kept warm in one nu worker"
  let db = ({name: db-1, plan: small, labels: {tier: data}} | prov server create --provider folder)
  print ($db | select id name provider state plan)
  print (prov server list --provider folder | select id name state)
  print (prov server delete $db.id --provider folder | select id state)

  section "prov extension list: validated manifests; only valid, compatible ones are used"
  print (prov extension list | select name version kind valid compatible problems)
  print (prov extension get redis-taskserv | select name compatibility entry_points)

  section "prov cache stats: provider availability is cached"
  print (prov cache stats)

  section "prov infra: declared servers (infra/servers.toml), planned, applied, changed, destroyed"
  let ports = {api_port: (port), web_port: (port)}   # free ports over the file's [vars]
  print (prov infra plan infra/servers.toml --vars $ports | select action name provider reason)
  print (prov infra apply infra/servers.toml --vars $ports | select type operation? message? | update message {|e| $e.message? | default "" })
  print (prov infra state | each {|m| {name: $m.name, id: $m.id, depends_on: ($m.depends_on | str join ", "), API_URL: $m.spec.env?.API_URL?} })
  print $"the API answers on ($ports.api_port): (http get $'http://127.0.0.1:($ports.api_port)/' | str substring 0..40)…"

  section "prov infra plan again: nothing to do (an apply now would start nothing)"
  print (prov infra plan infra/servers.toml --vars $ports | select action name)

  section "A label change is planned as an update in place"
  let relabelled = (open infra/servers.toml | update servers.web.labels.tier front)
  print ($relabelled | prov infra plan --vars $ports | where action != noop | each {|r|
    {action: $r.action, name: $r.name, reason: $r.reason,
     changes: ($r.changes | each {|c| $"($c.field): ($c.before | to nuon) -> ($c.after | to nuon)" } | str join "; ")} })

  section "prov infra drift, then prov infra destroy: dependents first, nothing left running"
  print (prov infra drift)
  print (prov infra destroy | where type == resource_deleted | get resource.name)
  print (prov infra state)

  section "A mistyped key: a labeled error with a suggestion"
  try { prov config get providers.locall.timeout } catch {|e| print $e.rendered? }
}
