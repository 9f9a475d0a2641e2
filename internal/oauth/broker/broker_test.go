package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	as    *testas.Server
	store tokenstore.Store
	b     *Broker
	clk   *clock
	ctx   context.Context
}

func newFixture(t *testing.T, mutate func(*Config), opts ...testas.Option) *fixture {
	t.Helper()
	as := testas.New(t, opts...)
	ks, _ := tokenstore.GenerateKey()
	k, _ := tokenstore.ParseKey(ks)
	store, err := tokenstore.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), k, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	clk := &clock{t: time.Now()}
	v, err := verify.New(verify.Config{
		Issuer: as.Issuer, Audiences: []string{testas.NextcloudAudience},
		Keys: verify.NewKeySet(as.URL+"/jwks", verify.KeySetOptions{}), CacheSize: -1, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		TokenEndpoint: as.URL + "/token",
		Client:        oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret},
		Store:         store, Verifier: v, Now: clk.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{as: as, store: store, b: b, clk: clk, ctx: WorkerContext(context.Background())}
}

// provision stores a grant for sub as consent would.
func (f *fixture) provision(t *testing.T, sub string) string {
	t.Helper()
	rt := f.as.IssueRefresh(sub, "offline_access notes:read")
	if err := f.store.Save(context.Background(), tokenstore.Grant{Subject: sub, RefreshToken: rt, ClientID: testas.ServerClientID}); err != nil {
		t.Fatal(err)
	}
	return rt
}

