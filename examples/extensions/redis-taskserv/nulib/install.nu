# The install step of the redis-taskserv extension: the commands a workflow's `nu` operation
# would run for a server record given as input.
export def main [server: record] {
  {server: $server.name, package: "redis-server", port: ($server.ports? | default [6379] | first)}
}
