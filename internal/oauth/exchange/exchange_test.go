package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
)

var serverCreds = oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret}

func newExchanger(t testing.TB, as *testas.Server, mutate func(*Config)) *Exchanger {
	t.Helper()
	v, err := verify.New(verify.Config{
		Issuer: as.Issuer, Audiences: []string{testas.NextcloudAudience},
		Keys: verify.NewKeySet(as.URL+"/jwks", verify.KeySetOptions{}), CacheSize: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{TokenEndpoint: as.URL + "/token", Client: serverCreds, Audience: testas.NextcloudAudience, Verifier: v, Actor: testas.ServerClientID}
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExchangeSuccess(t *testing.T) {
	as := testas.New(t)
	e := newExchanger(t, as, nil)
	inbound := as.AccessToken("alice", testas.MCPResource)
	tok, err := e.Exchange(context.Background(), inbound, "alice")
	if err != nil {
		t.Fatal(err)
	}
	c := tok.Claims
	if tok.AccessToken == "" || tok.AccessToken == inbound || c.Subject != "alice" || c.ActorSubject() != testas.ServerClientID ||
		len(c.Audience) != 1 || c.Audience[0] != testas.NextcloudAudience || tok.TokenType != "Bearer" {
		t.Fatalf("token %+v claims %+v", tok, c)
	}
	if d := time.Until(tok.ExpiresAt); d <= 0 || d > 5*time.Minute+time.Second {
		t.Fatalf("expires in %v", d)
	}
	if fmt.Sprint(tok.Scopes) != "[openid notes:read notes:write]" {
		t.Fatalf("scopes %v", tok.Scopes)
	}
	reqs := as.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	want := map[string]string{
		"grant_type":           oauth.GrantTypeTokenExchange,
		"subject_token":        inbound,
		"subject_token_type":   oauth.TokenTypeAccessToken,
		"requested_token_type": oauth.TokenTypeAccessToken,
		"audience":             testas.NextcloudAudience,
	}
	for k, v := range want {
		if r.Form.Get(k) != v {
			t.Errorf("form %s = %q, want %q", k, r.Form.Get(k), v)
		}
	}
	if r.Form.Has("client_secret") || r.Form.Has("client_id") || r.Form.Has("resource") || r.Form.Has("scope") || r.Form.Has("actor_token") {
		t.Errorf("unexpected form fields %v", keys(r.Form))
	}
	if r.ClientID != testas.ServerClientID || !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
		t.Errorf("not client_secret_basic")
	}
}

func keys[M ~map[string]V, V any](m M) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestExchangeOptionalParameters(t *testing.T) {
	as := testas.New(t)
	e := newExchanger(t, as, func(c *Config) {
		c.Resource = "http://nextcloud.local"
		c.Scopes = []string{"notes:read"}
	})
	if _, err := e.Exchange(context.Background(), as.AccessToken("alice", testas.MCPResource), "alice"); err != nil {
		t.Fatal(err)
	}
	f := as.Requests()[0].Form
	if f.Get("resource") != "http://nextcloud.local" || f.Get("scope") != "notes:read" {
		t.Fatalf("form %v", f)
	}
}

func TestExchangeNeverCaches(t *testing.T) {
	as := testas.New(t)
	e := newExchanger(t, as, nil)
	inbound := as.AccessToken("alice", testas.MCPResource)
	a, err1 := e.Exchange(context.Background(), inbound, "alice")
	b, err2 := e.Exchange(context.Background(), inbound, "alice")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if n := as.CountGrant(oauth.GrantTypeTokenExchange); n != 2 || a.AccessToken == b.AccessToken {
		t.Fatalf("%d exchanges for two calls (want 2, distinct tokens)", n)
	}
}

func TestExchangeRefusals(t *testing.T) {
	oauthErr := func(status int, code string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { testas.OAuthError(w, status, code, "because") }
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		mutate  func(*Config)
		inbound func(*testas.Server) string
		code    string
		outage  bool
		want    string
	}{
		{name: "unsupported grant type", handler: oauthErr(400, "unsupported_grant_type"), code: "unsupported_grant_type", want: "does not support RFC 8693"},
		{name: "unauthorized client", handler: oauthErr(400, "unauthorized_client"), code: "unauthorized_client", want: "not allowed to use token exchange"},
		{name: "invalid scope", handler: oauthErr(400, "invalid_scope"), code: "invalid_scope", want: "refused the requested scope"},
		{name: "invalid request", handler: oauthErr(400, "invalid_request"), code: "invalid_request", want: "malformed"},
		{name: "invalid target (audience not allowed)", mutate: func(c *Config) { c.Audience = "files-service" }, code: "invalid_target", want: "audience files-service"},
		{name: "invalid client (wrong secret)", mutate: func(c *Config) { c.Client.Secret = "wrong" }, code: "invalid_client", want: "check OIDC_CLIENT_ID"},
		{name: "invalid grant (expired subject token)", inbound: func(as *testas.Server) string {
			c := as.Claims("alice", testas.MCPResource)
			c["exp"] = time.Now().Add(-time.Minute).Unix()
			return as.Mint(c, testas.MintOptions{})
		}, code: "invalid_grant", want: "refused the subject token"},
		{name: "server error", handler: oauthErr(500, "server_error"), code: "server_error", outage: true, want: "IdP is unavailable"},
		{name: "503 without body", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, outage: true, want: "HTTP 503"},
		{name: "unknown code", handler: oauthErr(400, "weird_error"), code: "weird_error", want: "refused the exchange"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			as := testas.New(t)
			if tc.handler != nil {
				as.Override("/token", tc.handler)
			}
			e := newExchanger(t, as, tc.mutate)
			inbound := as.AccessToken("alice", testas.MCPResource)
			if tc.inbound != nil {
				inbound = tc.inbound(as)
			}
			_, err := e.Exchange(context.Background(), inbound, "alice")
			if err == nil {
				t.Fatal("exchange succeeded")
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "token exchange failed: ") {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if oauth.ErrorCode(err) != tc.code {
				t.Errorf("code %q, want %q", oauth.ErrorCode(err), tc.code)
			}
			if errors.Is(err, oauth.ErrUnavailable) != tc.outage {
				t.Errorf("outage = %v", !tc.outage)
			}
			if errors.Is(err, oauth.ErrInvalidToken) || strings.Contains(err.Error(), inbound) || strings.Contains(err.Error(), tc.name+"secret") {
				t.Errorf("error must not be an invalid-token error nor carry the token: %v", err)
			}
		})
	}
}

func TestExchangeUnreachable(t *testing.T) {
	as := testas.New(t)
	e := newExchanger(t, as, func(c *Config) { c.TokenEndpoint = "http://127.0.0.1:1/token" })
	_, err := e.Exchange(context.Background(), as.AccessToken("alice", testas.MCPResource), "alice")
	if !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

// respond answers the exchange with a 200 built by body.
func respond(body func(as *testas.Server) map[string]any, as *testas.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body(as))
	}
}

func TestExchangeBadResponses(t *testing.T) {
	okBody := func(as *testas.Server, claims map[string]any, opts testas.MintOptions) map[string]any {
		return map[string]any{
			"access_token": as.Mint(claims, opts), "issued_token_type": oauth.TokenTypeAccessToken,
			"token_type": "Bearer", "expires_in": 300,
		}
	}
	ncClaims := func(as *testas.Server) map[string]any { return as.Claims("alice", testas.NextcloudAudience) }
	cases := []struct {
		name   string
		body   func(as *testas.Server) map[string]any
		want   string
		outage bool
	}{
		{"no access token", func(as *testas.Server) map[string]any {
			b := okBody(as, ncClaims(as), testas.MintOptions{})
			delete(b, "access_token")
			return b
		}, "no access_token", false},
		{"issued a refresh token", func(as *testas.Server) map[string]any {
			b := okBody(as, ncClaims(as), testas.MintOptions{})
			b["issued_token_type"] = oauth.TokenTypeRefreshToken
			return b
		}, "issued_token_type is urn:ietf:params:oauth:token-type:refresh_token", false},
		{"issued_token_type missing", func(as *testas.Server) map[string]any {
			b := okBody(as, ncClaims(as), testas.MintOptions{})
			delete(b, "issued_token_type")
			return b
		}, "issued_token_type is (empty)", false},
		{"token_type N_A", func(as *testas.Server) map[string]any {
			b := okBody(as, ncClaims(as), testas.MintOptions{})
			b["token_type"] = "N_A"
			return b
		}, "token_type is N_A", false},
		{"aud is not nextcloud", func(as *testas.Server) map[string]any {
			return okBody(as, as.Claims("alice", testas.MCPResource), testas.MintOptions{})
		}, "does not include nextcloud", false},
		{"an ID token", func(as *testas.Server) map[string]any {
			return okBody(as, ncClaims(as), testas.MintOptions{Typ: "id+jwt"})
		}, "token type id+jwt is not an access token", false},
		{"an opaque token", func(as *testas.Server) map[string]any {
			b := okBody(as, ncClaims(as), testas.MintOptions{})
			b["access_token"] = "opaque-0123456789"
			return b
		}, "not a JWT", false},
		{"another issuer", func(as *testas.Server) map[string]any {
			c := ncClaims(as)
			c["iss"] = "https://elsewhere.example"
			return okBody(as, c, testas.MintOptions{})
		}, "issued by https://elsewhere.example", false},
		{"another actor", func(as *testas.Server) map[string]any {
			c := ncClaims(as)
			c["act"] = map[string]any{"sub": "some-other-service"}
			return okBody(as, c, testas.MintOptions{})
		}, "names actor some-other-service, not this server", false},
		{"an actor without sub", func(as *testas.Server) map[string]any {
			c := ncClaims(as)
			c["act"] = map[string]any{"client_id": testas.ServerClientID}
			return okBody(as, c, testas.MintOptions{})
		}, "names actor (empty), not this server", false},
		{"already expired", func(as *testas.Server) map[string]any {
			c := ncClaims(as)
			c["exp"] = time.Now().Add(-time.Hour).Unix()
			return okBody(as, c, testas.MintOptions{})
		}, "expired", false},
		{"another subject", func(as *testas.Server) map[string]any {
			return okBody(as, as.Claims("bob", testas.NextcloudAudience), testas.MintOptions{})
		}, "for subject bob, not alice", false},
		{"not JSON", nil, "not the expected JSON", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			as := testas.New(t)
			if tc.body != nil {
				as.Override("/token", respond(tc.body, as))
			} else {
				as.Override("/token", func(w http.ResponseWriter, _ *http.Request) {
					_, _ = w.Write([]byte("{oops")) // a failed write shows up as the client's error
				})
			}
			e := newExchanger(t, as, nil)
			_, err := e.Exchange(context.Background(), as.AccessToken("alice", testas.MCPResource), "alice")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, ErrBadResponse) == tc.outage || errors.Is(err, oauth.ErrUnavailable) != tc.outage {
				t.Fatalf("classification wrong: %v", err)
			}
			if errors.Is(err, oauth.ErrInvalidToken) {
				t.Fatalf("a bad issued token must not look like a bad inbound token: %v", err)
			}
		})
	}
}

