package nextcloud_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
)

var fuzzMethods = []string{"GET", "HEAD", "PUT", "PROPFIND", "PROPPATCH", "MKCOL", "DELETE", "MOVE", "COPY", "SEARCH", "REPORT", "OPTIONS", "LOCK"}

// FuzzDAVPaths drives the whole handler with arbitrary paths, destinations,
// depths and bodies as alice. Whatever comes in: no 500, no panic, and
// never a byte of bob's data.
func FuzzDAVPaths(f *testing.F) {
	seeds := []struct {
		method      uint8
		path, dest  string
		depth, body string
	}{
		{0, "files/alice/Readme.md", "", "", ""},
		{3, "files/alice/", "", "1", `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`},
		{3, "files/bob/private/", "", "infinity", ""},
		{0, "files/alice/%2e%2e/bob/private/secret.txt", "", "", ""},
		{0, "files/alice%2F..%2Fbob/private/secret.txt", "", "", ""},
		{0, "files/alice/../bob/private/secret.txt", "", "", ""},
		{7, "files/alice/Readme.md", "/remote.php/dav/files/bob/x", "", ""},
		{8, "files/bob/private/secret.txt", "/remote.php/dav/files/alice/x", "", ""},
		{7, "files/alice/Documents", "http://h/remote.php/dav/files/alice/Documents/a/%2e%2e", "0", ""},
		{2, "files/alice/a\x00b", "", "", "x"},
		{5, "files/alice/.htaccess", "", "", ""},
		{9, "", "", "", `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:allprop/></d:select><d:from><d:scope><d:href>/files/bob</d:href></d:scope></d:from><d:where><d:like><d:prop><d:displayname/></d:prop><d:literal>%</d:literal></d:like></d:where></d:basicsearch></d:searchrequest>`},
		{4, "files/alice/Readme.md", "", "", `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x:a xmlns:x="urn:x"><b/></x:a></d:prop></d:set></d:propertyupdate>`},
		{6, "files/alice/", "", "", ""},
		{10, "files/alice/", "", "", `<oc:filter-files xmlns:oc="http://owncloud.org/ns"><oc:filter-rules><oc:favorite>1</oc:favorite></oc:filter-rules></oc:filter-files>`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.dest, s.depth, s.body)
	}
	f.Fuzz(func(t *testing.T, method uint8, path, dest, depth, body string) {
		n, err := nextcloud.New(nextcloud.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if err := n.SeedData(nextcloud.Seed{Files: []nextcloud.SeedFile{{Owner: "bob", Path: "private/secret.txt", Content: bobSecret}}}); err != nil {
			t.Fatal(err)
		}
		for _, base := range []string{"/remote.php/dav/", "/remote.php/webdav/"} {
			u, err := url.Parse("http://fake" + base + path)
			if err != nil {
				return
			}
			req := &http.Request{Method: fuzzMethods[int(method)%len(fuzzMethods)], URL: u, Header: http.Header{},
				Body: http.NoBody, Host: "fake", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
			if body != "" {
				req.Body = httpBody(body)
				req.ContentLength = int64(len(body))
				req.Header.Set("Content-Type", "text/xml")
			}
			req.SetBasicAuth("alice", "alice-password")
			if dest != "" {
				req.Header.Set("Destination", dest)
			}
			if depth != "" {
				req.Header.Set("Depth", depth)
			}
			rec := httptest.NewRecorder()
			n.ServeHTTP(rec, req)
			if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
				t.Fatalf("%s %s → %d\n%s", req.Method, u, rec.Code, rec.Body.String())
			}
			if strings.Contains(rec.Body.String(), bobSecret) {
				t.Fatalf("%s %s leaked bob's data", req.Method, u)
			}
		}
		// bob's file is still bob's and intact.
		req := httptest.NewRequest("GET", "/remote.php/dav/files/bob/private/secret.txt", nil)
		req.SetBasicAuth("bob", "bob-password")
		rec := httptest.NewRecorder()
		n.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Body.String() != bobSecret {
			t.Fatalf("bob's file changed: %d %q", rec.Code, rec.Body.String())
		}
	})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func httpBody(s string) readCloser { return readCloser{bytes.NewReader([]byte(s))} }
