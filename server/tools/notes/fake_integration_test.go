package notes

// The notes tools and resources against the shared fake Nextcloud
// (fakes/nextcloud) through a real MCP client/server pair.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/notesearch"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
)

func fakeDeps(t *testing.T, srv *nctest.Server, creds nextcloud.Credentials, opts ...nextcloud.Option) *Deps {
	t.Helper()
	c, err := nextcloud.New(srv.URL, creds, append([]nextcloud.Option{nextcloud.WithRetry(2, time.Millisecond, 2*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) { return c, nil }}
}

func TestFakeNotesTools(t *testing.T) {
	srv := nctest.Start(t)
	cs := connect(t, fakeDeps(t, srv, nextcloud.Basic("alice", "alice-password")))

	// Search the seeded notes live.
	found := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "shopping milk"}))
	if found.Source != "live" || found.TotalFound != 1 || found.Results[0].Title != "Shopping list" || found.Results[0].Category != "Personal" {
		t.Fatalf("search = %+v", found)
	}
	// 3 × title "shopping" (1/2) + content "shopping","milk" (2/2) = 1.5 + 1.
	if *found.Results[0].Score != 2.5 {
		t.Fatalf("score = %v", *found.Results[0].Score)
	}

	created := decode[NoteWriteOutput](t, call(t, cs, ToolCreateNote, map[string]any{"title": "Plan: Q3?", "content": "draft", "category": "Work"}))
	if created.Title != "Plan Q3" || created.Category != "Work" {
		t.Fatalf("create = %+v (the title Nextcloud stored comes back)", created)
	}
	note := decode[NoteOutput](t, call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID}))
	if note.Content != "draft" || note.ETag != created.ETag {
		t.Fatalf("get = %+v", note)
	}
	upd := decode[NoteWriteOutput](t, call(t, cs, ToolUpdateNote, map[string]any{"note_id": created.ID, "etag": created.ETag, "content": "final", "category": "Work/Done"}))
	if upd.Category != "Work/Done" {
		t.Fatalf("update = %+v", upd)
	}
	assertToolError(t, call(t, cs, ToolUpdateNote, map[string]any{"note_id": created.ID, "etag": created.ETag, "title": "x"}),
		fmt.Sprintf("Note %d changed since etag %s; fetch it again", created.ID, created.ETag))
	app := decode[NoteWriteOutput](t, call(t, cs, ToolAppendContent, map[string]any{"note_id": created.ID, "content": "addendum"}))
	note = decode[NoteOutput](t, call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID}))
	if note.Content != "final\n---\naddendum" || note.ETag != app.ETag {
		t.Fatalf("after append: %+v", note)
	}

	// An attachment beside the note, in its (new) category folder.
	dir := fmt.Sprintf("Notes/Work/Done/.attachments.%d/", created.ID)
	if err := srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: "alice", Path: dir + "chart.png", Content: "PNGBYTES"}}}); err != nil {
		t.Fatal(err)
	}
	att := decode[AttachmentOutput](t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": created.ID, "attachment_filename": "chart.png"}))
	if data, _ := base64.StdEncoding.DecodeString(att.Data); string(data) != "PNGBYTES" || !strings.HasPrefix(att.MIMEType, "image/png") {
		t.Fatalf("attachment = %+v", att)
	}
	assertToolError(t, call(t, cs, ToolGetAttachment, map[string]any{"note_id": created.ID, "attachment_filename": "other.png"}),
		fmt.Sprintf(`Attachment "other.png" of note %d not found; note %d has: "chart.png"`, created.ID, created.ID))

	del := decode[DeleteNoteOutput](t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": created.ID}))
	if del.Message != fmt.Sprintf("Note %d deleted successfully", created.ID) {
		t.Fatalf("delete = %+v", del)
	}
	// The attachment folder went with it.
	folderDeleted := false
	for _, e := range srv.RequestLog() {
		if e.Method == "DELETE" && strings.HasSuffix(e.Path, fmt.Sprintf("/Notes/Work/Done/.attachments.%d", created.ID)) {
			folderDeleted = e.Status == 204
		}
	}
	if !folderDeleted {
		t.Fatal("the attachment folder was not deleted")
	}
	assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": created.ID}), fmt.Sprintf("Note %d not found", created.ID))
	assertToolError(t, call(t, cs, ToolDeleteNote, map[string]any{"note_id": created.ID}), fmt.Sprintf("Note %d not found", created.ID))

	// Every request carried Basic auth for alice.
	for _, e := range srv.RequestLog() {
		if e.AuthKind != "basic" || e.UID != "alice" {
			t.Fatalf("request %s %s: auth %s uid %q", e.Method, e.Path, e.AuthKind, e.UID)
		}
	}
}

func TestFakeNotesResources(t *testing.T) {
	srv := nctest.Start(t)
	cs := connect(t, fakeDeps(t, srv, nextcloud.Basic("alice", "alice-password")))
	ctx := context.Background()
	read := func(uri string) *mcp.ReadResourceResult {
		t.Helper()
		r, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		return r
	}
	var settings map[string]string
	json.Unmarshal([]byte(read(NotesSettingsURI).Contents[0].Text), &settings)
	if settings["notesPath"] != "Notes" || settings["fileSuffix"] != ".md" {
		t.Fatalf("settings = %v", settings)
	}
	var caps struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
	}
	json.Unmarshal([]byte(read(core.CapabilitiesURI).Contents[0].Text), &caps)
	if _, ok := caps.Capabilities["notes"]; !ok {
		t.Fatalf("capabilities lack notes: %v", caps)
	}
	found := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "welcome"}))
	id := found.Results[0].ID
	var note NoteOutput
	json.Unmarshal([]byte(read(NoteURI(id)).Contents[0].Text), &note)
	if note.Title != "Welcome" || note.ID != id {
		t.Fatalf("note = %+v", note)
	}
	if err := srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: "alice", Path: fmt.Sprintf("Notes/.attachments.%d/read me.txt", id), Content: "text!"}}}); err != nil {
		t.Fatal(err)
	}
	if r := read(AttachmentURI(id, "read me.txt")); r.Contents[0].Text != "text!" {
		t.Fatalf("attachment = %+v", r.Contents[0])
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: NoteURI(987654)}); err == nil || !strings.Contains(err.Error(), "Resource not found") {
		t.Fatalf("missing note: %v", err)
	}
}

