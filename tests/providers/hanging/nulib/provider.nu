# Test fixture: a provider that never answers in time (longer than any test's timeout), except
# get-server of the id "quick", so tests can see the restarted worker answer.
export def list-servers [] { sleep 60sec; [] }
export def create-server [spec: record] { sleep 60sec; {id: "late", name: $spec.name} }
export def get-server [id: string] {
  if $id == "quick" { return {id: "quick", name: "quick", state: "running"} }
  sleep 60sec
  null
}
export def delete-server [id: string] { sleep 60sec }
