package sharing_test

import (
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/sharing"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolsnaps"
)

// TestSnapshots guards every Sharing tool's definition
// (go test ./server/tools/sharing -run TestSnapshots -update).
func TestSnapshots(t *testing.T) {
	toolsnaps.Test(t, toolsnaps.DefaultDir, sharing.New())
}
