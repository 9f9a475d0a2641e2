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
	// A folder in the attachment folder is not an attachment.
	seedFiles(t, srv, map[string]string{dir + "/photo.png": png, dir + "/notes.txt": "hello", dir + "/thumbs/": ""})
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
	want := fmt.Sprintf(`Attachment "nope.png" of note %d not found; note %d has: "notes.txt", "photo.png"`, n.ID, n.ID)
	got := assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": n.ID, "attachment_filename": "nope.png"}), want)
	assert.Equal(t, want, got)

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
	appRoutes := notesAPIPath + "/*"
	tests := []struct {
		name string
		// fault is Nextcloud's failure; nil when the credentials alone
		// make Nextcloud refuse.
		fault  *fakenc.Fault
		secret string // the credential, which must not show in the error
		creds  func(secret string) nextcloud.Credentials
		want   string // %d is the note id
	}{
		{"CORS refuses bearer", &fakenc.Fault{Pattern: appRoutes, Method: http.MethodGet, Status: http.StatusUnauthorized, Message: "CORS requires basic auth"},
			"tok-secret", nextcloud.Bearer,
			"Nextcloud refused a bearer token on this app route (GET " + notesAPIPath + "/notes/%d)"},
		{"bad basic", nil,
			"pw-secret", func(pw string) nextcloud.Credentials { return nextcloud.Basic(alice, pw) },
			"Nextcloud rejected the Basic credentials (HTTP 401) while trying to get note %d"},
		{"server down", &fakenc.Fault{Pattern: appRoutes, Method: http.MethodGet, Status: http.StatusServiceUnavailable},
			alicePassword, func(pw string) nextcloud.Credentials { return nextcloud.Basic(alice, pw) },
			"Nextcloud could not get note %d: HTTP 503 Service Unavailable"},
		{"read-only", &fakenc.Fault{Pattern: appRoutes, Method: http.MethodGet, Status: http.StatusForbidden},
			alicePassword, func(pw string) nextcloud.Credentials { return nextcloud.Basic(alice, pw) },
			"Nextcloud denied access to note %d (HTTP 403)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startNextcloud(t)
			id := seedNote(t, srv, "Target", "body", "", 1).ID
			if tt.fault != nil {
				srv.InjectFault(*tt.fault)
			}
			cs := connect(t, depsWith(newClient(t, srv.URL, tt.creds(tt.secret), 1)))
			got := assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": id}), fmt.Sprintf(tt.want, id))
			assert.NotContains(t, got, tt.secret)
			assert.Empty(t, srv.Faults(), "the fault was not used")
		})
	}
}

func TestDepsClientErrorIsTheToolError(t *testing.T) {
	cs := connect(t, &Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) {
		return nil, errors.New("Nextcloud access is not provisioned: call provision_nextcloud_access")
	}})
	args := map[string]any{"note_id": 1, "etag": "e", "title": "t", "content": "c", "category": "", "query": "q", "attachment_filename": "a"}
	for _, name := range toolNames() {
		t.Run(name, func(t *testing.T) {
			// Send only the properties each tool knows.
			assertToolError(t, call(t, cs, name, filterArgs(name, args)), "call provision_nextcloud_access")
		})
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
	_, err := readResource(cs, NotesSettingsURI)
	assert.ErrorContains(t, err, "internal error reading notes://settings")
}