func (f *fixture) stored(t *testing.T, sub string) string {
	t.Helper()
	g, err := f.store.Get(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return g.RefreshToken
}

func TestTokenForCachesAndRotates(t *testing.T) {
	f := newFixture(t, nil)
	f.as.SetAccessTTL(10 * time.Minute)
	rt0 := f.provision(t, "alice")
	tok, err := f.b.TokenFor(f.ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Subject != "alice" || tok.AccessToken == "" || fmt.Sprint(tok.Scopes) != "[offline_access notes:read]" {
		t.Fatalf("%+v", tok)
	}
	rt1 := f.stored(t, "alice")
	if rt1 == rt0 {
		t.Fatal("rotated refresh token not stored")
	}
	// Cached: no further grant until shortly before expiry.
	for range 5 {
		again, err := f.b.TokenFor(f.ctx, "alice")
		if err != nil || again.AccessToken != tok.AccessToken {
			t.Fatal("not served from cache", err)
		}
	}
	if n := f.as.CountGrant("refresh_token"); n != 1 {
		t.Fatalf("%d refresh grants, want 1", n)
	}
	f.clk.Advance(10*time.Minute - DefaultEarlyRefresh)
	renewed, err := f.b.TokenFor(f.ctx, "alice")
	if err != nil || renewed.AccessToken == tok.AccessToken {
		t.Fatalf("not renewed early: %v", err)
	}
	if n := f.as.CountGrant("refresh_token"); n != 2 {
		t.Fatalf("%d refresh grants, want 2", n)
	}
	if rt2 := f.stored(t, "alice"); rt2 == rt1 {
		t.Fatal("second rotation not stored")
	}
	// The grant request was the server's confidential client.
	for _, r := range f.as.Requests() {
		if r.GrantType == "refresh_token" && (r.ClientID != testas.ServerClientID || r.Form.Has("client_secret") || r.Form.Has("scope")) {
			t.Fatalf("refresh request %+v", r)
		}
	}
	ev, _ := f.store.AuditEvents(context.Background(), "alice", 0)
	// Two rotations in a row are one audit row counted twice.
	if len(ev) != 2 || ev[0].Event != tokenstore.EventGrantRotated || ev[0].Count != 2 {
		t.Fatalf("audit %+v", ev)
	}
}

func TestReuseDetectedUnprovisions(t *testing.T) {
	f := newFixture(t, nil)
	rt0 := f.provision(t, "alice")
	// Someone else (with a stolen copy of the token) uses the refresh
	// token first; the IdP rotates it for them.
	resp := postRefresh(t, f.as, rt0)
	if resp != 200 {
		t.Fatalf("thief's refresh: %d", resp)
	}
	// The broker now presents the spent token: the IdP detects reuse and
	// revokes the family; the broker unprovisions and audits.
	_, err := f.b.TokenFor(f.ctx, "alice")
	if !errors.Is(err, ErrNotProvisioned) || !oauth.HasCode(err, oauth.CodeInvalidGrant) {
		t.Fatalf("err = %v", err)
	}
	if ok, _ := f.store.Has(context.Background(), "alice"); ok {
		t.Fatal("grant kept after invalid_grant")
	}
	ev, _ := f.store.AuditEvents(context.Background(), "alice", 2)
	if len(ev) != 2 || ev[0].Event != tokenstore.EventGrantDeleted || ev[1].Event != EventUnprovisioned || !strings.Contains(ev[1].Detail, "invalid_grant") {
		t.Fatalf("audit %+v", ev)
	}
	grants := f.as.CountGrant("refresh_token")
	if _, err := f.b.TokenFor(f.ctx, "alice"); !errors.Is(err, ErrNotProvisioned) {
		t.Fatalf("second call: %v", err)
	}
	if f.as.CountGrant("refresh_token") != grants {
		t.Fatal("an unprovisioned user still causes refresh grants")
	}
}

func postRefresh(t *testing.T, as *testas.Server, rt string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", as.URL+"/token", strings.NewReader("grant_type=refresh_token&refresh_token="+rt))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret}.SetBasicAuth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func TestRevokedAtIdPUnprovisions(t *testing.T) {
	f := newFixture(t, nil)
	rt := f.provision(t, "alice")
	if err := oauth.Revoke(context.Background(), oauth.Endpoint{URL: f.as.URL + "/revoke", Client: oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret}}, rt, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.TokenFor(f.ctx, "alice"); !errors.Is(err, ErrNotProvisioned) {
		t.Fatalf("err = %v", err)
	}
}

func TestNotProvisioned(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.b.TokenFor(f.ctx, "nobody"); !errors.Is(err, ErrNotProvisioned) || !strings.Contains(err.Error(), "provision_nextcloud_access") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.as.Requests()); n != 0 {
		t.Fatalf("%d IdP requests for an unprovisioned user", n)
	}
}

func TestRevokedLocallyDropsCache(t *testing.T) {
	f := newFixture(t, nil)
	f.provision(t, "alice")
	if _, err := f.b.TokenFor(f.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.b.Cached(context.Background(), "alice", 0); !ok {
		t.Fatal("not cached")
	}
	if _, err := f.store.Delete(context.Background(), "alice", "revoked"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.TokenFor(f.ctx, "alice"); !errors.Is(err, ErrNotProvisioned) {
		t.Fatalf("cached token served after revocation: %v", err)
	}
	if _, ok := f.b.Cached(context.Background(), "alice", 0); ok {
		t.Fatal("Cached served a revoked user")
	}
}

func TestSingleRefreshForConcurrentCalls(t *testing.T) {
	f := newFixture(t, nil)
	f.provision(t, "alice")
	release := make(chan struct{})
	arrived := make(chan struct{}, 100)
	f.as.Override("/token", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		f.as.Override("/token", nil)
		// Re-dispatch to the real handler.
		f.as.Config.Handler.ServeHTTP(w, r)
	})
	var wg, started sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			_, err := f.b.TokenFor(f.ctx, "alice")
			errs <- err
		}()
	}
	started.Wait()
	<-arrived
	time.Sleep(20 * time.Millisecond) // let the other callers reach the in-flight refresh
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.as.CountGrant("refresh_token"); n != 1 {
		t.Fatalf("%d refresh grants for 20 concurrent calls, want 1", n)
	}
	if len(arrived) != 0 {
		t.Fatalf("%d extra requests reached the token endpoint", len(arrived))
	}
}

