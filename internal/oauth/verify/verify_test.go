package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
)

// clock is a settable clock shared by a Verifier and its KeySet.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const serverClientID = "nextcloud-mcp-server"

type fixture struct {
	as  *testas.Server
	clk *clock
	ks  *KeySet
	v   *Verifier
}

func newFixture(t *testing.T, mutate func(*Config), opts ...testas.Option) *fixture {
	t.Helper()
	as := testas.New(t, opts...)
	clk := newClock()
	ks := NewKeySet(as.URL+"/jwks", KeySetOptions{Now: clk.Now})
	cfg := Config{
		Issuer:        as.Issuer,
		Audiences:     []string{testas.MCPResource, serverClientID},
		Keys:          ks,
		Introspection: oauth.Endpoint{URL: as.URL + "/introspect", Client: oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret}},
		Now:           clk.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{as: as, clk: clk, ks: ks, v: v}
}

type outcome int

const (
	ok outcome = iota
	bad
	down
)

func checkOutcome(t *testing.T, token string, err error, want outcome, reason string) {
	t.Helper()
	switch want {
	case ok:
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	case bad:
		if !errors.Is(err, oauth.ErrInvalidToken) || !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("want ErrInvalidToken, got %v", err)
		}
		if errors.Is(err, oauth.ErrUnavailable) {
			t.Fatalf("invalid token must not look like an outage: %v", err)
		}
	case down:
		if !errors.Is(err, oauth.ErrUnavailable) || errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("want ErrUnavailable only, got %v", err)
		}
	}
	t.Logf("refused: %v", err)
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("error %q does not name the reason %q", err, reason)
	}
	assertNoTokenIn(t, err.Error(), token)
}

// assertNoTokenIn fails if any part of the token (longer than a few bytes)
// leaks into s.
func assertNoTokenIn(t *testing.T, s, token string) {
	t.Helper()
	if token == "" {
		return
	}
	if strings.Contains(s, token) {
		t.Fatalf("error text contains the token")
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 16 && strings.Contains(s, part) {
			t.Fatalf("error text contains a part of the token")
		}
	}
}

