package tools

import (
	"context"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Module is one Nextcloud app's share of the server: its tools, its
// resources, the default scopes they need, and optional background work.
// A module lives in its own folder (server/tools/notes, ...) and is listed
// by one line in server/modules; docs/adding-a-module.md walks through
// writing one.
type Module struct {
	// ID names the module in the registry, the smoke suites and the
	// conformance catalogue ("notes"). Lower case, unique.
	ID string
	// Title is the module's human name ("Notes").
	Title string
	// Instructions is the module's fragment of the server instructions
	// sent at initialization, e.g. "notes (create, read, ...)".
	Instructions string
	// Read and Write are the default soft scopes of the module's tools:
	// a tool whose annotations say ReadOnlyHint needs Read, every other
	// tool needs Write, unless the tool names its own scopes (Scopes) or
	// is Public. Resources need Read unless they say otherwise.
	Read, Write string
	// Tools are built with NC or Func.
	Tools []Tool
	// Resources are the module's static resources and URI templates.
	Resources []Resource
	// Background, when set, is work the server's worker does for every
	// user with background access (the configured account in basic mode,
	// every provisioned user with progressive consent).
	Background *Background
}

// Background is a module's background work. The worker calls Sync for
// every user on each sync interval and right after a user provisions
// access; after a successful call of one of the module's writing tools the
// kit calls Invalidate for the caller and the worker syncs them again soon.
// Users are keyed as Principal reports them: the token subject in OAuth
// modes, "" in basic mode.
type Background struct {
	// Sync refreshes what the module keeps for user, through c, a client
	// acting as that user. It never serves a tool call.
	Sync func(ctx context.Context, c *nextcloud.Client, user string) error
	// Invalidate drops what the module keeps for user because a tool call
	// just changed it in Nextcloud. Optional.
	Invalidate func(user string)
	// Forget drops everything the module keeps for user, whose access
	// ended (revoked, or no longer provisioned). Optional.
	Forget func(user string)
}
