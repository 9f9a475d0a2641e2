package notes

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
)

func TestNotesLifecycle(t *testing.T) {
	srv := startNextcloud(t)
	cs := connect(t, depsFor(t, srv.URL))

	created := decode[NoteWriteOutput](t, call(t, cs, ToolCreateNote, map[string]any{
		"title": "Groceries", "content": "milk", "category": "home",
	}))
	assert.True(t, created.Success)
	assert.NotZero(t, created.ID)
	assert.Equal(t, "Groceries", created.Title)
	assert.Equal(t, "home", created.Category)
	assert.NotEmpty(t, created.ETag)
	assert.Equal(t, "2026-08-22T10:00:00Z", created.Timestamp)

	got := decode[NoteOutput](t, call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID}))
	assert.Equal(t, "milk", got.Content)
	assert.Equal(t, created.ETag, got.ETag)
	assert.Equal(t, "home", got.Category)

	updated := decode[NoteWriteOutput](t, call(t, cs, ToolUpdateNote, map[string]any{
		"note_id": created.ID, "etag": created.ETag, "content": "milk\neggs",
	}))
	assert.NotEqual(t, created.ETag, updated.ETag)
	assert.Equal(t, "Groceries", updated.Title)

	// The old etag is stale now.
	assertToolError(t, call(t, cs, ToolUpdateNote, map[string]any{
		"note_id": created.ID, "etag": created.ETag, "title": "Other",
	}), fmt.Sprintf("Note %d changed since etag %s; fetch it again", created.ID, created.ETag))

	appended := decode[NoteWriteOutput](t, call(t, cs, ToolAppendContent, map[string]any{"note_id": created.ID, "content": "bread"}))
	n := mustFetchNote(t, srv, created.ID)
	assert.Equal(t, "milk\neggs\n---\nbread", n.Content)
	assert.Equal(t, n.ETag, appended.ETag)

	// Title "groceries" weighs 3 × 1/2, the body's "bread" 1/2.
	found := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "BREAD groceries"}))
	assert.Equal(t, "live", found.Source)
	assert.Equal(t, "BREAD groceries", found.Query)
	assert.Equal(t, 1, found.TotalFound)
	if assert.Len(t, found.Results, 1) {
		assert.Equal(t, created.ID, found.Results[0].ID)
		if assert.NotNil(t, found.Results[0].Score) {
			assert.InDelta(t, 2.0, *found.Results[0].Score, 1e-9)
		}
	}

	del := decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": created.ID}))
	assert.Equal(t, created.ID, del.DeletedID)
	assert.Equal(t, 200, del.StatusCode)
	assert.Equal(t, fmt.Sprintf("Note %d deleted successfully", created.ID), del.Message)
	_, exists := fetchNote(t, srv, created.ID)
	assert.False(t, exists, "the note is still in Nextcloud")

	res := call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID})
	assert.True(t, res.IsError)
	assert.Equal(t, fmt.Sprintf("Note %d not found", created.ID), text(res))
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestUpdateKeepsOmittedFields(t *testing.T) {
	srv := startNextcloud(t)
	n := seedNote(t, srv, "Title", "body", "cat", 1)
	cs := connect(t, depsFor(t, srv.URL))

	// A quoted etag is accepted; category "" moves the note out of "cat".
	out := decode[NoteWriteOutput](t, call(t, cs, ToolUpdateNote, map[string]any{"note_id": n.ID, "etag": `"` + n.ETag + `"`, "category": ""}))
	assert.Equal(t, "", out.Category)
	after := mustFetchNote(t, srv, n.ID)
	assert.Equal(t, "Title", after.Title)
	assert.Equal(t, "body", after.Content)
	assert.Equal(t, "", after.Category)

	// Content "" clears the body (explicitly given).
	decode[NoteWriteOutput](t, call(t, cs, ToolUpdateNote, map[string]any{"note_id": n.ID, "etag": out.ETag, "content": ""}))
	after = mustFetchNote(t, srv, n.ID)
	assert.Equal(t, "", after.Content)
	assert.Equal(t, "Title", after.Title)
}