func TestResources(t *testing.T) {
	srv := startNextcloud(t)
	n := seedNote(t, srv, "Res note", "body", "c", 42)
	dir := attachmentDir("c", n.ID)
	seedFiles(t, srv, map[string]string{dir + "/my photo.png": "PNGDATA", dir + "/a+b (1), é.txt": "odd name"})
	cs := connect(t, depsFor(t, srv.URL))

	t.Run("settings", func(t *testing.T) {
		r, err := readResource(cs, NotesSettingsURI)
		require.NoError(t, err)
		require.Len(t, r.Contents, 1)
		assert.Equal(t, "application/json", r.Contents[0].MIMEType)
		assert.Equal(t, `{"notesPath":"Notes","fileSuffix":".md","noteMode":"rich"}`, r.Contents[0].Text)
	})
	t.Run("note", func(t *testing.T) {
		r, err := readResource(cs, NoteURI(n.ID))
		require.NoError(t, err)
		require.Len(t, r.Contents, 1)
		var note NoteOutput
		require.NoError(t, json.Unmarshal([]byte(r.Contents[0].Text), &note))
		assert.Equal(t, "Res note", note.Title)
		assert.Equal(t, "body", note.Content)
		assert.Equal(t, "c", note.Category)
		assert.Equal(t, int64(42), note.Modified)
		assert.Equal(t, n.ETag, note.ETag)
	})
	t.Run("attachment", func(t *testing.T) {
		uri := AttachmentURI(n.ID, "my photo.png")
		assert.Equal(t, fmt.Sprintf("nc://Notes/%d/attachments/my%%20photo.png", n.ID), uri)
		r, err := readResource(cs, uri)
		require.NoError(t, err)
		require.Len(t, r.Contents, 1)
		assert.Equal(t, "PNGDATA", string(r.Contents[0].Blob))
		assert.Equal(t, "image/png", r.Contents[0].MIMEType)
	})
	t.Run("attachment with an odd name", func(t *testing.T) {
		uri := AttachmentURI(n.ID, "a+b (1), é.txt")
		assert.Equal(t, fmt.Sprintf("nc://Notes/%d/attachments/a%%2Bb%%20%%281%%29%%2C%%20%%C3%%A9.txt", n.ID), uri)
		r, err := readResource(cs, uri)
		require.NoError(t, err)
		require.Len(t, r.Contents, 1)
		assert.Equal(t, "odd name", r.Contents[0].Text)
	})
	t.Run("capabilities", func(t *testing.T) {
		r, err := readResource(cs, core.CapabilitiesURI)
		require.NoError(t, err)
		require.Len(t, r.Contents, 1)
		assert.Contains(t, r.Contents[0].Text, `"notes_path":"Notes"`)
		assert.Contains(t, r.Contents[0].Text, `"string":"32.0.14"`)
	})
	notFound := []struct{ name, uri string }{
		{"missing note", NoteURI(999)},
		{"id not a number", "nc://Notes/abc"},
		{"negative id", "nc://Notes/-1"},
		{"missing attachment", AttachmentURI(n.ID, "missing.png")},
		{"attachment of a missing note", AttachmentURI(999, "a.png")},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readResource(cs, tt.uri)
			assert.ErrorContains(t, err, "Resource not found")
		})
	}
}

func TestResourceErrorsCarryNextcloudText(t *testing.T) {
	srv := startNextcloud(t)
	// Stock Nextcloud's #[CORS] refusal of a bearer token, in the app's
	// JSON dialect.
	srv.InjectFault(fakenc.Fault{Pattern: notesAPIPath + "/settings", Method: http.MethodGet, Status: http.StatusUnauthorized, Message: "CORS requires basic auth"})
	cs := connect(t, depsWith(newClient(t, srv.URL, nextcloud.Bearer("tok"), 1)))
	_, err := readResource(cs, NotesSettingsURI)
	assert.ErrorContains(t, err, "Nextcloud refused a bearer token on this app route")
}

func TestExplainErrorAppliesToToolsAndResources(t *testing.T) {
	srv := startNextcloud(t)
	id := seedNote(t, srv, "Target", "body", "", 1).ID
	d := depsWith(newClient(t, srv.URL, nextcloud.Basic(alice, "wrong-password"), 1))
	d.ExplainError = func(err error) error { return errors.New("explained: " + err.Error()) }
	cs := connect(t, d)

	assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": id}), "explained: Nextcloud rejected the Basic credentials")
	// Validation errors pass through it as well.
	assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 0}), "explained: note_id must be a positive integer")
	_, err := readResource(cs, NotesSettingsURI)
	assert.ErrorContains(t, err, "explained: Nextcloud rejected the Basic credentials")
	// Resource-not-found stays a protocol error.
	_, err = readResource(cs, "nc://Notes/abc")
	if assert.ErrorContains(t, err, "Resource not found") {
		assert.NotContains(t, err.Error(), "explained")
	}
}
