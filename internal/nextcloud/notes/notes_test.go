package notes

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

func notesHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Notes-API-Versions", "0.2, 1.3, 1.4")
}

func ids(notes []Note) []int64 {
	out := make([]int64, 0, len(notes))
	for _, n := range notes {
		out = append(out, n.ID)
	}
	return out
}

func TestListChunked(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		notesHeaders(w)
		switch r.URL.Query().Get("chunkCursor") {
		case "":
			w.Header().Set("X-Notes-Chunk-Cursor", "1700000100-1700000002-5")
			w.Header().Set("X-Notes-Chunk-Pending", "1")
			w.Header().Set("ETag", `"e1"`)
			writeJSON(w, 200, fixture(t, "notes_chunk1.json"))
		case "1700000100-1700000002-5":
			w.Header().Set("ETag", `"e2"`)
			writeJSON(w, 200, fixture(t, "notes_chunk2.json"))
		default:
			writeJSON(w, 400, []byte(`{"message":"bad cursor"}`))
		}
	})
	c := New(newTestClient(t, rec))
	cat := "work"
	notes, err := c.List(context.Background(), ListOptions{Category: &cat, Exclude: []string{"content"}, PruneBefore: 1700000000, ChunkSize: 2})
	require.NoError(t, err)
	require.Equal(t, []int64{3, 5, 9, 12}, ids(notes), "deduplicated, server order")
	assert.False(t, notes[0].Pruned, "full entries lost or overwritten by the id-only tail")
	assert.Equal(t, "Alpha", notes[0].Title)
	assert.Equal(t, "work", notes[1].Category)
	assert.True(t, notes[1].Favorite)
	assert.True(t, notes[2].ReadOnly)
	assert.True(t, notes[3].Pruned, "id-only entry should be Pruned")
	assert.Empty(t, notes[3].Title)

	reqs := rec.Requests()
	require.Len(t, reqs, 2)
	q, _ := url.ParseQuery(reqs[0].RawQuery)
	for k, v := range map[string]string{"category": "work", "exclude": "content", "pruneBefore": "1700000000", "chunkSize": "2"} {
		assert.Equal(t, v, q.Get(k), "query %s", k)
	}
	assert.False(t, q.Has("chunkCursor"), "first chunk must not send a cursor")
	assert.Equal(t, "/index.php/apps/notes/api/v1/notes", reqs[0].Path)
	assert.Equal(t, "true", reqs[0].Header.Get("OCS-APIRequest"), "app route requests carry OCS-APIRequest by default")
}

func TestListPageHeaders(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Notes-Chunk-Cursor", "1-2-3")
		w.Header().Set("X-Notes-Chunk-Pending", "7")
		w.Header().Set("ETag", `"abc"`)
		writeJSON(w, 200, fixture(t, "notes_chunk1.json"))
	})
	p, err := New(newTestClient(t, rec)).ListPage(context.Background(), ListOptions{ChunkSize: -1}, "")
	require.NoError(t, err)
	assert.Equal(t, "1-2-3", p.Cursor)
	assert.Equal(t, 7, p.Pending)
	assert.Equal(t, "abc", p.ETag)
	assert.Len(t, p.Notes, 2)
	assert.NotContains(t, rec.Requests()[0].RawQuery, "chunkSize", "negative ChunkSize must not chunk")
}

func TestListRepeatedCursor(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Notes-Chunk-Cursor", "same")
		writeJSON(w, 200, []byte(`[]`))
	})
	_, err := New(newTestClient(t, rec)).List(context.Background(), ListOptions{})
	require.ErrorIs(t, err, nextcloud.ErrUnexpectedResponse)
	assert.EqualError(t, err, "Nextcloud sent an unexpected response to list notes (HTTP 200): chunk cursor repeated")
}

