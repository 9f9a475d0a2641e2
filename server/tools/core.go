package tools

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// CapabilitiesURI is the resource with the server's OCS capabilities.
const CapabilitiesURI = "nc://capabilities"

func registerCoreResources(s *mcp.Server, d *Deps) {
	s.AddResource(&mcp.Resource{
		URI:         CapabilitiesURI,
		Name:        "nextcloud_capabilities",
		Title:       "Nextcloud capabilities",
		Description: "The Nextcloud server's version and the capabilities of its enabled apps (GET /ocs/v2.php/cloud/capabilities), as JSON.",
		MIMEType:    "application/json",
	}, safeResource(d, CapabilitiesURI, func(ctx context.Context, req *mcp.ReadResourceRequest, c *nextcloud.Client) (*mcp.ReadResourceResult, error) {
		caps, err := c.Capabilities(ctx)
		if err != nil {
			return nil, err
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{
			URI: CapabilitiesURI, MIMEType: "application/json", Text: string(caps.Raw),
		}}}, nil
	}))
}
