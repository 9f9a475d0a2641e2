package idp_test

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

// TestGoSDKClientCompatibility: the MCP Go SDK's client-side discovery and
// DCR accept this IdP (metadata with PKCE methods, issuer match, safe
// URLs; RFC 7591 response), also with an issuer path.
func TestGoSDKClientCompatibility(t *testing.T) {
	s := autoApprove(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, issuer := range []string{s.URL, s.URL + "/realms/dev"} {
		if err := s.SetIssuer(issuer); err != nil {
			t.Fatal(err)
		}
		asm, err := auth.GetAuthServerMetadata(ctx, issuer, noRedirect)
		if err != nil || asm == nil {
			t.Fatalf("%s: GetAuthServerMetadata: %v", issuer, err)
		}
		if asm.Issuer != issuer || asm.TokenEndpoint != issuer+"/token" || asm.RegistrationEndpoint == "" {
			t.Errorf("metadata %+v", asm)
		}
		reg, err := oauthex.RegisterClient(ctx, asm.RegistrationEndpoint, &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{"http://localhost:3000/callback"}, TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"}, ClientName: "go-sdk", Scope: "notes:read",
		}, noRedirect)
		if err != nil || reg.ClientID == "" {
			t.Fatalf("%s: RegisterClient: %v", issuer, err)
		}
		if _, ok := s.Client(reg.ClientID); !ok {
			t.Error("registered client unknown to the IdP")
		}
	}
}

func TestIdptestStart(t *testing.T) {
	var srv *idptest.Server
	t.Run("inner", func(t *testing.T) {
		srv = idptest.Start(t, func(c *idp.Config) { c.SigningAlg = "ES256" })
		if srv.Issuer() != srv.URL || len(srv.KeyIDs()) != 1 {
			t.Fatalf("issuer %q", srv.Issuer())
		}
		if r := get(t, srv.URL+"/healthz"); r.Status != 200 {
			t.Fatal(r.Status)
		}
	})
	// The subtest's cleanup closed the server.
	if _, err := noRedirect.Get(srv.URL + "/healthz"); err == nil {
		t.Error("server still running after cleanup")
	}
}
