package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/toolsnaps")

var fixedNow = time.Date(2026, 8, 22, 10, 0, 0, 0, time.UTC)

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

// connect serves every tool and resource with d over in-memory transports
// and returns a connected client session.
func connect(t *testing.T, d *Deps) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	s := mcp.NewServer(&mcp.Implementation{Name: "nextcloud-mcp-test", Version: "0"}, nil)
	Register(s, d, Catalogue())
	RegisterResources(s, d)
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
	t.Cleanup(func() { cs.Close(); ss.Wait() })
	return cs
}

func TestCatalogue(t *testing.T) {
	cat := Catalogue()
	var names []string
	for _, tl := range cat {
		names = append(names, tl.Name)
	}
	want := []string{ToolCreateNote, ToolUpdateNote, ToolAppendContent, ToolSearchNotes, ToolGetNote, ToolGetAttachment, ToolDeleteNote}
	if !slices.Equal(names, want) {
		t.Fatalf("catalogue = %v", names)
	}
	for _, tl := range cat {
		wantScope := scopes.NotesWrite
		if tl.ReadOnly {
			wantScope = scopes.NotesRead
		}
		if !slices.Equal(tl.Scopes, []string{wantScope}) {
			t.Errorf("%s: scopes %v, want [%s] (read-only: %v)", tl.Name, tl.Scopes, wantScope, tl.ReadOnly)
		}
		if tl.Title == "" {
			t.Errorf("%s: no title", tl.Name)
		}
	}
	readOnly := map[string]bool{ToolSearchNotes: true, ToolGetNote: true, ToolGetAttachment: true}
	for _, tl := range cat {
		if tl.ReadOnly != readOnly[tl.Name] {
			t.Errorf("%s: ReadOnly = %v", tl.Name, tl.ReadOnly)
		}
	}
	// Registering a subset registers exactly that subset.
	s := mcp.NewServer(&mcp.Implementation{Name: "x", Version: "0"}, nil)
	Register(s, &Deps{}, cat[3:5])
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "0"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { sub.Close(); ss.Wait() }()
	lt, err := sub.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.Tools) != 2 {
		t.Fatalf("subset registered %d tools", len(lt.Tools))
	}
}

// TestToolSnapshots compares every tool's full definition (and the resource
// lists) with golden files, so any schema or annotation change shows in
// review. Run with -update to rewrite them.
func TestToolSnapshots(t *testing.T) {
	cs := connect(t, &Deps{})
	ctx := context.Background()
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.Tools) != len(Catalogue()) {
		t.Fatalf("listed %d tools, catalogue has %d", len(lt.Tools), len(Catalogue()))
	}
	for _, tl := range lt.Tools {
		golden(t, tl.Name+".json", tl)
	}
	lr, err := cs.ListResources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	lrt, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "resources.json", map[string]any{"resources": lr.Resources, "resourceTemplates": lrt.ResourceTemplates})
	// No stale goldens for tools that no longer exist.
	entries, err := os.ReadDir(filepath.Join("testdata", "toolsnaps"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()[:len(e.Name())-len(".json")]
		if name == "resources" {
			continue
		}
		if !slices.ContainsFunc(lt.Tools, func(tl *mcp.Tool) bool { return tl.Name == name }) {
			t.Errorf("stale golden file %s", e.Name())
		}
	}
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "toolsnaps", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server/tools -run TestToolSnapshots -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; if intended, rerun with -update and review the diff.\ngot:\n%s", name, got)
	}
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
