package nextcloud

import (
	"strings"
	"testing"
)

func TestDAVSegments(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"plain", "/files/alice/a/b", []string{"files", "alice", "a", "b"}},
		{"double slashes", "//files///alice//", []string{"files", "alice"}},
		{"encoded space", "/files/alice/a%20b", []string{"files", "alice", "a b"}},
		{"encoded slash separates", "/files/alice%2Fx", []string{"files", "alice", "x"}},
		{"encoded dots stay a segment", "/files/alice/%2e%2e/bob", []string{"files", "alice", "..", "bob"}},
		{"malformed escape kept", "/files/alice/100%", []string{"files", "alice", "100%"}},
		{"utf8", "/files/alice/%C3%BCber", []string{"files", "alice", "über"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := davSegments(tc.in); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("davSegments(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEncodePath(t *testing.T) {
	if got := encodePath("/remote.php/dav/files/alice/a b+c&d/(1)~x@y:z"); got != "/remote.php/dav/files/alice/a%20b%2Bc%26d/(1)~x@y:z" {
		t.Fatalf("encodePath = %q", got)
	}
}

// FuzzPathRoundTrip: an href the fake writes always decodes back to the
// same segments, so clients can follow every href.
func FuzzPathRoundTrip(f *testing.F) {
	for _, s := range []string{"a/b", "a b/c%d", "über/../x", "%2F", "a\x00b", "(x)~@:+&="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs := splitPath(p)
		enc := encodePath("/" + strings.Join(segs, "/"))
		if got := davSegments(enc); strings.Join(got, "/") != strings.Join(segs, "/") {
			t.Fatalf("%q → %q → %q", p, enc, got)
		}
		if strings.ContainsAny(enc, " \"<>\\^`{|}%") && !strings.Contains(enc, "%") {
			t.Fatalf("unencoded character in %q", enc)
		}
	})
}
