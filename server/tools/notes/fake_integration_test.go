package notes

// The notes tools and resources against the fake Nextcloud
// (fakes/nextcloud) with its default seed, through a real MCP
// client/server pair.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
)

// fakeDeps returns Deps whose client talks to srv with creds, two
// attempts per idempotent request.
func fakeDeps(t *testing.T, srv *nctest.Server, creds nextcloud.Credentials) *Deps {
	t.Helper()
	return depsWith(newClient(t, srv.URL, creds, 2))
}

func TestFakeNotesTools(t *testing.T) {
	srv := nctest.Start(t)
	cs := connect(t, fakeDeps(t, srv, nextcloud.Basic(alice, alicePassword)))

	// Search the seeded notes live.
	found := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "shopping milk"}))
	assert.Equal(t, "live", found.Source)
	assert.Equal(t, 1, found.TotalFound)
	require.Len(t, found.Results, 1)
	assert.Equal(t, "Shopping list", found.Results[0].Title)
	assert.Equal(t, "Personal", found.Results[0].Category)
	// 3 × title "shopping" (1/2) + content "shopping","milk" (2/2) = 1.5 + 1.
	if assert.NotNil(t, found.Results[0].Score) {
		assert.InDelta(t, 2.5, *found.Results[0].Score, 1e-9)
	}

	created := decode[NoteWriteOutput](t, call(t, cs, ToolCreateNote, map[string]any{"title": "Plan: Q3?", "content": "draft", "category": "Work"}))
	assert.Equal(t, "Plan Q3", created.Title, "the title Nextcloud stored comes back")
	assert.Equal(t, "Work", created.Category)
	note := decode[NoteOutput](t, call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID}))
	assert.Equal(t, "draft", note.Content)
	assert.Equal(t, created.ETag, note.ETag)
	upd := decode[NoteWriteOutput](t, call(t, cs, ToolUpdateNote, map[string]any{"note_id": created.ID, "etag": created.ETag, "content": "final", "category": "Work/Done"}))
	assert.Equal(t, "Work/Done", upd.Category)
	assertToolError(t, call(t, cs, ToolUpdateNote, map[string]any{"note_id": created.ID, "etag": created.ETag, "title": "x"}),
		fmt.Sprintf("Note %d changed since etag %s; fetch it again", created.ID, created.ETag))
	app := decode[NoteWriteOutput](t, call(t, cs, ToolAppendContent, map[string]any{"note_id": created.ID, "content": "addendum"}))
	note = decode[NoteOutput](t, call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID}))
	assert.Equal(t, "final\n---\naddendum", note.Content)
	assert.Equal(t, app.ETag, note.ETag)

	// An attachment beside the note, in its (new) category folder.
	dir := attachmentDir("Work/Done", created.ID)
	require.NoError(t, srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: alice, Path: dir + "/chart.png", Content: "PNGBYTES"}}}))
	att := decode[AttachmentOutput](t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": created.ID, "attachment_filename": "chart.png"}))
	data, err := base64.StdEncoding.DecodeString(att.Data)
	if assert.NoError(t, err) {
		assert.Equal(t, "PNGBYTES", string(data))
	}
	assert.True(t, strings.HasPrefix(att.MIMEType, "image/png"), "media type %q", att.MIMEType)
	assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": created.ID, "attachment_filename": "other.png"}),
		fmt.Sprintf(`Attachment "other.png" of note %d not found; note %d has: "chart.png"`, created.ID, created.ID))

	del := decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": created.ID}))
	assert.Equal(t, fmt.Sprintf("Note %d deleted successfully", created.ID), del.Message)
	// The attachment folder went with it.
	folderDeleted := false
	for _, e := range srv.RequestLog() {
		if e.Method == http.MethodDelete && strings.HasSuffix(e.Path, "/"+dir) {
			folderDeleted = e.Status == http.StatusNoContent
		}
	}
	assert.True(t, folderDeleted, "the attachment folder was not deleted")
	assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID}), fmt.Sprintf("Note %d not found", created.ID))
	assertToolError(t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": created.ID}), fmt.Sprintf("Note %d not found", created.ID))

	// Every request carried Basic auth for alice.
	for _, e := range srv.RequestLog() {
		assert.Equal(t, "basic", e.AuthKind, "%s %s", e.Method, e.Path)
		assert.Equal(t, alice, e.UID, "%s %s", e.Method, e.Path)
	}
}

