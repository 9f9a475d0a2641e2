package nextcloud

import (
	"bytes"
	"testing"
)

// The parsers read whatever a server sends: they must never panic. The
// seeds run in every `go test`; `go test -fuzz` explores further.

func FuzzParseMultistatus(f *testing.F) {
	f.Add(fixture(f, "dav_attachments_207.xml"))
	f.Add(fixture(f, "dav_404.xml"))
	f.Add([]byte(`<d:multistatus xmlns:d="DAV:"><d:response><d:href>%zz</d:href></d:response></d:multistatus>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseMultistatus(bytes.NewReader(b))
	})
}

func FuzzErrorBodyMessage(f *testing.F) {
	for _, name := range []string{"ocs_997_v2.json", "ocs_998_v1.json", "cors_401.json", "dav_404.xml", "notes_error_exception.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"ocs":{"meta":{"statuscode":"x"},"data":{"message":1}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, msg := errorBodyMessage(b)
		if len([]rune(sanitize(msg))) > 201 {
			t.Fatal("sanitize did not truncate")
		}
	})
}
