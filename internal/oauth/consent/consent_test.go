package consent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
)

const redirect = "http://127.0.0.1:1/oauth/callback"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	as    *testas.Server
	store tokenstore.Store
	flow  *Flow
	clk   *clock
}

func newStore(t *testing.T) tokenstore.Store {
	t.Helper()
	ks, _ := tokenstore.GenerateKey()
	k, _ := tokenstore.ParseKey(ks)
	s, err := tokenstore.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), k, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func newFixture(t *testing.T, mutate func(*Config), opts ...testas.Option) *fixture {
	t.Helper()
	as := testas.New(t, opts...)
	m, err := oauth.Discover(context.Background(), nil, as.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(verify.Config{
		Issuer: as.Issuer, Audiences: []string{testas.NextcloudAudience},
		Keys: verify.NewKeySet(m.JWKSURI, verify.KeySetOptions{}), CacheSize: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	store := newStore(t)
	cfg := Config{
		Client:      oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret},
		RedirectURL: redirect,
		Scopes:      []string{"openid", "notes:read", "notes:write"},
		Verifier:    v,
		Store:       store,
		Now:         clk.Now,
	}
	cfg.ApplyMetadata(m)
	if mutate != nil {
		mutate(&cfg)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{as: as, store: store, flow: f, clk: clk}
}

// approve plays the browser: it follows the authorization URL to the
// redirect and returns the callback parameters.
func approve(t *testing.T, authURL string) Callback {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	require.NoError(t, resp.Body.Close())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("redirect to %v", loc)
	}
	return CallbackFromQuery(loc.Query())
}

func (f *fixture) begin(t *testing.T, sub string) Callback {
	t.Helper()
	a, err := f.flow.Begin(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return approve(t, a.URL)
}

func events(t *testing.T, s tokenstore.Store, sub string) []string {
	t.Helper()
	ev, err := s.AuditEvents(context.Background(), sub, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(ev) - 1; i >= 0; i-- {
		out = append(out, ev[i].Event)
	}
	return out
}

func TestBeginAuthorizationURL(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.AuthorizationEndpoint += "?tenant=x"
		c.Resource = "http://nextcloud.local"
		c.Audience = "nextcloud"
	})
	a, err := f.flow.Begin(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(a.URL)
	q := u.Query()
	want := map[string]string{
		"response_type": "code", "client_id": testas.ServerClientID, "redirect_uri": redirect,
		"scope": "offline_access openid notes:read notes:write", "code_challenge_method": "S256",
		"prompt": "consent", "resource": "http://nextcloud.local", "audience": "nextcloud", "tenant": "x",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("state")) < 43 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q challenge %q", q.Get("state"), q.Get("code_challenge"))
	}
	if u.Scheme+"://"+u.Host+u.Path != f.as.URL+"/authorize" {
		t.Errorf("endpoint %s", a.URL)
	}
	if d := a.ExpiresAt.Sub(f.clk.Now()); d != DefaultStateTTL {
		t.Errorf("expires in %v", d)
	}
	b, _ := f.flow.Begin(context.Background(), "alice")
	qb, _ := url.Parse(b.URL)
	if qb.Query().Get("state") == q.Get("state") || qb.Query().Get("code_challenge") == q.Get("code_challenge") {
		t.Error("state or PKCE reused")
	}
	// Two identical starts in a row are one audit row counted twice.
	if ev, err := f.store.AuditEvents(context.Background(), "alice", 0); err != nil || len(ev) != 1 || ev[0].Event != EventConsentStarted || ev[0].Count != 2 {
		t.Errorf("audit %+v %v", ev, err)
	}
}

func TestCompleteStoresGrant(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	cb := f.begin(t, "alice")
	res, err := f.flow.Complete(ctx, cb)
	if err != nil {
		t.Fatal(err)
	}
	if res.Subject != "alice" || fmt.Sprint(res.Scopes) != "[offline_access openid notes:read notes:write]" {
		t.Fatalf("%+v", res)
	}
	g, err := f.store.Get(ctx, "alice")
	if err != nil || g.RefreshToken == "" || g.RefreshToken != res.Grant.RefreshToken || g.ClientID != testas.ServerClientID {
		t.Fatalf("stored %v %v", g, err)
	}
	// The code exchange was a proper confidential PKCE exchange.
	var tokenReq *testas.Request
	for _, r := range f.as.Requests() {
		if r.GrantType == "authorization_code" {
			tokenReq = &r
		}
	}
	if tokenReq == nil || tokenReq.ClientID != testas.ServerClientID || tokenReq.Form.Get("redirect_uri") != redirect ||
		tokenReq.Form.Get("code") != cb.Code || tokenReq.Form.Get("code_verifier") == "" || tokenReq.Form.Has("client_secret") {
		t.Fatalf("token request %+v", tokenReq)
	}
	st, err := f.flow.Status(ctx, "alice")
	if err != nil || !st.Provisioned || len(st.Scopes) != 4 || st.Since.IsZero() {
		t.Fatalf("status %+v %v", st, err)
	}
	if st, _ := f.flow.Status(ctx, "bob"); st.Provisioned {
		t.Fatal("bob provisioned")
	}
	if got := events(t, f.store, "alice"); fmt.Sprint(got) != "[consent_started grant_stored]" {
		t.Fatalf("audit %v", got)
	}
	// Replaying the same callback is refused.
	if _, err := f.flow.Complete(ctx, cb); !errors.Is(err, ErrStateUsed) {
		t.Fatalf("replay: %v", err)
	}
}

func TestCompleteStateErrors(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.flow.Complete(ctx, Callback{Code: "c"}); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("no state: %v", err)
	}
	if _, err := f.flow.Complete(ctx, Callback{State: "forged-state", Code: "c"}); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("forged: %v", err)
	}
	// A state issued by another server instance is unknown here too.
	other := newFixture(t, nil)
	foreign := other.begin(t, "alice")
	if _, err := f.flow.Complete(ctx, foreign); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("foreign instance: %v", err)
	}
	cb := f.begin(t, "alice")
	f.clk.Advance(DefaultStateTTL)
	if _, err := f.flow.Complete(ctx, cb); !errors.Is(err, ErrStateExpired) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := f.flow.Complete(ctx, cb); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("expired twice: %v", err)
	}
	cb = f.begin(t, "alice")
	f.clk.Advance(DefaultStateTTL - time.Second)
	if _, err := f.flow.Complete(ctx, cb); err != nil {
		t.Fatalf("just in time: %v", err)
	}
	if n := f.as.CountGrant("authorization_code"); n != 1 {
		t.Fatalf("%d code exchanges; state errors must not reach the IdP", n)
	}
}

