package oauth_test

// Integration tests of the OAuth packages against the project's fake IdP
// (fakes/idp): an independent implementation of the same RFCs, so these
// tests catch places where the two sides read a spec differently.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/broker"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/consent"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/exchange"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
)

// mcpURL is the canonical resource URL the MCP server would publish.
const mcpURL = "http://127.0.0.1:8000/mcp"

var serverCreds = oauth.ClientCredentials{ID: idp.ClientMCPServer, Secret: idp.ClientMCPServer + "-secret"}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// stack is what the server builds at start-up from discovery.
type stack struct {
	fake   *idptest.Server
	meta   *oauth.Metadata
	clk    *clock
	keys   *verify.KeySet
	flow1  *verify.Verifier // inbound tokens: aud = this server
	forNC  *verify.Verifier // tokens for Nextcloud: aud = nextcloud
	store  tokenstore.Store
	intro  oauth.Endpoint
	revoke oauth.Endpoint
}

func newStack(t *testing.T, mutate ...func(*idp.Config)) *stack {
	t.Helper()
	fake := idptest.Start(t, mutate...)
	// The MCP server's client serves the MCP resource URL, so Flow 1 tokens
	// issued for that resource may be exchanged by it.
	c, _ := fake.Client(idp.ClientMCPServer)
	c.ResourceURIs = []string{mcpURL}
	if err := fake.UpsertClient(c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	meta, err := oauth.Discover(ctx, nil, fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	keys := verify.NewKeySet(meta.JWKSURI, verify.KeySetOptions{Now: clk.Now})
	intro := oauth.Endpoint{URL: meta.IntrospectionEndpoint, Client: serverCreds}
	flow1, err := verify.New(verify.Config{
		Issuer: meta.Issuer, Audiences: []string{mcpURL, idp.ClientMCPServer}, Keys: keys,
		Introspection: intro, IntrospectionCacheTTL: -1, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	forNC, err := verify.New(verify.Config{Issuer: meta.Issuer, Audiences: []string{idp.ClientNextcloud}, Keys: keys, CacheSize: -1, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := tokenstore.GenerateKey()
	k, _ := tokenstore.ParseKey(ks)
	store, err := tokenstore.Open(ctx, filepath.Join(t.TempDir(), "tokens.db"), k, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	return &stack{
		fake: fake, meta: meta, clk: clk, keys: keys, flow1: flow1, forNC: forNC, store: store, intro: intro,
		revoke: oauth.Endpoint{URL: meta.RevocationEndpoint, Client: serverCreds},
	}
}

// flow1Token is what an MCP client gets after authorization code + PKCE
// with resource = the MCP URL.
func (s *stack) flow1Token(t *testing.T, user string, sc ...string) string {
	t.Helper()
	if len(sc) == 0 {
		sc = []string{"notes:read", "notes:write"}
	}
	tr, err := s.fake.IssueAccessToken(context.Background(), idp.IssueRequest{ClientID: idp.ClientMCP, Username: user, Scopes: sc, Resource: mcpURL})
	if err != nil {
		t.Fatal(err)
	}
	return tr.AccessToken
}

func (s *stack) mint(t *testing.T, m idp.MintRequest) string {
	t.Helper()
	claims := map[string]any{"sub": "alice", "aud": mcpURL, "scope": "notes:read", "client_id": idp.ClientMCP}
	for k, v := range m.Claims {
		claims[k] = v
	}
	m.Claims = claims
	tok, err := s.fake.Mint(m)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (s *stack) countGrants(grant string) int {
	n := 0
	for _, e := range s.fake.RequestLog() {
		if e.Endpoint == "token" && e.GrantType == grant {
			n++
		}
	}
	return n
}

func TestFakeIdPDiscovery(t *testing.T) {
	s := newStack(t)
	m := s.meta
	if m.Issuer != s.fake.URL || !m.SupportsPKCE() || !m.SupportsGrant(oauth.GrantTypeTokenExchange) ||
		m.IntrospectionEndpoint == "" || m.RevocationEndpoint == "" || !m.AuthorizationResponseIssParameterSupported {
		t.Fatalf("metadata %+v", m)
	}
	// The discovery URL form of OIDC_DISCOVERY_URL works too.
	if _, err := oauth.FetchMetadata(context.Background(), nil, s.fake.URL+"/.well-known/openid-configuration", ""); err != nil {
		t.Fatal(err)
	}
	off := newStack(t, func(c *idp.Config) { c.DisableTokenExchange = true })
	if off.meta.SupportsGrant(oauth.GrantTypeTokenExchange) {
		t.Fatal("exchange advertised while disabled")
	}
}

func TestFakeIdPBadTokenMatrix(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		token  func() string
		reason string // "" = valid
	}{
		{"issued for the MCP resource", func() string { return s.flow1Token(t, "alice") }, ""},
		{"default audience names the server's client", func() string {
			tr, err := s.fake.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "bob", Scopes: []string{"notes:read"}})
			if err != nil {
				t.Fatal(err)
			}
			return tr.AccessToken
		}, ""},
		{"typ JWT", func() string { return s.mint(t, idp.MintRequest{Header: map[string]any{"typ": "JWT"}}) }, ""},
		{"expired", func() string { return s.mint(t, idp.MintRequest{ExpiresIn: -time.Hour}) }, "expired"},
		{"not yet valid", func() string {
			return s.mint(t, idp.MintRequest{Claims: map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}})
		}, "not valid before"},
		{"wrong aud", func() string { return s.mint(t, idp.MintRequest{Claims: map[string]any{"aud": "nextcloud"}}) }, "audience"},
		{"wrong iss", func() string {
			return s.mint(t, idp.MintRequest{Claims: map[string]any{"iss": "http://127.0.0.1:9/other"}})
		}, "issued by"},
		{"unknown kid", func() string { return s.mint(t, idp.MintRequest{Key: idp.KeyUnknown}) }, "does not publish"},
		{"alg none", func() string { return s.mint(t, idp.MintRequest{Key: idp.KeyNone}) }, "none is not allowed"},
		{"HS256 keyed with the public key", func() string { return s.mint(t, idp.MintRequest{Key: idp.KeyHS256Public}) }, "HS256 is not allowed"},
		{"tampered payload", func() string {
			good := s.flow1Token(t, "alice")
			evil := s.mint(t, idp.MintRequest{Claims: map[string]any{"sub": "admin"}})
			p, e := strings.Split(good, "."), strings.Split(evil, ".")
			return p[0] + "." + e[1] + "." + p[2]
		}, "signature does not verify"},
		{"missing sub", func() string { return s.mint(t, idp.MintRequest{Claims: map[string]any{"sub": nil}}) }, "no sub"},
		{"id token typ", func() string { return s.mint(t, idp.MintRequest{Header: map[string]any{"typ": "id+jwt"}}) }, "not an access token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token()
			r, err := s.flow1.Verify(ctx, tok)
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if r.Subject == "" || len(r.Scopes) == 0 || r.Expiry.IsZero() {
					t.Fatalf("%+v", r)
				}
				return
			}
			if !errors.Is(err, oauth.ErrInvalidToken) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err = %v, want invalid token: %s", err, tc.reason)
			}
			if strings.Contains(err.Error(), tok) {
				t.Fatal("token in error")
			}
		})
	}
}

func TestFakeIdPKeyRotation(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	before := s.flow1Token(t, "alice")
	if _, err := s.flow1.Verify(ctx, before); err != nil {
		t.Fatal(err)
	}
	if err := s.fake.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	after := s.flow1Token(t, "bob")
	// Inside the refetch interval the new kid is not yet known.
	if _, err := s.flow1.Verify(ctx, after); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
	s.clk.Advance(verify.DefaultMinRefreshInterval)
	if _, err := s.flow1.Verify(ctx, after); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
	// The old key stays published during the grace period.
	if _, err := s.flow1.Verify(ctx, s.flow1Token(t, "alice")); err != nil {
		t.Fatal(err)
	}
	if n := s.keys.Fetches(); n != 2 {
		t.Fatalf("%d JWKS fetches", n)
	}
}

func TestFakeIdPJWKSDown(t *testing.T) {
	s := newStack(t)
	s.fake.InjectFault(idp.Fault{Endpoint: "jwks", Status: 503})
	_, err := s.flow1.Verify(context.Background(), s.flow1Token(t, "alice"))
	if !errors.Is(err, oauth.ErrUnavailable) || errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
}

func TestFakeIdPOpaqueTokens(t *testing.T) {
	s := newStack(t, func(c *idp.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == idp.ClientMCP {
				c.Clients[i].OpaqueAccessTokens = true
			}
		}
	})
	ctx := context.Background()
	tr, err := s.fake.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"notes:read"}, Resource: mcpURL, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tr.AccessToken, ".") == 2 {
		t.Fatal("the fake issued a JWT")
	}
	r, err := s.flow1.Verify(ctx, tr.AccessToken)
	if err != nil || !r.Introspected || r.Subject != "alice" || len(r.Scopes) == 0 || r.Expiry.IsZero() {
		t.Fatalf("%+v %v", r, err)
	}
	// A refresh token presented as a bearer token is not an access token.
	if _, err := s.flow1.Verify(ctx, tr.RefreshToken); !errors.Is(err, oauth.ErrInvalidToken) || !strings.Contains(err.Error(), "not an access token") {
		t.Fatalf("refresh token as bearer: %v", err)
	}
	// The MCP client (public, so it names itself: RFC 7009 §2.1 lets only
	// the client a token was issued to revoke it) revokes its token:
	// inactive → invalid.
	pub := oauth.Endpoint{URL: s.meta.RevocationEndpoint}
	if err := pub.Post(ctx, url.Values{"token": {tr.AccessToken}, "client_id": {idp.ClientMCP}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.flow1.Verify(ctx, tr.AccessToken); !errors.Is(err, oauth.ErrInvalidToken) || !strings.Contains(err.Error(), "not active") {
		t.Fatalf("revoked: %v", err)
	}
	// Introspection down is an outage, not a bad token.
	s.fake.InjectFault(idp.Fault{Endpoint: "introspect", Status: 500})
	tr2, _ := s.fake.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"notes:read"}, Resource: mcpURL})
	if _, err := s.flow1.Verify(ctx, tr2.AccessToken); !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("introspection down: %v", err)
	}
}