func TestInputValidation(t *testing.T) {
	srv := startNextcloud(t)
	// A real note, so that input that slipped through would reach it.
	id := seedNote(t, srv, "Target", "body", "", 1).ID
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
		{"no etag", ToolUpdateNote, map[string]any{"note_id": id, "etag": "", "title": "x"}, "etag must not be empty"},
		{"etag list", ToolUpdateNote, map[string]any{"note_id": id, "etag": `"a","b"`, "title": "x"}, "single etag"},
		{"nothing to update", ToolUpdateNote, map[string]any{"note_id": id, "etag": "abc"}, "nothing to update"},
		{"empty new title", ToolUpdateNote, map[string]any{"note_id": id, "etag": "abc", "title": ""}, "title must not be empty"},
		{"several problems at once", ToolUpdateNote, map[string]any{"note_id": -1, "etag": "", "content": huge}, "note_id must be a positive integer, got -1\netag must not be empty"},
		{"empty append", ToolAppendContent, map[string]any{"note_id": id, "content": " \n"}, "content to append must not be empty"},
		{"huge append", ToolAppendContent, map[string]any{"note_id": id, "content": huge}, "at most 1048576 (1 MiB)"},
		{"long query", ToolSearchNotes, map[string]any{"query": strings.Repeat("q", 1025)}, "query is 1025 bytes long; at most 1024 are allowed"},
		{"attachment path", ToolGetAttachment, map[string]any{"note_id": id, "attachment_filename": "../../secret.txt"}, "must not contain slashes"},
		{"attachment dotdot", ToolGetAttachment, map[string]any{"note_id": id, "attachment_filename": ".."}, `".." is not a file name`},
		{"attachment empty", ToolGetAttachment, map[string]any{"note_id": id, "attachment_filename": ""}, "the attachment file name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetLog()
			got := assertToolError(t, call(t, cs, tt.tool, tt.args), tt.want)
			assert.LessOrEqual(t, len(got), 500, "huge input must not be echoed")
			assert.Empty(t, srv.RequestLog(), "bad input reached Nextcloud")
		})
	}
}

func TestAppendReappliesAfterConcurrentEdit(t *testing.T) {
	// Someone else edits the note between our read and our write, once.
	ed := &concurrentEditor{T: t, Times: 1, Edit: func(string) string { return "one\ntwo" }}
	srv := startWrapped(t, ed.wrap)
	n := seedNote(t, srv, "Log", "one", "", 1)
	cs := connect(t, depsFor(t, srv.URL))
	srv.ResetLog()

	out := decode[NoteWriteOutput](t, call(t, cs, ToolAppendContent, map[string]any{"note_id": n.ID, "content": "three"}))
	after := mustFetchNote(t, srv, n.ID)
	assert.Equal(t, "one\ntwo\n---\nthree", after.Content, "the concurrent edit must survive")
	assert.Equal(t, after.ETag, out.ETag)
	// The edit (200), the tool's stale write (Nextcloud's 412), the
	// reapplied write (200).
	assert.Equal(t, []int{http.StatusOK, http.StatusPreconditionFailed, http.StatusOK}, putStatuses(srv.RequestLog()))
	assert.EqualValues(t, 2, ed.puts.Load())
}

func TestAppendGivesUpAfterRepeatedConflicts(t *testing.T) {
	// The note changes before every write.
	ed := &concurrentEditor{T: t, Times: 1 << 20, Edit: func(c string) string { return c + "!" }}
	srv := startWrapped(t, ed.wrap)
	n := seedNote(t, srv, "Busy", "x", "", 1)
	cs := connect(t, depsFor(t, srv.URL))
	srv.ResetLog()

	assertToolError(t, call(t, cs, ToolAppendContent, map[string]any{"note_id": n.ID, "content": "y"}),
		fmt.Sprintf("Note %d changed since etag", n.ID))
	assert.EqualValues(t, appendAttempts, ed.puts.Load(), "the tool's writes")
	var want []int
	for range appendAttempts {
		want = append(want, http.StatusOK, http.StatusPreconditionFailed)
	}
	assert.Equal(t, want, putStatuses(srv.RequestLog()), "each write met a real 412")
	assert.Equal(t, "x!!!", mustFetchNote(t, srv, n.ID).Content, "the append was not applied")
}

func TestAppendToEmptyNoteHasNoSeparator(t *testing.T) {
	srv := startNextcloud(t)
	n := seedNote(t, srv, "Empty", "", "", 1)
	cs := connect(t, depsFor(t, srv.URL))
	decode[NoteWriteOutput](t, call(t, cs, ToolAppendContent, map[string]any{"note_id": n.ID, "content": "first"}))
	assert.Equal(t, "first", mustFetchNote(t, srv, n.ID).Content)
}

func TestSearchEmptyQueryAndLimit(t *testing.T) {
	srv := startNextcloud(t)
	seed := make([]fakenc.SeedNote, MaxSearchResults+5)
	for i := range seed {
		seed[i] = fakenc.SeedNote{Title: "note", Content: "common words", Modified: int64(i + 1)}
	}
	seedNotes(t, srv, seed...)
	cs := connect(t, depsFor(t, srv.URL))

	out := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": ""}))
	assert.Len(t, out.Results, MaxSearchResults)
	assert.Equal(t, MaxSearchResults+5, out.TotalFound)
	if assert.NotEmpty(t, out.Results) {
		assert.Nil(t, out.Results[0].Score, "an empty query has no score")
	}

	none := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "absent"}))
	assert.NotNil(t, none.Results, "results must be [], not null")
	assert.Empty(t, none.Results)
	assert.Zero(t, none.TotalFound)
}