func TestListCallerDeadline(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30_000_000) // 30 ms
	defer cancel()
	_, err := New(newTestClient(t, rec)).List(ctx, ListOptions{})
	assert.True(t, nextcloud.IsTimeout(err), "err = %v", err)
	assert.ErrorContains(t, err, "list notes ran out of time")
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		notesHeaders(w)
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/index.php/apps/notes/api/v1/notes/76":
			w.Header().Set("ETag", `"be284e00488c61c101ee28309d235e0b"`)
			writeJSON(w, 200, fixture(t, "note_76.json"))
		case r.Method == http.MethodPost && r.URL.Path == "/index.php/apps/notes/api/v1/notes":
			writeJSON(w, 200, fixture(t, "note_76.json")) // 200, not 201
		case r.Method == http.MethodPut && r.URL.Path == "/index.php/apps/notes/api/v1/notes/76":
			if r.Header.Get("If-Match") != `"be284e00488c61c101ee28309d235e0b"` {
				writeJSON(w, 412, fixture(t, "note_76_current.json"))
				return
			}
			writeJSON(w, 200, fixture(t, "note_76_current.json"))
		case r.Method == http.MethodDelete && r.URL.Path == "/index.php/apps/notes/api/v1/notes/76":
			writeJSON(w, 200, []byte(`[]`))
		case r.URL.Path == "/index.php/apps/notes/api/v1/settings":
			writeJSON(w, 200, fixture(t, "notes_settings.json"))
		default:
			writeJSON(w, 404, fixture(t, "notes_error_exception.json"))
		}
	})
	c := New(newTestClient(t, rec))
	last := func() seen { r := rec.Requests(); return r[len(r)-1] }

	t.Run("get", func(t *testing.T) {
		n, err := c.Get(ctx, 76)
		require.NoError(t, err)
		assert.Equal(t, int64(76), n.ID)
		assert.Equal(t, "New note", n.Title)
		assert.Equal(t, "sub/dir", n.Category)
		assert.Equal(t, "be284e00488c61c101ee28309d235e0b", n.ETag)
		assert.Equal(t, int64(1376753464), n.Modified)
		assert.Equal(t, "/Notes/sub/dir/New note.md", n.InternalPath)
		assert.Equal(t, "Shopping list\n- milk", n.Content)
		assert.False(t, n.Pruned)
	})
	t.Run("create", func(t *testing.T) {
		n, err := c.Create(ctx, NewNote{Title: "New note", Content: "Shopping list\n- milk", Category: "sub/dir", Favorite: true})
		require.NoError(t, err)
		assert.Equal(t, int64(76), n.ID)
		req := last()
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(req.Body), &body))
		assert.Equal(t, map[string]any{"title": "New note", "category": "sub/dir", "favorite": true, "content": "Shopping list\n- milk"}, body,
			"zero Modified is not sent")
		assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	})
	t.Run("update with etag", func(t *testing.T) {
		content := "Shopping list\n- milk\n- eggs"
		n, err := c.Update(ctx, 76, `"be284e00488c61c101ee28309d235e0b"`, Update{Content: &content})
		require.NoError(t, err)
		assert.Equal(t, "0f2e3c9a7b6d5e4f3a2b1c0d9e8f7a6b", n.ETag)
		assert.Equal(t, `{"content":"Shopping list\n- milk\n- eggs"}`, last().Body, "only given fields are sent")
	})
	t.Run("update with stale etag", func(t *testing.T) {
		title := "x"
		_, err := c.Update(ctx, 76, "deadbeef", Update{Title: &title})
		require.True(t, nextcloud.IsPreconditionFailed(err), "err = %v", err)
		assert.EqualError(t, err, "Note 76 changed since etag deadbeef; fetch it again (current etag 0f2e3c9a7b6d5e4f3a2b1c0d9e8f7a6b)")
		var e *nextcloud.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "0f2e3c9a7b6d5e4f3a2b1c0d9e8f7a6b", e.CurrentETag)
		assert.Equal(t, "deadbeef", e.ETag)
		assert.Equal(t, `"deadbeef"`, last().Header.Get("If-Match"))
	})
	t.Run("delete", func(t *testing.T) {
		require.NoError(t, c.Delete(ctx, 76))
	})
	t.Run("missing", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"get":    func() error { _, err := c.Get(ctx, 42); return err },
			"delete": func() error { return c.Delete(ctx, 42) },
			"update": func() error { s := "x"; _, err := c.Update(ctx, 42, "", Update{Content: &s}); return err },
		} {
			err := call()
			assert.True(t, nextcloud.IsNotFound(err), "%s: %v", name, err)
			assert.EqualError(t, err, "Note 42 not found", name)
		}
	})
	t.Run("settings", func(t *testing.T) {
		s, err := c.Settings(ctx)
		require.NoError(t, err)
		assert.Equal(t, Settings{NotesPath: "Notes", FileSuffix: ".md", NoteMode: "rich"}, *s)
		_, err = c.UpdateSettings(ctx, Settings{FileSuffix: ".txt"})
		require.NoError(t, err)
		req := last()
		assert.Equal(t, http.MethodPut, req.Method)
		assert.Equal(t, `{"fileSuffix":".txt"}`, req.Body)
	})
}

