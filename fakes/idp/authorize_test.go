package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
)

// TestAuthorizeErrors: errors before the client and redirect URI are
// trusted are HTML 400 pages; after that they redirect with RFC 6749
// §4.1.2.1 codes, state and iss.
func TestAuthorizeErrors(t *testing.T) {
	s := autoApprove(t, func(c *idp.Config) {
		c.Clients = append(c.Clients, idp.Client{ID: "cc-only", Secret: "x", RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: []string{idp.GrantClientCredentials}})
	})
	ch := challengeOf(testVerifier)
	good := []string{"response_type", "code", "client_id", idp.ClientMCP, "redirect_uri", loopbackCB,
		"code_challenge", ch, "code_challenge_method", "S256", "state", "xyz"}
	with := func(kv ...string) []string {
		out := []string{}
		over := map[string]bool{}
		for i := 0; i < len(kv); i += 2 {
			over[kv[i]] = true
		}
		for i := 0; i < len(good); i += 2 {
			if !over[good[i]] {
				out = append(out, good[i], good[i+1])
			}
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] != "<omit>" {
				out = append(out, kv[i], kv[i+1])
			}
		}
		return out
	}
	cases := []struct {
		name string
		kv   []string
		html bool   // expect HTML 400
		err  string // expected redirect error
	}{
		{"missing client_id", with("client_id", "<omit>"), true, ""},
		{"unknown client", with("client_id", "nope"), true, ""},
		{"repeated client_id", append(with(), "client_id", idp.ClientMCP), true, ""},
		{"missing redirect_uri", with("redirect_uri", "<omit>"), true, ""},
		{"repeated redirect_uri", append(with(), "redirect_uri", loopbackCB), true, ""},
		{"non-loopback redirect", with("redirect_uri", "https://evil.example/cb"), true, ""},
		{"redirect with fragment", with("redirect_uri", loopbackCB+"#x"), true, ""},
		{"unregistered path for registered client", with("client_id", idp.ClientMCPServer, "redirect_uri", "http://127.0.0.1:9/other"), true, ""},
		{"missing response_type", with("response_type", "<omit>"), false, "invalid_request"},
		{"token response_type", with("response_type", "token"), false, "unsupported_response_type"},
		{"repeated scope", append(with(), "scope", "openid", "scope", "email"), false, "invalid_request"},
		{"plain PKCE", with("code_challenge_method", "plain"), false, "invalid_request"},
		{"challenge without method", with("code_challenge_method", "<omit>"), false, "invalid_request"},
		{"no PKCE for public client", with("code_challenge", "<omit>", "code_challenge_method", "<omit>"), false, "invalid_request"},
		{"short challenge", with("code_challenge", "abc"), false, "invalid_request"},
		{"challenge with bad chars", with("code_challenge", strings.Repeat("+", 43)), false, "invalid_request"},
		{"unknown scope", with("scope", "openid bogus:read"), false, "invalid_scope"},
		{"malformed resource", with("resource", "not-absolute"), false, "invalid_target"},
		{"resource with fragment", with("resource", "http://127.0.0.1/mcp#f"), false, "invalid_target"},
		{"audience the client may not target", with("audience", "no-such-client"), false, "invalid_target"},
		{"response_mode fragment", with("response_mode", "fragment"), false, "invalid_request"},
		{"request object", with("request", "eyJ.x.y"), false, "request_not_supported"},
		{"prompt none with login", with("prompt", "none login"), false, "invalid_request"},
		{"client without code grant", with("client_id", "cc-only", "redirect_uri", "https://app.example/cb"), false, "unauthorized_client"},
		{"unknown login_hint user", with("login_hint", "mallory"), false, "access_denied"},
		{"offline_access not allowed", with("client_id", idp.ClientNextcloud, "redirect_uri", "http://127.0.0.1/apps/user_oidc/code", "scope", "openid offline_access"), false, "invalid_scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := noRedirect.Get(authorizeURL(s, tc.kv...))
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if tc.html {
				if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Location") != "" {
					t.Fatalf("want HTML 400, got %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"))
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc == nil {
				t.Fatalf("want redirect, got %d", resp.StatusCode)
			}
			q := loc.Query()
			if q.Get("error") != tc.err || q.Get("code") != "" || q.Get("iss") != s.URL {
				t.Errorf("redirect %s, want error %s", loc, tc.err)
			}
			if tc.name != "repeated state" && q.Get("state") != "xyz" {
				t.Errorf("state not echoed: %s", loc)
			}
		})
	}
}

