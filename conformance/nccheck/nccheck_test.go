package nccheck

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
)

// override answers matching requests itself instead of the fake Nextcloud.
type override struct {
	match  func(r *http.Request) bool
	status int
	body   string
}

// startNC runs the fake Nextcloud, optionally behind one override, so each
// check is shown to pass on the fake and to fail on a server that breaks
// its rule.
func startNC(t *testing.T, ov *override) *grade.Target {
	t.Helper()
	cfg := nextcloud.DefaultConfig()
	n, err := nextcloud.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ov != nil && ov.match(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(ov.status)
			_, _ = w.Write([]byte(ov.body)) // a failed write shows up as the client's error
			return
		}
		n.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		assert.NoError(t, n.Close())
	})
	return &grade.Target{Name: "nc", HTTP: grade.NewHTTPClient(10 * time.Second),
		Nextcloud: &grade.Nextcloud{URL: hs.URL, User: "alice", Password: "alice-password"}}
}

// order is the catalogue's order: later checks reuse the note and folder
// the earlier ones created.
var order = []struct {
	name  string
	check grade.Func
}{
	{"OCSv2", OCSv2}, {"OCSv1", OCSv1}, {"OCSUnauthorised", OCSUnauthorised}, {"OCSNotFound", OCSNotFound},
	{"NotesETag", NotesETag}, {"NotesPrecondition", NotesPrecondition}, {"NotesConditional", NotesConditional}, {"NotesDelete", NotesDelete},
	{"DAVMkcol", DAVMkcol}, {"DAVPut", DAVPut}, {"DAVPropfind", DAVPropfind}, {"DAVPreconditions", DAVPreconditions},
	{"DAVChunkedUpload", DAVChunkedUpload}, {"DAVChecksums", DAVChecksums}, {"SharePublicLink", SharePublicLink}, {"DAVMoveDelete", DAVMoveDelete},
}

func TestChecksAgainstTheFakeNextcloud(t *testing.T) {
	tg := startNC(t, nil)
	for _, c := range order {
		if o := c.check(context.Background(), tg); o.Status != grade.Pass {
			t.Errorf("%s: %s: %s", c.name, o.Status, o.Evidence)
		}
	}
}

func method(m, pathPart string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == m && strings.Contains(r.URL.Path, pathPart) }
}

func header(m, pathPart, h, contains string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == m && strings.Contains(r.URL.Path, pathPart) && strings.Contains(r.Header.Get(h), contains)
	}
}

func TestChecksFailOnBrokenNextclouds(t *testing.T) {
	tests := []struct {
		name  string
		check string
		ov    override
	}{
		{"v2 status in meta", "OCSv2", override{method("GET", "/ocs/v2.php/cloud/user"), 200, `{"ocs":{"meta":{"status":"ok","statuscode":100},"data":{"id":"alice"}}}`}},
		{"v1 statuscode 200", "OCSv1", override{method("GET", "/ocs/v1.php/cloud/user"), 200, `{"ocs":{"meta":{"status":"ok","statuscode":200},"data":{"id":"alice"}}}`}},
		{"unauthorised as 403", "OCSUnauthorised", override{func(r *http.Request) bool {
			return strings.HasPrefix(r.URL.Path, "/ocs/") && r.Header.Get("Authorization") == ""
		}, 403, `{"ocs":{"meta":{"status":"failure","statuscode":997},"data":[]}}`}},
		{"not found v1 as 404", "OCSNotFound", override{method("GET", "/ocs/v1.php/conformance"), 404, `{"ocs":{"meta":{"status":"failure","statuscode":998},"data":[]}}`}},
		{"unquoted ETag", "NotesETag", override{method("GET", "/apps/notes/api/v1/notes/"), 200, `{"id":1,"etag":"abc","content":"first"}`}},
		{"stale If-Match accepted", "NotesPrecondition", override{header("PUT", "/apps/notes/api/v1/notes/", "If-Match", "0123456789abcdef"), 200, `{"id":1,"content":"overwritten","etag":"x"}`}},
		{"no 304", "NotesConditional", override{header("GET", "/apps/notes/api/v1/notes/", "If-None-Match", `"`), 200, `{"id":1,"content":"second","etag":"y"}`}},
		{"delete 204", "NotesDelete", override{method("DELETE", "/apps/notes/api/v1/notes/"), 204, ``}},
		{"MKCOL on missing parent creates", "DAVMkcol", override{method("MKCOL", "/missing/"), 201, ``}},
		{"PUT on missing parent creates", "DAVPut", override{method("PUT", "/missing/"), 201, ``}},
		{"PROPFIND 200", "DAVPropfind", override{method("PROPFIND", "/conformance-"), 200, `<d:multistatus xmlns:d="DAV:"/>`}},
		{"If-None-Match * ignored", "DAVPreconditions", override{header("PUT", "/etag.txt", "If-None-Match", "*"), 204, ``}},
		{"chunks assembled despite a wrong total", "DAVChunkedUpload", override{header("MOVE", "/.file", "OC-Total-Length", ""), 201, ``}},
		{"upload folder not served", "DAVChunkedUpload", override{method("MKCOL", "/remote.php/dav/uploads/"), 405, ``}},
		{"checksum not stored", "DAVChecksums", override{method("PROPFIND", "/sum.txt"), 207, `<d:multistatus xmlns:d="DAV:"/>`}},
		{"link share without token", "SharePublicLink", override{method("POST", "/apps/files_sharing/api/v1/shares"), 200, `{"ocs":{"meta":{"status":"ok","statuscode":200},"data":{"id":"9","share_type":3,"permissions":1}}}`}},
		{"deleted share still there", "SharePublicLink", override{func(r *http.Request) bool {
			return r.Method == "GET" && strings.Contains(r.URL.Path, "/apps/files_sharing/api/v1/shares/")
		}, 200, `{"ocs":{"meta":{"status":"ok","statuscode":200},"data":[]}}`}},
		{"MOVE overwrites despite F", "DAVMoveDelete", override{header("MOVE", "/m1.txt", "Overwrite", "F"), 204, ``}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := startNC(t, &tt.ov)
			var got grade.Outcome
			for _, c := range order {
				o := c.check(context.Background(), tg)
				if c.name == tt.check {
					got = o
					break
				}
			}
			if got.Status != grade.Fail {
				t.Fatalf("%s: %s, want FAIL: %s", tt.check, got.Status, got.Evidence)
			}
			t.Logf("FAIL as expected: %s", got.Evidence)
		})
	}
}

func TestWithoutCredentialsNotApplicable(t *testing.T) {
	tg := startNC(t, nil)
	tg.Nextcloud.Password = ""
	if o := OCSv2(context.Background(), tg); o.Status != grade.NA {
		t.Fatalf("%s: %s", o.Status, o.Evidence)
	}
}