func with(c map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

func TestVerifyTokenMatrix(t *testing.T) {
	f := newFixture(t, nil)
	as := f.as
	now := time.Now()
	good := as.Claims("alice", testas.MCPResource)
	stranger := testas.NewKey(jose.RS256)

	cases := []struct {
		name   string
		token  func() string
		want   outcome
		reason string
	}{
		{"valid at+jwt", func() string { return as.Mint(good, testas.MintOptions{}) }, ok, ""},
		{"valid typ application/at+jwt", func() string { return as.Mint(good, testas.MintOptions{Typ: "application/at+jwt"}) }, ok, ""},
		{"valid typ JWT", func() string { return as.Mint(good, testas.MintOptions{Typ: "JWT"}) }, ok, ""},
		{"valid without typ", func() string { return as.Mint(good, testas.MintOptions{Typ: "-"}) }, ok, ""},
		{"valid without kid", func() string { return as.Mint(good, testas.MintOptions{NoKid: true}) }, ok, ""},
		{"valid aud list with client id", func() string {
			return as.Mint(with(good, "aud", []string{"other", serverClientID}), testas.MintOptions{})
		}, ok, ""},
		{"valid aud with trailing slash", func() string { return as.Mint(with(good, "aud", testas.MCPResource+"/"), testas.MintOptions{}) }, ok, ""},
		{"expired just inside leeway", func() string {
			return as.Mint(with(good, "exp", now.Add(-10*time.Second).Unix()), testas.MintOptions{})
		}, ok, ""},
		{"scp list instead of scope", func() string {
			return as.Mint(with(good, "scope", nil, "scp", []string{"notes:read"}), testas.MintOptions{})
		}, ok, ""},

		{"expired", func() string { return as.Mint(with(good, "exp", now.Add(-time.Hour).Unix()), testas.MintOptions{}) }, bad, "expired"},
		{"not yet valid", func() string { return as.Mint(with(good, "nbf", now.Add(time.Hour).Unix()), testas.MintOptions{}) }, bad, "not valid before"},
		{"issued in the future", func() string { return as.Mint(with(good, "iat", now.Add(time.Hour).Unix()), testas.MintOptions{}) }, bad, "issued in the future"},
		{"missing exp", func() string { return as.Mint(with(good, "exp", nil), testas.MintOptions{}) }, bad, "no exp"},
		{"wrong aud", func() string { return as.Mint(with(good, "aud", "nextcloud"), testas.MintOptions{}) }, bad, "audience nextcloud does not include"},
		{"aud of a longer resource path", func() string { return as.Mint(with(good, "aud", testas.MCPResource+"/x"), testas.MintOptions{}) }, bad, "audience"},
		{"missing aud", func() string { return as.Mint(with(good, "aud", nil), testas.MintOptions{}) }, bad, "no aud"},
		{"wrong iss", func() string { return as.Mint(with(good, "iss", "http://evil.example"), testas.MintOptions{}) }, bad, "issued by http://evil.example"},
		{"iss with extra slash", func() string { return as.Mint(with(good, "iss", as.Issuer+"/"), testas.MintOptions{}) }, bad, "issued by"},
		{"missing iss", func() string { return as.Mint(with(good, "iss", nil), testas.MintOptions{}) }, bad, "no iss"},
		{"missing sub", func() string { return as.Mint(with(good, "sub", nil), testas.MintOptions{}) }, bad, "no sub"},
		{"blank sub", func() string { return as.Mint(with(good, "sub", "  "), testas.MintOptions{}) }, bad, "no sub"},
		{"sub of wrong type", func() string { return as.Mint(with(good, "sub", 42), testas.MintOptions{}) }, bad, "claim sub has the wrong type"},
		{"scope of wrong type", func() string { return as.Mint(with(good, "scope", 7), testas.MintOptions{}) }, bad, "scope claim"},
		{"unknown kid", func() string { return as.Mint(good, testas.MintOptions{Key: &stranger}) }, bad, "does not publish (kid " + stranger.ID},
		{"unknown key without kid", func() string { return as.Mint(good, testas.MintOptions{Key: &stranger, NoKid: true}) }, bad, "does not publish (no kid)"},
		{"alg none", func() string { return testas.AlgNone(good) }, bad, "algorithm none is not allowed"},
		{"HS256 signed with the public key", func() string { return testas.HS256WithPublicKey(as.SigningKey(), good) }, bad, "algorithm HS256 is not allowed"},
		{"tampered payload", func() string {
			return testas.Tamper(as.Mint(good, testas.MintOptions{}), with(good, "sub", "admin"))
		}, bad, "signature does not verify"},
		{"id token typ", func() string { return as.Mint(good, testas.MintOptions{Typ: "id+jwt"}) }, bad, "not an access token"},
		{"logout token typ", func() string { return as.Mint(good, testas.MintOptions{Typ: "logout+jwt"}) }, bad, "not an access token"},
		{"empty token", func() string { return "" }, bad, "empty token"},
		{"oversized token", func() string { return strings.Repeat("a", MaxTokenBytes+1) }, bad, "longer than"},
		{"garbage with dots", func() string { return "abc.def.ghi" }, bad, "not active"},
		{"opaque unknown", func() string { return "some-opaque-token-value" }, bad, "not active"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token()
			r, err := f.v.Verify(context.Background(), token)
			checkOutcome(t, token, err, tc.want, tc.reason)
			if tc.want == ok && r.Subject != "alice" {
				t.Fatalf("subject = %q", r.Subject)
			}
		})
	}
}

