# The register step of the legacy-dns extension: the DNS record a server would get.
export def main [server: record, zone: string = "example.internal"] {
  {name: $"($server.name).($zone)", type: "A", ttl: 300}
}
