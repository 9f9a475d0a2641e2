package nextcloud

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func notesHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Notes-API-Versions", "0.2, 1.3, 1.4")
}

func TestListNotesChunked(t *testing.T) {
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
	c := newTestClient(t, rec)
	cat := "work"
	notes, err := c.ListNotes(context.Background(), ListOptions{Category: &cat, Exclude: []string{"content"}, PruneBefore: 1700000000, ChunkSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, n := range notes {
		ids = append(ids, n.ID)
	}
	if want := []int64{3, 5, 9, 12}; !equalIDs(ids, want) {
		t.Fatalf("ids = %v, want %v (deduplicated, server order)", ids, want)
	}
	if notes[0].Pruned || notes[0].Title != "Alpha" || notes[1].Category != "work" || !notes[1].Favorite || !notes[2].ReadOnly {
		t.Fatalf("full entries lost or overwritten by the id-only tail: %+v", notes[:3])
	}
	if !notes[3].Pruned || notes[3].Title != "" {
		t.Fatalf("id-only entry should be Pruned: %+v", notes[3])
	}
	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d", len(reqs))
	}
	q, _ := url.ParseQuery(reqs[0].RawQuery)
	want := url.Values{"category": {"work"}, "exclude": {"content"}, "pruneBefore": {"1700000000"}, "chunkSize": {"2"}}
	for k, v := range want {
		if q.Get(k) != v[0] {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), v[0])
		}
	}
	if q.Has("chunkCursor") {
		t.Error("first chunk must not send a cursor")
	}
	if reqs[0].Path != "/index.php/apps/notes/api/v1/notes" {
		t.Errorf("path = %s", reqs[0].Path)
	}
	if reqs[0].Header.Get("OCS-APIRequest") != "true" {
		t.Error("app route requests carry OCS-APIRequest by default")
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListNotesPageHeaders(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Notes-Chunk-Cursor", "1-2-3")
		w.Header().Set("X-Notes-Chunk-Pending", "7")
		w.Header().Set("ETag", `"abc"`)
		writeJSON(w, 200, fixture(t, "notes_chunk1.json"))
	})
	c := newTestClient(t, rec)
	p, err := c.ListNotesPage(context.Background(), ListOptions{ChunkSize: -1}, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Cursor != "1-2-3" || p.Pending != 7 || p.ETag != "abc" || len(p.Notes) != 2 {
		t.Fatalf("page = %+v", p)
	}
	if strings.Contains(rec.requests()[0].RawQuery, "chunkSize") {
		t.Fatal("negative ChunkSize must not chunk")
	}
}

func TestListNotesRepeatedCursor(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Notes-Chunk-Cursor", "same")
		writeJSON(w, 200, []byte(`[]`))
	})
	_, err := newTestClient(t, rec).ListNotes(context.Background(), ListOptions{})
	if !errors.Is(err, ErrUnexpectedResponse) || !strings.Contains(err.Error(), "chunk cursor repeated") {
		t.Fatalf("err = %v", err)
	}
}

func TestNoteCRUD(t *testing.T) {
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
	c := newTestClient(t, rec)

	t.Run("get", func(t *testing.T) {
		n, err := c.GetNote(ctx, 76)
		if err != nil {
			t.Fatal(err)
		}
		if n.ID != 76 || n.Title != "New note" || n.Category != "sub/dir" || n.ETag != "be284e00488c61c101ee28309d235e0b" ||
			n.Modified != 1376753464 || n.InternalPath != "/Notes/sub/dir/New note.md" || n.Pruned {
			t.Fatalf("note = %+v", n)
		}
	})
	t.Run("create", func(t *testing.T) {
		before := len(rec.requests())
		n, err := c.CreateNote(ctx, NewNote{Title: "New note", Content: "Shopping list\n- milk", Category: "sub/dir", Favorite: true})
		if err != nil || n.ID != 76 {
			t.Fatalf("n=%+v err=%v", n, err)
		}
		req := rec.requests()[before]
		var body map[string]any
		if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
			t.Fatal(err)
		}
		if body["title"] != "New note" || body["category"] != "sub/dir" || body["favorite"] != true || body["content"] != "Shopping list\n- milk" {
			t.Fatalf("body = %v", body)
		}
		if _, has := body["modified"]; has {
			t.Fatal("zero Modified should not be sent")
		}
		if req.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("content type = %q", req.Header.Get("Content-Type"))
		}
	})
	t.Run("update with etag", func(t *testing.T) {
		content := "Shopping list\n- milk\n- eggs"
		n, err := c.UpdateNote(ctx, 76, `"be284e00488c61c101ee28309d235e0b"`, NoteUpdate{Content: &content})
		if err != nil {
			t.Fatal(err)
		}
		if n.ETag != "0f2e3c9a7b6d5e4f3a2b1c0d9e8f7a6b" {
			t.Fatalf("etag = %s", n.ETag)
		}
		req := rec.requests()[len(rec.requests())-1]
		if req.Body != `{"content":"Shopping list\n- milk\n- eggs"}` {
			t.Fatalf("body = %s (only given fields are sent)", req.Body)
		}
	})
	t.Run("update with stale etag", func(t *testing.T) {
		title := "x"
		_, err := c.UpdateNote(ctx, 76, "deadbeef", NoteUpdate{Title: &title})
		if !IsPreconditionFailed(err) {
			t.Fatalf("err = %v", err)
		}
		want := "Note 76 changed since etag deadbeef; fetch it again (current etag 0f2e3c9a7b6d5e4f3a2b1c0d9e8f7a6b)"
		if err.Error() != want {
			t.Fatalf("message = %q\nwant      %q", err, want)
		}
		var e *Error
		if !errors.As(err, &e) || e.CurrentETag != "0f2e3c9a7b6d5e4f3a2b1c0d9e8f7a6b" || e.ETag != "deadbeef" {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := c.DeleteNote(ctx, 76); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		for _, call := range []func() error{
			func() error { _, err := c.GetNote(ctx, 42); return err },
			func() error { return c.DeleteNote(ctx, 42) },
			func() error { s := "x"; _, err := c.UpdateNote(ctx, 42, "", NoteUpdate{Content: &s}); return err },
		} {
			err := call()
			if !IsNotFound(err) || err.Error() != "Note 42 not found" {
				t.Fatalf("err = %v", err)
			}
		}
	})
	t.Run("settings", func(t *testing.T) {
		s, err := c.NotesSettings(ctx)
		if err != nil || *s != (NotesSettings{NotesPath: "Notes", FileSuffix: ".md", NoteMode: "rich"}) {
			t.Fatalf("s=%+v err=%v", s, err)
		}
		if _, err := c.UpdateNotesSettings(ctx, NotesSettings{FileSuffix: ".txt"}); err != nil {
			t.Fatal(err)
		}
		req := rec.requests()[len(rec.requests())-1]
		if req.Method != http.MethodPut || req.Body != `{"fileSuffix":".txt"}` {
			t.Fatalf("settings PUT = %s %s", req.Method, req.Body)
		}
	})
}

