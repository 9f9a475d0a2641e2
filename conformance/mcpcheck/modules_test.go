package mcpcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules/modulestest"
)

// TestModuleProbesCoverRegistry keeps ModuleProbes in step with the
// registry: a module with tools fails this test until it has a row whose
// write tool writes and whose read tool only reads, both of that module.
func TestModuleProbesCoverRegistry(t *testing.T) {
	var rows []modulestest.Row
	for _, p := range ModuleProbes {
		rows = append(rows, modulestest.Row{ID: p.ID, WriteTool: p.WriteTool, ReadTool: p.ReadTool})
		assert.NotNil(t, p.Write, p.ID)
		assert.NotNil(t, p.Read, p.ID)
	}
	modulestest.CoverRegistry(t, "mcpcheck.ModuleProbes", rows)
}
