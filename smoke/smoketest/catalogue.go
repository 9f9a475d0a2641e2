package smoketest

import (
	"slices"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
)

// The progressive-consent tools (docs/architecture.md §1.2); they need no scope.
const (
	ToolProvision = "provision_nextcloud_access"
	ToolStatus    = "check_provisioning_status"
	ToolRevoke    = "revoke_nextcloud_access"
)

// AllScopes is every soft scope: a token with them sees every tool.
func AllScopes() []string { return slices.Clone(scopes.Soft) }

// ExpectedTools is the sorted tools/list a token with granted scopes must
// see (nil granted: basic mode, no filtering), plus the consent tools when
// progressive consent is on.
func ExpectedTools(granted []string, consent bool) []string {
	var names []string
	for _, t := range modules.Set().Tools() {
		if granted == nil || scopes.HasAll(granted, t.Scopes) {
			names = append(names, t.Name)
		}
	}
	if consent {
		names = append(names, ToolProvision, ToolStatus, ToolRevoke)
	}
	slices.Sort(names)
	return names
}
