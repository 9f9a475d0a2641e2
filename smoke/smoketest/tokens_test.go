package smoketest

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

func TestCodeFlowAgainstFakeIdP(t *testing.T) {
	s := idptest.Start(t, func(c *idp.Config) { c.AutoApprove = true })
	var codes []string
	f := &CodeFlow{Issuer: s.URL, ClientID: "mcp-client", RedirectURI: codeRedirectURI, OnCode: func(c string) { codes = append(codes, c) }}
	ctx := context.Background()

	tok, err := f.Token(ctx, TokenRequest{User: "bob", Scopes: []string{"notes:read"}, Resource: "http://127.0.0.1:9/mcp"})
	require.NoError(t, err)
	claims, err := JWTClaims(tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "bob", claims["sub"], "login_hint picks the user")
	assert.Equal(t, "notes:read", claims["scope"])
	assert.Equal(t, "http://127.0.0.1:9/mcp", claims["aud"], "RFC 8707 resource becomes the audience")
	assert.NotEmpty(t, claims["jti"])
	require.Len(t, codes, 1, "the code is handed to OnCode (it is a secret the logs must not hold)")

	tok, err = f.Token(ctx, TokenRequest{User: "alice", Scopes: []string{"notes:read", "notes:write"}})
	require.NoError(t, err)
	claims, _ = JWTClaims(tok.AccessToken)
	assert.ElementsMatch(t, []any{"nextcloud-mcp-server", "nextcloud"}, claims["aud"], "without a resource: the client's default audiences")

	// Control API clients against the same fake.
	ctl := &IdPControl{Control{BaseURL: s.URL}}
	expired, err := ctl.Mint(ctx, MintRequest{ExpiresIn: ptrTo(int64(-60)), Claims: map[string]any{"sub": "alice", "aud": "x"}})
	require.NoError(t, err)
	claims, _ = JWTClaims(expired)
	assert.Equal(t, "x", claims["aud"])
	log, err := ctl.Log(ctx)
	require.NoError(t, err)
	var grants []string
	for _, e := range log {
		if e.Endpoint == "token" {
			grants = append(grants, e.GrantType+" "+e.Outcome)
		}
	}
	assert.Equal(t, []string{"authorization_code ok", "authorization_code ok"}, grants)
}

func TestCodeFlowNeedsAutoApprove(t *testing.T) {
	s := idptest.Start(t) // interactive login page
	f := &CodeFlow{Issuer: s.URL, ClientID: "mcp-client", RedirectURI: codeRedirectURI}
	_, err := f.Token(context.Background(), TokenRequest{User: "alice", Scopes: []string{"notes:read"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--auto-approve")
}

func TestCodeFlowRefusal(t *testing.T) {
	s := idptest.Start(t, func(c *idp.Config) { c.AutoApprove = true })
	f := &CodeFlow{Issuer: s.URL, ClientID: "mcp-client", RedirectURI: codeRedirectURI}
	_, err := f.Token(context.Background(), TokenRequest{User: "alice", Scopes: []string{"no-such-scope"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_scope")
}

func TestPasswordGrant(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/realms/r/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"issuer":"` + srv.URL + `/realms/r","token_endpoint":"` + srv.URL + `/realms/r/token"}`)) // a failed write shows up as the client's error
		case "/realms/r/token":
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			// RFC 6749 §2.3.1: id and secret are form-encoded inside Basic.
			id, secret, _ := r.BasicAuth()
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
			if r.PostForm.Get("grant_type") != "password" || r.PostForm.Get("username") != "alice" ||
				r.PostForm.Get("password") != "pw-of-alice" || id != "mcp-client" || secret != "s3cret!" ||
				r.PostForm.Get("scope") != "openid notes:read" {
				w.WriteHeader(400)
				_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid user credentials"}`)) // a failed write shows up as the client's error
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":300}`)) // a failed write shows up as the client's error
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	g := &PasswordGrant{Issuer: srv.URL + "/realms/r", ClientID: "mcp-client", ClientSecret: "s3cret!",
		Password: func(u string) string { return "pw-of-" + u }}
	tok, err := g.Token(context.Background(), TokenRequest{User: "alice", Scopes: []string{"openid", "notes:read"}})
	require.NoError(t, err)
	assert.Equal(t, &Token{AccessToken: "at", RefreshToken: "rt", ExpiresIn: 300}, tok)

	_, err = g.Token(context.Background(), TokenRequest{User: "bob", Scopes: []string{"openid", "notes:read"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_grant Invalid user credentials")
	assert.NotContains(t, err.Error(), "pw-of-bob")
}

func TestFollowAuthorization(t *testing.T) {
	// IdP → callback, as progressive consent's URL goes.
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/oauth/callback?code=the-code-123&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/oauth/callback", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("provisioned " + r.URL.Query().Get("state"))) // a failed write shows up as the client's error
	})
	var code string
	hops, status, body, err := FollowAuthorization(context.Background(), srv.URL+"/authorize?state=s1", func(c string) { code = c })
	require.NoError(t, err)
	assert.Equal(t, []Hop{{URL: srv.URL + "/authorize", Status: 302}, {URL: srv.URL + "/oauth/callback", Status: 200}}, hops,
		"hops carry no query: it may hold the code")
	assert.Equal(t, 200, status)
	assert.Equal(t, "provisioned s1", body)
	assert.Equal(t, "the-code-123", code)

	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	_, _, _, err = FollowAuthorization(context.Background(), srv.URL+"/loop", nil)
	assert.ErrorContains(t, err, "too many redirects")
}

func TestNextcloudControl(t *testing.T) {
	nc := nctest.Start(t)
	ctl := &NCControl{Control{BaseURL: nc.URL}}
	ctx := context.Background()
	pw := RandomSecret(48)
	require.NoError(t, ctl.AddAppPassword(ctx, "alice", pw))

	req, _ := http.NewRequest(http.MethodGet, nc.URL+"/ocs/v2.php/cloud/user?format=json", nil)
	req.SetBasicAuth("alice", pw)
	req.Header.Set("OCS-APIRequest", "true")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, 200, resp.StatusCode, "the new app password logs in")

	log, err := ctl.Log(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, log)
	last := log[len(log)-1]
	assert.Equal(t, "basic", last.AuthKind)
	assert.Equal(t, "alice", last.UID)
	assert.Equal(t, "/ocs/v2.php/cloud/user", last.Path)

	err = ctl.do(ctx, http.MethodPost, "/_fake/seed", map[string]any{"bogus": 1}, nil)
	assert.ErrorContains(t, err, "control API POST /_fake/seed: 400")
}

func TestRandomSecretAndJWTClaims(t *testing.T) {
	k := RandomSecret(32)
	b, err := base64.StdEncoding.DecodeString(k)
	require.NoError(t, err)
	assert.Len(t, b, 32, "the shape of TOKEN_ENCRYPTION_KEY")
	assert.NotEqual(t, k, RandomSecret(32))
	_, err = JWTClaims("opaque-token")
	assert.Error(t, err)
	_, err = JWTClaims("a.!!!.c")
	assert.Error(t, err)
	v, c := pkce()
	assert.Len(t, c, 43)
	assert.False(t, strings.Contains(v, "="))
}

func ptrTo[T any](v T) *T { return &v }
