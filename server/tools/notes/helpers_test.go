package notes

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
)

var fixedNow = time.Date(2026, 8, 22, 10, 0, 0, 0, time.UTC)

// Deps is the kit's dependency struct, named as the tests use it.
type Deps = tools.Deps

// depsFor returns Deps whose client talks to srv with Basic auth.
func depsFor(t *testing.T, srv *notesServer) *Deps {
	t.Helper()
	base, err := nextcloud.New(srv.URL, nextcloud.Basic("alice", "alice-password"), nextcloud.WithRetry(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return &Deps{
		Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) { return base, nil },
		Now:    func() time.Time { return fixedNow },
	}
}

// connect serves the core and Notes modules with d over in-memory
// transports and returns a connected client session.
func connect(t *testing.T, d *Deps) *mcp.ClientSession {
	t.Helper()
	return connectModule(t, d, newModule())
}

// connectModule is connect with a given Notes module (to reach its index).
func connectModule(t testing.TB, d *Deps, m *module) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	s := mcp.NewServer(&mcp.Implementation{Name: "nextcloud-mcp-test", Version: "0"}, nil)
	tools.NewSet(core.New(), m.kit()).Register(s, d)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "0"}, nil)
	cs, err := c.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close(); _ = ss.Wait() })
	return cs
}

// toolNames lists the module's tools.
func toolNames() []string {
	var out []string
	for _, tl := range tools.NewSet(New()).Tools() {
		out = append(out, tl.Name)
	}
	return out
}

func TestNoClientConfigured(t *testing.T) {
	cs := connect(t, &Deps{})
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: ToolGetNote, Arguments: map[string]any{"note_id": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || text(res) != "this server has no Nextcloud connection configured" {
		t.Fatalf("res = %+v", res)
	}
}
