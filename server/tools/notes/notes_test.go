package notes

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/notesearch"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
)

func TestNotesLifecycle(t *testing.T) {
	srv := newNotesServer(t)
	cs := connect(t, depsFor(t, srv.URL))

	created := decode[NoteWriteOutput](t, call(t, cs, ToolCreateNote, map[string]any{
		"title": "Groceries", "content": "milk", "category": "home",
	}))
	if !created.Success || created.ID == 0 || created.Title != "Groceries" || created.Category != "home" || created.ETag == "" ||
		created.Timestamp != "2026-08-22T10:00:00Z" {
		t.Fatalf("create = %+v", created)
	}

	got := decode[NoteOutput](t, call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID}))
	if got.Content != "milk" || got.ETag != created.ETag || got.Category != "home" {
		t.Fatalf("get = %+v", got)
	}

	updated := decode[NoteWriteOutput](t, call(t, cs, ToolUpdateNote, map[string]any{
		"note_id": created.ID, "etag": created.ETag, "content": "milk\neggs",
	}))
	if updated.ETag == created.ETag || updated.Title != "Groceries" {
		t.Fatalf("update = %+v", updated)
	}

	// The old etag is stale now.
	assertToolError(t, call(t, cs, ToolUpdateNote, map[string]any{
		"note_id": created.ID, "etag": created.ETag, "title": "Other",
	}), "changed since etag "+created.ETag+"; fetch it again")

	appended := decode[NoteWriteOutput](t, call(t, cs, ToolAppendContent, map[string]any{"note_id": created.ID, "content": "bread"}))
	n, _ := srv.note(created.ID)
	if n.Content != "milk\neggs\n---\nbread" || appended.ETag != n.ETag {
		t.Fatalf("after append: %q (etag %s vs %s)", n.Content, appended.ETag, n.ETag)
	}

	found := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "BREAD groceries"}))
	if found.Source != "live" || found.TotalFound != 1 || len(found.Results) != 1 || found.Results[0].ID != created.ID ||
		found.Results[0].Score == nil || *found.Results[0].Score != 2.0 || found.Query != "BREAD groceries" {
		t.Fatalf("search = %+v", found)
	}

	del := decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": created.ID}))
	if del.DeletedID != created.ID || del.StatusCode != 200 || del.Message != "Note "+itoa(created.ID)+" deleted successfully" {
		t.Fatalf("delete = %+v", del)
	}
	res := call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID})
	assertToolError(t, res, "Note "+itoa(created.ID)+" not found")
	if text(res) != "Note "+itoa(created.ID)+" not found" {
		t.Fatalf("message = %q", text(res))
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestUpdateKeepsOmittedFields(t *testing.T) {
	srv := newNotesServer(t)
	n := srv.add("Title", "body", "cat", 1)
	cs := connect(t, depsFor(t, srv.URL))
	out := decode[NoteWriteOutput](t, call(t, cs, ToolUpdateNote, map[string]any{"note_id": n.ID, "etag": `"` + n.ETag + `"`, "category": ""}))
	after, _ := srv.note(n.ID)
	if after.Title != "Title" || after.Content != "body" || after.Category != "" || out.Category != "" {
		t.Fatalf("after = %+v", after)
	}
	// Content "" clears the body (explicitly given).
	decode[NoteWriteOutput](t, call(t, cs, ToolUpdateNote, map[string]any{"note_id": n.ID, "etag": out.ETag, "content": ""}))
	if after, _ := srv.note(n.ID); after.Content != "" {
		t.Fatalf("content = %q", after.Content)
	}
}

func TestInputValidation(t *testing.T) {
	srv := newNotesServer(t)
	cs := connect(t, depsFor(t, srv.URL))
	huge := strings.Repeat("x", MaxNoteContentBytes+1)
	tests := []struct {
		name string
		tool string
		args map[string]any
		want string
	}{
		{"empty title", ToolCreateNote, map[string]any{"title": "  ", "content": "", "category": ""}, "title must not be empty"},
		{"long title", ToolCreateNote, map[string]any{"title": strings.Repeat("t", 1025), "content": "", "category": ""}, "title is 1025 bytes long; at most 1024 are allowed"},
		{"huge content", ToolCreateNote, map[string]any{"title": "t", "content": huge, "category": ""}, "content is 1048577 bytes long; at most 1048576 (1 MiB) are allowed"},
		{"category traversal", ToolCreateNote, map[string]any{"title": "t", "content": "", "category": "a/../../b"}, `must not contain ".." segments`},
		{"missing category", ToolCreateNote, map[string]any{"title": "t", "content": ""}, `missing properties: ["category"]`},
		{"unknown field", ToolCreateNote, map[string]any{"title": "t", "content": "", "category": "", "tags": "x"}, `unexpected additional properties ["tags"]`},
		{"negative id", ToolGetNote, map[string]any{"note_id": -3}, "note_id must be a positive integer, got -3"},
		{"zero id", ToolDeleteNote, map[string]any{"note_id": 0}, "note_id must be a positive integer, got 0"},
		{"id as string", ToolGetNote, map[string]any{"note_id": "7"}, `validating "arguments"`},
		{"fractional id", ToolGetNote, map[string]any{"note_id": 1.5}, `validating "arguments"`},
		{"no etag", ToolUpdateNote, map[string]any{"note_id": 1, "etag": "", "title": "x"}, "etag must not be empty"},
		{"etag list", ToolUpdateNote, map[string]any{"note_id": 1, "etag": `"a","b"`, "title": "x"}, "single etag"},
		{"nothing to update", ToolUpdateNote, map[string]any{"note_id": 1, "etag": "abc"}, "nothing to update"},
		{"empty new title", ToolUpdateNote, map[string]any{"note_id": 1, "etag": "abc", "title": ""}, "title must not be empty"},
		{"several problems at once", ToolUpdateNote, map[string]any{"note_id": -1, "etag": "", "content": huge}, "note_id must be a positive integer, got -1\netag must not be empty"},
		{"empty append", ToolAppendContent, map[string]any{"note_id": 1, "content": " \n"}, "content to append must not be empty"},
		{"huge append", ToolAppendContent, map[string]any{"note_id": 1, "content": huge}, "at most 1048576 (1 MiB)"},
		{"long query", ToolSearchNotes, map[string]any{"query": strings.Repeat("q", 1025)}, "query is 1025 bytes long; at most 1024 are allowed"},
		{"attachment path", ToolGetAttachment, map[string]any{"note_id": 1, "attachment_filename": "../../secret.txt"}, "must not contain slashes"},
		{"attachment dotdot", ToolGetAttachment, map[string]any{"note_id": 1, "attachment_filename": ".."}, `".." is not a file name`},
		{"attachment empty", ToolGetAttachment, map[string]any{"note_id": 1, "attachment_filename": ""}, "the attachment file name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.requestLog())
			res := call(t, cs, tt.tool, tt.args)
			assertToolError(t, res, tt.want)
			if len(text(res)) > 500 {
				t.Fatalf("error text too long (%d bytes): huge input must not be echoed", len(text(res)))
			}
			if after := len(srv.requestLog()); after != before {
				t.Fatalf("bad input reached Nextcloud: %v", srv.requestLog()[before:])
			}
		})
	}
}

