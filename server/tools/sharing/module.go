// Package sharing is the Sharing module: the upstream server's five share
// tools (create, delete, get, list, update) over Nextcloud's files_sharing
// OCS API, for user, group and public link shares. Reading tools need
// sharing:read, the others sharing:write (upstream asked write of all).
//
// It is built on the kit in server/tools (docs/adding-a-module.md) and on
// the client in internal/nextcloud/sharing.
package sharing

import (
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// ID is the module's registry id.
const ID = "sharing"

// New returns the Sharing module. It keeps no state.
func New() tools.Module {
	return tools.Module{
		ID:           ID,
		Title:        "Sharing",
		Instructions: "file shares (share a file or folder with a user, a group or by public link; list, read, change and delete shares)",
		Read:         scopes.SharingRead,
		Write:        scopes.SharingWrite,
		Tools:        shareTools(),
	}
}
