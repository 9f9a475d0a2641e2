package nextcloud

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestCurrentUser(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		contentType string
		wantID      string
		wantName    string
		wantErr     string
		wantIs      error
	}{
		{name: "v2 ok", status: 200, body: "ocs_user_v2.json", wantID: "alice", wantName: "Alice Liddell"},
		{name: "hashed uid and display-name only", status: 200, body: "ocs_user_hashed_v2.json",
			wantID: "6f1ed002ab5595859014ebf0951522d9", wantName: "Bob"},
		{name: "997 not logged in", status: 401, body: "ocs_997_v2.json", wantIs: ErrUnauthorized,
			wantErr: "Nextcloud rejected the Basic credentials (HTTP 401) while trying to read the current user; check the user name and app password (OCS 997): Current user is not logged in"},
		{name: "HTML login page instead of JSON", status: 200, contentType: "text/html", body: "<html>login</html>",
			wantIs: ErrUnexpectedResponse, wantErr: "Nextcloud sent an unexpected response to read the current user (HTTP 200): not an OCS JSON envelope (Content-Type text/html)"},
		{name: "maintenance 503 plain", status: 503, contentType: "text/html", body: "<html>maintenance</html>",
			wantIs: ErrUnavailable, wantErr: "Nextcloud could not read the current user: HTTP 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				body := []byte(tt.body)
				if strings.HasSuffix(tt.body, ".json") {
					body = fixture(t, tt.body)
				}
				ct := tt.contentType
				if ct == "" {
					ct = "application/json; charset=utf-8"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tt.status)
				w.Write(body)
			})
			c := newTestClient(t, rec, WithRetry(1, 0, 0))
			u, err := c.CurrentUser(context.Background())
			req := rec.requests()[0]
			if req.Path != "/ocs/v2.php/cloud/user" || req.RawQuery != "format=json" {
				t.Errorf("request = %s?%s", req.Path, req.RawQuery)
			}
			if req.Header.Get("OCS-APIRequest") != "true" || req.Header.Get("Accept") != "application/json" {
				t.Errorf("OCS headers missing: %v", req.Header)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant  %s", err, tt.wantErr)
				}
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("errors.Is(%v) false", tt.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != tt.wantID || u.DisplayName != tt.wantName {
				t.Fatalf("user = %+v", u)
			}
		})
	}
}

func TestOCSv1StatusMapping(t *testing.T) {
	// OCS v1 answers failures with HTTP 200 and the code in the envelope.
	tests := []struct {
		name    string
		body    string
		wantIs  error
		wantErr string
	}{
		{name: "ok", body: "ocs_user_v1.json"},
		{name: "997 is 401", body: "ocs_997_v1.json", wantIs: ErrUnauthorized, wantErr: "(HTTP 401)"},
		{name: "998 is 404", body: "ocs_998_v1.json", wantIs: ErrNotFound, wantErr: "Nextcloud found nothing to read a user (HTTP 404) (OCS 998): Invalid query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, fixture(t, tt.body)) })
			c := newTestClient(t, rec)
			var u User
			err := c.ocs(context.Background(), &request{op: "read a user", method: http.MethodGet, path: "/ocs/v1.php/cloud/user", idempotent: true}, &u)
			if tt.wantIs == nil {
				if err != nil || u.ID != "alice" {
					t.Fatalf("u=%+v err=%v", u, err)
				}
				return
			}
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.wantIs, tt.wantErr)
			}
			if len(rec.requests()) != 1 {
				t.Fatal("an OCS failure in a 200 must not be retried")
			}
		})
	}
}

func TestCurrentUserCachesUIDForDAV(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ocs/v2.php/cloud/user":
			writeJSON(w, 200, fixture(t, "ocs_user_hashed_v2.json"))
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("hello"))
		}
	})
	c := newTestClient(t, rec)
	for range 2 {
		f, err := c.DownloadFile(context.Background(), "/Documents/a b.txt")
		if err != nil {
			t.Fatal(err)
		}
		if string(f.Data) != "hello" || f.Path != "Documents/a b.txt" {
			t.Fatalf("file = %+v", f)
		}
	}
	reqs := rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 1 user lookup + 2 downloads", len(reqs))
	}
	if reqs[1].Path != "/remote.php/dav/files/6f1ed002ab5595859014ebf0951522d9/Documents/a b.txt" {
		t.Fatalf("DAV path = %q (the uid comes from Nextcloud, not the login)", reqs[1].Path)
	}
	// A copy for other credentials must not inherit the uid.
	other := c.WithCredentials(Basic("bob", "pw"))
	if other.uid != "" {
		t.Fatal("uid leaked into a client for other credentials")
	}
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantNotes bool
		wantApps  int
	}{
		{name: "with notes", body: "ocs_capabilities_v2.json", wantNotes: true, wantApps: 3},
		{name: "empty PHP array", body: "ocs_capabilities_empty_v2.json", wantApps: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, fixture(t, tt.body)) })
			c := newTestClient(t, rec).WithCredentials(Anonymous())
			caps, err := c.Capabilities(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rec.requests()[0].Header.Get("Authorization") != "" {
				t.Fatal("anonymous request carried credentials")
			}
			if caps.Version.String != "32.0.14" || caps.Version.Major != 32 {
				t.Fatalf("version = %+v", caps.Version)
			}
			if len(caps.Apps) != tt.wantApps {
				t.Fatalf("apps = %d", len(caps.Apps))
			}
			n, ok := caps.Notes()
			if ok != tt.wantNotes {
				t.Fatalf("Notes() ok = %v", ok)
			}
			if ok && (n.NotesPath != "Notes" || len(n.APIVersion) != 3 || n.APIVersion[2] != "1.4") {
				t.Fatalf("notes = %+v", n)
			}
			if !strings.Contains(string(caps.Raw), `"version"`) {
				t.Fatal("Raw should hold the OCS data")
			}
		})
	}
}
