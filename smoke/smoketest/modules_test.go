package smoketest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// TestModulesCoverRegistry makes the module table follow the registry: a
// new module with tools fails this test until Modules has its row, with
// one writing and one reading tool of that very module (by the registry's
// own membership, whatever the tools are called).
func TestModulesCoverRegistry(t *testing.T) {
	registry := map[string]tools.ModuleInfo{}
	for _, m := range modules.Set().Modules() {
		if len(m.Tools) > 0 {
			registry[m.ID] = m
		}
	}
	require.NotEmpty(t, registry)
	rows := map[string]Module{}
	for _, m := range Modules {
		assert.NotContains(t, rows, m.ID, "two rows for %s", m.ID)
		rows[m.ID] = m
	}
	for id, mod := range registry {
		row, ok := rows[id]
		if !assert.True(t, ok, "the registry has module %q with tools but smoketest.Modules has no row for it: add one write and one read call", id) {
			continue
		}
		byName := map[string]tools.ToolInfo{}
		for _, tl := range mod.Tools {
			byName[tl.Name] = tl
		}
		w, ok := byName[row.WriteTool]
		if assert.True(t, ok, "%s: write tool %s is not a tool of that module", id, row.WriteTool) {
			assert.False(t, w.ReadOnly, "%s: %s should be a writing tool", id, row.WriteTool)
		}
		r, ok := byName[row.ReadTool]
		if assert.True(t, ok, "%s: read tool %s is not a tool of that module", id, row.ReadTool) {
			assert.True(t, r.ReadOnly, "%s: %s should be a read-only tool", id, row.ReadTool)
		}
		assert.NotNil(t, row.Write)
		assert.NotNil(t, row.Read)
	}
	for id := range rows {
		assert.Contains(t, registry, id, "Modules has a row for %q, which the registry does not have (with tools)", id)
	}
}

func TestExpectedTools(t *testing.T) {
	catalogue := modules.Set().Tools()
	all := ExpectedTools(nil, false)
	require.Len(t, all, len(catalogue))
	assert.Equal(t, all, ExpectedTools(AllScopes(), false), "a full-scope token sees every tool")
	read := ExpectedTools([]string{"notes:read"}, false)
	assert.NotEmpty(t, read)
	assert.Less(t, len(read), len(all))
	for _, name := range read {
		for _, tl := range catalogue {
			if tl.Name == name {
				assert.True(t, tl.ReadOnly, "%s is listed for a read-only token", name)
			}
		}
	}
	withConsent := ExpectedTools(nil, true)
	assert.Len(t, withConsent, len(all)+3)
	assert.Contains(t, withConsent, ToolProvision)
	assert.Empty(t, ExpectedTools([]string{}, false), "no scope, no Nextcloud tool")
}
