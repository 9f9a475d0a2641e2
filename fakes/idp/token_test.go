package idp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

// TestTokenEndpointBadInput: malformed requests get RFC 6749 §5.2 errors
// with the right status, never a token.
func TestTokenEndpointBadInput(t *testing.T) {
	s := autoApprove(t)
	cc := "grant_type=client_credentials"
	cases := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		user, pass  string
		status      int
		err         string
	}{
		{"GET", http.MethodGet, "/token", "", "", "", "", 405, "invalid_request"},
		{"JSON body", http.MethodPost, "/token", "application/json", `{"grant_type":"client_credentials"}`, idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"no content type", http.MethodPost, "/token", "", cc, idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"query string", http.MethodPost, "/token?client_secret=x", "", cc, idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"oversized body", http.MethodPost, "/token", "", cc + "&x=" + strings.Repeat("a", 70<<10), idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"bad encoding", http.MethodPost, "/token", "", "grant_type=%zz", idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"repeated grant_type", http.MethodPost, "/token", "", cc + "&" + cc, idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"repeated client_id", http.MethodPost, "/token", "", cc + "&client_id=a&client_id=b", "", "", 400, "invalid_request"},
		{"missing grant_type", http.MethodPost, "/token", "", "scope=notes:read", idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"unknown grant_type", http.MethodPost, "/token", "", "grant_type=password&username=alice&password=alice-password", idp.ClientNextcloud, nextcloudSecret, 400, "unsupported_grant_type"},
		{"no client", http.MethodPost, "/token", "", cc, "", "", 401, "invalid_client"},
		{"unknown client", http.MethodPost, "/token", "", cc, "nope", "x", 401, "invalid_client"},
		{"wrong secret", http.MethodPost, "/token", "", cc, idp.ClientNextcloud, "wrong", 401, "invalid_client"},
		{"wrong secret post", http.MethodPost, "/token", "", cc + "&client_id=nextcloud&client_secret=wrong", "", "", 401, "invalid_client"},
		{"confidential without secret", http.MethodPost, "/token", "", cc + "&client_id=nextcloud", "", "", 401, "invalid_client"},
		{"public client with secret", http.MethodPost, "/token", "", cc + "&client_id=mcp-client&client_secret=x", "", "", 401, "invalid_client"},
		{"basic and post at once", http.MethodPost, "/token", "", cc + "&client_secret=" + nextcloudSecret, idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"client_id differs from basic", http.MethodPost, "/token", "", cc + "&client_id=mcp-client", idp.ClientNextcloud, nextcloudSecret, 400, "invalid_request"},
		{"public client_credentials", http.MethodPost, "/token", "", cc + "&client_id=mcp-client", "", "", 400, "unauthorized_client"},
		{"cc with openid", http.MethodPost, "/token", "", cc + "&scope=openid", idp.ClientNextcloud, nextcloudSecret, 400, "invalid_scope"},
		{"cc with unknown scope", http.MethodPost, "/token", "", cc + "&scope=admin:all", idp.ClientNextcloud, nextcloudSecret, 400, "invalid_scope"},
		{"cc with bad resource", http.MethodPost, "/token", "", cc + "&resource=relative/path", idp.ClientNextcloud, nextcloudSecret, 400, "invalid_target"},
		{"code missing", http.MethodPost, "/token", "", "grant_type=authorization_code&client_id=mcp-client&redirect_uri=" + loopbackCB, "", "", 400, "invalid_request"},
		{"code garbage", http.MethodPost, "/token", "", "grant_type=authorization_code&client_id=mcp-client&code=garbage&redirect_uri=" + loopbackCB + "&code_verifier=" + testVerifier, "", "", 400, "invalid_grant"},
		{"refresh missing", http.MethodPost, "/token", "", "grant_type=refresh_token&client_id=mcp-client", "", "", 400, "invalid_request"},
		{"refresh garbage", http.MethodPost, "/token", "", "grant_type=refresh_token&client_id=mcp-client&refresh_token=eyJhbGciOi.x.y", "", "", 400, "invalid_grant"},
		{"exchange by public client", http.MethodPost, "/token", "", "grant_type=" + idp.GrantTokenExchange + "&client_id=mcp-client&subject_token=x&subject_token_type=" + idp.TokenTypeAccessToken, "", "", 400, "unauthorized_client"},
		{"bad basic encoding", http.MethodPost, "/token", "", cc, "%zz", "x", 401, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, s.URL+tc.path, strings.NewReader(tc.body))
			ct := tc.contentType
			if ct == "" && tc.name != "no content type" && tc.method == http.MethodPost {
				ct = "application/x-www-form-urlencoded"
			}
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			r := do(t, req)
			if r.Status != tc.status || r.str("error") != tc.err || r.str("access_token") != "" {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.err)
			}
			if r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("headers %v", r.Header)
			}
			if tc.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without WWW-Authenticate: %v", r.Header)
			}
		})
	}
}

