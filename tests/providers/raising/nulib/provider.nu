# Test fixture: a provider whose every command raises the error a cloud API might.
export def list-servers [] { error make {msg: "quota exceeded in region x"} }
export def create-server [spec: record] { error make {msg: "quota exceeded in region x"} }
export def get-server [id: string] { error make {msg: "quota exceeded in region x"} }
export def delete-server [id: string] { error make {msg: "quota exceeded in region x"} }
export def test-connectivity [] { error make {msg: "quota exceeded in region x"} }