func TestAppendReappliesAfterConcurrentEdit(t *testing.T) {
	srv := newNotesServer(t)
	n := srv.add("Log", "one", "", 1)
	edits := 0
	srv.beforeWrite = func(id int64) {
		// Someone else edits the note between our read and our write, once.
		if edits == 0 {
			edits++
			srv.mu.Lock()
			srv.notes[id].Content = "one\ntwo"
			srv.notes[id].touch()
			srv.mu.Unlock()
		}
	}
	cs := connect(t, depsFor(t, srv.URL))
	decode[NoteWriteOutput](t, call(t, cs, ToolAppendContent, map[string]any{"note_id": n.ID, "content": "three"}))
	after, _ := srv.note(n.ID)
	if after.Content != "one\ntwo\n---\nthree" {
		t.Fatalf("content = %q (the concurrent edit must survive)", after.Content)
	}
}

func TestAppendGivesUpAfterRepeatedConflicts(t *testing.T) {
	srv := newNotesServer(t)
	n := srv.add("Busy", "x", "", 1)
	srv.beforeWrite = func(id int64) {
		srv.mu.Lock()
		srv.notes[id].Content += "!"
		srv.notes[id].touch()
		srv.mu.Unlock()
	}
	cs := connect(t, depsFor(t, srv.URL))
	assertToolError(t, call(t, cs, ToolAppendContent, map[string]any{"note_id": n.ID, "content": "y"}), "changed since etag")
	puts := 0
	for _, r := range srv.requestLog() {
		if strings.HasPrefix(r, "PUT ") {
			puts++
		}
	}
	if puts != appendAttempts {
		t.Fatalf("PUTs = %d, want %d", puts, appendAttempts)
	}
}