func TestVerifyResultFields(t *testing.T) {
	f := newFixture(t, nil)
	c := with(f.as.Claims("alice", testas.MCPResource, "other"),
		"client_id", nil, "azp", "mcp-client", "preferred_username", "Alice", "email", "alice@example.com",
		"act", map[string]any{"sub": "nextcloud-mcp-server"}, "jti", "id-1", "scope", "notes:read notes:write notes:read")
	token := f.as.Mint(c, testas.MintOptions{})
	r, err := f.v.Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "alice" || r.ClientID != "mcp-client" || r.AuthorizedBy != "mcp-client" || r.Username != "Alice" ||
		r.Email != "alice@example.com" || r.ActorSubject() != "nextcloud-mcp-server" || r.TokenID != "id-1" ||
		r.Issuer != f.as.Issuer || r.Introspected {
		t.Fatalf("unexpected result %+v", r)
	}
	if fmt.Sprint(r.Scopes) != "[notes:read notes:write]" || fmt.Sprint(r.Audience) != "[http://127.0.0.1:1/mcp other]" {
		t.Fatalf("scopes %v audience %v", r.Scopes, r.Audience)
	}
	if r.Expiry.Unix() != int64(c["exp"].(int64)) {
		t.Fatalf("expiry %v", r.Expiry)
	}
	ti := r.TokenInfo()
	if ti.UserID != "alice" || !ti.Expiration.Equal(r.Expiry) || len(ti.Scopes) != 2 || ti.Extra["client_id"] != "mcp-client" {
		t.Fatalf("token info %+v", ti)
	}
	back, found := FromTokenInfo(ti)
	if !found || back.Subject != "alice" {
		t.Fatalf("FromTokenInfo = %v %v", back, found)
	}
	// The caller's copy is its own: mutating it does not reach the cache.
	r.Scopes[0] = "changed"
	again, err := f.v.Verify(context.Background(), token)
	if err != nil || again.Scopes[0] != "notes:read" {
		t.Fatalf("cache was mutated through a result: %v %v", again, err)
	}
}

func TestVerifyUsernameFallback(t *testing.T) {
	f := newFixture(t, nil)
	token := f.as.Mint(with(f.as.Claims("alice", serverClientID), "username", "al"), testas.MintOptions{})
	r, err := f.v.Verify(context.Background(), token)
	if err != nil || r.Username != "al" || r.ClientID != "mcp-client" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestVerifyES256Issuer(t *testing.T) {
	f := newFixture(t, nil, testas.WithAlg(jose.ES256))
	if _, err := f.v.Verify(context.Background(), f.as.AccessToken("bob", serverClientID)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAlgorithmAllowList(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Algorithms = []jose.SignatureAlgorithm{jose.ES256} })
	token := f.as.AccessToken("alice", serverClientID) // RS256
	_, err := f.v.Verify(context.Background(), token)
	checkOutcome(t, token, err, bad, "algorithm RS256 is not allowed")
}

func TestNewRefusesBadConfig(t *testing.T) {
	ks := NewKeySet("http://127.0.0.1:1/jwks", KeySetOptions{})
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no issuer", Config{Audiences: []string{"a"}, Keys: ks}, "Issuer"},
		{"no audience", Config{Issuer: "http://i", Keys: ks}, "audience"},
		{"empty audience", Config{Issuer: "http://i", Audiences: []string{""}, Keys: ks}, "audience"},
		{"no key source", Config{Issuer: "http://i", Audiences: []string{"a"}}, "JWKS"},
		{"HS256", Config{Issuer: "http://i", Audiences: []string{"a"}, Keys: ks, Algorithms: []jose.SignatureAlgorithm{jose.HS256}}, "HS256 is not allowed"},
		{"none", Config{Issuer: "http://i", Audiences: []string{"a"}, Keys: ks, Algorithms: []jose.SignatureAlgorithm{"none"}}, "none is not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestJWKSCachedAndRefetchedOnRotation(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = -1 })
	ctx := context.Background()
	for i := range 5 {
		if _, err := f.v.Verify(ctx, f.as.AccessToken(fmt.Sprint("user", i), serverClientID)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.as.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times for one key, want 1", n)
	}
	f.as.Rotate()
	f.clk.Advance(DefaultMinRefreshInterval)
	if _, err := f.v.Verify(ctx, f.as.AccessToken("alice", serverClientID)); err != nil {
		t.Fatalf("token signed with the rotated key: %v", err)
	}
	if n := f.as.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times after rotation, want 2", n)
	}
	if n := f.ks.Fetches(); n != 2 {
		t.Fatalf("KeySet.Fetches = %d", n)
	}
}

func TestJWKSRefetchRateLimited(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = -1 })
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, f.as.AccessToken("alice", serverClientID)); err != nil {
		t.Fatal(err)
	}
	// A flood of tokens with unknown kids costs no JWKS request inside the
	// interval, and each is refused as invalid (not as an outage).
	for range 30 {
		k := testas.NewKey(jose.ES256)
		token := f.as.Mint(f.as.Claims("alice", serverClientID), testas.MintOptions{Key: &k})
		_, err := f.v.Verify(ctx, token)
		checkOutcome(t, token, err, bad, "does not publish")
	}
	// Tampered tokens with a known kid neither.
	for range 10 {
		token := testas.Tamper(f.as.AccessToken("alice", serverClientID), f.as.Claims("admin", serverClientID))
		_, err := f.v.Verify(ctx, token)
		checkOutcome(t, token, err, bad, "signature does not verify")
	}
	if n := f.as.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 (rate limit)", n)
	}
	// A real rotation inside the interval is refused until the interval has
	// passed, then picked up with one fetch.
	f.as.Rotate()
	rotated := f.as.AccessToken("alice", serverClientID)
	f.clk.Advance(DefaultMinRefreshInterval / 2)
	_, err := f.v.Verify(ctx, rotated)
	checkOutcome(t, rotated, err, bad, "does not publish")
	f.clk.Advance(DefaultMinRefreshInterval / 2)
	if _, err := f.v.Verify(ctx, rotated); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
	if n := f.as.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
}

