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
  print {shown: (prov config get providers.docstore.api_token), with_flag: (prov config get --show-secrets providers.docstore.api_token)}

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

  section "A mistyped key: a labeled error with a suggestion"
  try { prov config get providers.locall.timeout } catch {|e| print $e.rendered? }
}