// TestAudienceParameterWithResource: the audience parameter of an
// authorization request (a client the requester may target) is added to
// the aud of tokens issued for its resource, on the code grant and on
// every refresh (what the MCP server's Flow 2 sends: Nextcloud's resource
// and Nextcloud's client id).
func TestAudienceParameterWithResource(t *testing.T) {
	s := autoApprove(t)
	const ncURL = "http://127.0.0.1:8080"
	code := getCode(t, s, "scope", "openid offline_access notes:read", "resource", ncURL, "audience", idp.ClientNextcloud)
	tr := exchangeCode(t, s, code, "resource", ncURL)
	if tr.Status != http.StatusOK {
		t.Fatalf("code grant: %s", tr.Raw)
	}
	want := jsonEq([]string{ncURL, idp.ClientNextcloud})
	if got := jsonEq(claims(t, tr.str("access_token"))["aud"]); got != want {
		t.Errorf("code grant aud %s, want %s", got, want)
	}
	rr := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", tr.str("refresh_token"), "client_id", idp.ClientMCP, "resource", ncURL), "", "")
	if rr.Status != http.StatusOK {
		t.Fatalf("refresh: %s", rr.Raw)
	}
	if got := jsonEq(claims(t, rr.str("access_token"))["aud"]); got != want {
		t.Errorf("refreshed aud %s, want %s", got, want)
	}
	// Without the audience parameter the resource alone is the audience.
	tr = exchangeCode(t, s, getCode(t, s, "resource", ncURL), "resource", ncURL)
	if got := jsonEq(claims(t, tr.str("access_token"))["aud"]); got != jsonEq(ncURL) {
		t.Errorf("aud without the audience parameter %s", got)
	}
}

// TestRedirectMatching covers exact match and RFC 8252 §7.3 any-port
// loopback matching.
func TestRedirectMatching(t *testing.T) {
	s := autoApprove(t)
	cases := []struct {
		client, redirect string
		ok               bool
	}{
		{idp.ClientMCP, "http://127.0.0.1:33333/callback", true},
		{idp.ClientMCP, "http://localhost:8080/oauth/cb", true},
		{idp.ClientMCP, "http://[::1]:9000/cb", true},
		{idp.ClientMCP, "https://127.0.0.1/cb", false},
		{idp.ClientMCPServer, "http://127.0.0.1:8123/oauth/callback", true},
		{idp.ClientMCPServer, "http://127.0.0.1/oauth/callback", true},
		{idp.ClientMCPServer, "http://localhost:4444/oauth/callback", true},
		{idp.ClientMCPServer, "http://127.0.0.1:8123/oauth/callback?x=1", false},
		{idp.ClientMCPServer, "http://127.0.0.1:8123/oauth/callback/", false},
		{idp.ClientMCPServer, "http://[::1]:8123/oauth/callback", false}, // host must match
		{idp.ClientMCPServer, "http://10.0.0.1:8123/oauth/callback", false},
	}
	for _, tc := range cases {
		t.Run(tc.client+" "+tc.redirect, func(t *testing.T) {
			resp, err := noRedirect.Get(authorizeURL(s, "response_type", "code", "client_id", tc.client, "redirect_uri", tc.redirect,
				"code_challenge", challengeOf(testVerifier), "code_challenge_method", "S256"))
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			got := resp.StatusCode == http.StatusFound && strings.HasPrefix(resp.Header.Get("Location"), tc.redirect)
			if got != tc.ok {
				t.Errorf("accepted=%v (status %d), want %v", got, resp.StatusCode, tc.ok)
			}
		})
	}
}

func TestAuthorizePOSTAndPKCEOptionalForConfidential(t *testing.T) {
	s := autoApprove(t)
	f := form("response_type", "code", "client_id", idp.ClientMCPServer, "redirect_uri", "http://127.0.0.1:8000/oauth/callback", "scope", "openid offline_access", "state", "s1")
	r := post(t, s, "/authorize", f, "", "")
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("POST authorize: %d %s", r.Status, r.Header.Get("Location"))
	}
	// No challenge was sent, so a verifier at the token endpoint is a
	// downgrade attempt.
	tr := post(t, s, "/token", form("grant_type", "authorization_code", "code", loc.Query().Get("code"),
		"redirect_uri", "http://127.0.0.1:8000/oauth/callback", "code_verifier", testVerifier), idp.ClientMCPServer, serverSecret)
	if tr.str("error") != "invalid_grant" {
		t.Errorf("verifier without challenge: %s", tr.Raw)
	}
	r = post(t, s, "/authorize", f, "", "")
	loc, _ = url.Parse(r.Header.Get("Location"))
	tr = post(t, s, "/token", form("grant_type", "authorization_code", "code", loc.Query().Get("code"),
		"redirect_uri", "http://127.0.0.1:8000/oauth/callback"), idp.ClientMCPServer, serverSecret)
	if tr.Status != 200 || tr.str("refresh_token") == "" || tr.str("id_token") == "" {
		t.Errorf("confidential code flow: %s", tr.Raw)
	}
}
