// Package notes is the Nextcloud Notes module: seven tools (the upstream
// server's names and parameters), the notes settings resource and the
// note and attachment URI templates, and a per-user search index kept
// fresh in the background.
//
// It is built on the kit in server/tools and is the example the other
// modules copy (docs/adding-a-module.md).
package notes

import (
	"context"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	ncnotes "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/notesearch"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// ID is the module's registry id.
const ID = "notes"

// New returns the Notes module with a fresh, empty search index.
func New() tools.Module { return newModule().kit() }

func newModule() *module { return &module{index: notesearch.NewIndex()} }

// kit describes m as a kit module.
func (m *module) kit() tools.Module {
	return tools.Module{
		ID:           ID,
		Title:        "Notes",
		Instructions: "notes (create, read, update, search, delete; a stale etag means fetch the note again)",
		Read:         scopes.NotesRead,
		Write:        scopes.NotesWrite,
		Tools:        m.tools(),
		Resources:    m.resources(),
		Background: &tools.Background{
			Sync:       m.sync,
			Invalidate: m.index.Remove,
			Forget:     m.index.Remove,
		},
	}
}

// module holds the per-server state of the tools.
type module struct {
	// index answers nc_notes_search_notes for users the background sync
	// has indexed, without a Nextcloud call (in exchange mode, without a
	// token exchange).
	index *notesearch.Index
}

// sync rebuilds one user's index from a full listing.
func (m *module) sync(ctx context.Context, c *nextcloud.Client, user string) error {
	start := time.Now()
	notes, err := ncnotes.New(c).List(ctx, ncnotes.ListOptions{})
	if err != nil {
		return err
	}
	m.index.Replace(user, notesearch.FromNextcloud(notes), start)
	return nil
}
