// Package files is the Files module: the user's Nextcloud files over
// WebDAV in eleven tools (the upstream server's names and parameters) and
// a resource template for a file's content.
//
// It is built on the kit in server/tools, like notes, and is the example
// of a module without background work: handlers decode, Validate checks
// the arguments before any client is obtained, and the work is delegated
// to internal/nextcloud/files.
package files

import (
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// ID is the module's registry id.
const ID = "files"

// New returns the Files module.
func New() tools.Module {
	return tools.Module{
		ID:    ID,
		Title: "Files",
		Instructions: "files (list, read, write, search, move, copy, delete; paths are relative to the root of the user's files; " +
			"pass a file's etag as if_match to overwrite only the version you read)",
		Read:      scopes.FilesRead,
		Write:     scopes.FilesWrite,
		Tools:     toolList(),
		Resources: resources(),
	}
}
