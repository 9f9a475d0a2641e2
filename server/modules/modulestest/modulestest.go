// Package modulestest checks the suites' per-module tables (the smoke
// suites' module rows, the conformance suite's module probes) against the
// registry, so that a new module with tools fails their tests until it
// has a row.
package modulestest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// Row is one table row: the module's registry id and the writing and the
// reading tool the row calls.
type Row struct {
	ID, WriteTool, ReadTool string
}

// CoverRegistry asserts that table (named for the messages) has exactly
// one row per registry module with tools, and that each row's write tool
// writes and its read tool only reads, both of that very module (by the
// registry's membership, whatever the tools are called).
func CoverRegistry(t testing.TB, table string, rows []Row) {
	t.Helper()
	registry := map[string]tools.ModuleInfo{}
	for _, m := range modules.Set().Modules() {
		if len(m.Tools) > 0 {
			registry[m.ID] = m
		}
	}
	require.NotEmpty(t, registry)
	byID := map[string]Row{}
	for _, r := range rows {
		assert.NotContains(t, byID, r.ID, "%s has two rows for %s", table, r.ID)
		byID[r.ID] = r
	}
	for id, mod := range registry {
		row, ok := byID[id]
		if !assert.True(t, ok, "the registry has module %q with tools but %s has no row for it: add one write and one read call", id, table) {
			continue
		}
		byName := map[string]tools.ToolInfo{}
		for _, tl := range mod.Tools {
			byName[tl.Name] = tl
		}
		if w, ok := byName[row.WriteTool]; assert.True(t, ok, "%s: write tool %s is not a tool of that module", id, row.WriteTool) {
			assert.False(t, w.ReadOnly, "%s: %s should be a writing tool", id, row.WriteTool)
		}
		if r, ok := byName[row.ReadTool]; assert.True(t, ok, "%s: read tool %s is not a tool of that module", id, row.ReadTool) {
			assert.True(t, r.ReadOnly, "%s: %s should be a read-only tool", id, row.ReadTool)
		}
	}
	for id := range byID {
		assert.Contains(t, registry, id, "%s has a row for %q, which the registry does not have (with tools)", table, id)
	}
}
