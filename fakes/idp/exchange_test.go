package idp_test

import (
	"context"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

const mcpResource = "http://127.0.0.1:8765/mcp"

// exchangeFixture is an IdP with a subject token for the MCP server: aud =
// the server's resource URI (registered in its ResourceURIs).
func exchangeFixture(t *testing.T, mutate ...func(*idp.Config)) (*idptest.Server, string) {
	t.Helper()
	s := idptest.Start(t, mutate...)
	c, _ := s.Client(idp.ClientMCPServer)
	c.ResourceURIs = []string{mcpResource}
	if err := s.UpsertClient(c); err != nil {
		t.Fatal(err)
	}
	r, err := s.IssueAccessToken(context.Background(), idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice",
		Scopes: []string{"openid", "notes:read", "notes:write"}, Resource: mcpResource})
	if err != nil {
		t.Fatal(err)
	}
	return s, r.AccessToken
}

func exchangeForm(subject string, kv ...string) map[string]string {
	m := map[string]string{"grant_type": idp.GrantTokenExchange, "subject_token": subject,
		"subject_token_type": idp.TokenTypeAccessToken, "audience": idp.ClientNextcloud}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func postMap(t *testing.T, s *idptest.Server, m map[string]string, user, pass string) result {
	t.Helper()
	f := form()
	for k, v := range m {
		if v != "" {
			f.Set(k, v)
		}
	}
	return post(t, s, "/token", f, user, pass)
}

// TestTokenExchangeRules covers the rules of Keycloak's standard token
// exchange v2 (RFC 8693 with the restrictions grantTokenExchange lists),
// one case per rule.
func TestTokenExchangeRules(t *testing.T) {
	s, subject := exchangeFixture(t, func(c *idp.Config) {
		c.Clients = append(c.Clients, idp.Client{ID: "other-rs", Secret: "other-secret", ExchangeAudiences: []string{idp.ClientNextcloud}})
	})
	ctx := context.Background()
	idOnly, _ := s.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"openid"}, Resource: mcpResource})
	toNextcloud, _ := s.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientNextcloud, Username: "alice"})
	revoked, _ := s.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Resource: mcpResource})
	if r := post(t, s, "/revoke", form("token", revoked.AccessToken, "client_id", idp.ClientMCP), "", ""); r.Status != 200 {
		t.Fatal(r.Raw)
	}
	byClientID, _ := s.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "bob"}) // default audiences name the server's client id
	unknownKey, _ := s.Mint(idp.MintRequest{Key: idp.KeyUnknown, Claims: map[string]any{"sub": "alice", "aud": mcpResource, "scope": "notes:read"}})
	minted, _ := s.Mint(idp.MintRequest{Claims: map[string]any{"sub": "carol", "aud": idp.ClientMCPServer, "scope": "notes:read",
		"act": map[string]any{"sub": "upstream"}}})
	wrongIss, _ := s.Mint(idp.MintRequest{Claims: map[string]any{"iss": "http://evil.example", "sub": "alice", "aud": idp.ClientMCPServer}})
	expired, _ := s.Mint(idp.MintRequest{ExpiresIn: -time.Minute, Claims: map[string]any{"sub": "alice", "aud": idp.ClientMCPServer}})
	jwtTyp, _ := s.Mint(idp.MintRequest{Header: map[string]any{"typ": "JWT"}, Claims: map[string]any{"sub": "alice", "aud": idp.ClientMCPServer}})

	srv, srvPass := idp.ClientMCPServer, serverSecret
	cases := []struct {
		name       string
		req        map[string]string
		user, pass string
		status     int
		err        string
	}{
		{"ok", exchangeForm(subject), srv, srvPass, 200, ""},
		{"ok aud by client id", exchangeForm(byClientID.AccessToken), srv, srvPass, 200, ""},
		{"ok narrower scope", exchangeForm(subject, "scope", "notes:read"), srv, srvPass, 200, ""},
		{"ok audience omitted means self", exchangeForm(subject, "audience", ""), srv, srvPass, 200, ""},
		{"ok minted with act nests", exchangeForm(minted), srv, srvPass, 200, ""},
		{"client without exchange permission", exchangeForm(toNextcloud.AccessToken), idp.ClientNextcloud, nextcloudSecret, 400, "unauthorized_client"},
		{"public client", exchangeForm(subject, "client_id", idp.ClientMCP), "", "", 400, "unauthorized_client"},
		{"wrong secret", exchangeForm(subject), srv, "nope", 401, "invalid_client"},
		{"subject not addressed to requester", exchangeForm(toNextcloud.AccessToken), srv, srvPass, 400, "invalid_request"},
		{"subject addressed to someone else", exchangeForm(subject), "other-rs", "other-secret", 400, "invalid_request"},
		{"unknown audience", exchangeForm(subject, "audience", "nope"), srv, srvPass, 400, "invalid_target"},
		{"audience not allowed", exchangeForm(subject, "audience", idp.ClientMCP), srv, srvPass, 400, "invalid_target"},
		{"scope beyond subject", exchangeForm(subject, "scope", "notes:read files:read"), srv, srvPass, 400, "invalid_scope"},
		{"scope beyond subject (id only)", exchangeForm(idOnly.AccessToken, "scope", "notes:read"), srv, srvPass, 400, "invalid_scope"},
		{"requested refresh token", exchangeForm(subject, "requested_token_type", idp.TokenTypeRefreshToken), srv, srvPass, 400, "invalid_request"},
		{"subject type id_token", exchangeForm(subject, "subject_token_type", idp.TokenTypeIDToken), srv, srvPass, 400, "invalid_request"},
		{"subject type missing", exchangeForm(subject, "subject_token_type", ""), srv, srvPass, 400, "invalid_request"},
		{"subject missing", exchangeForm(""), srv, srvPass, 400, "invalid_request"},
		{"actor token", exchangeForm(subject, "actor_token", subject, "actor_token_type", idp.TokenTypeAccessToken), srv, srvPass, 400, "invalid_request"},
		{"ok with resource", exchangeForm(subject, "resource", "http://127.0.0.1/x"), srv, srvPass, 200, ""},
		{"resource with fragment", exchangeForm(subject, "resource", "http://127.0.0.1/x#f"), srv, srvPass, 400, "invalid_target"},
		{"garbage subject", exchangeForm("not.a.token"), srv, srvPass, 400, "invalid_request"},
		{"revoked subject", exchangeForm(revoked.AccessToken), srv, srvPass, 400, "invalid_request"},
		{"unknown key subject", exchangeForm(unknownKey), srv, srvPass, 400, "invalid_request"},
		{"wrong issuer subject", exchangeForm(wrongIss), srv, srvPass, 400, "invalid_request"},
		{"expired subject", exchangeForm(expired), srv, srvPass, 400, "invalid_request"},
		{"ID token as subject", exchangeForm(jwtTyp), srv, srvPass, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := postMap(t, s, tc.req, tc.user, tc.pass)
			if r.Status != tc.status || r.str("error") != tc.err {
				t.Fatalf("got %d %s, want %d %q", r.Status, r.Raw, tc.status, tc.err)
			}
			if tc.err != "" {
				return
			}
			c := claims(t, r.str("access_token"))
			act, _ := c["act"].(map[string]any)
			if r.str("issued_token_type") != idp.TokenTypeAccessToken || r.Body["expires_in"].(float64) != 300 ||
				c["azp"] != srv || act["sub"] != srv || r.str("refresh_token") != "" {
				t.Errorf("response %s claims %v", r.Raw, c)
			}
			if tc.name == "ok minted with act nests" {
				if inner, _ := act["act"].(map[string]any); inner["sub"] != "upstream" || c["sub"] != "carol" {
					t.Errorf("nested act %v", c["act"])
				}
			}
			if tc.name == "ok audience omitted means self" && c["aud"] != srv {
				t.Errorf("aud %v", c["aud"])
			}
			if aud, _ := c["aud"].([]any); tc.name == "ok with resource" && (len(aud) != 2 || aud[0] != idp.ClientNextcloud || aud[1] != "http://127.0.0.1/x") {
				t.Errorf("aud %v, want the audience and the resource (RFC 8693 §2.1)", c["aud"])
			}
			if tc.name == "ok narrower scope" && c["scope"] != "notes:read" {
				t.Errorf("scope %v", c["scope"])
			}
		})
	}
}

func TestTokenExchangeOffSwitch(t *testing.T) {
	s, subject := exchangeFixture(t, func(c *idp.Config) { c.DisableTokenExchange = true })
	r := postMap(t, s, exchangeForm(subject), idp.ClientMCPServer, serverSecret)
	if r.Status != 400 || r.str("error") != "unsupported_grant_type" {
		t.Fatalf("disabled exchange: %s", r.Raw)
	}
	s.SetTokenExchange(true)
	if r := postMap(t, s, exchangeForm(subject), idp.ClientMCPServer, serverSecret); r.Status != 200 {
		t.Fatalf("re-enabled exchange: %s", r.Raw)
	}
}

func TestTokenExchangeExpiredByClock(t *testing.T) {
	s, subject := exchangeFixture(t)
	s.SetClockOffset(2 * time.Hour)
	if r := postMap(t, s, exchangeForm(subject), idp.ClientMCPServer, serverSecret); r.str("error") != "invalid_request" {
		t.Fatalf("expired subject accepted: %s", r.Raw)
	}
}
