# The Nu-module provider interface: copy this file to
# <workspace>/providers/<name>/nulib/provider.nu and fill in the commands.
# examples/providers/folder/nulib/provider.nu is a complete provider built from it.
#
# How the core calls it
#   One long-lived Nu process per provider (nu/provider_worker.nu) loads this module once and
#   calls its commands for every `prov server …` command and every server.* workflow operation.
#   Arguments arrive as Nu values (parsed from JSON), never as Nu code: a server name such as
#   "$(rm -rf /)" or "--force" is just a string.
#   - Keep no state in the module between calls that must survive a restart: the process is
#     restarted after a timeout, a crash or a garbled answer.
#   - Printing (print, print -e, external commands' output) is fine: it goes to the worker's
#     log, never into the answers. Return values are the answers.
#   - One call at a time per provider; `timeout` in [providers.<name>] (a duration such as "30s",
#     or a number of seconds; default 30s) bounds each call. A call that takes longer is killed
#     with everything it started (the process group).
#
# What every command can read
#   $env.PROVISIONING_PROVIDER = {
#     name: "<name>"          the provider's name
#     config: {…}             [providers.<name>] of the merged configuration (its own settings)
#     workspace: "/path"      the workspace root; also the current directory during the call
#     state_dir: "/path"      the workspace's state directory (<workspace>/.provisioning)
#   }
#
# Errors
#   Raise with `error make {msg: "…"}` when the provider cannot do what was asked (quota,
#   authentication, a refused spec…). The message reaches the user as it is, under the code
#   provisioning::provider::failed. "No such server" is not an error: return nothing.
#
# Server records
#   What get-server, create-server and list-servers return: records with
#     id: string (required)   unique within the provider; the user types it: keep it simple
#     name: string            the spec's name
#     state: string           creating, running, exited, deleted or unknown
#     created: datetime       when it was created
#     …                       any fields of your own (ip, plan, region…); they are kept
#   `provider` is filled in by the core when missing.

# Every server the provider has (deleted ones left out).
export def list-servers []: nothing -> table {
  []
}

# Creates a server and returns its server record (state running, or creating when it is still
# starting). `spec` is a ServerSpec record: {name: string, plan: string, labels: record, …}
# plus whatever else the user gave. Raise an error when it cannot be created.
export def create-server [spec: record] {
  error make {msg: "create-server is not written yet"}
}

# The server record for `id`, or nothing when there is no such server.
export def get-server [id: string]: nothing -> any {
  null
}

# Deletes the server `id` and returns its last server record (state deleted), or nothing.
# The core asks get-server first, so an unknown id never gets here.
export def delete-server [id: string] {
  error make {msg: "delete-server is not written yet"}
}

# Optional: the spec fields create-server takes beyond name, plan and labels (e.g. [region,
# image]). A spec setting any other field is refused before create-server is called, with a
# "did you mean". Without it, specs hold name, plan and labels only.
# Server records should hold the spec fields they were created with (plan, labels and these):
# creating a name that exists compares the new spec with them (same: `unchanged`; different:
# refused, naming the fields, unless the caller asks to replace).
export def spec-fields []: nothing -> list<string> {
  []
}

# Optional: whether the provider can be reached (credentials, endpoint, folder…): a bool, or
# {ok: bool, message: string}. Without it, list-servers answering counts as reachable.
export def test-connectivity []: nothing -> record {
  {ok: true, message: "nothing to reach"}
}
