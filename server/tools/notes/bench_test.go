package notes

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/notesearch"
)

// benchSession serves the tools over in-memory transports against srv.
func benchSession(b *testing.B, srv *notesServer, index []notesearch.Note) *mcp.ClientSession {
	base, err := nextcloud.New(srv.URL, nextcloud.Basic("alice", "pw"))
	if err != nil {
		b.Fatal(err)
	}
	d := &Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) { return base, nil }}
	m := newModule()
	if index != nil {
		m.index.Replace("", index, time.Now())
	}
	return connectModule(b, d, m)
}

func benchCall(b *testing.B, cs *mcp.ClientSession, name string, args map[string]any) {
	b.ReportAllocs()
	for b.Loop() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			b.Fatalf("%v %v", err, res)
		}
	}
}

// BenchmarkGetNoteTool is one nc_notes_get_note call: MCP client → server →
// Nextcloud client → loopback HTTP test server, and back.
func BenchmarkGetNoteTool(b *testing.B) {
	srv := newNotesServerB(b)
	n := srv.add("Bench", "some content", "", 1)
	benchCall(b, benchSession(b, srv, nil), ToolGetNote, map[string]any{"note_id": n.ID})
}

// BenchmarkSearchNotesLive lists 500 notes from Nextcloud and ranks them.
func BenchmarkSearchNotesLive(b *testing.B) {
	srv := newNotesServerB(b)
	for i := range 500 {
		srv.add(fmt.Sprintf("note %d", i), "lorem ipsum dolor sit amet milk bread", "", int64(i))
	}
	benchCall(b, benchSession(b, srv, nil), ToolSearchNotes, map[string]any{"query": "milk note"})
}

// BenchmarkSearchNotesIndexed answers the same search from the index.
func BenchmarkSearchNotesIndexed(b *testing.B) {
	srv := newNotesServerB(b)
	notes := make([]notesearch.Note, 500)
	for i := range notes {
		notes[i] = notesearch.Note{ID: int64(i + 1), Title: fmt.Sprintf("note %d", i), Content: "lorem ipsum dolor sit amet milk bread", Modified: int64(i)}
	}
	benchCall(b, benchSession(b, srv, notes), ToolSearchNotes, map[string]any{"query": "milk note"})
}