func TestAppendToEmptyNoteHasNoSeparator(t *testing.T) {
	srv := newNotesServer(t)
	n := srv.add("Empty", "", "", 1)
	cs := connect(t, depsFor(t, srv.URL))
	decode[NoteWriteOutput](t, call(t, cs, ToolAppendContent, map[string]any{"note_id": n.ID, "content": "first"}))
	if after, _ := srv.note(n.ID); after.Content != "first" {
		t.Fatalf("content = %q", after.Content)
	}
}

func TestSearchEmptyQueryAndLimit(t *testing.T) {
	srv := newNotesServer(t)
	for i := range MaxSearchResults + 5 {
		srv.add("note", "common words", "", int64(i))
	}
	cs := connect(t, depsFor(t, srv.URL))
	out := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": ""}))
	if len(out.Results) != MaxSearchResults || out.TotalFound != MaxSearchResults+5 || out.Results[0].Score != nil {
		t.Fatalf("results=%d total=%d", len(out.Results), out.TotalFound)
	}
	none := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "absent"}))
	if none.Results == nil || len(none.Results) != 0 || none.TotalFound != 0 {
		t.Fatalf("no-hit search = %+v (results must be [], not null)", none)
	}
}

func TestSearchUsesIndexWhenIndexed(t *testing.T) {
	srv := newNotesServer(t)
	srv.add("Live only", "", "", 1)
	m := newModule()
	idx := m.index
	d := depsFor(t, srv.URL)
	cs := connectModule(t, d, m)

	// Not indexed yet: live listing.
	out := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "live"}))
	if out.Source != "live" || out.TotalFound != 1 {
		t.Fatalf("search = %+v", out)
	}

	// Indexed under "" (no token in-memory): no Nextcloud request at all.
	at := time.Date(2026, 8, 22, 9, 0, 0, 0, time.UTC)
	idx.Replace("", []notesearch.Note{{ID: 7, Title: "Indexed note", Category: "x", Modified: 5}}, at)
	before := len(srv.requestLog())
	out = decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "indexed"}))
	if out.Source != "index" || out.IndexedAt != "2026-08-22T09:00:00Z" || len(out.Results) != 1 || out.Results[0].ID != 7 || *out.Results[0].Score != 3 {
		t.Fatalf("search = %+v", out)
	}
	if len(srv.requestLog()) != before {
		t.Fatal("an indexed search called Nextcloud")
	}
}

// TestSearchIndexKeyIsTokenSubject runs the server behind streamable HTTP
// with bearer authentication, so requests carry TokenInfo: the index is
// consulted with the token's UserID.
func TestSearchIndexKeyIsTokenSubject(t *testing.T) {
	srv := newNotesServer(t)
	m := newModule()
	m.index.Replace("sub-alice", []notesearch.Note{{ID: 1, Title: "alice's note"}}, fixedNow)
	m.index.Replace("sub-bob", []notesearch.Note{{ID: 2, Title: "bob's note"}}, fixedNow)
	d := depsFor(t, srv.URL)
	d.Principal = func(extra *mcp.RequestExtra) string {
		if extra == nil || extra.TokenInfo == nil {
			return ""
		}
		return extra.TokenInfo.UserID
	}
	var sawExtra *mcp.RequestExtra
	inner := d.Client
	d.Client = func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		sawExtra = extra
		return inner(ctx, extra)
	}

	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "0"}, nil)
	tools.NewSet(m.kit()).Register(s, d)
	verify := func(_ context.Context, tok string, _ *http.Request) (*auth.TokenInfo, error) {
		return &auth.TokenInfo{UserID: "sub-" + tok, Scopes: []string{"notes:read"}, Expiration: time.Now().Add(time.Hour)}, nil
	}
	h := auth.RequireBearerToken(verify, nil)(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)

	for _, user := range []string{"alice", "bob", "carol"} {
		hc := &http.Client{Transport: bearerTransport{user}, Timeout: 10 * time.Second}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "0"}, nil).
			Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: hs.URL, HTTPClient: hc}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "note"}))
		cs.Close()
		switch user {
		case "alice", "bob":
			if out.Source != "index" || len(out.Results) != 1 || !strings.HasPrefix(out.Results[0].Title, user) {
				t.Fatalf("%s: %+v", user, out)
			}
		case "carol":
			if out.Source != "live" {
				t.Fatalf("carol is not indexed: %+v", out)
			}
			if sawExtra == nil || sawExtra.TokenInfo == nil || sawExtra.TokenInfo.UserID != "sub-carol" {
				t.Fatalf("Deps.Client got extra %+v", sawExtra)
			}
		}
	}
}

