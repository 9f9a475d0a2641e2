package notes_test

import (
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolsnaps"
)

// TestSnapshots guards every Notes tool's definition and the module's
// resources (go test ./server/tools/notes -run TestSnapshots -update).
func TestSnapshots(t *testing.T) {
	toolsnaps.Test(t, toolsnaps.DefaultDir, notes.New())
}
