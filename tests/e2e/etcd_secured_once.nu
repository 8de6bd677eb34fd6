# The shared store on a secured etcd, through real nu: one that serves clients over TLS only
# and asks them for a certificate (a test authority made with openssl), and one that
# authenticates users; workspaces name the files and the user as the README says.
# ctest-labels: e2e;fault
use std/assert
use harness.nu *

const BACKGROUND = (path self | path dirname | path join background.sh)

# A test authority and certificates it signed, in `dir`: server.pem (for 127.0.0.1; etcd's
# gateway also presents it as a client) and client.pem, each with its -key.pem.
def make-certs [dir: string] {
  cd $dir
  ^openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=prov e2e CA" -keyout ca-key.pem -out ca.pem out+err> /dev/null
  for cert in [[name ext]; [server "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n"] [client "extendedKeyUsage=clientAuth\n"]] {
    ^openssl req -newkey rsa:2048 -nodes -subj $"/CN=($cert.name)" -keyout $"($cert.name)-key.pem" -out $"($cert.name).csr" out+err> /dev/null
    $cert.ext | save $"($cert.name).ext"
    ^openssl x509 -req -in $"($cert.name).csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 1 -extfile $"($cert.name).ext" -out $"($cert.name).pem" out+err> /dev/null
  }
}

# One etcd member on https://127.0.0.1:<free port>; returns {url, pid, certs}.
def start-tls-etcd [] {
  let dir = (mktemp -d)
  let certs = ($dir | path join certs)
  mkdir $certs
  make-certs $certs
  let client = (port (random int 20000..50000) 65000)
  let peer = (port ($client + 1) 65000)
  let url = $"https://127.0.0.1:($client)"
  let pid = (^bash $BACKGROUND ($dir | path join etcd.log) etcd --name m0 --data-dir ($dir | path join data) --listen-client-urls $url --advertise-client-urls $url --listen-peer-urls $"http://127.0.0.1:($peer)" --initial-advertise-peer-urls $"http://127.0.0.1:($peer)" --initial-cluster $"m0=http://127.0.0.1:($peer)" --cert-file ($certs | path join server.pem) --key-file ($certs | path join server-key.pem) --trusted-ca-file ($certs | path join ca.pem) --client-cert-auth --log-level error | into int)
  for attempt in 1..100 {
    # (An external's exit status counts only when it ends the pipeline: hence `complete`.)
    let put = (do { ^curl -sf --cacert ($certs | path join ca.pem) --cert ($certs | path join client.pem) --key ($certs | path join client-key.pem) -d '{"key": "cmVhZHk=", "value": "MQ=="}' $"($url)/v3/kv/put" } | complete)
    if $put.exit_code == 0 { return {url: $url, pid: $pid, certs: $certs} }
    sleep 100ms
  }
  kill -s 9 $pid
  error make {msg: "the TLS etcd did not start"}
}

def stop-tls-etcd [e: record] {
  kill -s 9 $e.pid
  for attempt in 1..50 {
    if (ps | where pid == $e.pid | is-empty) { return }
    sleep 50ms
  }
  error make {msg: "etcd still running"}
}

# A workspace on the TLS etcd, its certificates copied into certs/ and named by relative paths.
def tls-workspace [e: record, prefix: string, files: string] {
  let ws = (mktemp -d)
  cp -r $e.certs ($ws | path join certs)
  $"[project]\nname = \"tls\"\n[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"($e.url)\"]\nprefix = \"($prefix)\"\nlease_ttl = \"2s\"\n($files)" | save ($ws | path join "config.defaults.toml")
  $ws
}

const CLIENT_FILES = "ca_file = \"certs/ca.pem\"\ncert_file = \"certs/client.pem\"\nkey_file = \"certs/client-key.pem\"\n"

def three [effects: string] {
  {
    name: "three"
    operations: [
      {id: a, kind: command, run: [bash -c 'echo a >> "$1"' _ $effects]}
      {id: b, kind: command, run: [bash -c 'echo b >> "$1"' _ $effects], depends_on: [a]}
      {id: c, kind: command, run: [bash -c 'echo c >> "$1"' _ $effects], depends_on: [b]}
    ]
  }
}

# One plain etcd member with authentication on, a user `ci` (password `ci-secret-pw`) that may
# read and write under /e2e/; returns {url, pid}.
def start-auth-etcd [] {
  let dir = (mktemp -d)
  let client = (port (random int 20000..50000) 65000)
  let peer = (port ($client + 1) 65000)
  let url = $"http://127.0.0.1:($client)"
  let pid = (^bash $BACKGROUND ($dir | path join etcd.log) etcd --name m0 --data-dir ($dir | path join data) --listen-client-urls $url --advertise-client-urls $url --listen-peer-urls $"http://127.0.0.1:($peer)" --initial-advertise-peer-urls $"http://127.0.0.1:($peer)" --initial-cluster $"m0=http://127.0.0.1:($peer)" --log-level error | into int)
  for attempt in 1..100 {
    if (do { ^etcdctl --endpoints $url put ready 1 } | complete).exit_code == 0 { break }
    sleep 100ms
  }
  for args in [[user add root:rootpw] [user add ci:ci-secret-pw] [role add prov] [role grant-permission prov --prefix=true readwrite /e2e/] [user grant-role ci prov] [auth enable]] {
    let out = (do { ^etcdctl --endpoints $url ...$args } | complete)
    if $out.exit_code != 0 { kill -s 9 $pid; error make {msg: $"etcdctl ($args | str join ' '): ($out.stderr)"} }
  }
  {url: $url, pid: $pid}
}

