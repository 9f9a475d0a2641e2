package idp_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

func TestIntrospection(t *testing.T) {
	s := autoApprove(t)
	tr := exchangeCode(t, s, getCode(t, s, "scope", "openid offline_access notes:read"))
	at, rt := tr.str("access_token"), tr.str("refresh_token")
	expired, _ := s.Mint(idp.MintRequest{ExpiresIn: -time.Second, Claims: map[string]any{"sub": "alice"}})
	unknown, _ := s.Mint(idp.MintRequest{Key: idp.KeyUnknown, Claims: map[string]any{"sub": "alice"}})
	none, _ := s.Mint(idp.MintRequest{Key: idp.KeyNone, Claims: map[string]any{"sub": "alice"}})
	cases := []struct {
		name       string
		f          []string
		user, pass string
		status     int
		err        string
		active     any
	}{
		{"access token", []string{"token", at}, idp.ClientNextcloud, nextcloudSecret, 200, "", true},
		{"refresh token", []string{"token", rt, "token_type_hint", "refresh_token"}, idp.ClientNextcloud, nextcloudSecret, 200, "", true},
		{"wrong hint still found", []string{"token", rt, "token_type_hint", "access_token"}, idp.ClientNextcloud, nextcloudSecret, 200, "", true},
		{"post auth", []string{"token", at, "client_id", idp.ClientMCPServer, "client_secret", serverSecret}, "", "", 200, "", true},
		{"garbage", []string{"token", "garbage"}, idp.ClientNextcloud, nextcloudSecret, 200, "", false},
		{"expired", []string{"token", expired}, idp.ClientNextcloud, nextcloudSecret, 200, "", false},
		{"unknown key", []string{"token", unknown}, idp.ClientNextcloud, nextcloudSecret, 200, "", false},
		{"alg none", []string{"token", none}, idp.ClientNextcloud, nextcloudSecret, 200, "", false},
		{"missing token", nil, idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request", nil},
		{"no client auth", []string{"token", at}, "", "", 401, "invalid_client", nil},
		{"public client", []string{"token", at, "client_id", idp.ClientMCP}, "", "", 401, "invalid_client", nil},
		{"wrong secret", []string{"token", at}, idp.ClientNextcloud, "x", 401, "invalid_client", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s, "/introspect", form(tc.f...), tc.user, tc.pass)
			if r.Status != tc.status || r.str("error") != tc.err || r.Body["active"] != tc.active {
				t.Fatalf("got %d %s", r.Status, r.Raw)
			}
			if tc.active == true && (r.str("sub") != "alice" || r.str("client_id") != idp.ClientMCP || r.str("scope") != "openid offline_access notes:read" || r.Body["exp"] == nil) {
				t.Errorf("claims %s", r.Raw)
			}
			if tc.active == false && len(r.Body) != 1 {
				t.Errorf("inactive response leaks fields: %s", r.Raw)
			}
		})
	}
	t.Run("client not allowed", func(t *testing.T) {
		s := idptest.Start(t, func(c *idp.Config) {
			c.Clients = append(c.Clients, idp.Client{ID: "plain", Secret: "plain-secret"})
		})
		if r := post(t, s, "/introspect", form("token", "x"), "plain", "plain-secret"); r.Status != 403 || r.str("error") != "unauthorized_client" {
			t.Errorf("got %d %s", r.Status, r.Raw)
		}
	})
	// A rotated refresh token is inactive.
	rot := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", rt, "client_id", idp.ClientMCP), "", "")
	if rot.Status != 200 {
		t.Fatal(rot.Raw)
	}
	if r := post(t, s, "/introspect", form("token", rt), idp.ClientNextcloud, nextcloudSecret); r.Body["active"] != false {
		t.Errorf("rotated refresh token active: %s", r.Raw)
	}
}

