package notes

import (
	"encoding/json"
	"testing"
)

// The parsers read whatever a server sends: they must never panic. The
// seeds run in every `go test`; `go test -fuzz` explores further.

func FuzzNoteUnmarshal(f *testing.F) {
	f.Add(fixture(f, "notes_chunk2.json"))
	f.Add(fixture(f, "notes_chunk1.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var notes []Note
		_ = json.Unmarshal(b, &notes)
	})
}
