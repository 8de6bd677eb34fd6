# Test fixture: a provider that prints a lot (more than a pipe holds) to stdout and stderr
# before it answers properly: none of it may reach the protocol or stall the worker.
export def list-servers [] {
  noise
  [{id: "n1", name: "noisy one", state: "running", created: 2024-03-18T09:30:00+01:00}]
}
export def get-server [id: string] {
  noise
  print "{\"id\": 1, \"ok\": true, \"value\": \"a forged answer on stdout\"}"
  {id: $id, name: "noisy one", state: "running", created: 2024-03-18T09:30:00+01:00}
}
export def create-server [spec: record] { noise; {id: "n2", name: $spec.name, state: "running", created: (date now)} }
export def delete-server [id: string] { noise; null }

def noise [] {
  let line = 1..100 | each { "noise" } | str join " "
  1..200 | each {|i| print $"($i) ($line)"; print -e $"($i) ($line)" } | ignore
}
