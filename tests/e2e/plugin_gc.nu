# Nushell's plugin GC against the plugin's state: while the TTL cache holds live entries (and
# provider workers are warm) the plugin asks not to be stopped (GcDisabled), so a pause longer
# than `plugin_gc`'s stop_after loses nothing; once they expire it lets go, and Nushell stops it.
use std/assert
use harness.nu *

def new-workspace [ttl: string] {
  let ws = (mktemp -d)
  let providers = ($env.PROV_REPO | path join "examples" "providers")
  $"[paths]\nproviders = \"($providers)\"\n[providers]\ncache_ttl = \"($ttl)\"\n" | save ($ws | path join "config.defaults.toml")
  $ws
}

# This plugin's row of `plugin list`; `running` is its state across Nu versions (0.107 has
# is_running, later ones status).
def me [] {
  let row = (plugin list | where name == provisioning | first)
  let running = if "status" in ($row | columns) { $row.status == "running" } else { $row.is_running }
  {running: $running, pid: $row.pid}
}

# Waits (polling, at most `limit`) until the plugin is not running; true when it stopped.
def stops-within [limit: duration] {
  let start = (date now)
  while ((date now) - $start) < $limit {
    if not (me).running { return true }
    sleep 100ms
  }
  false
}

def main [] {
  run-tests "plugin_gc" {
    "an idle plugin with nothing to keep is stopped after stop_after": {||
      $env.config.plugin_gc = {default: {enabled: true, stop_after: 1sec}}
      prov version | ignore
      assert (me).running
      assert (stops-within 20sec) "the plugin was not stopped"
    }
    "live cache entries survive a pause longer than stop_after, then the plugin is let go": {||
      cd (new-workspace "4sec")
      $env.config.plugin_gc = {default: {enabled: true, stop_after: 1sec}}
      prov provider list | ignore
      let before = (me)
      assert $before.running
      sleep 2500ms
      # Still the same process, and its cache still holds the folder provider's answer.
      assert equal (me).pid $before.pid
      let stats = (prov cache stats)
      assert equal $stats.live 1
      assert equal $stats.stores 1
      # The entry expires at 4 s and the warm worker's time with it: then Nushell stops the plugin.
      assert (stops-within 30sec) "the plugin was never let go"
      assert equal (prov cache stats).entries 0
    }
  }
}
