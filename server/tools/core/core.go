// Package core is the module of what belongs to no Nextcloud app: the
// server's capabilities as a resource.
package core

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// ID is the module's registry id.
const ID = "core"

// CapabilitiesURI is the resource with the server's OCS capabilities.
const CapabilitiesURI = "nc://capabilities"

// New returns the core module.
func New() tools.Module {
	return tools.Module{
		ID:    ID,
		Title: "Nextcloud",
		Resources: []tools.Resource{
			// Public: the capabilities tell what the server offers, which
			// every client may know; Nextcloud serves them to anyone.
			tools.StaticResource(mcp.Resource{
				URI:         CapabilitiesURI,
				Name:        "nextcloud_capabilities",
				Title:       "Nextcloud capabilities",
				Description: "The Nextcloud server's version and the capabilities of its enabled apps (GET /ocs/v2.php/cloud/capabilities), as JSON.",
				MIMEType:    "application/json",
			}, readCapabilities, tools.Public()),
		},
	}
}

func readCapabilities(ctx context.Context, c *nextcloud.Client, _ *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	caps, err := c.Capabilities(ctx)
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{
		URI: CapabilitiesURI, MIMEType: "application/json", Text: string(caps.Raw),
	}}}, nil
}