type bearerTransport struct{ tok string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

func TestGetAttachment(t *testing.T) {
	srv := newNotesServer(t)
	n := srv.add("Photo note", "![p](.attachments.x/photo.png)", "trips/2026", 1)
	png := []byte("\x89PNG\r\n\x1a\nfake")
	dir := "Notes/trips/2026/.attachments." + itoa(n.ID)
	srv.files[dir+"/photo.png"] = png
	srv.files[dir+"/notes.txt"] = []byte("hello")
	cs := connect(t, depsFor(t, srv.URL))

	res := call(t, cs, ToolGetAttachment, map[string]any{"note_id": n.ID, "attachment_filename": "photo.png"})
	out := decode[AttachmentOutput](t, res)
	if out.MIMEType != "image/png" || out.Size != len(png) || out.Encoding != "base64" || out.URI != "nc://Notes/"+itoa(n.ID)+"/attachments/photo.png" {
		t.Fatalf("out = %+v", out)
	}
	if data, _ := base64.StdEncoding.DecodeString(out.Data); string(data) != string(png) {
		t.Fatal("data mismatch")
	}
	er, ok := res.Content[0].(*mcp.EmbeddedResource)
	if !ok || string(er.Resource.Blob) != string(png) || er.Resource.MIMEType != "image/png" {
		t.Fatalf("content = %#v", res.Content)
	}

	res = call(t, cs, ToolGetAttachment, map[string]any{"note_id": n.ID, "attachment_filename": "notes.txt"})
	if er := res.Content[0].(*mcp.EmbeddedResource); er.Resource.Text != "hello" {
		t.Fatalf("text attachment = %#v", er.Resource)
	}

	assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": n.ID, "attachment_filename": "nope.png"}),
		`Attachment "nope.png" of note `+itoa(n.ID)+` not found; note `+itoa(n.ID)+` has: "notes.txt", "photo.png"`)

	other := srv.add("No attachments", "", "", 1)
	assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": other.ID, "attachment_filename": "x.png"}),
		"has no attachments")
	assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": 999, "attachment_filename": "x.png"}), "Note 999 not found")
}

func TestDeleteNoteRemovesAttachments(t *testing.T) {
	srv := newNotesServer(t)
	n := srv.add("With files", "", "c", 1)
	srv.files["Notes/c/.attachments."+itoa(n.ID)+"/a.png"] = []byte("x")
	keep := "Notes/c/.attachments.9999/b.png"
	srv.files[keep] = []byte("y")
	cs := connect(t, depsFor(t, srv.URL))
	decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": n.ID}))
	if len(srv.files) != 1 || srv.files[keep] == nil {
		t.Fatalf("files = %v", srv.files)
	}
	// Without attachments the delete is clean too (404 on the folder is fine).
	m := srv.add("Plain", "", "", 1)
	out := decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": m.ID}))
	if strings.Contains(out.Message, "attachment") {
		t.Fatalf("message = %q", out.Message)
	}
}