// TestRetries checks which Notes calls the core may send again: the Notes
// client marks reads and unconditional PUTs idempotent, never POST, DELETE
// or a conditional PUT.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	content := "x"
	tests := []struct {
		name         string
		statuses     []int // answered in order; the last repeats
		call         func(*Client) error
		wantAttempts int
		wantErr      string
	}{
		{name: "GET retried until success", statuses: []int{503, 502, 200},
			call: func(c *Client) error { _, err := c.Get(ctx, 76); return err }, wantAttempts: 3},
		{name: "GET gives up after max attempts", statuses: []int{503},
			call:         func(c *Client) error { _, err := c.Get(ctx, 76); return err },
			wantAttempts: 3, wantErr: "Nextcloud could not get note 76: HTTP 503 Service Unavailable"},
		{name: "GET 429 retried", statuses: []int{429, 200},
			call: func(c *Client) error { _, err := c.Get(ctx, 76); return err }, wantAttempts: 2},
		{name: "GET 404 not retried", statuses: []int{404},
			call:         func(c *Client) error { _, err := c.Get(ctx, 76); return err },
			wantAttempts: 1, wantErr: "Note 76 not found"},
		{name: "POST never retried", statuses: []int{503, 200},
			call:         func(c *Client) error { _, err := c.Create(ctx, NewNote{Title: "x"}); return err },
			wantAttempts: 1, wantErr: "Nextcloud could not create a note: HTTP 503"},
		{name: "conditional PUT never retried", statuses: []int{503, 200},
			call:         func(c *Client) error { _, err := c.Update(ctx, 76, "abc", Update{Content: &content}); return err },
			wantAttempts: 1, wantErr: "HTTP 503"},
		{name: "unconditional PUT retried", statuses: []int{500, 200},
			call:         func(c *Client) error { _, err := c.Update(ctx, 76, "", Update{Content: &content}); return err },
			wantAttempts: 2},
		{name: "DELETE never retried", statuses: []int{502, 200},
			call:         func(c *Client) error { return c.Delete(ctx, 76) },
			wantAttempts: 1, wantErr: "Nextcloud could not delete note 76: HTTP 502"},
		{name: "settings PUT retried", statuses: []int{504, 200},
			call:         func(c *Client) error { _, err := c.UpdateSettings(ctx, Settings{FileSuffix: ".txt"}); return err },
			wantAttempts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				st := tt.statuses[min(i, len(tt.statuses)-1)]
				switch {
				case st != 200:
					writeJSON(w, st, []byte(`{"message":""}`))
				case strings.HasSuffix(r.URL.Path, "/settings"):
					writeJSON(w, 200, fixture(t, "notes_settings.json"))
				case r.Method == http.MethodDelete:
					writeJSON(w, 200, []byte(`[]`))
				default:
					writeJSON(w, 200, fixture(t, "note_76.json"))
				}
			})
			err := tt.call(New(newTestClient(t, rec)))
			reqs := rec.Requests()
			assert.Len(t, reqs, tt.wantAttempts, "attempts")
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.wantErr)
			}
			// A retried write sends the same body every time.
			for _, r := range reqs[1:] {
				assert.Equal(t, reqs[0].Body, r.Body)
			}
		})
	}
}

