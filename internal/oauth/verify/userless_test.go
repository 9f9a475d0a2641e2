package verify

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
)

// TestRequireUser: with RequireUser, a token that names no user — a
// client-credentials grant, whose sub is the client (RFC 9068 §2.2), or a
// Keycloak service account (preferred_username service-account-<client>,
// sub a UUID) — is refused, as JWT and by introspection; a user's token
// passes. Without RequireUser (the Nextcloud-side verifier) nothing
// changes.
func TestRequireUser(t *testing.T) {
	strict := newFixture(t, func(c *Config) { c.RequireUser = true })
	lax := newFixture(t, nil)
	good := strict.as.Claims("alice", testas.MCPResource)
	tests := []struct {
		name   string
		claims map[string]any
		intro  func(*oauth.Introspection)
		user   bool
	}{
		{name: "user", claims: with(good, "azp", "mcp-client", "preferred_username", "alice"), user: true},
		{name: "user without username", claims: good, user: true},
		{name: "sub is client_id", claims: with(good, "sub", "svc", "client_id", "svc")},
		{name: "sub is azp", claims: with(good, "sub", "svc", "client_id", nil, "azp", "svc")},
		{name: "Keycloak service account", claims: with(good, "sub", "0b9c2a1e-5d4f-4c1a-9e7b-3f2d1c0b9a88", "client_id", "svc", "azp", "svc", "preferred_username", "service-account-svc")},
		{name: "Keycloak service account, upper case", claims: with(good, "sub", "0b9c2a1e", "azp", "svc", "preferred_username", "Service-Account-svc")},
		{name: "introspected user", intro: func(i *oauth.Introspection) {}, user: true},
		{name: "introspected client", intro: func(i *oauth.Introspection) { i.Sub, i.ClientID, i.Username = "mcp-client", "mcp-client", "" }},
		{name: "introspected service account", intro: func(i *oauth.Introspection) { i.Sub, i.Username = "7f3e", "service-account-mcp-client" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []*fixture{strict, lax} {
				var token string
				if tt.intro != nil {
					token = f.as.Opaque(introspection(f.as, tt.intro))
				} else {
					token = f.as.Mint(with(tt.claims, "iss", f.as.Issuer), testas.MintOptions{})
				}
				_, err := f.v.Verify(context.Background(), token)
				if tt.user || f == lax {
					assert.NoError(t, err)
					continue
				}
				require.Error(t, err)
				assert.ErrorIs(t, err, oauth.ErrInvalidToken)
				assert.Contains(t, err.Error(), "names no user")
			}
		})
	}
}
