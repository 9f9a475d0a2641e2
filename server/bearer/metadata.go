package bearer

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// MetadataPath returns the RFC 9728 §3.1 well-known path for a resource
// URL: "/.well-known/oauth-protected-resource" followed by the resource's
// path ("/mcp" for "http://host/mcp").
func MetadataPath(resource string) (string, error) {
	u, err := url.Parse(resource)
	if err != nil {
		return "", err
	}
	return "/.well-known/oauth-protected-resource" + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

// MetadataHandler serves Protected Resource Metadata (RFC 9728 §3.2) for
// the MCP endpoint. The same document is served at the path form and at
// the root: `resource` is always the exact canonical MCP URL, since that is
// the audience tokens must carry (docs/architecture.md §3).
func MetadataHandler(resource, issuer string, supported []string, name string) http.Handler {
	return auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:               resource,
		AuthorizationServers:   []string{issuer},
		ScopesSupported:        supported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           name,
	})
}