// TestAuthorizationCodeRules: single use (replay revokes), binding to
// client, redirect URI, PKCE verifier and resource; expiry.
func TestAuthorizationCodeRules(t *testing.T) {
	const res = "http://127.0.0.1:7000/mcp"
	cases := []struct {
		name  string
		auth  []string // extra authorize params
		token []string // extra/override token params
		user  string   // Basic client (else mcp-client public)
		pass  string
		skew  time.Duration
		err   string
	}{
		{name: "ok", err: ""},
		{name: "ok with bound resource", auth: []string{"resource", res}, token: []string{"resource", res}},
		{name: "resource not bound", auth: []string{"resource", res}, token: []string{"resource", "http://127.0.0.1:7000/other"}, err: "invalid_target"},
		{name: "resource without authorization resource", token: []string{"resource", res}, err: "invalid_target"},
		{name: "wrong verifier", token: []string{"code_verifier", strings.Repeat("a", 43)}, err: "invalid_grant"},
		{name: "missing verifier", token: []string{"code_verifier", ""}, err: "invalid_grant"},
		{name: "malformed verifier", token: []string{"code_verifier", "short"}, err: "invalid_request"},
		{name: "verifier with bad characters", token: []string{"code_verifier", strings.Repeat("a", 42) + "+"}, err: "invalid_request"},
		{name: "wrong redirect_uri", token: []string{"redirect_uri", "http://127.0.0.1:5556/callback"}, err: "invalid_grant"},
		{name: "missing redirect_uri", token: []string{"redirect_uri", ""}, err: "invalid_request"},
		{name: "other client", user: idp.ClientMCPServer, pass: serverSecret, token: []string{"client_id", ""}, err: "invalid_grant"},
		{name: "expired", skew: 61 * time.Second, err: "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := autoApprove(t)
			code := getCode(t, s, append([]string{"scope", "openid offline_access notes:read"}, tc.auth...)...)
			f := form("grant_type", "authorization_code", "code", code, "redirect_uri", loopbackCB,
				"code_verifier", testVerifier, "client_id", idp.ClientMCP)
			for i := 0; i+1 < len(tc.token); i += 2 {
				f.Set(tc.token[i], tc.token[i+1])
			}
			for k, v := range f {
				if v[0] == "" {
					f.Del(k)
				}
			}
			s.SetClockOffset(tc.skew)
			r := post(t, s, "/token", f, tc.user, tc.pass)
			if r.str("error") != tc.err {
				t.Fatalf("got %d %s, want %q", r.Status, r.Raw, tc.err)
			}
			if tc.err != "" {
				if r.Status != 400 || r.str("access_token") != "" {
					t.Errorf("error response %d %s", r.Status, r.Raw)
				}
				return
			}
			if r.str("token_type") != "Bearer" || r.Body["expires_in"].(float64) != 3600 || r.str("refresh_token") == "" || r.str("id_token") == "" {
				t.Errorf("token response %s", r.Raw)
			}
			wantAud := any([]any{idp.ClientMCPServer, idp.ClientNextcloud})
			if len(tc.auth) > 0 {
				wantAud = res
			}
			if got := claims(t, r.str("access_token"))["aud"]; jsonEq(got) != jsonEq(wantAud) {
				t.Errorf("aud %v, want %v", got, wantAud)
			}
			// Replay: refused, and what the first redemption issued is revoked.
			again := post(t, s, "/token", f, tc.user, tc.pass)
			if again.str("error") != "invalid_grant" {
				t.Fatalf("replay: %s", again.Raw)
			}
			if in := post(t, s, "/introspect", form("token", r.str("access_token")), idp.ClientNextcloud, nextcloudSecret); in.Body["active"] != false {
				t.Errorf("access token survived code replay: %s", in.Raw)
			}
			if rr := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", r.str("refresh_token"), "client_id", idp.ClientMCP), "", ""); rr.str("error") != "invalid_grant" {
				t.Errorf("refresh token survived code replay: %s", rr.Raw)
			}
		})
	}
}

