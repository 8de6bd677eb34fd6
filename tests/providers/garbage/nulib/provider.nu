# Test fixture: a provider that answers with things that are not the contract.
#   list-servers   writes non-JSON straight onto the worker's answer channel (fd 3)
#   get-server     prints garbage to stdout, then returns a string where a record belongs
#   create-server  returns a number
export def list-servers [] {
  "<html>502 Bad Gateway</html> not json\n" | save --append --raw /dev/fd/3
  []
}
export def get-server [id: string] {
  print "}{ <html>502 Bad Gateway</html>"
  "<html>502 Bad Gateway</html>"
}
export def create-server [spec: record] { 42 }
export def delete-server [id: string] { null }