func TestJWKSConcurrentUnknownKidOneFetch(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = -1 })
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = f.v.Verify(context.Background(), f.as.AccessToken(fmt.Sprint("u", i), serverClientID))
		}()
	}
	wg.Wait()
	if n := f.as.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times by 20 concurrent first verifications, want 1", n)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = -1 })
	ctx := context.Background()
	f.as.Override("/jwks", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusServiceUnavailable) })
	token := f.as.AccessToken("alice", serverClientID)
	_, err := f.v.Verify(ctx, token)
	checkOutcome(t, token, err, down, "JWKS")
	// Still down and rate-limited: still an outage, not a bad token.
	_, err = f.v.Verify(ctx, token)
	checkOutcome(t, token, err, down, "JWKS")

	f.as.Override("/jwks", nil)
	f.clk.Advance(DefaultMinRefreshInterval)
	if _, err := f.v.Verify(ctx, token); err != nil {
		t.Fatalf("after recovery: %v", err)
	}

	// Down again: a known kid with a bad signature is still a bad token...
	f.as.Override("/jwks", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) })
	f.clk.Advance(DefaultMinRefreshInterval)
	tampered := testas.Tamper(token, f.as.Claims("admin", serverClientID))
	_, err = f.v.Verify(ctx, tampered)
	checkOutcome(t, tampered, err, bad, "signature does not verify")
	// ...while a new kid cannot be judged: outage.
	f.clk.Advance(DefaultMinRefreshInterval)
	rotated := f.as.Mint(f.as.Claims("alice", serverClientID), testas.MintOptions{Key: ptr(testas.NewKey(jose.ES256))})
	_, err = f.v.Verify(ctx, rotated)
	checkOutcome(t, rotated, err, down, "JWKS")
}

func ptr[T any](v T) *T { return &v }

