package nextcloud_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

func jsonBody() reqOpt { return hdr("Content-Type", "application/json") }

func TestControlAPIDisabled(t *testing.T) {
	s := nctest.Start(t, func(c *nextcloud.Config) { c.ControlAPI = false })
	if r := do(t, s, "GET", "/_fake/log", ""); r.status != 404 {
		t.Fatalf("control API served while disabled: %s", r)
	}
	if r := do(t, s, "GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("healthz: %s", r)
	}
}

func TestControlAPI(t *testing.T) {
	s := startDefault(t)

	t.Run("log and reset log", func(t *testing.T) {
		do(t, s, "GET", "/remote.php/dav/files/alice/Readme.md", "", alice)
		r := do(t, s, "GET", "/_fake/log", "")
		var entries []nextcloud.LogEntry
		if err := json.Unmarshal(r.body, &entries); err != nil || len(entries) == 0 {
			t.Fatalf("log: %v %s", err, r.body)
		}
		last := entries[len(entries)-1]
		if last.Method != "GET" || last.Path != "/remote.php/dav/files/alice/Readme.md" || last.Status != 200 || last.AuthKind != "basic" || last.UID != "alice" {
			t.Fatalf("entry %+v", last)
		}
		if r := do(t, s, "DELETE", "/_fake/log", ""); r.status != 204 {
			t.Fatal(r)
		}
		if len(s.RequestLog()) != 0 {
			t.Fatal("log not emptied")
		}
		if strings.Contains(string(do(t, s, "GET", "/_fake/log", "").body), "_fake") {
			t.Fatal("control requests are logged")
		}
	})

	t.Run("seed", func(t *testing.T) {
		seed := `{"users":[{"uid":"carol","login_name":"carol@example.com","password":"c-pw","app_passwords":["CarolApp"],"groups":["staff"]}],` +
			`"files":[{"owner":"carol","path":"a/b.txt","content":"hi","favorite":true}],"notes":[{"owner":"carol","title":"N","content":"c"}]}`
		if r := do(t, s, "POST", "/_fake/seed", seed, jsonBody()); r.status != 204 {
			t.Fatalf("seed: %s", r)
		}
		// The login name differs from the uid; paths use the uid.
		if r := do(t, s, "GET", "/remote.php/dav/files/carol/a/b.txt", "", basic("carol@example.com", "c-pw")); r.status != 200 || string(r.body) != "hi" {
			t.Fatalf("seeded file: %s", r)
		}
		if r := do(t, s, "GET", "/ocs/v2.php/cloud/user?format=json", "", basic("carol@example.com", "CarolApp"), ocsHeader()); jsonAt(t, r.body, "ocs.data.id") != "carol" {
			t.Fatalf("app password login: %s", r)
		}
		if r := do(t, s, "POST", "/_fake/seed", `{"users":[{"uid":"../x"}]}`, jsonBody()); r.status != 400 {
			t.Fatalf("invalid uid seeded: %s", r)
		}
		if r := do(t, s, "POST", "/_fake/seed", `{"bogus":1}`, jsonBody()); r.status != 400 {
			t.Fatalf("unknown field accepted: %s", r)
		}
		if r := do(t, s, "POST", "/_fake/seed", `{}`); r.status != 415 {
			t.Fatalf("missing content type accepted: %s", r)
		}
	})

	t.Run("faults", func(t *testing.T) {
		body := `{"pattern":"/remote.php/dav/files/*","status":503,"count":2,"headers":{"Retry-After":"1"}}`
		if r := do(t, s, "POST", "/_fake/faults", body, jsonBody()); r.status != 204 {
			t.Fatalf("inject: %s", r)
		}
		for i := 0; i < 2; i++ {
			r := do(t, s, "GET", "/remote.php/dav/files/alice/Readme.md", "", alice)
			if r.status != 503 || r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), `Sabre\DAV\Exception\ServiceUnavailable`) {
				t.Fatalf("fault %d: %s", i, r)
			}
		}
		if r := do(t, s, "GET", "/remote.php/dav/files/alice/Readme.md", "", alice); r.status != 200 {
			t.Fatalf("fault outlived its count: %s", r)
		}
		// Dialects: OCS envelope and app JSON.
		do(t, s, "POST", "/_fake/faults", `{"pattern":"/ocs/*","status":429}`, jsonBody())
		if r := do(t, s, "GET", "/ocs/v2.php/cloud/user", "", alice, ocsHeader()); r.status != 429 || jsonAt(t, r.body, "ocs.meta.statuscode") != 429.0 {
			t.Fatalf("OCS fault: %s", r)
		}
		do(t, s, "POST", "/_fake/faults", `{"pattern":"*/notes","method":"GET","status":423}`, jsonBody())
		if r := do(t, s, "POST", "/index.php/apps/notes/api/v1/notes", `{}`, alice, jsonBody()); r.status != 200 {
			t.Fatalf("method filter ignored: %s", r)
		}
		if r := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes", "", alice); r.status != 423 || jsonAt(t, r.body, "message") == nil {
			t.Fatalf("app fault: %s", r)
		}
		// A delay-only fault delays and then serves normally.
		do(t, s, "POST", "/_fake/faults", `{"pattern":"/status.php","delay_ms":50}`, jsonBody())
		start := time.Now()
		if r := do(t, s, "GET", "/status.php", ""); r.status != 200 || time.Since(start) < 50*time.Millisecond {
			t.Fatalf("delay fault: %s after %v", r, time.Since(start))
		}
		do(t, s, "POST", "/_fake/faults", `{"pattern":"/status.php","status":500,"count":5}`, jsonBody())
		if r := do(t, s, "GET", "/_fake/faults", ""); !strings.Contains(string(r.body), `"count":5`) {
			t.Fatalf("list faults: %s", r)
		}
		if r := do(t, s, "DELETE", "/_fake/faults", ""); r.status != 204 {
			t.Fatal(r)
		}
		if r := do(t, s, "GET", "/status.php", ""); r.status != 200 {
			t.Fatalf("faults not cleared: %s", r)
		}
		for _, bad := range []string{`{"pattern":"x"}`, `{"status":500}`, `{"pattern":"x","status":99}`, `{"pattern":"x","delay_ms":-1}`} {
			if r := do(t, s, "POST", "/_fake/faults", bad, jsonBody()); r.status != 400 {
				t.Errorf("%s accepted: %s", bad, r)
			}
		}
	})

	t.Run("bearer-on-app-routes", func(t *testing.T) {
		if r := do(t, s, "POST", "/_fake/bearer-on-app-routes", `{"mode":"reject"}`, jsonBody()); r.status != 200 || jsonAt(t, r.body, "mode") != "reject" {
			t.Fatalf("switch: %s", r)
		}
		if r := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes", "", appPasswordBearer("alice")); r.status != 401 {
			t.Fatalf("reject mode not applied: %s", r)
		}
		if r := do(t, s, "POST", "/_fake/bearer-on-app-routes", `{"mode":"maybe"}`, jsonBody()); r.status != 400 {
			t.Fatalf("bad mode: %s", r)
		}
		if r := do(t, s, "GET", "/_fake/bearer-on-app-routes", ""); jsonAt(t, r.body, "mode") != "reject" {
			t.Fatalf("get mode: %s", r)
		}
	})

	t.Run("reset", func(t *testing.T) {
		do(t, s, "PUT", "/remote.php/dav/files/alice/scratch.txt", "x", alice)
		if r := do(t, s, "POST", "/_fake/reset", ""); r.status != 204 {
			t.Fatal(r)
		}
		if r := do(t, s, "GET", "/remote.php/dav/files/alice/scratch.txt", "", alice); r.status != 404 {
			t.Fatalf("reset kept a file: %s", r)
		}
		if r := do(t, s, "GET", "/remote.php/dav/files/carol/a/b.txt", "", basic("carol@example.com", "c-pw")); r.status != 401 {
			t.Fatalf("reset kept a seeded user: %s", r)
		}
		if r := do(t, s, "GET", "/_fake/bearer-on-app-routes", ""); jsonAt(t, r.body, "mode") != "accept" {
			t.Fatalf("reset kept the mode: %s", r)
		}
		if r := do(t, s, "GET", "/_fake/users", ""); !strings.Contains(string(r.body), `"uid":"alice"`) || strings.Contains(string(r.body), "password") {
			t.Fatalf("users: %s", r)
		}
	})

	t.Run("unknown endpoint", func(t *testing.T) {
		if r := do(t, s, "GET", "/_fake/nope", ""); r.status != http.StatusNotFound {
			t.Fatal(r)
		}
	})
}

