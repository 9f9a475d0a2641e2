package bearer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testIdP is a tiny discovery + JWKS server whose keys tests can rotate.
type testIdP struct {
	srv        *httptest.Server
	mu         sync.Mutex
	keys       []*rsa.PrivateKey
	kids       []string
	jwksHits   atomic.Int32
	jwksBroken atomic.Bool
}

var (
	keyOnce   sync.Once
	keyPool   []*rsa.PrivateKey
	weakKey   *rsa.PrivateKey
	keyPoolMu sync.Mutex
)

// rsaKey returns pre-generated keys so tests stay fast.
func rsaKey(t *testing.T, i int) *rsa.PrivateKey {
	keyOnce.Do(func() {
		for j := 0; j < 3; j++ {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keyPool = append(keyPool, k)
		}
		weakKey, _ = rsa.GenerateKey(rand.Reader, 1024)
	})
	keyPoolMu.Lock()
	defer keyPoolMu.Unlock()
	return keyPool[i]
}

func newTestIdP(t *testing.T) *testIdP {
	p := &testIdP{}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		if p.jwksBroken.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		var set jose.JSONWebKeySet
		for i, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: p.kids[i], Algorithm: "RS256", Use: "sig"})
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.publish(rsaKey(t, 0), "k1")
	return p
}

func (p *testIdP) publish(k *rsa.PrivateKey, kid string) {
	p.mu.Lock()
	p.keys = append(p.keys, k)
	p.kids = append(p.kids, kid)
	p.mu.Unlock()
}

func sign(t *testing.T, k any, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func unsigned(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

var now = time.Unix(1_800_000_000, 0)

func claims(iss string, mod func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss": iss, "sub": "alice", "aud": []string{"nextcloud", "mcp"}, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "azp": "mcp-client", "scope": "notes:read files:read", "jti": "j1",
		"act": map[string]any{"sub": "mcp-server"}, "preferred_username": "alice.pref",
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func TestValidate(t *testing.T) {
	p := newTestIdP(t)
	k := rsaKey(t, 0)
	tests := []struct {
		name    string
		token   func() string
		skipAud bool
		wantErr string
	}{
		{"valid", func() string { return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, nil)) }, false, ""},
		{"aud as string", func() string {
			return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, func(c map[string]any) { c["aud"] = "nextcloud" }))
		}, false, ""},
		{"expired within leeway", func() string {
			return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, func(c map[string]any) { c["exp"] = now.Add(-59 * time.Second).Unix() }))
		}, false, ""},
		{"expired beyond leeway", func() string {
			return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, func(c map[string]any) { c["exp"] = now.Add(-60 * time.Second).Unix() }))
		}, false, "expired"},
		{"no exp", func() string {
			return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, func(c map[string]any) { delete(c, "exp") }))
		}, false, "exp missing"},
		{"nbf in future", func() string {
			return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() }))
		}, false, "nbf"},
		{"iat in future within leeway", func() string {
			return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, func(c map[string]any) { c["iat"] = now.Add(30 * time.Second).Unix() }))
		}, false, ""},
		{"wrong issuer", func() string { return sign(t, k, jose.RS256, "k1", claims("http://evil.example", nil)) }, false, "issuer"},
		{"aud lacks client id", func() string {
			return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, func(c map[string]any) { c["aud"] = []string{"mcp"} }))
		}, false, "audience"},
		{"aud lacks client id, check off", func() string {
			return sign(t, k, jose.RS256, "k1", claims(p.srv.URL, func(c map[string]any) { c["aud"] = []string{"mcp"} }))
		}, true, ""},
		{"no kid", func() string { return sign(t, k, jose.RS256, "", claims(p.srv.URL, nil)) }, false, "kid"},
		{"unknown kid", func() string { return sign(t, rsaKey(t, 1), jose.RS256, "nope", claims(p.srv.URL, nil)) }, false, "no published key"},
		{"wrong key, known kid", func() string { return sign(t, rsaKey(t, 1), jose.RS256, "k1", claims(p.srv.URL, nil)) }, false, "signature"},
		{"alg none", func() string { return unsigned(claims(p.srv.URL, nil)) }, false, "unsupported algorithm"},
		{"hs256 with public key", func() string {
			b, _ := json.Marshal(jose.JSONWebKey{Key: &k.PublicKey})
			return sign(t, b, jose.HS256, "k1", claims(p.srv.URL, nil))
		}, false, "unsupported algorithm"},
		{"alg differs from key alg", func() string { return sign(t, k, jose.PS256, "k1", claims(p.srv.URL, nil)) }, false, "incorrect key"},
		{"garbage", func() string { return "a.b.c" }, false, "unparsable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := New(Config{Issuer: p.srv.URL, ClientID: "nextcloud", SkipAudienceCheck: tc.skipAud, Now: func() time.Time { return now }})
			c, err := v.Validate(context.Background(), tc.token())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if c.Subject != "alice" || c.Azp != "mcp-client" || c.JTI != "j1" || c.Scope != "notes:read files:read" || c.Act["sub"] != "mcp-server" || c.PreferredUsername != "alice.pref" {
					t.Fatalf("claims %+v", c)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestNotJWT(t *testing.T) {
	v := New(Config{Issuer: "http://127.0.0.1:1", ClientID: "nextcloud"})
	for _, s := range []string{"AliceAppPassword", "a.b", "", "a.b.c.d"} {
		if _, err := v.Validate(context.Background(), s); !errors.Is(err, ErrNotJWT) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestKeyRotationRefetchesOnUnknownKid(t *testing.T) {
	p := newTestIdP(t)
	clock := now
	v := New(Config{Issuer: p.srv.URL, ClientID: "nextcloud", Now: func() time.Time { return clock }})
	ctx := context.Background()
	if _, err := v.Validate(ctx, sign(t, rsaKey(t, 0), jose.RS256, "k1", claims(p.srv.URL, nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(ctx, sign(t, rsaKey(t, 0), jose.RS256, "k1", claims(p.srv.URL, nil))); err != nil {
		t.Fatal(err)
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 (cached)", got)
	}
	p.publish(rsaKey(t, 1), "k2")
	if _, err := v.Validate(ctx, sign(t, rsaKey(t, 1), jose.RS256, "k2", claims(p.srv.URL, nil))); err != nil {
		t.Fatalf("token of rotated key rejected: %v", err)
	}
	if got := p.jwksHits.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (refetch on unknown kid)", got)
	}
	// After the cache lifetime the JWKS is fetched again even for known kids.
	clock = clock.Add(DefaultCacheTTL + time.Second)
	tok := sign(t, rsaKey(t, 1), jose.RS256, "k2", claims(p.srv.URL, func(c map[string]any) { c["exp"] = clock.Add(time.Minute).Unix() }))
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got := p.jwksHits.Load(); got != 3 {
		t.Fatalf("JWKS fetched %d times, want 3 (TTL expiry)", got)
	}
	// JWKS down: tokens are rejected, never accepted unverified.
	p.jwksBroken.Store(true)
	v.Invalidate()
	if _, err := v.Validate(ctx, tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("accepted with JWKS down: %v", err)
	}
}

func TestWeakKeyRejected(t *testing.T) {
	p := newTestIdP(t)
	rsaKey(t, 0)
	p.publish(weakKey, "weak")
	v := New(Config{Issuer: p.srv.URL, ClientID: "nextcloud", Now: func() time.Time { return now }})
	if _, err := v.Validate(context.Background(), sign(t, weakKey, jose.RS256, "weak", claims(p.srv.URL, nil))); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Fatalf("1024-bit key accepted: %v", err)
	}
}