func TestAuthFailuresOnAppRoutes(t *testing.T) {
	tests := []struct {
		name       string
		creds      nextcloud.Credentials
		kind       nextcloud.AuthKind
		status     int
		body       string
		wantBearer bool
		wantIs     []error
		wantMsg    string
	}{
		{
			name: "stock CORS refuses a bearer token", creds: nextcloud.Bearer(testToken), kind: nextcloud.AuthBearer, status: 401, body: "cors_401.json",
			wantBearer: true, wantIs: []error{nextcloud.ErrUnauthorized, nextcloud.ErrBearerRejectedOnAppRoute},
			wantMsg: `Nextcloud refused a bearer token on this app route (GET /index.php/apps/notes/api/v1/notes/7): its #[CORS] check answered 401 "CORS requires basic auth"; the server needs the CORS bearer fix or requests carrying OCS-APIRequest`,
		},
		{
			name: "wrong Basic credentials", creds: nextcloud.Basic(testUser, testPassword), kind: nextcloud.AuthBasic, status: 401, body: "basic_401.json",
			wantIs:  []error{nextcloud.ErrUnauthorized},
			wantMsg: "Nextcloud rejected the Basic credentials (HTTP 401) while trying to get note 7; check the user name and app password",
		},
		{
			name: "no credentials", creds: nextcloud.Anonymous(), kind: nextcloud.AuthNone, status: 401, body: "cors_401.json",
			wantIs:  []error{nextcloud.ErrUnauthorized},
			wantMsg: "Nextcloud requires authentication (HTTP 401) to get note 7: CORS requires basic auth",
		},
		{
			name: "invalid bearer past CORS", creds: nextcloud.Bearer(testToken), kind: nextcloud.AuthBearer, status: 401, body: `{"message":"Current user is not logged in"}`,
			wantIs:  []error{nextcloud.ErrUnauthorized},
			wantMsg: "Nextcloud did not accept the bearer token (HTTP 401) while trying to get note 7; it must be valid for Nextcloud (issuer trusted by user_oidc, audience including Nextcloud's client id): Current user is not logged in",
		},
		{
			name: "password login forbidden", creds: nextcloud.Basic(testUser, testPassword), kind: nextcloud.AuthBasic, status: 401, body: `{"message":"Password login forbidden, use token instead"}`,
			wantIs:  []error{nextcloud.ErrUnauthorized},
			wantMsg: "Nextcloud forbids password login (HTTP 401) while trying to get note 7; use an app password: Password login forbidden, use token instead",
		},
		{
			name: "read-only note", creds: nextcloud.Bearer(testToken), kind: nextcloud.AuthBearer, status: 403, body: "notes_error_exception.json",
			wantIs:  []error{nextcloud.ErrForbidden},
			wantMsg: "Nextcloud denied access to note 7 (HTTP 403)",
		},
		{
			name: "locked", creds: nextcloud.Basic(testUser, testPassword), kind: nextcloud.AuthBasic, status: 423, body: "notes_error_exception.json",
			wantIs:  []error{nextcloud.ErrLocked},
			wantMsg: "Note 7 is locked in Nextcloud (HTTP 423); try again later",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				body := []byte(tt.body)
				if strings.HasSuffix(tt.body, ".json") {
					body = fixture(t, tt.body)
				}
				writeJSON(w, tt.status, body)
			})
			c := New(newTestClient(t, rec).WithCredentials(tt.creds))
			_, err := c.Get(context.Background(), 7)
			var e *nextcloud.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.wantBearer, e.BearerRejectedOnAppRoute)
			assert.Equal(t, tt.wantBearer, nextcloud.IsBearerRejectedOnAppRoute(err))
			for _, is := range tt.wantIs {
				assert.ErrorIs(t, err, is)
			}
			assert.EqualError(t, err, tt.wantMsg)
			assert.Equal(t, tt.kind, e.AuthKind)
			assert.NotContains(t, err.Error(), testToken)
			assert.NotContains(t, err.Error(), testPassword)
		})
	}
}

func TestAppRouteOCSHeaderOption(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, fixture(t, "note_76.json")) })
	_, err := New(newTestClient(t, rec, nextcloud.WithAppRouteOCSHeader(false))).Get(context.Background(), 76)
	require.NoError(t, err)
	assert.Empty(t, rec.Requests()[0].Header.Get("OCS-APIRequest"), "OCS-APIRequest with the option off")
}

func TestNoteUnmarshalPruned(t *testing.T) {
	tests := []struct {
		in     string
		pruned bool
	}{
		{`{"id":1}`, true},
		{`{"id":1,"title":""}`, false},
		{`{"id":1,"etag":"x","modified":0}`, false},
		{`{"id":1,"category":"","content":""}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var n Note
			require.NoError(t, json.Unmarshal([]byte(tt.in), &n))
			assert.Equal(t, tt.pruned, n.Pruned)
			assert.Equal(t, int64(1), n.ID)
		})
	}
}

func TestMalformedNoteIsUnexpected(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	})
	c := New(newTestClient(t, rec))
	_, err := c.Get(context.Background(), 1)
	require.True(t, errors.Is(err, nextcloud.ErrUnexpectedResponse), "err = %v", err)
	assert.ErrorContains(t, err, "Nextcloud sent an unexpected response to get note 1 (HTTP 200): ")
	assert.ErrorContains(t, err, "(Content-Type text/html)")
	content := "x"
	_, err = c.Update(context.Background(), 1, "e", Update{Content: &content})
	assert.ErrorIs(t, err, nextcloud.ErrUnexpectedResponse)
}
