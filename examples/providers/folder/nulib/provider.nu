# The `folder` provider: servers kept as JSON documents in a folder, one `<id>.json` each.
# Nothing runs; it shows the provider interface (nu/provider_template.nu) end to end and
# gives tests and demos a provider that needs no cloud.
#
# Configuration ([providers.folder]):
#   path     where the documents go; relative paths count from the workspace
#            (default: <state dir>/folder-servers, i.e. <workspace>/.provisioning/folder-servers)
#   timeout  how long one call may take (read by the core)
#
# A deleted server's document stays, with state `deleted` and a `deleted` date; get-server and
# list-servers no longer show it.

# Every server this provider has, deleted ones left out.
export def list-servers []: nothing -> table {
  let dir = folder
  glob ($dir | path join "*.json")
  | sort
  | each {|file| open-document $file }
  | where state != "deleted"
}

# Creates a server from a ServerSpec record and returns it as a server record.
export def create-server [spec: record]: nothing -> record {
  let name = $spec.name? | default ""
  if ($name | describe) != "string" or $name == "" {
    error make {msg: "a server needs a name"}
  }
  let dir = folder
  let id = new-id $dir
  let server = {
    id: $id
    name: $name
    state: "running"
    created: (date now)
    plan: ($spec.plan? | default "")
    labels: ($spec.labels? | default {})
    document: ($dir | path join $"($id).json")
  }
  save-document $server
  $server
}

# The server with this id, or nothing when there is none (or it was deleted).
export def get-server [id: string]: nothing -> any {
  let file = document-path $id
  if $file == null or not ($file | path exists) { return null }
  let server = open-document $file
  if $server.state == "deleted" { null } else { $server }
}

# Marks the server deleted and returns its last record; nothing when there is no such server.
export def delete-server [id: string]: nothing -> any {
  let server = get-server $id
  if $server == null { return null }
  let gone = $server | merge {state: "deleted", deleted: (date now)}
  save-document $gone
  $gone
}

# Whether the folder can be used.
export def test-connectivity []: nothing -> record {
  let dir = folder
  {ok: (($dir | path type) == "dir"), message: $"servers are kept in ($dir)"}
}

# The folder, created when missing, private (0700) like the rest of the state directory.
def folder []: nothing -> string {
  let provider = $env.PROVISIONING_PROVIDER? | default {}
  let workspace = $provider.workspace? | default "" | if $in == "" { $env.PWD } else { $in }
  let configured = $provider.config?.path? | default ""
  let dir = if $configured != "" {
    $workspace | path join $configured
  } else {
    let state = $provider.state_dir? | default "" | if $in == "" { $workspace | path join ".provisioning" } else { $in }
    $state | path join "folder-servers"
  }
  if not ($dir | path exists) {
    mkdir $dir
    ^chmod 700 $dir
  }
  $dir
}

# The document of `id`; nothing for an id that could name a file elsewhere (ids are srv- and
# hex digits, but users type them).
def document-path [id: string]: nothing -> any {
  if $id == "" or ($id | str contains "/") or ($id | str starts-with ".") { return null }
  folder | path join $"($id).json"
}

def new-id [dir: string]: nothing -> string {
  let id = "srv-" + (random uuid | str replace --all "-" "" | str substring 0..11)
  if ($dir | path join $"($id).json" | path exists) { new-id $dir } else { $id }
}

def open-document [file: string]: nothing -> record {
  let doc = open --raw $file | from json
  let doc = $doc | update created ($doc.created | into datetime)
  if $doc.deleted? == null { $doc } else { $doc | update deleted ($doc.deleted | into datetime) }
}

# Writes the document whole, then renames it into place: a reader never sees half of one.
def save-document [server: record] {
  let doc = $server | update created (stamp $server.created)
  let doc = if $doc.deleted? == null { $doc } else { $doc | update deleted (stamp $doc.deleted) }
  let tmp = $"($server.document).tmp"
  $doc | to json | save --force $tmp
  ^chmod 600 $tmp  # documents are private (0600), like every state file
  mv --force $tmp $server.document
}

def stamp [d: datetime]: nothing -> string { $d | format date "%Y-%m-%dT%H:%M:%S%.f%:z" }
