package files_test

import (
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/files"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolsnaps"
)

// TestSnapshots guards every Files tool's definition and the module's
// resource template (go test ./server/tools/files -run TestSnapshots -update).
func TestSnapshots(t *testing.T) {
	toolsnaps.Test(t, toolsnaps.DefaultDir, files.New())
}
