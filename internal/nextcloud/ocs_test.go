package nextcloud

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		{name: "user without id", status: 200, body: `{"ocs":{"meta":{"status":"ok","statuscode":200},"data":{"displayname":"x"}}}`,
			wantIs: ErrUnexpectedResponse, wantErr: "Nextcloud sent an unexpected response to read the current user (HTTP 200): user without id"},
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
				_, _ = w.Write(body)
			})
			c := newTestClient(t, rec, WithRetry(1, 0, 0))
			u, err := c.CurrentUser(context.Background())
			req := rec.Requests()[0]
			assert.Equal(t, "/ocs/v2.php/cloud/user", req.Path)
			assert.Equal(t, "format=json", req.RawQuery)
			assert.Equal(t, "true", req.Header.Get("OCS-APIRequest"))
			assert.Equal(t, "application/json", req.Header.Get("Accept"))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				assert.ErrorIs(t, err, tt.wantIs)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, u.ID)
			assert.Equal(t, tt.wantName, u.DisplayName)
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
			r := &Request{Op: "read a user", Method: http.MethodGet, Path: "/ocs/v1.php/cloud/user", Idempotent: true}
			err := c.OCS(context.Background(), r, &u)
			assert.False(t, r.OCS, "OCS must not change the caller's request")
			assert.Nil(t, r.Header, "OCS must not change the caller's request")
			if tt.wantIs == nil {
				require.NoError(t, err)
				assert.Equal(t, "alice", u.ID)
				return
			}
			assert.ErrorIs(t, err, tt.wantIs)
			assert.ErrorContains(t, err, tt.wantErr)
			assert.Len(t, rec.Requests(), 1, "an OCS failure in a 200 must not be retried")
		})
	}
}

func TestCurrentUserCachesUIDForDAV(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ocs/v2.php/cloud/user":
			writeJSON(w, 200, fixture(t, "ocs_user_hashed_v2.json"))
		default:
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("hello"))
		}
	})
	c := newTestClient(t, rec)
	for range 2 {
		f, err := c.DownloadFile(context.Background(), "/Documents/a b.txt")
		require.NoError(t, err)
		assert.Equal(t, "hello", string(f.Data))
		assert.Equal(t, "Documents/a b.txt", f.Path)
	}
	reqs := rec.Requests()
	require.Len(t, reqs, 3, "1 user lookup + 2 downloads")
	assert.Equal(t, "/remote.php/dav/files/6f1ed002ab5595859014ebf0951522d9/Documents/a b.txt", reqs[1].Path,
		"the uid comes from Nextcloud, not the login")
	// A copy for other credentials must not inherit the uid.
	other := c.WithCredentials(Basic("bob", "pw"))
	_, err := other.DownloadFile(context.Background(), "x")
	require.NoError(t, err)
	reqs = rec.Requests()
	require.Len(t, reqs, 5)
	assert.Equal(t, "/ocs/v2.php/cloud/user", reqs[3].Path, "other credentials ask for their own uid")
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
			require.NoError(t, err)
			assert.Empty(t, rec.Requests()[0].Header.Get("Authorization"), "anonymous request carried credentials")
			assert.Equal(t, "32.0.14", caps.Version.String)
			assert.Equal(t, 32, caps.Version.Major)
			assert.Len(t, caps.Apps, tt.wantApps)
			var n struct {
				APIVersion []string `json:"api_version"`
				NotesPath  string   `json:"notes_path"`
			}
			ok := caps.App("notes", &n)
			require.Equal(t, tt.wantNotes, ok)
			if ok {
				assert.Equal(t, "Notes", n.NotesPath)
				assert.Equal(t, []string{"0.2", "1.3", "1.4"}, n.APIVersion)
			}
			assert.Contains(t, string(caps.Raw), `"version"`, "Raw should hold the OCS data")
		})
	}
}