func TestDataDirPersistence(t *testing.T) {
	dir := t.TempDir()
	cfg := func(c *nextcloud.Config) { c.DataDir = dir }
	s1 := nctest.Start(t, cfg)
	do(t, s1, "PUT", "/remote.php/dav/files/alice/kept.txt", "persisted", alice)
	id := propOf(t, s1, "alice", "/kept.txt", "oc:fileid")
	do(t, s1, "PROPPATCH", "/remote.php/dav/files/alice/kept.txt",
		`<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:set><d:prop><oc:favorite>1</oc:favorite><x:y xmlns:x="urn:x">dead</x:y></d:prop></d:set></d:propertyupdate>`, alice)
	shareID(t, do(t, s1, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/kept.txt&shareType=0&shareWith=bob", "", alice, ocsHeader()))
	do(t, s1, "PUT", "/index.php/apps/notes/api/v1/settings", `{"notesPath":"MyNotes"}`, alice, jsonBody())
	etag := propOf(t, s1, "alice", "/kept.txt", "d:getetag")
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := nctest.Start(t, cfg)
	if r := do(t, s2, "GET", "/remote.php/dav/files/alice/kept.txt", "", alice); string(r.body) != "persisted" {
		t.Fatalf("file lost: %s", r)
	}
	if propOf(t, s2, "alice", "/kept.txt", "oc:fileid") != id || propOf(t, s2, "alice", "/kept.txt", "d:getetag") != etag {
		t.Fatal("id or etag changed across restarts")
	}
	if propOf(t, s2, "alice", "/kept.txt", "oc:favorite") != "1" {
		t.Fatal("favourite lost")
	}
	dead := do(t, s2, "PROPFIND", "/remote.php/dav/files/alice/kept.txt", `<d:propfind xmlns:d="DAV:"><d:prop><x:y xmlns:x="urn:x"/></d:prop></d:propfind>`, alice)
	if !strings.Contains(string(dead.body), ">dead</") {
		t.Fatalf("dead property lost: %s", dead.body)
	}
	if r := do(t, s2, "GET", "/remote.php/dav/files/bob/kept.txt", "", bob); r.status != 200 {
		t.Fatalf("share lost: %s", r)
	}
	if r := do(t, s2, "GET", "/index.php/apps/notes/api/v1/settings", "", alice); jsonAt(t, r.body, "notesPath") != "MyNotes" {
		t.Fatalf("settings lost: %s", r)
	}
	do(t, s2, "PUT", "/remote.php/dav/files/alice/new.txt", "x", alice)
	oldID, _ := strconv.Atoi(id)
	if n, _ := strconv.Atoi(propOf(t, s2, "alice", "/new.txt", "oc:fileid")); n <= oldID {
		t.Fatalf("ids restarted: %d after %d", n, oldID)
	}
}

// TestBodyLimit: bodies over the limit get the front web server's 413,
// whether announced by Content-Length or streamed chunked.
func TestBodyLimit(t *testing.T) {
	s := nctest.Start(t, func(c *nextcloud.Config) { c.MaxBodyBytes = 64 })
	big := strings.Repeat("x", 100)
	for _, path := range []string{"/remote.php/dav/files/alice/big.txt", "/index.php/apps/notes/api/v1/notes", "/ocs/v2.php/cloud/users"} {
		if r := do(t, s, "PUT", path, big, alice, ocsHeader()); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with Content-Length: %s", path, r)
		}
	}
	req, _ := http.NewRequest("PUT", s.URL+"/remote.php/dav/files/alice/big.txt", struct{ io.Reader }{strings.NewReader(big)})
	req.SetBasicAuth("alice", "alice-password")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: %d", res.StatusCode)
	}
	if r := do(t, s, "GET", "/remote.php/dav/files/alice/big.txt", "", alice); r.status != 404 {
		t.Fatalf("oversized upload stored: %s", r)
	}
	if r := do(t, s, "PUT", "/remote.php/dav/files/alice/small.txt", "ok", alice); r.status != 201 {
		t.Fatalf("small upload: %s", r)
	}
}

// TestControlAPIAnswersLoopbackHostsOnly: the control API (seeding,
// faults, the request log, reset) refuses a request whose Host is not a
// loopback name, as a DNS-rebinding page sends; Nextcloud's own routes
// still answer it.
func TestControlAPIAnswersLoopbackHostsOnly(t *testing.T) {
	s := startDefault(t)
	for host, want := range map[string]int{"evil.example": 403, "127.0.0.1.nip.io": 403, "localhost": 200, "127.0.0.1": 200, "[::1]": 200} {
		t.Run(host, func(t *testing.T) {
			if r := do(t, s, "GET", "/_fake/log", "", hostHeader(host)); r.status != want {
				t.Errorf("GET /_fake/log with Host %s: %s, want %d", host, r, want)
			}
		})
	}
	if r := do(t, s, "GET", "/status.php", "", hostHeader("evil.example")); r.status != 200 {
		t.Errorf("status.php with a foreign Host: %s", r)
	}
}