func newExchanger(t *testing.T, s *stack) *exchange.Exchanger {
	t.Helper()
	e, err := exchange.New(exchange.Config{TokenEndpoint: s.meta.TokenEndpoint, Client: serverCreds, Audience: idp.ClientNextcloud, Verifier: s.forNC})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFakeIdPExchange(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	e := newExchanger(t, s)
	inbound := s.flow1Token(t, "alice")
	in, err := s.flow1.Verify(ctx, inbound)
	if err != nil {
		t.Fatal(err)
	}
	s.fake.ResetLog()
	tok, err := e.Exchange(ctx, inbound, in.Subject)
	if err != nil {
		t.Fatal(err)
	}
	c := tok.Claims
	if c.Subject != "alice" || c.ActorSubject() != idp.ClientMCPServer || len(c.Audience) != 1 || c.Audience[0] != idp.ClientNextcloud {
		t.Fatalf("claims %+v", c)
	}
	log := s.fake.RequestLog()
	if len(log) != 1 || log[0].GrantType != oauth.GrantTypeTokenExchange || log[0].ClientID != idp.ClientMCPServer || log[0].Outcome != "ok" {
		t.Fatalf("IdP log %+v", log)
	}
	// The exchanged token is itself usable for Nextcloud (and is not a
	// Flow 1 token for this server).
	if _, err := s.flow1.Verify(ctx, tok.AccessToken); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("exchanged token accepted as inbound token: %v", err)
	}
}

