package notes

import (
	"context"
	"fmt"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// benchSession serves the tools over in-memory transports against srv,
// as alice with the client's default retries; with indexed, the module's
// index is synced first.
func benchSession(b *testing.B, srv *nctest.Server, indexed bool) *mcp.ClientSession {
	b.Helper()
	c, err := nextcloud.New(srv.URL, nextcloud.Basic(alice, alicePassword))
	require.NoError(b, err)
	m := newModule()
	if indexed {
		require.NoError(b, m.sync(context.Background(), c, ""))
	}
	return connectModule(b, depsWith(c), m)
}

func benchCall(b *testing.B, cs *mcp.ClientSession, name string, args map[string]any) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			b.Fatalf("%v %v", err, res)
		}
	}
}

// seedBenchNotes gives alice 500 notes that all match "milk note".
func seedBenchNotes(b *testing.B, srv *nctest.Server) {
	b.Helper()
	notes := make([]fakenc.SeedNote, 500)
	for i := range notes {
		notes[i] = fakenc.SeedNote{Owner: alice, Title: fmt.Sprintf("note %d", i), Content: "lorem ipsum dolor sit amet milk bread", Modified: int64(i + 1)}
	}
	require.NoError(b, srv.SeedData(fakenc.Seed{Notes: notes}))
}

// BenchmarkGetNoteTool is one nc_notes_get_note call: MCP client → server →
// Nextcloud client → loopback HTTP fake Nextcloud, and back.
func BenchmarkGetNoteTool(b *testing.B) {
	srv := startNextcloud(b)
	n := seedNote(b, srv, "Bench", "some content", "", 1)
	benchCall(b, benchSession(b, srv, false), ToolGetNote, map[string]any{"note_id": n.ID})
}

// BenchmarkSearchNotesLive lists 500 notes from Nextcloud and ranks them.
func BenchmarkSearchNotesLive(b *testing.B) {
	srv := startNextcloud(b)
	seedBenchNotes(b, srv)
	benchCall(b, benchSession(b, srv, false), ToolSearchNotes, map[string]any{"query": "milk note"})
}

// BenchmarkSearchNotesIndexed answers the same search from the index.
func BenchmarkSearchNotesIndexed(b *testing.B) {
	srv := startNextcloud(b)
	seedBenchNotes(b, srv)
	benchCall(b, benchSession(b, srv, true), ToolSearchNotes, map[string]any{"query": "milk note"})
}