func TestFakeNotesResources(t *testing.T) {
	srv := nctest.Start(t)
	cs := connect(t, fakeDeps(t, srv, nextcloud.Basic(alice, alicePassword)))
	read := func(uri string) *mcp.ReadResourceResult {
		t.Helper()
		r, err := readResource(cs, uri)
		require.NoError(t, err, uri)
		require.NotEmpty(t, r.Contents, uri)
		return r
	}

	var settings map[string]string
	require.NoError(t, json.Unmarshal([]byte(read(NotesSettingsURI).Contents[0].Text), &settings))
	assert.Equal(t, "Notes", settings["notesPath"])
	assert.Equal(t, ".md", settings["fileSuffix"])

	var caps struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
	}
	require.NoError(t, json.Unmarshal([]byte(read(core.CapabilitiesURI).Contents[0].Text), &caps))
	assert.Contains(t, caps.Capabilities, "notes")

	found := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "welcome"}))
	require.NotEmpty(t, found.Results)
	id := found.Results[0].ID
	var note NoteOutput
	require.NoError(t, json.Unmarshal([]byte(read(NoteURI(id)).Contents[0].Text), &note))
	assert.Equal(t, "Welcome", note.Title)
	assert.Equal(t, id, note.ID)

	require.NoError(t, srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: alice, Path: attachmentDir("", id) + "/read me.txt", Content: "text!"}}}))
	assert.Equal(t, "text!", read(AttachmentURI(id, "read me.txt")).Contents[0].Text)

	_, err := readResource(cs, NoteURI(987654))
	assert.ErrorContains(t, err, "Resource not found")
}

func TestFakeSearchFromIndex(t *testing.T) {
	srv := nctest.Start(t)
	d := fakeDeps(t, srv, nextcloud.Basic(alice, alicePassword))
	c, err := d.Client(context.Background(), nil)
	require.NoError(t, err)
	// What the server's background worker does for the user.
	m := newModule()
	require.NoError(t, m.sync(context.Background(), c, ""))
	cs := connectModule(t, d, m)

	srv.ResetLog()
	out := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "roadmap"}))
	assert.Equal(t, "index", out.Source)
	if assert.Len(t, out.Results, 1) {
		assert.Equal(t, "Meeting notes", out.Results[0].Title)
	}
	assert.Empty(t, srv.RequestLog(), "an indexed search made Nextcloud requests")
}

// callDeadline bounds every tools/call the server receives, as a host
// that gives each call a deadline does.
func callDeadline(d time.Duration) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method == "tools/call" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			return next(ctx, method, req)
		}
	}
}

// withoutOCSAPIRequest strips the OCS-APIRequest header on its way to the
// fake, as for a client that does not send it (the upstream Python client
// does not; see internal/nextcloud/client.go).
func withoutOCSAPIRequest(fake http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("OCS-APIRequest")
		fake.ServeHTTP(w, r)
	})
}

func TestFakeToolErrors(t *testing.T) {
	stockCORS := func(cfg *fakenc.Config) { cfg.BearerOnAppRoutes = fakenc.BearerReject }
	srv := nctest.Start(t, stockCORS)
	appPW, ok := srv.AppPassword(alice)
	require.True(t, ok)

	t.Run("stock CORS refuses a bare bearer", func(t *testing.T) {
		bare := startWrapped(t, withoutOCSAPIRequest, stockCORS, func(cfg *fakenc.Config) { cfg.Seed = nil })
		appPW, ok := bare.AppPassword(alice)
		require.True(t, ok)
		cs := connect(t, fakeDeps(t, bare, nextcloud.Bearer(appPW)))
		got := assertToolError(t, call(t, cs, ToolSearchNotes, map[string]any{"query": "x"}), "Nextcloud refused a bearer token on this app route")
		assert.NotContains(t, got, appPW, "token in tool error")
	})
	t.Run("default client passes stock CORS with a bearer", func(t *testing.T) {
		cs := connect(t, fakeDeps(t, srv, nextcloud.Bearer(appPW)))
		decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "x"}))
	})
	t.Run("wrong password", func(t *testing.T) {
		cs := connect(t, fakeDeps(t, srv, nextcloud.Basic(alice, "nope")))
		got := assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 1}),
			"Nextcloud rejected the Basic credentials (HTTP 401) while trying to get note 1")
		assert.NotContains(t, got, "nope", "password in tool error")
	})
	t.Run("Nextcloud down", func(t *testing.T) {
		t.Cleanup(srv.ClearFaults)
		srv.InjectFault(fakenc.Fault{Pattern: "*/notes/1", Status: http.StatusServiceUnavailable, Count: 5})
		cs := connect(t, fakeDeps(t, srv, nextcloud.Basic(alice, alicePassword)))
		assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 1}), "Nextcloud could not get note 1: HTTP 503 Service Unavailable")
	})
	t.Run("slow Nextcloud", func(t *testing.T) {
		t.Cleanup(srv.ClearFaults)
		srv.InjectFault(fakenc.Fault{Pattern: "*/notes/1", Delay: 2 * time.Second})
		cs := connectModule(t, fakeDeps(t, srv, nextcloud.Basic(alice, alicePassword)), newModule(), callDeadline(80*time.Millisecond))
		start := time.Now()
		assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 1}), "the request to get note 1 ran out of time")
		assert.Less(t, time.Since(start), time.Second, "the call waited for the slow Nextcloud")
	})
}