func TestFakeSearchFromIndex(t *testing.T) {
	srv := nctest.Start(t)
	base, err := nextcloud.New(srv.URL, nextcloud.Basic("alice", "alice-password"))
	if err != nil {
		t.Fatal(err)
	}
	// What the server's sync job does: list, convert, replace.
	notes, err := base.ListNotes(context.Background(), nextcloud.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := newModule()
	m.index.Replace("", notesearch.FromNextcloud(notes), time.Now())
	d := fakeDeps(t, srv, nextcloud.Basic("alice", "alice-password"))
	cs := connectModule(t, d, m)
	srv.ResetLog()
	out := decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "roadmap"}))
	if out.Source != "index" || len(out.Results) != 1 || out.Results[0].Title != "Meeting notes" {
		t.Fatalf("search = %+v", out)
	}
	if n := len(srv.RequestLog()); n != 0 {
		t.Fatalf("indexed search made %d Nextcloud requests", n)
	}
}

func TestFakeToolErrors(t *testing.T) {
	srv := nctest.Start(t, func(cfg *fakenc.Config) { cfg.BearerOnAppRoutes = fakenc.BearerReject })
	appPW, _ := srv.AppPassword("alice")

	t.Run("stock CORS refuses a bare bearer", func(t *testing.T) {
		cs := connect(t, fakeDeps(t, srv, nextcloud.Bearer(appPW), nextcloud.WithAppRouteOCSHeader(false)))
		res := call(t, cs, ToolSearchNotes, map[string]any{"query": "x"})
		assertToolError(t, res, "Nextcloud refused a bearer token on this app route")
		if strings.Contains(text(res), appPW) {
			t.Fatal("token in tool error")
		}
	})
	t.Run("default client passes stock CORS with a bearer", func(t *testing.T) {
		cs := connect(t, fakeDeps(t, srv, nextcloud.Bearer(appPW)))
		decode[SearchNotesOutput](t, call(t, cs, ToolSearchNotes, map[string]any{"query": "x"}))
	})
	t.Run("wrong password", func(t *testing.T) {
		cs := connect(t, fakeDeps(t, srv, nextcloud.Basic("alice", "nope")))
		res := call(t, cs, ToolGetNote, map[string]any{"note_id": 1})
		assertToolError(t, res, "Nextcloud rejected the Basic credentials (HTTP 401) while trying to get note 1")
		if strings.Contains(text(res), "nope") {
			t.Fatal("password in tool error")
		}
	})
	t.Run("Nextcloud down", func(t *testing.T) {
		srv.InjectFault(fakenc.Fault{Pattern: "*/notes/1", Status: 503, Count: 5})
		cs := connect(t, fakeDeps(t, srv, nextcloud.Basic("alice", "alice-password")))
		assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 1}), "Nextcloud could not get note 1: HTTP 503 Service Unavailable")
		srv.ClearFaults()
	})
	t.Run("slow Nextcloud", func(t *testing.T) {
		srv.InjectFault(fakenc.Fault{Pattern: "*/notes/1", Delay: 2 * time.Second})
		cs := connect(t, fakeDeps(t, srv, nextcloud.Basic("alice", "alice-password"), nextcloud.WithTimeout(80*time.Millisecond)))
		assertToolError(t, call(t, cs, ToolGetNote, map[string]any{"note_id": 1}), "Nextcloud did not answer within 80ms while trying to get note 1")
		srv.ClearFaults()
	})
}
