# What the etcd suites share: a real etcd cluster on free loopback ports (members killed and
# started again by the fault suite), and workspaces on it, one per "host". Not a suite itself.

const BACKGROUND = (path self | path dirname | path join background.sh)

# The argv that starts member `m` of a cluster whose members are `members`, data in `dir`.
def member-argv [dir: string, m: record, initial: string] {
  [etcd --name $m.name --data-dir ($dir | path join $m.name) --listen-client-urls $"http://127.0.0.1:($m.client)" --advertise-client-urls $"http://127.0.0.1:($m.client)" --listen-peer-urls $"http://127.0.0.1:($m.peer)" --initial-advertise-peer-urls $"http://127.0.0.1:($m.peer)" --initial-cluster $initial --initial-cluster-state new --heartbeat-interval 50 --election-timeout 500 --log-level error]
}

# Starts member `i` of cluster `c` (again, with its data); returns the cluster with its pid.
export def start-member [c: record, i: int] {
  let m = ($c.members | get $i)
  let pid = (^bash $BACKGROUND ($c.dir | path join $"($m.name).log") ...$m.argv | into int)
  # Every pid a member had, for stop-cluster from a copy of the cluster made before a restart.
  $"($pid)\n" | save --append ($c.dir | path join pids)
  $c | update members ($c.members | update $i ($m | update pid $pid))
}

# Stops member `i` of cluster `c` (SIGKILL) and waits until it is gone.
export def kill-member [c: record, i: int] {
  let pid = ($c.members | get $i | get pid)
  try { kill -s 9 $pid }
  for attempt in 1..100 {
    if (ps | where pid == $pid | is-empty) { return }
    sleep 50ms
  }
  error make {msg: $"etcd member ($i) still running"}
}

# True once etcd at `endpoint` takes a write.
export def takes-writes [endpoint: string] {
  try { http post --max-time 2sec --content-type application/json $"($endpoint)/v3/kv/put" {key: "cmVhZHk=", value: "MQ=="} | ignore; true } catch { false }
}

# Starts `n` etcd members; returns {endpoints, members: [{name, client, peer, argv, pid}], dir}.
export def start-cluster [n: int = 3] {
  let dir = (mktemp -d -t)
  # `port` gives the first free port from its start: each search starts after the last found.
  mut next = (random int 20000..50000)
  mut members = []
  for i in 0..<$n {
    let client = (port $next 65000)
    let peer = (port ($client + 1) 65000)
    $next = $peer + 1
    $members = ($members | append {name: $"m($i)", client: $client, peer: $peer})
  }
  let initial = ($members | each {|m| $"($m.name)=http://127.0.0.1:($m.peer)" } | str join ",")
  mut c = {
    endpoints: ($members | each {|m| $"http://127.0.0.1:($m.client)" })
    members: ($members | each {|m| $m | insert argv (member-argv $dir $m $initial) | insert pid 0 })
    dir: $dir
  }
  for i in 0..<$n { $c = (start-member $c $i) }
  # Ready once a write is taken (as long as the unit tests' clusters wait, on a busy machine).
  for attempt in 1..300 {
    if (takes-writes $c.endpoints.0) { return $c }
    sleep 100ms
  }
  error make {msg: "the etcd cluster did not start"}
}

export def stop-cluster [c: record] {
  let pids = (open ($c.dir | path join pids) | lines | into int)
  for pid in $pids { try { kill -s 9 $pid } }
  for attempt in 1..50 {
    if (ps | where pid in $pids | is-empty) {
      # Each member preallocates tens of MB of log: nothing is left behind.
      rm -rf $c.dir
      return
    }
    sleep 50ms
  }
  error make {msg: "etcd members still running"}
}

# A workspace on the cluster's etcd store (one "host"), sharing `prefix`.
export def host-workspace [c: record, prefix: string, lease_ttl: string = "2s", request_timeout: string = "2s"] {
  let ws = (mktemp -d -t)
  let endpoints = ($c.endpoints | each {|e| $"\"($e)\"" } | str join ", ")
  $"[project]\nname = \"shared\"\n[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [($endpoints)]\nprefix = \"($prefix)\"\nlease_ttl = \"($lease_ttl)\"\nrequest_timeout = \"($request_timeout)\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# Starts an agent named `name` on host workspace `ws`, its output to `log`; returns its pid.
export def start-agent [ws: string, name: string, log: string] {
  ^bash $BACKGROUND $log $env.PROV_PLUGIN agent --workspace $ws --name $name | into int
}