func TestForegroundRefused(t *testing.T) {
	f := newFixture(t, nil)
	f.provision(t, "alice")
	if _, err := f.b.TokenFor(context.Background(), "alice"); !errors.Is(err, ErrForeground) {
		t.Fatalf("plain context: %v", err)
	}
	// A request context that went through bearer authentication is refused
	// even if someone marks it as the worker's.
	var got error
	h := auth.RequireBearerToken(func(context.Context, string, *http.Request) (*auth.TokenInfo, error) {
		return &auth.TokenInfo{UserID: "alice", Expiration: time.Now().Add(time.Hour)}, nil
	}, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got = f.b.TokenFor(WorkerContext(r.Context()), "alice")
	}))
	req := httptest.NewRequest("POST", "/mcp", nil)
	req.Header.Set("Authorization", "Bearer x")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !errors.Is(got, ErrForeground) {
		t.Fatalf("request context: %v", got)
	}
	if n := f.as.CountGrant("refresh_token"); n != 0 {
		t.Fatalf("%d refresh grants from a foreground call", n)
	}
}

func TestFailuresKeepTheGrant(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		mutate  func(*Config)
		is      error
		code    string
	}{
		{name: "IdP down", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, is: oauth.ErrUnavailable},
		{name: "our credentials refused", mutate: func(c *Config) { c.Client.Secret = "wrong" }, code: oauth.CodeInvalidClient},
		{name: "unreachable", mutate: func(c *Config) { c.TokenEndpoint = "http://127.0.0.1:1/token" }, is: oauth.ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.mutate)
			rt := f.provision(t, "alice")
			if tc.handler != nil {
				f.as.Override("/token", tc.handler)
			}
			_, err := f.b.TokenFor(f.ctx, "alice")
			if err == nil || errors.Is(err, ErrNotProvisioned) {
				t.Fatalf("err = %v", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) || tc.code != "" && !oauth.HasCode(err, tc.code) {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(err.Error(), rt) {
				t.Fatal("error carries the refresh token")
			}
			if f.stored(t, "alice") != rt {
				t.Fatal("grant changed")
			}
		})
	}
}

func TestBadAudienceStillStoresRotation(t *testing.T) {
	f := newFixture(t, nil, testas.WithCodeAudience("mcp-server"))
	rt := f.provision(t, "alice")
	_, err := f.b.TokenFor(f.ctx, "alice")
	if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "does not include nextcloud") {
		t.Fatalf("err = %v", err)
	}
	if f.stored(t, "alice") == rt {
		t.Fatal("the rotated refresh token was lost")
	}
	if _, ok := f.b.Cached(context.Background(), "alice", 0); ok {
		t.Fatal("a wrong-audience token was cached")
	}
}

func TestScopesRequested(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Scopes = []string{"notes:read"} })
	f.provision(t, "alice")
	if _, err := f.b.TokenFor(f.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.as.Requests() {
		if r.GrantType == "refresh_token" && r.Form.Get("scope") != "notes:read" {
			t.Fatalf("scope %q", r.Form.Get("scope"))
		}
	}
}

func TestSubjects(t *testing.T) {
	f := newFixture(t, nil)
	f.provision(t, "bob")
	f.provision(t, "alice")
	subs, err := f.b.Subjects(context.Background())
	if err != nil || fmt.Sprint(subs) != "[alice bob]" {
		t.Fatal(subs, err)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	tok := &Token{Subject: "alice", AccessToken: "at-SECRET", ExpiresAt: time.Now()}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "t", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), buf.String()} {
		if strings.Contains(s, "at-SECRET") || !strings.Contains(s, "alice") {
			t.Fatalf("printed: %s", s)
		}
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	f := newFixture(t, nil)
	full := f.b.cfg
	for name, mutate := range map[string]func(*Config){
		"TokenEndpoint": func(c *Config) { c.TokenEndpoint = "" },
		"secret":        func(c *Config) { c.Client.Secret = "" },
		"Store":         func(c *Config) { c.Store = nil },
		"Verifier":      func(c *Config) { c.Verifier = nil },
	} {
		c := full
		mutate(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