// TestRefreshRules: only with offline_access; rotation; reuse revokes the
// family; down-scope ok, up-scope refused; bound to the client.
func TestRefreshRules(t *testing.T) {
	s := autoApprove(t)
	noOffline := exchangeCode(t, s, getCode(t, s, "scope", "openid notes:read"))
	if noOffline.Status != 200 || noOffline.str("refresh_token") != "" {
		t.Fatalf("refresh token without offline_access: %s", noOffline.Raw)
	}
	first := exchangeCode(t, s, getCode(t, s, "scope", "openid offline_access notes:read notes:write"))
	rt := first.str("refresh_token")
	refresh := func(token string, kv ...string) result {
		return post(t, s, "/token", form(append([]string{"grant_type", "refresh_token", "refresh_token", token, "client_id", idp.ClientMCP}, kv...)...), "", "")
	}
	cases := []struct {
		name string
		kv   []string
		err  string
	}{
		{"up-scope", []string{"scope", "notes:read files:read"}, "invalid_scope"},
		{"unknown scope", []string{"scope", "nope"}, "invalid_scope"},
		{"resource not granted", []string{"resource", "http://127.0.0.1:1/x"}, "invalid_target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := refresh(rt, tc.kv...); r.str("error") != tc.err {
				t.Fatalf("got %s, want %s", r.Raw, tc.err)
			}
		})
	}
	// A failed request does not burn the token.
	other := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", rt), idp.ClientMCPServer, serverSecret)
	if other.str("error") != "invalid_grant" {
		t.Fatalf("refresh by another client: %s", other.Raw)
	}
	down := refresh(rt, "scope", "notes:read")
	if down.Status != 200 || down.str("scope") != "notes:read" || down.str("id_token") != "" {
		t.Fatalf("down-scope: %s", down.Raw)
	}
	// The rotated token keeps the original grant's scope.
	full := refresh(down.str("refresh_token"))
	if full.Status != 200 || full.str("scope") != "openid offline_access notes:read notes:write" || full.str("id_token") == "" {
		t.Fatalf("scope after down-scoped refresh: %s", full.Raw)
	}
	if r := refresh(rt); r.str("error") != "invalid_grant" {
		t.Fatalf("reuse: %s", r.Raw)
	}
	if r := refresh(full.str("refresh_token")); r.str("error") != "invalid_grant" {
		t.Errorf("family not revoked after reuse: %s", r.Raw)
	}
	// Expiry.
	s2 := autoApprove(t, func(c *idp.Config) { c.RefreshTokenTTL = time.Minute })
	tr := exchangeCode(t, s2, getCode(t, s2, "scope", "offline_access"))
	s2.SetClockOffset(2 * time.Minute)
	if r := post(t, s2, "/token", form("grant_type", "refresh_token", "refresh_token", tr.str("refresh_token"), "client_id", idp.ClientMCP), "", ""); r.str("error") != "invalid_grant" {
		t.Errorf("expired refresh token: %s", r.Raw)
	}
}