func TestFakeIdPExchangeRefusals(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(s *stack)
		cfg    func(c *exchange.Config)
		token  func(t *testing.T, s *stack) string
		code   string
		outage bool
	}{
		{name: "exchange disabled", setup: func(s *stack) { s.fake.SetTokenExchange(false) }, code: oauth.CodeUnsupportedGrantType},
		{name: "audience not allowed", cfg: func(c *exchange.Config) { c.Audience = idp.ClientMCP }, code: oauth.CodeInvalidTarget},
		{name: "wrong client secret", cfg: func(c *exchange.Config) { c.Client.Secret = "nope" }, code: oauth.CodeInvalidClient},
		{name: "subject token not addressed to the server", token: func(t *testing.T, s *stack) string {
			tr, err := s.fake.IssueAccessToken(context.Background(), idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"notes:read"}, Resource: "http://127.0.0.1:9/other"})
			if err != nil {
				t.Fatal(err)
			}
			return tr.AccessToken
		}, code: oauth.CodeInvalidRequest},
		{name: "IdP unavailable", setup: func(s *stack) { s.fake.InjectFault(idp.Fault{Endpoint: "token", Status: 503}) }, code: "temporarily_unavailable", outage: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t)
			if tc.setup != nil {
				tc.setup(s)
			}
			cfg := exchange.Config{TokenEndpoint: s.meta.TokenEndpoint, Client: serverCreds, Audience: idp.ClientNextcloud, Verifier: s.forNC}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			e, err := exchange.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tok := s.flow1Token(t, "alice")
			if tc.token != nil {
				tok = tc.token(t, s)
			}
			_, err = e.Exchange(context.Background(), tok, "alice")
			t.Logf("refused: %v", err)
			if !oauth.HasCode(err, tc.code) || errors.Is(err, oauth.ErrUnavailable) != tc.outage {
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
		})
	}
}

