package mcpcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
	servertools "github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// TestModuleProbesCoverRegistry keeps ModuleProbes in step with the
// registry: a module with tools fails this test until it has a row whose
// write tool writes and whose read tool only reads, both of that module
// (by the registry's membership, whatever the tools are called).
func TestModuleProbesCoverRegistry(t *testing.T) {
	registry := map[string]servertools.ModuleInfo{}
	for _, m := range modules.Set().Modules() {
		if len(m.Tools) > 0 {
			registry[m.ID] = m
		}
	}
	require.NotEmpty(t, registry)
	rows := map[string]ModuleProbe{}
	for _, p := range ModuleProbes {
		assert.NotContains(t, rows, p.ID, "two rows for %s", p.ID)
		rows[p.ID] = p
	}
	for id, mod := range registry {
		row, ok := rows[id]
		if !assert.True(t, ok, "the registry has module %q with tools but ModuleProbes has no row for it: add one write and one read call", id) {
			continue
		}
		byName := map[string]servertools.ToolInfo{}
		for _, tl := range mod.Tools {
			byName[tl.Name] = tl
		}
		if w, ok := byName[row.WriteTool]; assert.True(t, ok, "%s: write tool %s is not a tool of that module", id, row.WriteTool) {
			assert.False(t, w.ReadOnly, "%s: %s should be a writing tool", id, row.WriteTool)
		}
		if r, ok := byName[row.ReadTool]; assert.True(t, ok, "%s: read tool %s is not a tool of that module", id, row.ReadTool) {
			assert.True(t, r.ReadOnly, "%s: %s should be a read-only tool", id, row.ReadTool)
		}
		assert.NotNil(t, row.Write, id)
		assert.NotNil(t, row.Read, id)
	}
	for id := range rows {
		assert.Contains(t, registry, id, "ModuleProbes has a row for %q, which the registry does not have (with tools)", id)
	}
}