func TestRevocation(t *testing.T) {
	s := autoApprove(t)
	introspect := func(tok string) any {
		return post(t, s, "/introspect", form("token", tok), idp.ClientNextcloud, nextcloudSecret).Body["active"]
	}
	tr := exchangeCode(t, s, getCode(t, s, "scope", "offline_access notes:read"))
	cases := []struct {
		name       string
		f          []string
		user, pass string
		status     int
		err        string
	}{
		{"unknown token is 200", []string{"token", "nope", "client_id", idp.ClientMCP}, "", "", 200, ""},
		{"garbage JWT is 200", []string{"token", "a.b.c", "client_id", idp.ClientMCP}, "", "", 200, ""},
		{"missing token", []string{"client_id", idp.ClientMCP}, "", "", 400, "invalid_request"},
		{"no client", []string{"token", tr.str("access_token")}, "", "", 401, "invalid_client"},
		{"other client's token", []string{"token", tr.str("access_token")}, idp.ClientMCPServer, serverSecret, 400, "unauthorized_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s, "/revoke", form(tc.f...), tc.user, tc.pass)
			if r.Status != tc.status || r.str("error") != tc.err {
				t.Fatalf("got %d %s", r.Status, r.Raw)
			}
		})
	}
	if introspect(tr.str("access_token")) != true {
		t.Fatal("refused revocation still revoked the token")
	}
	// Revoking the access token revokes only it.
	if r := post(t, s, "/revoke", form("token", tr.str("access_token"), "token_type_hint", "access_token", "client_id", idp.ClientMCP), "", ""); r.Status != 200 {
		t.Fatal(r.Raw)
	}
	if introspect(tr.str("access_token")) != false || introspect(tr.str("refresh_token")) != true {
		t.Error("access token revocation wrong")
	}
	// Revoking the refresh token revokes the grant.
	rr := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", tr.str("refresh_token"), "client_id", idp.ClientMCP), "", "")
	if r := post(t, s, "/revoke", form("token", rr.str("refresh_token"), "client_id", idp.ClientMCP), "", ""); r.Status != 200 {
		t.Fatal(r.Raw)
	}
	if introspect(rr.str("access_token")) != false || introspect(rr.str("refresh_token")) != false {
		t.Error("refresh token revocation did not revoke the grant")
	}
	// Confidential client revokes its own refresh token (Flow 2).
	srvTok, _ := s.IssueAccessToken(context.Background(), idp.IssueRequest{ClientID: idp.ClientMCPServer, Username: "alice", Offline: true})
	if r := post(t, s, "/revoke", form("token", srvTok.RefreshToken), idp.ClientMCPServer, serverSecret); r.Status != 200 || introspect(srvTok.RefreshToken) != false {
		t.Errorf("server revocation: %d %s", r.Status, r.Raw)
	}
}

