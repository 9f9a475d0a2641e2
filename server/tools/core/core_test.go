package core_test

import (
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolsnaps"
)

// TestSnapshots guards the core module's resources.
func TestSnapshots(t *testing.T) {
	toolsnaps.Test(t, toolsnaps.DefaultDir, core.New())
}