func TestCompleteRefusals(t *testing.T) {
	cases := []struct {
		name     string
		opts     []testas.Option
		mutate   func(*Config)
		setup    func(f *fixture)
		callback func(cb Callback) Callback
		is       error
		code     string
		want     string
	}{
		{name: "another account approved", setup: func(f *fixture) { f.as.SetUser("bob") }, is: ErrSubjectMismatch, want: "approved by bob, requested by alice"},
		{name: "user declined", callback: func(cb Callback) Callback {
			return Callback{State: cb.State, Error: "access_denied", ErrorDescription: "user said no"}
		}, code: oauth.CodeAccessDenied, want: "access was not granted"},
		{name: "IdP error", callback: func(cb Callback) Callback { return Callback{State: cb.State, Error: "server_error"} }, code: "server_error", is: oauth.ErrUnavailable},
		{name: "neither code nor error", callback: func(cb Callback) Callback { return Callback{State: cb.State} }, is: ErrBadGrant},
		{name: "iss required but missing", opts: []testas.Option{testas.WithIssParameter()}, setup: func(f *fixture) { f.as.DropIssParameter() }, is: ErrIssuerMismatch, want: "RFC 9207"},
		{name: "iss of another server", opts: []testas.Option{testas.WithIssParameter()}, callback: func(cb Callback) Callback {
			cb.Iss = "http://evil.example"
			return cb
		}, is: ErrIssuerMismatch, want: `iss "http://evil.example"`},
		{name: "unadvertised iss that is wrong", callback: func(cb Callback) Callback {
			cb.Iss = "http://evil.example"
			return cb
		}, is: ErrIssuerMismatch},
		{name: "code exchange refused", mutate: func(c *Config) { c.Client.Secret = "wrong" }, code: oauth.CodeInvalidClient, want: "exchanging the authorization code"},
		{name: "token endpoint down", setup: func(f *fixture) {
			f.as.Override("/token", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) })
		}, is: oauth.ErrUnavailable},
		{name: "no refresh token", setup: func(f *fixture) {
			f.as.Override("/token", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":300}`, f.as.AccessToken("alice", testas.NextcloudAudience)) // a failed write shows up as the client's error
			})
		}, is: ErrNoRefreshToken, want: "offline_access allowed for client nextcloud-mcp-server"},
		{name: "not a bearer token", setup: func(f *fixture) {
			f.as.Override("/token", func(w http.ResponseWriter, _ *http.Request) {
				_, _ = fmt.Fprint(w, `{"access_token":"x","token_type":"DPoP","refresh_token":"r"}`) // a failed write shows up as the client's error
			})
		}, is: ErrBadGrant, want: "token_type DPoP"},
		{name: "access token not for nextcloud", opts: []testas.Option{testas.WithCodeAudience("mcp-server")}, is: ErrBadGrant, want: "does not include nextcloud"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.mutate, tc.opts...)
			if tc.setup != nil {
				tc.setup(f)
			}
			cb := f.begin(t, "alice")
			if tc.callback != nil {
				cb = tc.callback(cb)
			}
			_, err := f.flow.Complete(context.Background(), cb)
			if err == nil {
				t.Fatal("completed")
			}
			t.Logf("refused: %v", err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err %v is not %v", err, tc.is)
			}
			if tc.code != "" && !oauth.HasCode(err, tc.code) {
				t.Errorf("code %q, want %q", oauth.ErrorCode(err), tc.code)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			for _, secret := range []string{cb.Code, cb.State} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Fatal("error text carries the code or state")
				}
			}
			for _, sub := range []string{"alice", "bob"} {
				if ok, _ := f.store.Has(context.Background(), sub); ok {
					t.Fatalf("a grant was stored for %s", sub)
				}
			}
			ev := events(t, f.store, "alice")
			if ev[len(ev)-1] != EventConsentFailed {
				t.Fatalf("failure not audited: %v", ev)
			}
			// The state is spent whatever happened.
			if _, err := f.flow.Complete(context.Background(), cb); !errors.Is(err, ErrStateUsed) {
				t.Fatalf("state reusable after failure: %v", err)
			}
		})
	}
}

