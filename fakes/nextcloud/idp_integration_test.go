package nextcloud_test

import (
	"context"
	"slices"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

// TestFakeIdPTokens runs both fakes over real HTTP: tokens minted by the
// fake IdP are validated by the fake Nextcloud through the IdP's discovery
// document and JWKS, across a key rotation, and refused when aud lacks
// "nextcloud" or the signature cannot be trusted.
func TestFakeIdPTokens(t *testing.T) {
	ip := idptest.Start(t)
	nc := nctest.Start(t, func(c *nextcloud.Config) { c.OIDCIssuer = ip.URL })
	ctx := context.Background()

	issue := func(t *testing.T, req idp.IssueRequest) string {
		t.Helper()
		resp, err := ip.IssueAccessToken(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.AccessToken
	}
	mint := func(t *testing.T, m idp.MintRequest) string {
		t.Helper()
		tok, err := ip.Mint(m)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	accepted := func(t *testing.T, tok string) {
		t.Helper()
		r := do(t, nc, "GET", "/ocs/v2.php/cloud/user?format=json", "", bearerTok(tok))
		if r.status != 200 || jsonAt(t, r.body, "ocs.data.id") != "alice" {
			t.Fatalf("OCS: %s", r)
		}
		if r := do(t, nc, "PROPFIND", "/remote.php/dav/files/alice/", "", bearerTok(tok), hdr("Depth", "0")); r.status != 207 {
			t.Fatalf("DAV: %s", r)
		}
		if r := do(t, nc, "GET", "/index.php/apps/notes/api/v1/notes", "", bearerTok(tok)); r.status != 200 {
			t.Fatalf("Notes: %s", r)
		}
	}
	rejected := func(t *testing.T, tok string) {
		t.Helper()
		r := do(t, nc, "GET", "/ocs/v2.php/cloud/user?format=json", "", bearerTok(tok))
		if r.status != 401 || jsonAt(t, r.body, "ocs.meta.statuscode") != 997.0 {
			t.Fatalf("OCS accepted or wrong dialect: %s", r)
		}
		if r := do(t, nc, "PROPFIND", "/remote.php/dav/files/alice/", "", bearerTok(tok)); r.status != 401 {
			t.Fatalf("DAV: %s", r)
		}
	}

	// mcp-client tokens carry aud [nextcloud-mcp-server, nextcloud] by default.
	first := issue(t, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"openid", "notes:read"}})
	t.Run("issued token", func(t *testing.T) { accepted(t, first) })

	jwksFetches := func() int {
		n := 0
		for _, e := range ip.RequestLog() {
			if e.Endpoint == "jwks" {
				n++
			}
		}
		return n
	}
	t.Run("JWKS is cached", func(t *testing.T) {
		n := jwksFetches()
		accepted(t, first)
		if got := jwksFetches(); got != n {
			t.Fatalf("JWKS fetched %d more times for a known kid", got-n)
		}
	})
	t.Run("after key rotation", func(t *testing.T) {
		fetches := jwksFetches()
		before := ip.KeyIDs()
		if err := ip.RotateKeys(); err != nil {
			t.Fatal(err)
		}
		after := ip.KeyIDs()
		if slices.Equal(before, after) {
			t.Fatal("rotation published no new key")
		}
		accepted(t, issue(t, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"openid"}}))
		if jwksFetches() != fetches+1 {
			t.Fatalf("JWKS fetched %d times after the rotation, want once (unknown kid)", jwksFetches()-fetches)
		}
		// The old key stays published for the grace period.
		accepted(t, first)
	})

	t.Run("aud without nextcloud", func(t *testing.T) {
		rejected(t, issue(t, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"openid"}, Resource: "http://127.0.0.1:1/mcp"}))
		rejected(t, mint(t, idp.MintRequest{Claims: map[string]any{"sub": "alice", "aud": []string{idp.ClientMCPServer}}}))
	})
	t.Run("untrusted signatures", func(t *testing.T) {
		for _, key := range []idp.MintKey{idp.KeyUnknown, idp.KeyNone, idp.KeyHS256Public} {
			t.Run(string(key), func(t *testing.T) {
				rejected(t, mint(t, idp.MintRequest{Key: key, Claims: map[string]any{"sub": "alice", "aud": "nextcloud"}}))
			})
		}
	})
	t.Run("expired", func(t *testing.T) {
		rejected(t, mint(t, idp.MintRequest{ExpiresIn: -2 * 60e9, Claims: map[string]any{"sub": "alice", "aud": "nextcloud"}}))
	})
	t.Run("log has the claims", func(t *testing.T) {
		var found bool
		for _, e := range nc.RequestLog() {
			if e.Token != nil && e.UID == "alice" && slices.Contains(e.Token.Aud, "nextcloud") && e.Token.Azp == idp.ClientMCP && e.Token.Jti != "" {
				found = true
			}
		}
		if !found {
			t.Fatal("no bearer entry with the IdP's claims")
		}
	})
}
