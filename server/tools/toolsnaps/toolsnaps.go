// Package toolsnaps compares what a module shows MCP clients — every
// tool's full definition and its resources and templates — with golden
// files, so any change of a name, schema, annotation or description shows
// in review. Run a snapshot test with -update to rewrite the files.
//
// It is a test helper: only _test.go files import it, which keeps the
// testing package out of the server binary.
package toolsnaps

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/toolsnaps")

// DefaultDir is where a module keeps its snapshots, relative to its
// package directory.
const DefaultDir = "testdata/toolsnaps"

// Test lists the tools, resources and resource templates of the modules
// over an in-memory MCP session and compares each tool with dir/<name>.json
// and the resources with dir/resources.json. A golden file without a tool
// is an error too (a tool was renamed or removed). With -update it writes
// the files instead.
func Test(t testing.TB, dir string, mods ...tools.Module) {
	t.Helper()
	set := tools.NewSet(mods...)
	s := mcp.NewServer(&mcp.Implementation{Name: "toolsnaps", Version: "0"}, nil)
	set.Register(s, nil)
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	require.NoError(t, err)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "toolsnaps", Version: "0"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	defer func() {
		_ = cs.Close()
		_ = ss.Wait()
	}()

	var listed []*mcp.Tool
	for tl, err := range cs.Tools(ctx, nil) {
		require.NoError(t, err)
		listed = append(listed, tl)
	}
	require.Len(t, listed, len(set.Tools()), "every tool of the set is listed")
	for _, tl := range listed {
		Golden(t, filepath.Join(dir, tl.Name+".json"), tl)
	}
	resources := []*mcp.Resource{}
	for r, err := range cs.Resources(ctx, nil) {
		require.NoError(t, err)
		resources = append(resources, r)
	}
	templates := []*mcp.ResourceTemplate{}
	for r, err := range cs.ResourceTemplates(ctx, nil) {
		require.NoError(t, err)
		templates = append(templates, r)
	}
	if len(resources)+len(templates) > 0 {
		Golden(t, filepath.Join(dir, "resources.json"), map[string]any{"resources": resources, "resourceTemplates": templates})
	}

	if *update {
		return
	}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) && len(listed) == 0 && len(resources)+len(templates) == 0 {
		return
	}
	require.NoError(t, err)
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		if name == "resources" {
			if len(resources)+len(templates) == 0 {
				t.Errorf("stale golden file %s: the modules have no resources", filepath.Join(dir, e.Name()))
			}
			continue
		}
		if !slices.ContainsFunc(listed, func(tl *mcp.Tool) bool { return tl.Name == name }) {
			t.Errorf("stale golden file %s: no tool %s (rerun with -update to remove it)", filepath.Join(dir, e.Name()), name)
		}
	}
}

// Golden compares v, as indented JSON, with the file at path; with
// -update it writes the file (and removes nothing).
func Golden(t testing.TB, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file (run the test with -update and review the diff)")
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; if intended, rerun with -update and review the diff.\ngot:\n%s", path, got)
	}
}