func TestAuthFailuresOnAppRoutes(t *testing.T) {
	tests := []struct {
		name       string
		creds      Credentials
		status     int
		body       string
		wantBearer bool
		wantIs     []error
		wantMsg    string
	}{
		{
			name: "stock CORS refuses a bearer token", creds: Bearer(testToken), status: 401, body: "cors_401.json",
			wantBearer: true, wantIs: []error{ErrUnauthorized, ErrBearerRejectedOnAppRoute},
			wantMsg: `Nextcloud refused a bearer token on this app route (GET /index.php/apps/notes/api/v1/notes/7): its #[CORS] check answered 401 "CORS requires basic auth"; the server needs the CORS bearer fix or requests carrying OCS-APIRequest`,
		},
		{
			name: "wrong Basic credentials", creds: Basic(testUser, testPassword), status: 401, body: "basic_401.json",
			wantIs:  []error{ErrUnauthorized},
			wantMsg: "Nextcloud rejected the Basic credentials (HTTP 401) while trying to get note 7; check the user name and app password",
		},
		{
			name: "no credentials", creds: Anonymous(), status: 401, body: "cors_401.json",
			wantIs:  []error{ErrUnauthorized},
			wantMsg: "Nextcloud requires authentication (HTTP 401) to get note 7: CORS requires basic auth",
		},
		{
			name: "invalid bearer past CORS", creds: Bearer(testToken), status: 401, body: `{"message":"Current user is not logged in"}`,
			wantIs:  []error{ErrUnauthorized},
			wantMsg: "Nextcloud did not accept the bearer token (HTTP 401) while trying to get note 7; it must be valid for Nextcloud (issuer trusted by user_oidc, audience including Nextcloud's client id): Current user is not logged in",
		},
		{
			name: "password login forbidden", creds: Basic(testUser, testPassword), status: 401, body: `{"message":"Password login forbidden, use token instead"}`,
			wantIs:  []error{ErrUnauthorized},
			wantMsg: "Nextcloud forbids password login (HTTP 401) while trying to get note 7; use an app password: Password login forbidden, use token instead",
		},
		{
			name: "read-only note", creds: Bearer(testToken), status: 403, body: "notes_error_exception.json",
			wantIs:  []error{ErrForbidden},
			wantMsg: "Nextcloud denied access to note 7 (HTTP 403)",
		},
		{
			name: "locked", creds: Basic(testUser, testPassword), status: 423, body: "notes_error_exception.json",
			wantIs:  []error{ErrLocked},
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
			c := newTestClient(t, rec).WithCredentials(tt.creds)
			_, err := c.GetNote(context.Background(), 7)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v", err)
			}
			if e.BearerRejectedOnAppRoute != tt.wantBearer || IsBearerRejectedOnAppRoute(err) != tt.wantBearer {
				t.Fatalf("BearerRejectedOnAppRoute = %v", e.BearerRejectedOnAppRoute)
			}
			for _, is := range tt.wantIs {
				if !errors.Is(err, is) {
					t.Errorf("errors.Is(%v) = false", is)
				}
			}
			if err.Error() != tt.wantMsg {
				t.Fatalf("message = %q\nwant      %q", err, tt.wantMsg)
			}
			if e.AuthKind != tt.creds.kind() {
				t.Fatalf("AuthKind = %s", e.AuthKind)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), testPassword) {
				t.Fatal("secret in error")
			}
		})
	}
}

func TestAppRouteOCSHeaderOption(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, fixture(t, "note_76.json")) })
	c := newTestClient(t, rec, WithAppRouteOCSHeader(false))
	if _, err := c.GetNote(context.Background(), 76); err != nil {
		t.Fatal(err)
	}
	if h := rec.requests()[0].Header.Get("OCS-APIRequest"); h != "" {
		t.Fatalf("OCS-APIRequest = %q with the option off", h)
	}
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
		var n Note
		if err := json.Unmarshal([]byte(tt.in), &n); err != nil {
			t.Fatal(err)
		}
		if n.Pruned != tt.pruned || n.ID != 1 {
			t.Errorf("%s: %+v", tt.in, n)
		}
	}
}