func TestDeleteReportsAttachmentCleanupFailure(t *testing.T) {
	srv := newNotesServer(t)
	n := srv.add("With files", "", "", 1)
	srv.setFail("DELETE /remote.php/", 423, `<?xml version="1.0"?><d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:exception>OCA\DAV\Connector\Sabre\Exception\FileLocked</s:exception><s:message>locked</s:message></d:error>`)
	cs := connect(t, depsFor(t, srv.URL))
	out := decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": n.ID}))
	if !strings.Contains(out.Message, "deleted successfully; its attachment folder could not be removed: ") || !strings.Contains(out.Message, "HTTP 423") {
		t.Fatalf("message = %q", out.Message)
	}
	if _, ok := srv.note(n.ID); ok {
		t.Fatal("note not deleted")
	}
}

func TestNextcloudErrorsBecomeToolErrors(t *testing.T) {
	tests := []struct {
		name, prefix string
		status       int
		body         string
		creds        nextcloud.Credentials
		want         string
	}{
		{"CORS refuses bearer", "GET /index.php/apps/notes", 401, `{"message":"CORS requires basic auth"}`, nextcloud.Bearer("tok-secret"),
			"Nextcloud refused a bearer token on this app route (GET /index.php/apps/notes/api/v1/notes/1)"},
		{"bad basic", "GET /index.php/apps/notes", 401, `{"message":""}`, nextcloud.Basic("alice", "pw-secret"),
			"Nextcloud rejected the Basic credentials (HTTP 401) while trying to get note 1"},
		{"server down", "GET /index.php/apps/notes", 503, `{"message":""}`, nextcloud.Basic("alice", "pw-secret"),
			"Nextcloud could not get note 1: HTTP 503 Service Unavailable"},
		{"read-only", "GET /index.php/apps/notes", 403, `{"errorType":"Exception"}`, nextcloud.Basic("alice", "pw-secret"),
			"Nextcloud denied access to note 1 (HTTP 403)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newNotesServer(t)
			srv.setFail(tt.prefix, tt.status, tt.body)
			base, _ := nextcloud.New(srv.URL, tt.creds, nextcloud.WithRetry(1, 0, 0))
			cs := connect(t, &Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) { return base, nil }})
			res := call(t, cs, ToolGetNote, map[string]any{"note_id": 1})
			assertToolError(t, res, tt.want)
			if strings.Contains(text(res), "secret") {
				t.Fatalf("secret in %q", text(res))
			}
		})
	}
}

func TestDepsClientErrorIsTheToolError(t *testing.T) {
	cs := connect(t, &Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) {
		return nil, errors.New("Nextcloud access is not provisioned: call provision_nextcloud_access")
	}})
	for _, name := range toolNames() {
		args := map[string]any{"note_id": 1, "etag": "e", "title": "t", "content": "c", "category": "", "query": "q", "attachment_filename": "a"}
		// Send only the properties each tool knows.
		res := call(t, cs, name, filterArgs(name, args))
		assertToolError(t, res, "call provision_nextcloud_access")
	}
}

func filterArgs(tool string, all map[string]any) map[string]any {
	keys := map[string][]string{
		ToolCreateNote:    {"title", "content", "category"},
		ToolUpdateNote:    {"note_id", "etag", "title"},
		ToolAppendContent: {"note_id", "content"},
		ToolSearchNotes:   {"query"},
		ToolGetNote:       {"note_id"},
		ToolGetAttachment: {"note_id", "attachment_filename"},
		ToolDeleteNote:    {"note_id"},
	}[tool]
	out := map[string]any{}
	for _, k := range keys {
		out[k] = all[k]
	}
	return out
}

func TestPanicInHandlerIsAToolError(t *testing.T) {
	cs := connect(t, &Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) { panic("boom") }})
	assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 1}), "internal error in nc_notes_get_note")
	// The server still serves.
	assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": -1}), "positive integer")
	_, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: NotesSettingsURI})
	if err == nil || !strings.Contains(err.Error(), "internal error reading notes://settings") {
		t.Fatalf("resource panic: %v", err)
	}
}