func TestUserinfo(t *testing.T) {
	s := autoApprove(t)
	full := exchangeCode(t, s, getCode(t, s, "scope", "openid profile email")).str("access_token")
	bare := exchangeCode(t, s, getCode(t, s, "scope", "openid")).str("access_token")
	noOpenID := exchangeCode(t, s, getCode(t, s, "scope", "notes:read")).str("access_token")
	r := userinfo(t, s, full)
	if r.Status != 200 || r.str("sub") != "alice" || r.str("email") != "alice@example.com" || r.str("preferred_username") != "alice" || r.str("name") == "" {
		t.Fatalf("full: %s", r.Raw)
	}
	if r := userinfo(t, s, bare); r.Status != 200 || len(r.Body) != 1 {
		t.Errorf("openid only: %s", r.Raw)
	}
	cases := []struct {
		name, token string
		status      int
		err         string
	}{
		{"no token", "", 401, "invalid_request"},
		{"garbage", "garbage", 401, "invalid_token"},
		{"no openid scope", noOpenID, 403, "insufficient_scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := userinfo(t, s, tc.token)
			if r.Status != tc.status || r.str("error") != tc.err || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("got %d %s %v", r.Status, r.Raw, r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if r := get(t, s.URL+"/userinfo?access_token="+full); r.Status != 400 {
		t.Errorf("token in query: %d", r.Status)
	}
}

func postJSON(t *testing.T, url, body, bearer string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(t, req)
}

func TestDynamicClientRegistration(t *testing.T) {
	s := autoApprove(t)
	// Registered with one scope, as the TS SDK does; later requests may ask
	// for more (step-up), so the registered scope is informational.
	r := postJSON(t, s.URL+"/register", `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none",
		"grant_types":["authorization_code","refresh_token"],"client_name":"SDK client","scope":"notes:read","logo_uri":"https://x.example/l.png"}`, "")
	if r.Status != 201 || r.str("client_id") == "" || r.str("client_secret") != "" || r.str("registration_access_token") == "" || r.str("logo_uri") == "" {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	id := r.str("client_id")
	resp, err := noRedirect.Get(authorizeURL(s, "response_type", "code", "client_id", id, "redirect_uri", "http://127.0.0.1:4321/cb",
		"code_challenge", challengeOf(testVerifier), "code_challenge_method", "S256", "scope", "notes:read notes:write offline_access", "resource", mcpResource))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	code := strings.TrimPrefix(resp.Header.Get("Location"), "http://127.0.0.1:4321/cb?code=")
	code = strings.SplitN(code, "&", 2)[0]
	tr := post(t, s, "/token", form("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1:4321/cb",
		"code_verifier", testVerifier, "client_id", id, "resource", mcpResource), "", "")
	if tr.Status != 200 || tr.str("scope") != "notes:read notes:write offline_access" || tr.str("refresh_token") == "" {
		t.Fatalf("DCR client flow: %s", tr.Raw)
	}
	// RFC 7592 read and delete.
	mgmt := func(method, token string) result {
		req, _ := http.NewRequest(method, r.str("registration_client_uri"), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return do(t, req)
	}
	if g := mgmt(http.MethodGet, "wrong"); g.Status != 401 {
		t.Errorf("read with wrong token: %d", g.Status)
	}
	if g := mgmt(http.MethodGet, r.str("registration_access_token")); g.Status != 200 || g.str("client_id") != id || g.str("registration_access_token") != "" {
		t.Errorf("read: %d %s", g.Status, g.Raw)
	}
	if d := mgmt(http.MethodDelete, r.str("registration_access_token")); d.Status != 204 {
		t.Errorf("delete: %d", d.Status)
	}
	if g := mgmt(http.MethodGet, r.str("registration_access_token")); g.Status != 401 {
		t.Errorf("read after delete: %d", g.Status)
	}
	if _, ok := s.Client(id); ok {
		t.Error("client survived deletion")
	}

	// Confidential registration gets a secret that works.
	c := postJSON(t, s.URL+"/register", `{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_post"}`, "")
	if c.Status != 201 || c.str("client_secret") == "" {
		t.Fatalf("confidential: %s", c.Raw)
	}
	// Anonymous registration cannot give itself the client-credentials
	// grant (Keycloak's default anonymous policy): its tokens would name
	// no user.
	if tk := post(t, s, "/token", form("grant_type", "client_credentials", "client_id", c.str("client_id"), "client_secret", c.str("client_secret")), "", ""); tk.Status != 400 || tk.str("error") != "unauthorized_client" {
		t.Errorf("anonymous DCR client used client_credentials: %d %s", tk.Status, tk.Raw)
	}

	bad := []struct{ name, body, err string }{
		{"not JSON", `redirect_uris=x`, "invalid_client_metadata"},
		{"array", `[]`, "invalid_client_metadata"},
		{"no redirect_uris", `{"token_endpoint_auth_method":"none"}`, "invalid_redirect_uri"},
		{"http non-loopback", `{"redirect_uris":["http://evil.example/cb"]}`, "invalid_redirect_uri"},
		{"fragment", `{"redirect_uris":["https://a.example/cb#x"]}`, "invalid_redirect_uri"},
		{"bad auth method", `{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, "invalid_client_metadata"},
		{"implicit", `{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}`, "invalid_client_metadata"},
		{"public client_credentials", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}`, "invalid_client_metadata"},
		{"anonymous client_credentials", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_post"}`, "invalid_client_metadata"},
		{"anonymous client_credentials beside code", `{"redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code","client_credentials"]}`, "invalid_client_metadata"},
		{"wrong type", `{"redirect_uris":"https://a.example/cb"}`, "invalid_client_metadata"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if r := postJSON(t, s.URL+"/register", tc.body, ""); r.Status != 400 || r.str("error") != tc.err {
				t.Errorf("got %d %s", r.Status, r.Raw)
			}
		})
	}
	if r := post(t, s, "/register", form("redirect_uris", "https://a.example/cb"), "", ""); r.Status != 400 {
		t.Errorf("form body: %d", r.Status)
	}
}

func TestRegistrationInitialAccessToken(t *testing.T) {
	s := idptest.Start(t, func(c *idp.Config) { c.RegistrationToken = "iat-123" })
	body := `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`
	for _, tok := range []string{"", "wrong"} {
		if r := postJSON(t, s.URL+"/register", body, tok); r.Status != 401 || r.str("error") != "invalid_token" {
			t.Errorf("token %q: %d %s", tok, r.Status, r.Raw)
		}
	}
	if r := postJSON(t, s.URL+"/register", body, "iat-123"); r.Status != 201 {
		t.Errorf("with token: %d %s", r.Status, r.Raw)
	}
	// With the initial access token a confidential client may have the
	// client-credentials grant.
	c := postJSON(t, s.URL+"/register", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_post"}`, "iat-123")
	if c.Status != 201 || c.str("client_secret") == "" {
		t.Fatalf("authenticated confidential registration: %d %s", c.Status, c.Raw)
	}
	if tk := post(t, s, "/token", form("grant_type", "client_credentials", "client_id", c.str("client_id"), "client_secret", c.str("client_secret")), "", ""); tk.Status != 200 {
		t.Errorf("client_credentials of an authenticated registration: %s", tk.Raw)
	}
}

// TestStrictRegisteredScopes: with StrictRegisteredScopes a dynamically
// registered client may request only the scopes it registered (as
// certified providers do): an MCP SDK that registered with its first
// challenge's scope cannot step up. Off by default, where the registered
// scope does not limit later requests; a registration without scope is
// unlimited either way.
func TestStrictRegisteredScopes(t *testing.T) {
	const regBody = `{"redirect_uris":["http://127.0.0.1:6274/cb"],"token_endpoint_auth_method":"none","scope":"notes:read"}`
	cases := []struct {
		name    string
		strict  bool
		body    string
		request string
		wantErr string
	}{
		{"lenient: step-up beyond the registered scope", false, regBody, "notes:read notes:write", ""},
		{"strict: the registered scope", true, regBody, "notes:read", ""},
		{"strict: step-up beyond the registered scope", true, regBody, "notes:read notes:write", "invalid_scope"},
		{"strict: registration without scope", true, `{"redirect_uris":["http://127.0.0.1:6274/cb"],"token_endpoint_auth_method":"none"}`, "notes:read notes:write", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := autoApprove(t, func(c *idp.Config) { c.StrictRegisteredScopes = tc.strict })
			reg := postJSON(t, s.URL+"/register", tc.body, "")
			if reg.Status != http.StatusCreated {
				t.Fatalf("registration: %d %s", reg.Status, reg.Raw)
			}
			resp, err := noRedirect.Get(authorizeURL(s, "response_type", "code", "client_id", reg.str("client_id"),
				"redirect_uri", "http://127.0.0.1:6274/cb", "scope", tc.request, "state", "st",
				"code_challenge", challengeOf(testVerifier), "code_challenge_method", "S256"))
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || resp.StatusCode != http.StatusFound {
				t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if got := loc.Query().Get("error"); got != tc.wantErr {
				t.Errorf("error %q (%s), want %q", got, loc.Query().Get("error_description"), tc.wantErr)
			}
			if tc.wantErr != "" && !strings.Contains(loc.Query().Get("error_description"), "registered") {
				t.Errorf("the refusal does not say why: %q", loc.Query().Get("error_description"))
			}
		})
	}
	s := idptest.Start(t, func(c *idp.Config) { c.StrictRegisteredScopes = true })
	if r := postJSON(t, s.URL+"/register", `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","scope":"bogus:read"}`, ""); r.Status != 400 || r.str("error") != "invalid_client_metadata" {
		t.Errorf("registering an unknown scope: %d %s", r.Status, r.Raw)
	}
}