func TestVerifyContextCanceled(t *testing.T) {
	f := newFixture(t, nil)
	release := make(chan struct{})
	f.as.Override("/jwks", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "late", http.StatusServiceUnavailable)
	})
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.v.Verify(ctx, f.as.AccessToken("alice", serverClientID))
	if !errors.Is(err, oauth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func introspection(as *testas.Server, mutate func(*oauth.Introspection)) oauth.Introspection {
	exp := jwt.NumericDate(time.Now().Add(time.Hour).Unix())
	i := oauth.Introspection{
		Active: true, Sub: "alice", Aud: jwt.Audience{testas.MCPResource}, Iss: as.Issuer,
		Exp: &exp, Scope: "notes:read", ClientID: "mcp-client", TokenType: "Bearer", Username: "alice",
	}
	if mutate != nil {
		mutate(&i)
	}
	return i
}

func TestVerifyOpaqueMatrix(t *testing.T) {
	f := newFixture(t, nil)
	past := jwt.NumericDate(time.Now().Add(-time.Hour).Unix())
	future := jwt.NumericDate(time.Now().Add(time.Hour).Unix())
	cases := []struct {
		name   string
		mutate func(*oauth.Introspection)
		want   outcome
		reason string
	}{
		{"active", nil, ok, ""},
		{"active without exp", func(i *oauth.Introspection) { i.Exp = nil }, ok, ""},
		{"active without iss", func(i *oauth.Introspection) { i.Iss = "" }, ok, ""},
		{"active without token_type", func(i *oauth.Introspection) { i.TokenType = "" }, ok, ""},
		{"inactive", func(i *oauth.Introspection) { *i = oauth.Introspection{Active: false} }, bad, "not active"},
		{"wrong aud", func(i *oauth.Introspection) { i.Aud = jwt.Audience{"nextcloud"} }, bad, "audience"},
		{"no aud", func(i *oauth.Introspection) { i.Aud = nil }, bad, "no aud"},
		{"wrong iss", func(i *oauth.Introspection) { i.Iss = "http://evil" }, bad, "issued by"},
		{"expired", func(i *oauth.Introspection) { i.Exp = &past }, bad, "expired"},
		{"not yet valid", func(i *oauth.Introspection) { i.Nbf = &future }, bad, "not valid before"},
		{"no sub", func(i *oauth.Introspection) { i.Sub = "" }, bad, "no sub"},
		{"refresh token", func(i *oauth.Introspection) { i.TokenType = "refresh_token" }, bad, "not an access token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := f.as.Opaque(introspection(f.as, tc.mutate))
			r, err := f.v.Verify(context.Background(), token)
			checkOutcome(t, token, err, tc.want, tc.reason)
			if tc.want == ok && (!r.Introspected || r.Subject != "alice" || r.Expiry.IsZero()) {
				t.Fatalf("result %+v", r)
			}
		})
	}
	// Introspection was client-authenticated with client_secret_basic.
	for _, req := range f.as.Requests() {
		if req.Endpoint == "introspect" && (req.ClientID != testas.ServerClientID || req.Form.Get("token_type_hint") != "access_token") {
			t.Fatalf("introspection request %+v", req)
		}
	}
}

func TestVerifyOpaqueRevokedAfterCacheTTL(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	token := f.as.Opaque(introspection(f.as, nil))
	for range 3 {
		if _, err := f.v.Verify(ctx, token); err != nil {
			t.Fatal(err)
		}
	}
	if n := countEndpoint(f.as, "introspect"); n != 1 {
		t.Fatalf("introspected %d times, want 1 (cached)", n)
	}
	if err := oauth.Revoke(ctx, oauth.Endpoint{URL: f.as.URL + "/revoke", Client: oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret}}, token, "access_token"); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(DefaultIntrospectionCacheTTL)
	_, err := f.v.Verify(ctx, token)
	checkOutcome(t, token, err, bad, "not active")
}

func countEndpoint(as *testas.Server, ep string) int {
	n := 0
	for _, r := range as.Requests() {
		if r.Endpoint == ep {
			n++
		}
	}
	return n
}

