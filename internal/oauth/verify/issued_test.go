package verify

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
)

// TestCheckIssued: the claims of a token fresh from the token endpoint
// are checked as Verify checks them; its signature is not
// (docs/architecture.md §2.1.1), and the IdP is never asked.
func TestCheckIssued(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Audiences = []string{testas.NextcloudAudience} })
	stranger := testas.NewKey(jose.RS256)
	nc := func(mutate func(map[string]any)) map[string]any {
		c := f.as.Claims("alice", testas.NextcloudAudience)
		if mutate != nil {
			mutate(c)
		}
		return c
	}
	mint := func(c map[string]any, o testas.MintOptions) string { return f.as.Mint(c, o) }
	resign := func(tok string) string { // same header and claims, garbage signature
		return tok[:strings.LastIndexByte(tok, '.')+1] + base64.RawURLEncoding.EncodeToString([]byte("not a signature"))
	}
	header := func(h string) string { // an unsigned token with header h
		return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + strings.Split(mint(nc(nil), testas.MintOptions{}), ".")[1] + "."
	}
	tests := []struct {
		name    string
		token   string
		wantErr string // "" accepts
	}{
		{name: "from the IdP", token: mint(nc(nil), testas.MintOptions{})},
		{name: "signed by a key the IdP does not publish", token: mint(nc(nil), testas.MintOptions{Key: &stranger})},
		{name: "signature garbage", token: resign(mint(nc(nil), testas.MintOptions{}))},
		{name: "typ JWT", token: mint(nc(nil), testas.MintOptions{Typ: "JWT"})},
		{name: "for another audience", token: mint(f.as.Claims("alice", testas.MCPResource), testas.MintOptions{}), wantErr: "does not include nextcloud"},
		{name: "no audience", token: mint(nc(func(c map[string]any) { delete(c, "aud") }), testas.MintOptions{}), wantErr: "no aud claim"},
		{name: "another issuer", token: mint(nc(func(c map[string]any) { c["iss"] = "https://evil.example" }), testas.MintOptions{}), wantErr: "issued by https://evil.example"},
		{name: "expired", token: mint(nc(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), testas.MintOptions{}), wantErr: "expired at"},
		{name: "not yet valid", token: mint(nc(func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), testas.MintOptions{}), wantErr: "not valid before"},
		{name: "no subject", token: mint(nc(func(c map[string]any) { delete(c, "sub") }), testas.MintOptions{}), wantErr: "no sub claim"},
		{name: "an ID token", token: mint(nc(nil), testas.MintOptions{Typ: "id+jwt"}), wantErr: "token type id+jwt is not an access token"},
		{name: "alg none", token: header(`{"alg":"none","typ":"at+jwt"}`), wantErr: "signature algorithm none is not allowed"},
		{name: "alg HS256", token: header(`{"alg":"HS256","typ":"at+jwt"}`), wantErr: "signature algorithm HS256 is not allowed"},
		{name: "claims of the wrong type", token: mint(nc(func(c map[string]any) { c["sub"] = 42 }), testas.MintOptions{}), wantErr: "claim sub has the wrong type"},
		{name: "payload not base64", token: "eyJhbGciOiJSUzI1NiJ9.***.sig", wantErr: "malformed JWT"},
		{name: "opaque", token: "an-opaque-token", wantErr: "not a JWT"},
		{name: "empty", token: "", wantErr: "empty token"},
		{name: "too long", token: strings.Repeat("a", MaxTokenBytes+1), wantErr: "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.v.CheckIssued(tc.token)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, oauth.ErrInvalidToken)
				assert.Contains(t, err.Error(), tc.wantErr)
				if len(tc.token) > 20 {
					assert.NotContains(t, err.Error(), tc.token[:20], "the token is never in the error")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "alice", r.Subject)
			assert.Equal(t, []string{testas.NextcloudAudience}, r.Audience)
		})
	}
	assert.Zero(t, f.ks.Fetches(), "no JWKS fetch")
}