func TestSearchUsesIndexWhenIndexed(t *testing.T) {
	srv := startNextcloud(t)
	n := seedNote(t, srv, "Live only", "", "", 1)
	m := newModule()
	d := depsFor(t, srv.URL)
	cs := connectModule(t, d, m)

	// Not indexed yet: live listing.
	out := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "live"}))
	assert.Equal(t, "live", out.Source)
	assert.Equal(t, 1, out.TotalFound)
	assert.Empty(t, out.IndexedAt)

	// Indexed under "" (no token in memory), as the background sync does.
	c, err := d.Client(context.Background(), nil)
	require.NoError(t, err)
	before := time.Now().Truncate(time.Second)
	require.NoError(t, m.sync(context.Background(), c, ""))
	after := time.Now()

	// A note added after the sync is in Nextcloud but not in the snapshot.
	seedNote(t, srv, "Live too", "", "", 2)
	srv.ResetLog()
	out = decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "live"}))
	assert.Empty(t, srv.RequestLog(), "an indexed search called Nextcloud")
	assert.Equal(t, "index", out.Source)
	assert.Equal(t, 1, out.TotalFound, "the index answers from its snapshot")
	if assert.Len(t, out.Results, 1) {
		assert.Equal(t, n.ID, out.Results[0].ID)
		if assert.NotNil(t, out.Results[0].Score) {
			assert.InDelta(t, 3.0, *out.Results[0].Score, 1e-9)
		}
	}
	indexedAt, err := time.Parse(time.RFC3339, out.IndexedAt)
	if assert.NoError(t, err, "indexed_at %q", out.IndexedAt) {
		assert.False(t, indexedAt.Before(before) || indexedAt.After(after), "indexed_at %s is not the sync's time", out.IndexedAt)
	}
}

// TestSearchIndexKeyIsTokenSubject runs the server behind streamable HTTP
// with bearer authentication, so requests carry TokenInfo: the index is
// consulted with the token's UserID.
func TestSearchIndexKeyIsTokenSubject(t *testing.T) {
	srv := startNextcloud(t)
	seedNote(t, srv, "alice's note", "", "", 1)
	require.NoError(t, srv.SeedData(fakenc.Seed{Notes: []fakenc.SeedNote{{Owner: bob, Title: "bob's note"}}}))

	// The background sync indexes each user with their own client.
	m := newModule()
	ctx := context.Background()
	require.NoError(t, m.sync(ctx, newClient(t, srv.URL, nextcloud.Basic(alice, alicePassword), 1), "sub-alice"))
	require.NoError(t, m.sync(ctx, newClient(t, srv.URL, nextcloud.Basic(bob, bobPassword), 1), "sub-bob"))

	d := depsFor(t, srv.URL)
	d.Principal = func(extra *mcp.RequestExtra) string {
		if extra == nil || extra.TokenInfo == nil {
			return ""
		}
		return extra.TokenInfo.UserID
	}
	var sawExtra atomic.Pointer[mcp.RequestExtra]
	inner := d.Client
	d.Client = func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		sawExtra.Store(extra)
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

	search := func(t *testing.T, user string) SearchNotesOutput {
		t.Helper()
		hc := &http.Client{Transport: bearerTransport{user}, Timeout: 10 * time.Second}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "0"}, nil).
			Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: hs.URL, HTTPClient: hc}, nil)
		require.NoError(t, err)
		defer cs.Close()
		return decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "note"}))
	}
	for _, user := range []string{alice, bob} {
		t.Run(user+" is indexed", func(t *testing.T) {
			srv.ResetLog()
			out := search(t, user)
			assert.Equal(t, "index", out.Source)
			if assert.Len(t, out.Results, 1) {
				assert.Equal(t, user+"'s note", out.Results[0].Title)
			}
			assert.Empty(t, srv.RequestLog(), "an indexed search called Nextcloud")
		})
	}
	t.Run("carol is not indexed", func(t *testing.T) {
		out := search(t, "carol")
		assert.Equal(t, "live", out.Source)
		extra := sawExtra.Load()
		if assert.NotNil(t, extra, "Deps.Client was not called") && assert.NotNil(t, extra.TokenInfo) {
			assert.Equal(t, "sub-carol", extra.TokenInfo.UserID)
		}
	})
}

