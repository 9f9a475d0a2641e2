package smoketest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules/modulestest"
)

// TestModulesCoverRegistry makes the module table follow the registry: a
// new module with tools fails this test until Modules has its row, with
// one writing and one reading tool of that very module.
func TestModulesCoverRegistry(t *testing.T) {
	var rows []modulestest.Row
	for _, m := range Modules {
		rows = append(rows, modulestest.Row{ID: m.ID, WriteTool: m.WriteTool, ReadTool: m.ReadTool})
		assert.NotNil(t, m.Write, m.ID)
		assert.NotNil(t, m.Read, m.ID)
	}
	modulestest.CoverRegistry(t, "smoketest.Modules", rows)
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