func TestResources(t *testing.T) {
	srv := newNotesServer(t)
	n := srv.add("Res note", "body", "c", 42)
	srv.files["Notes/c/.attachments."+itoa(n.ID)+"/my photo.png"] = []byte("PNGDATA")
	srv.files["Notes/c/.attachments."+itoa(n.ID)+"/a+b (1), é.txt"] = []byte("odd name")
	cs := connect(t, depsFor(t, srv.URL))
	ctx := context.Background()
	read := func(uri string) (*mcp.ReadResourceResult, error) {
		return cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
	}

	r, err := read(NotesSettingsURI)
	if err != nil || r.Contents[0].MIMEType != "application/json" || r.Contents[0].Text != `{"notesPath":"Notes","fileSuffix":".md","noteMode":"rich"}` {
		t.Fatalf("settings: %v %+v", err, r)
	}

	r, err = read(NoteURI(n.ID))
	if err != nil {
		t.Fatal(err)
	}
	var note NoteOutput
	if err := json.Unmarshal([]byte(r.Contents[0].Text), &note); err != nil || note.Title != "Res note" || note.Content != "body" || note.ETag != n.ETag {
		t.Fatalf("note resource: %v %+v", err, note)
	}

	uri := AttachmentURI(n.ID, "my photo.png")
	if uri != "nc://Notes/"+itoa(n.ID)+"/attachments/my%20photo.png" {
		t.Fatalf("uri = %s", uri)
	}
	r, err = read(uri)
	if err != nil || string(r.Contents[0].Blob) != "PNGDATA" || r.Contents[0].MIMEType != "image/png" {
		t.Fatalf("attachment resource: %v %+v", err, r)
	}

	odd := AttachmentURI(n.ID, "a+b (1), é.txt")
	if want := "nc://Notes/" + itoa(n.ID) + "/attachments/a%2Bb%20%281%29%2C%20%C3%A9.txt"; odd != want {
		t.Fatalf("uri = %s, want %s", odd, want)
	}
	if r, err = read(odd); err != nil || r.Contents[0].Text != "odd name" {
		t.Fatalf("odd attachment name: %v %+v", err, r)
	}

	r, err = read(core.CapabilitiesURI)
	if err != nil || !strings.Contains(r.Contents[0].Text, `"notes_path":"Notes"`) || !strings.Contains(r.Contents[0].Text, `"string":"32.0.14"`) {
		t.Fatalf("capabilities: %v %+v", err, r)
	}

	for _, bad := range []string{NoteURI(999), "nc://Notes/abc", "nc://Notes/-1", AttachmentURI(n.ID, "missing.png"), AttachmentURI(999, "a.png")} {
		if _, err := read(bad); err == nil || !strings.Contains(err.Error(), "Resource not found") {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

func TestResourceErrorsCarryNextcloudText(t *testing.T) {
	srv := newNotesServer(t)
	srv.setFail("GET /index.php/apps/notes/api/v1/settings", 401, `{"message":"CORS requires basic auth"}`)
	base, _ := nextcloud.New(srv.URL, nextcloud.Bearer("tok"), nextcloud.WithRetry(1, 0, 0))
	cs := connect(t, &Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) { return base, nil }})
	_, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: NotesSettingsURI})
	if err == nil || !strings.Contains(err.Error(), "Nextcloud refused a bearer token on this app route") {
		t.Fatalf("err = %v", err)
	}
}

func TestExplainErrorAppliesToToolsAndResources(t *testing.T) {
	srv := newNotesServer(t)
	srv.setFail("GET /index.php/apps/notes", 401, `{"message":"CORS requires basic auth"}`)
	d := depsFor(t, srv.URL)
	d.ExplainError = func(err error) error { return errors.New("explained: " + err.Error()) }
	cs := connect(t, d)
	assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 1}), "explained: Nextcloud rejected the Basic credentials")
	// Validation errors pass through it as well.
	assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 0}), "explained: note_id must be a positive integer")
	_, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: NotesSettingsURI})
	if err == nil || !strings.Contains(err.Error(), "explained: Nextcloud rejected the Basic credentials") {
		t.Fatalf("resource: %v", err)
	}
	// Resource-not-found stays a protocol error.
	srv.setFail("", 0, "")
	_, err = cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "nc://Notes/abc"})
	if err == nil || !strings.Contains(err.Error(), "Resource not found") || strings.Contains(err.Error(), "explained") {
		t.Fatalf("not found: %v", err)
	}
}