func TestClientCredentials(t *testing.T) {
	s := idptest.Start(t)
	for name, f := range map[string]struct{ user, pass string }{"basic": {idp.ClientMCPServer, serverSecret}, "post": {}} {
		t.Run(name, func(t *testing.T) {
			fv := form("grant_type", "client_credentials", "scope", "notes:read", "resource", "http://127.0.0.1:1/api")
			if f.user == "" {
				fv.Set("client_id", idp.ClientMCPServer)
				fv.Set("client_secret", serverSecret)
			}
			r := post(t, s, "/token", fv, f.user, f.pass)
			if r.Status != 200 || r.str("refresh_token") != "" || r.str("id_token") != "" {
				t.Fatalf("%s", r.Raw)
			}
			c := claims(t, r.str("access_token"))
			if c["sub"] != idp.ClientMCPServer || c["aud"] != "http://127.0.0.1:1/api" || c["scope"] != "notes:read" || c["client_id"] != idp.ClientMCPServer {
				t.Errorf("claims %v", c)
			}
		})
	}
}

func TestOpaqueAccessTokens(t *testing.T) {
	s := autoApprove(t)
	c, _ := s.Client(idp.ClientMCP)
	c.OpaqueAccessTokens = true
	if err := s.UpsertClient(c); err != nil {
		t.Fatal(err)
	}
	r := exchangeCode(t, s, getCode(t, s, "scope", "openid notes:read"))
	at := r.str("access_token")
	if r.Status != 200 || strings.Count(at, ".") != 0 || len(at) < 32 {
		t.Fatalf("opaque token: %s", r.Raw)
	}
	in := post(t, s, "/introspect", form("token", at), idp.ClientNextcloud, nextcloudSecret)
	if in.Body["active"] != true || in.str("sub") != "alice" || in.str("scope") != "openid notes:read" || in.str("client_id") != idp.ClientMCP {
		t.Errorf("introspection of opaque token: %s", in.Raw)
	}
	if ui := userinfo(t, s, at); ui.Status != 200 || ui.str("sub") != "alice" {
		t.Errorf("userinfo with opaque token: %s", ui.Raw)
	}
}

func TestIssueAccessToken(t *testing.T) {
	s := idptest.Start(t)
	ctx := context.Background()
	r, err := s.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "bob", Scopes: []string{"openid", "notes:read"}, Resource: "http://127.0.0.1:9/mcp", Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	c := claims(t, r.AccessToken)
	if c["sub"] != "bob" || c["aud"] != "http://127.0.0.1:9/mcp" || c["scope"] != "openid notes:read offline_access" || r.RefreshToken == "" || r.IDToken == "" {
		t.Errorf("issued %+v claims %v", r, c)
	}
	if in := post(t, s, "/introspect", form("token", r.AccessToken), idp.ClientNextcloud, nextcloudSecret); in.Body["active"] != true {
		t.Errorf("issued token not introspectable: %s", in.Raw)
	}
	if rr := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", r.RefreshToken, "client_id", idp.ClientMCP), "", ""); rr.Status != 200 {
		t.Errorf("issued refresh token unusable: %s", rr.Raw)
	}
	svc, err := s.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCPServer, Scopes: []string{"notes:read"}})
	if err != nil || claims(t, svc.AccessToken)["sub"] != idp.ClientMCPServer {
		t.Errorf("service token: %v %v", svc, err)
	}
	bad := []idp.IssueRequest{
		{ClientID: "nope", Username: "alice"},
		{ClientID: idp.ClientMCP, Username: "mallory"},
		{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"bogus"}},
		{ClientID: idp.ClientNextcloud, Username: "alice", Offline: true},
		{ClientID: idp.ClientMCP, Username: "alice", Resource: "relative"},
		{ClientID: idp.ClientMCP},
	}
	for i, req := range bad {
		if _, err := s.IssueAccessToken(ctx, req); err == nil {
			t.Errorf("bad request %d accepted: %+v", i, req)
		}
	}
}