def main [] {
  run-tests "etcd_secured" {
    "runs, lists and agents work over TLS with a client certificate, files relative to the workspace": {||
      let e = (start-tls-etcd)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        let a = (tls-workspace $e $prefix $CLIENT_FILES)
        let b = (tls-workspace $e $prefix $CLIENT_FILES)
        let effects = (mktemp)
        # TLS is loaded by the first https:// connection, not at start.
        prov version | ignore
        let pid = (plugin list | where name == provisioning | get 0.pid)
        assert not (open $"/proc/($pid)/maps" | str contains "libssl") "libssl loaded at start"
        cd $a
        let events = (three $effects | prov workflow run)
        assert equal ($events | last | get type) workflow_completed
        assert equal (open $effects | lines) [a b c]
        assert equal (plugin list | where name == provisioning | get 0.pid) $pid
        assert (open $"/proc/($pid)/maps" | str contains "libssl") "libssl not loaded for https://"
        let id = ($events | first | get workflow_id)
        cd $b
        assert equal (prov workflow list | get workflow_id) [$id]
        # A workflow submitted on one host is run by an agent of the other: the detached
        # runner and the agent reach etcd with the same files.
        let more = (mktemp)
        let log = (mktemp)
        let agent = (^bash $BACKGROUND $log $env.PROV_PLUGIN agent --workspace $b --name tls-b | into int)
        try {
          cd $a
          let submitted = (three $more | prov workflow submit | get workflow_id)
          let final = (prov workflow wait $submitted)
          assert equal $final.status completed
          assert equal (open $more | lines) [a b c]
          assert equal (prov agent list | get name) [tls-b]
        } catch {|err| kill -s 9 $agent; error make {msg: $err.msg} }
        kill -s 15 $agent
      } catch {|err| stop-tls-etcd $e; error make {msg: $err.msg} }
      stop-tls-etcd $e
    }

    "a server the workspace does not trust, or no client certificate, is refused saying why": {||
      let e = (start-tls-etcd)
      try {
        let prefix = $"/e2e/(random chars -l 8)"
        # No ca_file: the system's authorities, which do not know the test one.
        cd (tls-workspace $e $prefix "cert_file = \"certs/client.pem\"\nkey_file = \"certs/client-key.pem\"\n")
        let untrusted = (expect-error {|| prov workflow list })
        assert ($untrusted.msg | str contains $"TLS with ($e.url) failed: its certificate does not verify") $untrusted.msg
        cd (tls-workspace $e $prefix "ca_file = \"certs/ca.pem\"\n")
        let anonymous = (expect-error {|| prov workflow list })
        assert ($anonymous.msg | str contains $"TLS with ($e.url) failed") $anonymous.msg
        assert ($anonymous.msg | str contains "bad certificate") $anonymous.msg
        cd (tls-workspace $e $prefix "ca_file = \"certs/none.pem\"\n")
        let missing = (expect-error {|| prov workflow list })
        assert ($missing.msg | str contains "state.etcd.ca_file names '") $missing.msg
        assert ($missing.msg | str contains "certs/none.pem', which is not a file") $missing.msg
      } catch {|err| stop-tls-etcd $e; error make {msg: $err.msg} }
      stop-tls-etcd $e
    }

    "a user and password authenticate; the password is redacted and kept only in a private file": {||
      let e = (start-auth-etcd)
      try {
        let ws = (mktemp -d)
        $"[project]\nname = \"auth\"\n[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"($e.url)\"]\nprefix = \"/e2e/auth\"\nuser = \"ci\"\npassword = \"ci-secret-pw\"\n" | save ($ws | path join "config.defaults.toml")
        cd $ws
        let effects = (mktemp)
        let events = (three $effects | prov workflow run)
        assert equal ($events | last | get type) workflow_completed
        assert equal (open $effects | lines) [a b c]
        assert equal (prov workflow list | length) 1
        assert equal (prov config get state.etcd.password) "<redacted>"
        assert equal (prov config get state.etcd.user) ci
        assert not (prov config | to json | str contains "ci-secret-pw")
        assert not ($events | to json | str contains "ci-secret-pw")
        # This host's state folder holds the password only in the runner's settings file, 0600.
        let holding = (ls -a ($ws | path join .provisioning "**" "*" | into glob) | where type == file | where {|f| open --raw $f.name | into binary | bytes index-of ("ci-secret-pw" | into binary) | $in >= 0 } | get name | path basename)
        assert equal $holding [etcd-store.json]
        assert equal (ls -l ($ws | path join .provisioning etcd-store.json) | get 0.mode) "rw-------"
        # A wrong password is refused naming the user, not showing the password.
        "[state.etcd]\npassword = \"not-it\"\n" | save ($ws | path join "config.user.toml")
        let refused = (expect-error {|| prov workflow list })
        assert ($refused.msg | str contains "etcd refused the user 'ci'") $refused.msg
        assert ($refused.msg | str contains "authentication failed") $refused.msg
        assert not ($refused.msg | str contains "not-it") $refused.msg
        assert ($refused.help | str contains "state.etcd.password") $refused.help
      } catch {|err| kill -s 9 $e.pid; error make {msg: $err.msg} }
      kill -s 9 $e.pid
    }
  }
}