func TestExchangeExpiresInShortensExpiry(t *testing.T) {
	as := testas.New(t)
	as.Override("/token", respond(func(as *testas.Server) map[string]any {
		return map[string]any{
			"access_token": as.AccessToken("alice", testas.NextcloudAudience), "issued_token_type": oauth.TokenTypeAccessToken,
			"token_type": "bearer", "expires_in": 60, "scope": "notes:read",
		}
	}, as))
	e := newExchanger(t, as, nil)
	tok, err := e.Exchange(context.Background(), as.AccessToken("alice", testas.MCPResource), "")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tok.ExpiresAt); d > time.Minute || d < 50*time.Second {
		t.Fatalf("expiry %v", d)
	}
	if fmt.Sprint(tok.Scopes) != "[notes:read]" {
		t.Fatalf("scopes %v", tok.Scopes)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	as := testas.New(t)
	e := newExchanger(t, as, nil)
	tok, err := e.Exchange(context.Background(), as.AccessToken("alice", testas.MCPResource), "alice")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), fmt.Sprintf("%v", tok), buf.String()} {
		if strings.Contains(s, tok.AccessToken) || !strings.Contains(s, "alice") {
			t.Fatalf("token printed or description missing: %s", s)
		}
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	v, _ := verify.New(verify.Config{Issuer: "http://i", Audiences: []string{"nextcloud"}, Keys: verify.NewKeySet("http://127.0.0.1:1", verify.KeySetOptions{})})
	full := Config{TokenEndpoint: "http://t", Client: serverCreds, Audience: "nextcloud", Verifier: v}
	for name, mutate := range map[string]func(*Config){
		"TokenEndpoint": func(c *Config) { c.TokenEndpoint = "" },
		"secret":        func(c *Config) { c.Client.Secret = "" },
		"Audience":      func(c *Config) { c.Audience = "" },
		"Verifier":      func(c *Config) { c.Verifier = nil },
	} {
		c := full
		mutate(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := New(full); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkExchange(b *testing.B) {
	as := testas.New(b)
	e := newExchanger(b, as, nil)
	inbound := as.AccessToken("alice", testas.MCPResource)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Exchange(context.Background(), inbound, "alice"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestExchangeChecksClaimsNotSignature: the issued token's signature is
// not verified (docs/architecture.md §2.1.1): it arrives from the token
// endpoint over the server's own authenticated connection, and Nextcloud
// verifies it. A token whose claims are right is accepted whoever signed
// it, the IdP's keys are never fetched for it, and a token without act is
// accepted (Keycloak's standard exchange names no actor).
func TestExchangeChecksClaimsNotSignature(t *testing.T) {
	stranger := testas.NewKey(jose.RS256)
	tests := []struct {
		name   string
		claims func(as *testas.Server) map[string]any
		opts   testas.MintOptions
	}{
		{"signed by the IdP", func(as *testas.Server) map[string]any { return as.Claims("alice", testas.NextcloudAudience) }, testas.MintOptions{}},
		{"signed by a key the IdP does not publish", func(as *testas.Server) map[string]any {
			return as.Claims("alice", testas.NextcloudAudience)
		}, testas.MintOptions{Key: &stranger}},
		{"no act claim", func(as *testas.Server) map[string]any { return as.Claims("alice", testas.NextcloudAudience) }, testas.MintOptions{}},
		{"act names this server", func(as *testas.Server) map[string]any {
			c := as.Claims("alice", testas.NextcloudAudience)
			c["act"] = map[string]any{"sub": testas.ServerClientID}
			return c
		}, testas.MintOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := testas.New(t)
			as.Override("/token", respond(func(as *testas.Server) map[string]any {
				return map[string]any{"access_token": as.Mint(tc.claims(as), tc.opts), "issued_token_type": oauth.TokenTypeAccessToken,
					"token_type": "Bearer", "expires_in": 300}
			}, as))
			keys := verify.NewKeySet(as.URL+"/jwks", verify.KeySetOptions{})
			v, err := verify.New(verify.Config{Issuer: as.Issuer, Audiences: []string{testas.NextcloudAudience}, Keys: keys, CacheSize: -1})
			require.NoError(t, err)
			e, err := New(Config{TokenEndpoint: as.URL + "/token", Client: serverCreds, Audience: testas.NextcloudAudience, Verifier: v, Actor: testas.ServerClientID})
			require.NoError(t, err)

			tok, err := e.Exchange(context.Background(), as.AccessToken("alice", testas.MCPResource), "alice")
			require.NoError(t, err)
			assert.Equal(t, "alice", tok.Claims.Subject)
			assert.Equal(t, []string{testas.NextcloudAudience}, tok.Claims.Audience)
			assert.Zero(t, keys.Fetches(), "the IdP's keys are not fetched for an exchanged token")
		})
	}
}

// TestSubjectRefused: which refusals mean the client's token is bad (the
// server answers 401) and which are the deployment's (a tool error).
func TestSubjectRefused(t *testing.T) {
	now := time.Now()
	past, future := now.Add(-5*time.Second), now.Add(time.Hour)
	refused := func(code string, status int) error {
		return fmt.Errorf("token exchange failed: x: %w", &oauth.Error{Endpoint: "token endpoint", Code: code, Status: status})
	}
	cases := []struct {
		name   string
		err    error
		expiry time.Time
		want   bool
	}{
		{"invalid_grant", refused(oauth.CodeInvalidGrant, 400), future, true},
		{"invalid_token", refused(CodeInvalidToken, 400), future, true},
		{"invalid_request for an expired token", refused(oauth.CodeInvalidRequest, 400), past, true},
		{"invalid_request for a live token", refused(oauth.CodeInvalidRequest, 400), future, false},
		{"invalid_request, expiry unknown", refused(oauth.CodeInvalidRequest, 400), time.Time{}, false},
		{"unsupported_grant_type", refused(oauth.CodeUnsupportedGrantType, 400), past, false},
		{"invalid_target", refused(oauth.CodeInvalidTarget, 400), past, false},
		{"invalid_client", refused(oauth.CodeInvalidClient, 401), past, false},
		{"IdP unavailable", refused(oauth.CodeTemporarilyUnavail, 503), past, false},
		{"unusable answer", fmt.Errorf("%w: aud", ErrBadResponse), past, false},
		{"no error", nil, past, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, SubjectRefused(tc.err, tc.expiry, now))
		})
	}
}