func TestIssParameterAccepted(t *testing.T) {
	f := newFixture(t, nil, testas.WithIssParameter())
	cb := f.begin(t, "alice")
	if cb.Iss != f.as.Issuer {
		t.Fatalf("test AS sent iss %q", cb.Iss)
	}
	if _, err := f.flow.Complete(context.Background(), cb); err != nil {
		t.Fatal(err)
	}
}

func TestPendingBounds(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxPending = 8 })
	ctx := context.Background()
	var first string
	for i := range 7 {
		a, err := f.flow.Begin(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			u, _ := url.Parse(a.URL)
			first = u.Query().Get("state")
		}
	}
	if n, _ := f.store.PendingStates(ctx); n != maxPerSubject {
		t.Fatalf("%d pending for one user, want %d", n, maxPerSubject)
	}
	if _, err := f.flow.Complete(ctx, Callback{State: first, Code: "x"}); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("oldest link still valid: %v", err)
	}
	for _, sub := range []string{"b", "c", "d"} {
		if _, err := f.flow.Begin(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.flow.Begin(ctx, "e"); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("err = %v", err)
	}
	// Expired links free their slots.
	f.clk.Advance(DefaultStateTTL)
	if _, err := f.flow.Begin(ctx, "e"); err != nil {
		t.Fatal(err)
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	t.Run("revoked at the IdP and deleted", func(t *testing.T) {
		f := newFixture(t, nil)
		res, err := f.flow.Complete(ctx, f.begin(t, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		rt := res.Grant.RefreshToken
		rr, err := f.flow.Revoke(ctx, "alice")
		if err != nil || !rr.Deleted || !rr.RevokedAtIdP || rr.IdPError != nil {
			t.Fatalf("%+v %v", rr, err)
		}
		if !f.as.IsRevoked(rt) {
			t.Fatal("IdP was not told")
		}
		reqs := f.as.Requests()
		last := reqs[len(reqs)-1]
		if last.Endpoint != "revoke" || last.Form.Get("token_type_hint") != "refresh_token" || last.ClientID != testas.ServerClientID {
			t.Fatalf("revocation request %+v", last)
		}
		if st, _ := f.flow.Status(ctx, "alice"); st.Provisioned {
			t.Fatal("still provisioned")
		}
		if got := events(t, f.store, "alice"); fmt.Sprint(got) != "[consent_started grant_stored grant_revoked grant_deleted]" {
			t.Fatalf("audit %v", got)
		}
		if rr, err := f.flow.Revoke(ctx, "alice"); err != nil || rr.Deleted {
			t.Fatalf("second revoke %+v %v", rr, err)
		}
	})
	t.Run("IdP down: deleted here anyway", func(t *testing.T) {
		f := newFixture(t, nil)
		if _, err := f.flow.Complete(ctx, f.begin(t, "alice")); err != nil {
			t.Fatal(err)
		}
		f.as.Override("/revoke", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
		rr, err := f.flow.Revoke(ctx, "alice")
		if err != nil || !rr.Deleted || rr.RevokedAtIdP || !errors.Is(rr.IdPError, oauth.ErrUnavailable) {
			t.Fatalf("%+v %v", rr, err)
		}
		if ok, _ := f.store.Has(ctx, "alice"); ok {
			t.Fatal("grant kept")
		}
	})
	t.Run("no revocation endpoint", func(t *testing.T) {
		f := newFixture(t, nil)
		f.flow.revoke.URL = ""
		if _, err := f.flow.Complete(ctx, f.begin(t, "alice")); err != nil {
			t.Fatal(err)
		}
		rr, err := f.flow.Revoke(ctx, "alice")
		if err != nil || !rr.Deleted || rr.RevokedAtIdP || rr.IdPError == nil || !strings.Contains(rr.IdPError.Error(), "no revocation endpoint") {
			t.Fatalf("%+v %v", rr, err)
		}
	})
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	f := newFixture(t, nil)
	full := f.flow.cfg
	for name, mutate := range map[string]func(*Config){
		"endpoints":   func(c *Config) { c.TokenEndpoint = "" },
		"Issuer":      func(c *Config) { c.Issuer = "" },
		"secret":      func(c *Config) { c.Client.Secret = "" },
		"RedirectURL": func(c *Config) { c.RedirectURL = "" },
		"absolute":    func(c *Config) { c.RedirectURL = "/oauth/callback" },
		"Verifier":    func(c *Config) { c.Verifier = nil },
		"Store":       func(c *Config) { c.Store = nil },
	} {
		c := full
		mutate(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestPKCEChallengeMatchesVerifier(t *testing.T) {
	f := newFixture(t, nil)
	a, _ := f.flow.Begin(context.Background(), "alice")
	u, _ := url.Parse(a.URL)
	st := u.Query().Get("state")
	p, err := f.flow.takeState(context.Background(), st, f.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if oauth2.S256ChallengeFromVerifier(p.verifier) != u.Query().Get("code_challenge") || len(p.verifier) < 43 {
		t.Fatal("challenge is not S256(verifier)")
	}
}
