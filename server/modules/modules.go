// Package modules is the registry: the one list of every module the
// server serves, one line each. Adding a module is a folder under
// server/tools and a line here (docs/adding-a-module.md).
package modules

import (
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/files"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/sharing"
)

// All lists the constructors of every module, in the order tools/list
// shows them. Each call builds a fresh module, with fresh state (a search
// index, say), for one server.
var All = []func() tools.Module{
	core.New,
	notes.New,
	files.New,
	sharing.New,
}

// New builds one fresh instance of every module.
func New() []tools.Module {
	out := make([]tools.Module, 0, len(All))
	for _, c := range All {
		out = append(out, c())
	}
	return out
}

// Set is the checked set of every module (it panics, at start-up, on a
// module that cannot be served safely).
func Set() *tools.Set { return tools.NewSet(New()...) }