func TestVerifyIntrospectionFailuresAreOutages(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		creds   *oauth.ClientCredentials
		reason  string
	}{
		{"503", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }, nil, "HTTP 503"},
		{"garbage 200", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>")) // a failed write shows up as the client's error
		}, nil, "not the expected JSON"},
		{"our credentials refused", nil, &oauth.ClientCredentials{ID: testas.ServerClientID, Secret: "wrong"}, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) {
				if tc.creds != nil {
					c.Introspection.Client = *tc.creds
				}
			})
			if tc.handler != nil {
				f.as.Override("/introspect", tc.handler)
			}
			token := f.as.Opaque(introspection(f.as, nil))
			_, err := f.v.Verify(context.Background(), token)
			checkOutcome(t, token, err, down, tc.reason)
		})
	}
}

func TestVerifyOpaqueWithoutIntrospection(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Introspection = oauth.Endpoint{} })
	_, err := f.v.Verify(context.Background(), "opaque-token")
	checkOutcome(t, "opaque-token", err, bad, "no introspection endpoint")
}

func TestVerifyJWTWithoutKeys(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Keys = nil })
	token := f.as.AccessToken("alice", serverClientID)
	_, err := f.v.Verify(context.Background(), token)
	checkOutcome(t, token, err, bad, "no JWKS")
}

func TestVerifyCacheUntilExpiry(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	token := f.as.Mint(with(f.as.Claims("alice", serverClientID), "exp", time.Now().Add(2*time.Minute).Unix()), testas.MintOptions{})
	if _, err := f.v.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	if f.v.cache.len() != 1 {
		t.Fatalf("cache len %d", f.v.cache.len())
	}
	// Past exp + leeway the cached entry must not keep the token alive.
	f.clk.Advance(2*time.Minute + DefaultLeeway)
	_, err := f.v.Verify(ctx, token)
	checkOutcome(t, token, err, bad, "expired")
}

func TestVerifyCacheDisabled(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = -1 })
	token := f.as.Opaque(introspection(f.as, nil))
	for range 2 {
		if _, err := f.v.Verify(context.Background(), token); err != nil {
			t.Fatal(err)
		}
	}
	if n := countEndpoint(f.as, "introspect"); n != 2 {
		t.Fatalf("introspected %d times, want 2 (no cache)", n)
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCache(8)
	now := time.Now()
	for i := range 100 {
		c.put([32]byte{byte(i)}, &Result{Subject: "s"}, now.Add(time.Hour), now)
		if c.len() > 8 {
			t.Fatalf("cache grew to %d", c.len())
		}
	}
	// Expired entries are dropped first.
	c2 := newCache(4)
	for i := range 4 {
		c2.put([32]byte{byte(i)}, &Result{}, now.Add(time.Second), now)
	}
	c2.put([32]byte{9}, &Result{}, now.Add(time.Hour), now.Add(time.Minute))
	if c2.len() != 1 {
		t.Fatalf("expired entries not swept: %d", c2.len())
	}
}

func TestVerifyConcurrent(t *testing.T) {
	f := newFixture(t, nil)
	tokens := []string{
		f.as.AccessToken("alice", serverClientID),
		f.as.AccessToken("bob", testas.MCPResource),
		f.as.Opaque(introspection(f.as, nil)),
	}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.v.Verify(context.Background(), tokens[i%len(tokens)]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestTokenVerifierAdapter(t *testing.T) {
	f := newFixture(t, nil)
	tv := f.v.TokenVerifier()
	ti, err := tv(context.Background(), f.as.AccessToken("alice", serverClientID), nil)
	if err != nil || ti.UserID != "alice" {
		t.Fatalf("%v %v", ti, err)
	}
	_, err = tv(context.Background(), "nope", nil)
	if !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int
	}{{"cold", -1}, {"cached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			as := testas.New(b)
			v, err := New(Config{Issuer: as.Issuer, Audiences: []string{serverClientID}, Keys: NewKeySet(as.URL+"/jwks", KeySetOptions{}), CacheSize: bc.cache})
			if err != nil {
				b.Fatal(err)
			}
			token := as.AccessToken("alice", serverClientID)
			if _, err := v.Verify(context.Background(), token); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