type bearerTransport struct{ tok string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

func TestGetAttachment(t *testing.T) {
	srv := startNextcloud(t)
	n := seedNote(t, srv, "Photo note", "![p](.attachments.x/photo.png)", "trips/2026", 1)
	png := "\x89PNG\r\n\x1a\nfake"
	dir := attachmentDir("trips/2026", n.ID)
	seedFiles(t, srv, map[string]string{dir + "/photo.png": png, dir + "/notes.txt": "hello"})
	cs := connect(t, depsFor(t, srv.URL))

	res := call(t, cs, ToolGetAttachment, map[string]any{"note_id": n.ID, "attachment_filename": "photo.png"})
	out := decode[AttachmentOutput](t, res)
	assert.Equal(t, "image/png", out.MIMEType)
	assert.Equal(t, len(png), out.Size)
	assert.Equal(t, "base64", out.Encoding)
	assert.Equal(t, fmt.Sprintf("nc://Notes/%d/attachments/photo.png", n.ID), out.URI)
	data, err := base64.StdEncoding.DecodeString(out.Data)
	if assert.NoError(t, err) {
		assert.Equal(t, png, string(data))
	}
	require.NotEmpty(t, res.Content)
	if er, ok := res.Content[0].(*mcp.EmbeddedResource); assert.True(t, ok, "content = %#v", res.Content) {
		assert.Equal(t, png, string(er.Resource.Blob))
		assert.Equal(t, "image/png", er.Resource.MIMEType)
	}

	res = call(t, cs, ToolGetAttachment, map[string]any{"note_id": n.ID, "attachment_filename": "notes.txt"})
	require.False(t, res.IsError, text(res))
	require.NotEmpty(t, res.Content)
	if er, ok := res.Content[0].(*mcp.EmbeddedResource); assert.True(t, ok, "content = %#v", res.Content) {
		assert.Equal(t, "hello", er.Resource.Text, "a text attachment is text content")
	}

	// A missing file's error lists what the note does have.
	assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": n.ID, "attachment_filename": "nope.png"}),
		fmt.Sprintf(`Attachment "nope.png" of note %d not found; note %d has: "notes.txt", "photo.png"`, n.ID, n.ID))

	other := seedNote(t, srv, "No attachments", "", "", 1)
	assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": other.ID, "attachment_filename": "x.png"}),
		fmt.Sprintf("note %d has no attachments", other.ID))
	assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": 999, "attachment_filename": "x.png"}), "Note 999 not found")
}

func TestDeleteNoteRemovesAttachments(t *testing.T) {
	srv := startNextcloud(t)
	n := seedNote(t, srv, "With files", "", "c", 1)
	dir := attachmentDir("c", n.ID)
	keep := attachmentDir("c", 9999) + "/b.png"
	seedFiles(t, srv, map[string]string{dir + "/a.png": "x", keep: "y"})
	require.True(t, davExists(t, srv, dir+"/a.png"))
	cs := connect(t, depsFor(t, srv.URL))

	out := decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": n.ID}))
	assert.Equal(t, fmt.Sprintf("Note %d deleted successfully", n.ID), out.Message)
	_, exists := fetchNote(t, srv, n.ID)
	assert.False(t, exists, "the note is still in Nextcloud")
	assert.False(t, davExists(t, srv, dir), "the note's attachment folder is still there")
	assert.True(t, davExists(t, srv, keep), "another note's attachment went too")

	// Without attachments the delete is clean too (404 on the folder is fine).
	plain := seedNote(t, srv, "Plain", "", "", 1)
	srv.ResetLog()
	out = decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": plain.ID}))
	assert.NotContains(t, out.Message, "attachment")
	folderDelete := false
	for _, e := range srv.RequestLog() {
		if e.Method == http.MethodDelete && strings.HasSuffix(e.Path, "/"+attachmentDir("", plain.ID)) {
			folderDelete = true
			assert.Equal(t, http.StatusNotFound, e.Status)
		}
	}
	assert.True(t, folderDelete, "the attachment folder's deletion was not attempted")
}

func TestDeleteReportsAttachmentCleanupFailure(t *testing.T) {
	srv := startNextcloud(t)
	n := seedNote(t, srv, "With files", "", "", 1)
	seedFiles(t, srv, map[string]string{attachmentDir("", n.ID) + "/a.png": "x"})
	// The attachment folder is locked: WebDAV answers 423 in sabre's XML.
	srv.InjectFault(fakenc.Fault{Pattern: "/remote.php/dav/files/*", Method: http.MethodDelete, Status: http.StatusLocked})
	cs := connect(t, depsFor(t, srv.URL))

	out := decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": n.ID}))
	assert.Contains(t, out.Message, fmt.Sprintf("Note %d deleted successfully; its attachment folder could not be removed: ", n.ID))
	assert.Contains(t, out.Message, "HTTP 423")
	_, exists := fetchNote(t, srv, n.ID)
	assert.False(t, exists, "note not deleted")
	assert.True(t, davExists(t, srv, attachmentDir("", n.ID)+"/a.png"), "the locked folder was removed after all")
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