func newFlow(t *testing.T, s *stack, mutate func(*consent.Config)) *consent.Flow {
	t.Helper()
	cfg := consent.Config{
		Client: serverCreds, RedirectURL: "http://127.0.0.1:8000/oauth/callback",
		Scopes: []string{"openid", "notes:read", "notes:write"}, Verifier: s.forNC, Store: s.store,
	}
	cfg.ApplyMetadata(s.meta)
	if mutate != nil {
		mutate(&cfg)
	}
	f, err := consent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// browse follows the authorization URL through the fake IdP (auto-approve)
// to the server's callback and returns the callback's query.
func browse(t *testing.T, authURL, callbackPrefix string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := authURL
	for range 10 {
		resp, err := c.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		require.NoError(t, resp.Body.Close())
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			t.Fatalf("authorization stopped at HTTP %d", resp.StatusCode)
		}
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		lu, err := u.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(lu.String(), callbackPrefix) {
			return lu.Query()
		}
		next = lu.String()
	}
	t.Fatal("too many redirects")
	return nil
}

func autoApprove(c *idp.Config) { c.AutoApprove = true }

func TestFakeIdPConsentBrokerRevoke(t *testing.T) {
	s := newStack(t, autoApprove)
	ctx := context.Background()
	flow := newFlow(t, s, nil)
	a, err := flow.Begin(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	q := browse(t, a.URL, "http://127.0.0.1:8000/oauth/callback")
	if q.Get("iss") != s.fake.URL {
		t.Fatalf("fake sent iss %q", q.Get("iss"))
	}
	res, err := flow.Complete(ctx, consent.CallbackFromQuery(q))
	if err != nil {
		t.Fatal(err)
	}
	if res.Subject != "alice" {
		t.Fatalf("%+v", res)
	}
	if _, err := flow.Complete(ctx, consent.CallbackFromQuery(q)); !errors.Is(err, consent.ErrStateUsed) {
		t.Fatalf("replay: %v", err)
	}
	st, _ := flow.Status(ctx, "alice")
	if !st.Provisioned {
		t.Fatal("not provisioned")
	}

	// Background: one refresh grant, then cached; rotation stored.
	b, err := broker.New(broker.Config{TokenEndpoint: s.meta.TokenEndpoint, Client: serverCreds, Store: s.store, Verifier: s.forNC, Now: s.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TokenFor(ctx, "alice"); !errors.Is(err, broker.ErrForeground) {
		t.Fatalf("foreground: %v", err)
	}
	wctx := broker.WorkerContext(ctx)
	before, _ := s.store.Get(ctx, "alice")
	tok, err := b.TokenFor(wctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TokenFor(wctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if n := s.countGrants("refresh_token"); n != 1 {
		t.Fatalf("%d refresh grants, want 1", n)
	}
	after, _ := s.store.Get(ctx, "alice")
	if after.RefreshToken == before.RefreshToken {
		t.Fatal("rotation not stored")
	}
	r, err := s.forNC.Verify(ctx, tok.AccessToken)
	if err != nil || r.Subject != "alice" {
		t.Fatalf("%v %v", r, err)
	}

	// Revoke: at the IdP, then deleted; the broker stops at once.
	rr, err := flow.Revoke(ctx, "alice")
	if err != nil || !rr.Deleted || !rr.RevokedAtIdP {
		t.Fatalf("%+v %v", rr, err)
	}
	ir, err := oauth.Introspect(ctx, s.intro, after.RefreshToken, "refresh_token")
	if err != nil || ir.Active {
		t.Fatalf("refresh token still active at the IdP: %+v %v", ir, err)
	}
	if _, err := b.TokenFor(wctx, "alice"); !errors.Is(err, broker.ErrNotProvisioned) {
		t.Fatalf("after revoke: %v", err)
	}
	if n := s.countGrants("refresh_token"); n != 1 {
		t.Fatalf("%d refresh grants after revocation", n)
	}
}

func TestFakeIdPConsentForeignAccount(t *testing.T) {
	// Bob is logged in at the IdP when alice's link is opened.
	s := newStack(t, autoApprove, func(c *idp.Config) { c.DefaultLoginHint = "bob" })
	ctx := context.Background()
	flow := newFlow(t, s, nil)
	a, err := flow.Begin(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	q := browse(t, a.URL, "http://127.0.0.1:8000/oauth/callback")
	if _, err := flow.Complete(ctx, consent.CallbackFromQuery(q)); !errors.Is(err, consent.ErrSubjectMismatch) {
		t.Fatalf("err = %v", err)
	}
	for _, sub := range []string{"alice", "bob"} {
		if ok, _ := s.store.Has(ctx, sub); ok {
			t.Fatalf("grant stored for %s", sub)
		}
	}
}

func TestFakeIdPBrokerReuseDetection(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	tr, err := s.fake.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCPServer, Username: "alice", Scopes: []string{"notes:read"}, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.Save(ctx, tokenstore.Grant{Subject: "alice", RefreshToken: tr.RefreshToken, ClientID: idp.ClientMCPServer}); err != nil {
		t.Fatal(err)
	}
	// A thief refreshes with the stolen token first.
	var out map[string]any
	ep := oauth.Endpoint{URL: s.meta.TokenEndpoint, Client: serverCreds}
	if err := ep.Post(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, &out); err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Config{TokenEndpoint: s.meta.TokenEndpoint, Client: serverCreds, Store: s.store, Verifier: s.forNC})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.TokenFor(broker.WorkerContext(ctx), "alice")
	if !errors.Is(err, broker.ErrNotProvisioned) || !oauth.HasCode(err, oauth.CodeInvalidGrant) {
		t.Fatalf("err = %v", err)
	}
	if ok, _ := s.store.Has(ctx, "alice"); ok {
		t.Fatal("grant kept")
	}
	ev, _ := s.store.AuditEvents(ctx, "alice", 0)
	found := false
	for _, e := range ev {
		found = found || e.Event == broker.EventUnprovisioned
	}
	if !found {
		t.Fatalf("not audited: %+v", ev)
	}
	// The thief's rotated token died with the family (reuse detection).
	if ir, err := oauth.Introspect(ctx, s.intro, out["refresh_token"].(string), "refresh_token"); err != nil || ir.Active {
		t.Fatalf("thief's token still active: %+v %v", ir, err)
	}
}
