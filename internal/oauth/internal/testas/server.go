package testas

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
)

// Client is a registered client.
type Client struct {
	ID, Secret string
	// ExchangeAudiences are the audiences this client may request with
	// RFC 8693 (empty: none → invalid_target).
	ExchangeAudiences []string
}

// Request is one recorded call (test code only; the form is kept whole so
// tests can assert on it).
type Request struct {
	Endpoint  string
	GrantType string
	ClientID  string
	Form      url.Values
	Header    http.Header
}

// Server is the test authorization server. Fields may be changed by tests
// between requests under no lock only before traffic starts; use the
// methods afterwards.
type Server struct {
	*httptest.Server
	Issuer string

	mu          sync.Mutex
	signing     Key
	published   []Key
	jwksFetches int
	clients     map[string]Client
	opaque      map[string]oauth.Introspection
	revoked     map[string]bool
	codes       map[string]codeGrant
	refresh     map[string]*refreshGrant
	requests    []Request
	overrides   map[string]http.HandlerFunc
	user        string
	issParam    bool
	noIssParam  bool
	codeAud     []string
	accessTTL   time.Duration
}

// codeGrant is a pending authorization code; redeeming it deletes it, which
// is what makes it single-use.
type codeGrant struct {
	clientID, redirectURI, challenge, sub, scope string
}

type refreshGrant struct {
	sub, clientID, scope string
	used, revoked        bool
	family               string
}

// Option configures New.
type Option func(*Server)

// WithAlg picks the signing algorithm (default RS256).
func WithAlg(alg jose.SignatureAlgorithm) Option {
	return func(s *Server) { s.signing = NewKey(alg); s.published = []Key{s.signing} }
}

// WithIssParameter makes the server advertise and send RFC 9207 iss.
func WithIssParameter() Option { return func(s *Server) { s.issParam = true } }

// WithCodeAudience sets the aud of access tokens from the code and refresh
// grants (default ["nextcloud"]).
func WithCodeAudience(aud ...string) Option { return func(s *Server) { s.codeAud = aud } }

// Well-known clients registered by default.
const (
	ServerClientID     = "nextcloud-mcp-server"
	ServerClientSecret = "server secret with spaces+plus&amp" // exercises RFC 6749 §2.3.1 encoding
	NextcloudAudience  = "nextcloud"
	MCPResource        = "http://127.0.0.1:1/mcp"
)

// New starts a server; t.Cleanup closes it.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		clients:   map[string]Client{},
		opaque:    map[string]oauth.Introspection{},
		revoked:   map[string]bool{},
		codes:     map[string]codeGrant{},
		refresh:   map[string]*refreshGrant{},
		overrides: map[string]http.HandlerFunc{},
		user:      "alice",
		codeAud:   []string{NextcloudAudience},
		accessTTL: time.Hour,
	}
	s.signing = NewKey(jose.RS256)
	s.published = []Key{s.signing}
	s.clients[ServerClientID] = Client{ID: ServerClientID, Secret: ServerClientSecret, ExchangeAudiences: []string{NextcloudAudience}}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.metadata)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /introspect", s.introspect)
	mux.HandleFunc("POST /revoke", s.revoke)
	mux.HandleFunc("GET /authorize", s.authorize)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := s.overrides[r.URL.Path]
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	s.Issuer = s.URL
	t.Cleanup(s.Close)
	return s
}

// Override replaces the handler of path (e.g. "/token") until cleared with
// a nil handler.
func (s *Server) Override(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.overrides, path)
		return
	}
	s.overrides[path] = h
}

// SetUser sets who "logs in" at the authorization endpoint.
func (s *Server) SetUser(sub string) { s.mu.Lock(); s.user = sub; s.mu.Unlock() }

// DropIssParameter keeps advertising RFC 9207 but stops sending iss.
func (s *Server) DropIssParameter() { s.mu.Lock(); s.noIssParam = true; s.mu.Unlock() }

// SigningKey returns the current signing key.
func (s *Server) SigningKey() Key { s.mu.Lock(); defer s.mu.Unlock(); return s.signing }

// Rotate publishes a new signing key next to the old ones and signs with
// it from now on.
func (s *Server) Rotate() Key {
	k := NewKey(s.SigningKey().Alg)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signing = k
	s.published = append(s.published, k)
	return k
}

// JWKSFetches counts GET /jwks.
func (s *Server) JWKSFetches() int { s.mu.Lock(); defer s.mu.Unlock(); return s.jwksFetches }

// Requests returns the recorded requests to the token, introspection and
// revocation endpoints.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountGrant counts token requests of grant type g.
func (s *Server) CountGrant(g string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Endpoint == "token" && r.GrantType == g {
			n++
		}
	}
	return n
}

// Claims returns typical access-token claims for sub and aud, valid for an
// hour from now.
func (s *Server) Claims(sub string, aud ...string) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": s.Issuer, "sub": sub, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		"scope": "openid notes:read notes:write", "client_id": "mcp-client", "jti": randString(8),
	}
	if sub == "" {
		delete(c, "sub")
	}
	if len(aud) == 1 {
		c["aud"] = aud[0]
	} else if len(aud) > 1 {
		c["aud"] = aud
	}
	return c
}

// Mint signs claims with the current key (or opts.Key).
func (s *Server) Mint(claims map[string]any, opts MintOptions) string {
	k := s.SigningKey()
	if opts.Key != nil {
		k = *opts.Key
	}
	return Sign(k, claims, opts)
}

// AccessToken mints a valid access token for sub and aud.
func (s *Server) AccessToken(sub string, aud ...string) string {
	return s.Mint(s.Claims(sub, aud...), MintOptions{})
}

// Opaque registers an opaque token that introspects as claims.
func (s *Server) Opaque(claims oauth.Introspection) string {
	t := "opaque-" + randString(24)
	s.mu.Lock()
	s.opaque[t] = claims
	s.mu.Unlock()
	return t
}

// IsRevoked reports whether token was revoked at /revoke or by reuse
// detection.
func (s *Server) IsRevoked(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.refresh[token]; ok {
		return g.revoked
	}
	return s.revoked[token]
}

// IssueRefresh creates a refresh token for sub as if a code grant had
// happened.
func (s *Server) IssueRefresh(sub, scope string) string {
	t := "rt-" + randString(24)
	s.mu.Lock()
	s.refresh[t] = &refreshGrant{sub: sub, clientID: ServerClientID, scope: scope, family: randString(8)}
	s.mu.Unlock()
	return t
}

func (s *Server) metadata(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	iss := s.issParam
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{
		"issuer":                           s.Issuer,
		"authorization_endpoint":           s.URL + "/authorize",
		"token_endpoint":                   s.URL + "/token",
		"jwks_uri":                         s.URL + "/jwks",
		"introspection_endpoint":           s.URL + "/introspect",
		"revocation_endpoint":              s.URL + "/revoke",
		"grant_types_supported":            []string{"authorization_code", "refresh_token", oauth.GrantTypeTokenExchange},
		"code_challenge_methods_supported": []string{"S256"},
		"response_types_supported":         []string{"code"},
		"scopes_supported":                 []string{"openid", "offline_access", "notes:read", "notes:write"},
		"authorization_response_iss_parameter_supported": iss,
	})
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.jwksFetches++
	var set jose.JSONWebKeySet
	for _, k := range s.published {
		set.Keys = append(set.Keys, k.Public())
	}
	s.mu.Unlock()
	writeJSON(w, 200, set)
}

// clientAuth checks client_secret_basic with RFC 6749 §2.3.1 decoding.
func (s *Server) clientAuth(r *http.Request) (Client, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return Client{}, false
	}
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	if err1 != nil || err2 != nil {
		return Client{}, false
	}
	s.mu.Lock()
	c, found := s.clients[id]
	s.mu.Unlock()
	if !found || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, false
	}
	return c, true
}

func (s *Server) record(endpoint string, r *http.Request, clientID string) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Endpoint: endpoint, GrantType: r.PostForm.Get("grant_type"), ClientID: clientID, Form: r.PostForm, Header: r.Header.Clone()})
	s.mu.Unlock()
}

// OAuthError writes an RFC 6749 §5.2 error.
func OAuthError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		OAuthError(w, 400, "invalid_request", "bad form")
		return
	}
	c, ok := s.clientAuth(r)
	s.record("token", r, c.ID)
	if !ok {
		OAuthError(w, 401, "invalid_client", "client authentication failed")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case oauth.GrantTypeTokenExchange:
		s.exchange(w, r, c)
	case "authorization_code":
		s.codeGrant(w, r, c)
	case "refresh_token":
		s.refreshGrant(w, r, c)
	default:
		OAuthError(w, 400, "unsupported_grant_type", "grant type not supported")
	}
}

func (s *Server) parseOwn(token string) (map[string]any, bool) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.PS256})
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	keys := slices.Clone(s.published)
	s.mu.Unlock()
	for _, k := range keys {
		if p, err := jws.Verify(k.Private.Public()); err == nil {
			var c map[string]any
			if json.Unmarshal(p, &c) != nil {
				return nil, false
			}
			if exp, ok := c["exp"].(float64); !ok || time.Unix(int64(exp), 0).Before(time.Now()) {
				return nil, false
			}
			return c, true
		}
	}
	return nil, false
}

func (s *Server) exchange(w http.ResponseWriter, r *http.Request, c Client) {
	f := r.PostForm
	if f.Get("subject_token_type") != oauth.TokenTypeAccessToken {
		OAuthError(w, 400, "invalid_request", "subject_token_type must be access_token")
		return
	}
	claims, ok := s.parseOwn(f.Get("subject_token"))
	if !ok {
		OAuthError(w, 400, "invalid_grant", "subject token is invalid or expired")
		return
	}
	aud := f.Get("audience")
	if aud == "" || !slices.Contains(c.ExchangeAudiences, aud) {
		OAuthError(w, 400, "invalid_target", "audience not allowed for this client")
		return
	}
	out := map[string]any{
		"iss": s.Issuer, "sub": claims["sub"], "aud": aud, "azp": c.ID,
		"exp": time.Now().Add(5 * time.Minute).Unix(), "iat": time.Now().Unix(),
		"scope": claims["scope"], "act": map[string]any{"sub": c.ID}, "jti": randString(8),
	}
	writeJSON(w, 200, map[string]any{
		"access_token":      s.Mint(out, MintOptions{}),
		"issued_token_type": oauth.TokenTypeAccessToken,
		"token_type":        "Bearer",
		"expires_in":        300,
		"scope":             claims["scope"],
	})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	_, known := s.clients[q.Get("client_id")]
	user, issParam, noIss := s.user, s.issParam, s.noIssParam
	s.mu.Unlock()
	if !known || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", 400)
		return
	}
	code := "code-" + randString(16)
	s.mu.Lock()
	s.codes[code] = codeGrant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), sub: user, scope: q.Get("scope")}
	s.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	rq := u.Query()
	rq.Set("code", code)
	rq.Set("state", q.Get("state"))
	if issParam && !noIss {
		rq.Set("iss", s.Issuer)
	}
	u.RawQuery = rq.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Server) codeGrant(w http.ResponseWriter, r *http.Request, c Client) {
	f := r.PostForm
	s.mu.Lock()
	g, ok := s.codes[f.Get("code")]
	if ok {
		delete(s.codes, f.Get("code"))
	}
	s.mu.Unlock()
	if !ok || g.clientID != c.ID || g.redirectURI != f.Get("redirect_uri") {
		OAuthError(w, 400, "invalid_grant", "unknown code or redirect_uri mismatch")
		return
	}
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		OAuthError(w, 400, "invalid_grant", "PKCE verification failed")
		return
	}
	s.issueTokens(w, g.sub, c.ID, g.scope, "")
}

func (s *Server) issueTokens(w http.ResponseWriter, sub, clientID, scope, family string) {
	s.mu.Lock()
	aud, ttl := s.codeAud, s.accessTTL
	s.mu.Unlock()
	claims := map[string]any{
		"iss": s.Issuer, "sub": sub, "aud": aud, "azp": clientID, "scope": scope,
		"exp": time.Now().Add(ttl).Unix(), "iat": time.Now().Unix(), "jti": randString(8),
	}
	resp := map[string]any{
		"access_token": s.Mint(claims, MintOptions{}),
		"token_type":   "Bearer",
		"expires_in":   int(ttl.Seconds()),
		"scope":        scope,
	}
	if slices.Contains(strings.Fields(scope), "offline_access") {
		rt := "rt-" + randString(24)
		if family == "" {
			family = randString(8)
		}
		s.mu.Lock()
		s.refresh[rt] = &refreshGrant{sub: sub, clientID: clientID, scope: scope, family: family}
		s.mu.Unlock()
		resp["refresh_token"] = rt
	}
	writeJSON(w, 200, resp)
}

// SetAccessTTL sets the lifetime of access tokens from the code and
// refresh grants.
func (s *Server) SetAccessTTL(d time.Duration) { s.mu.Lock(); s.accessTTL = d; s.mu.Unlock() }

func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request, c Client) {
	rt := r.PostForm.Get("refresh_token")
	s.mu.Lock()
	g, ok := s.refresh[rt]
	if ok && g.used {
		// Reuse of a rotated refresh token: revoke the whole family.
		for _, other := range s.refresh {
			if other.family == g.family {
				other.revoked = true
			}
		}
	}
	valid := ok && !g.used && !g.revoked && g.clientID == c.ID
	if valid {
		g.used = true
	}
	s.mu.Unlock()
	if !valid {
		OAuthError(w, 400, "invalid_grant", "refresh token is invalid, revoked or reused")
		return
	}
	scope := g.scope
	if !strings.Contains(scope, "offline_access") {
		scope += " offline_access"
	}
	s.issueTokens(w, g.sub, c.ID, scope, g.family)
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		OAuthError(w, 400, "invalid_request", "bad form")
		return
	}
	c, ok := s.clientAuth(r)
	s.record("introspect", r, c.ID)
	if !ok {
		OAuthError(w, 401, "invalid_client", "client authentication failed")
		return
	}
	t := r.PostForm.Get("token")
	s.mu.Lock()
	claims, found := s.opaque[t]
	revoked := s.revoked[t]
	s.mu.Unlock()
	if !found || revoked {
		writeJSON(w, 200, map[string]bool{"active": false})
		return
	}
	writeJSON(w, 200, claims)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		OAuthError(w, 400, "invalid_request", "bad form")
		return
	}
	c, ok := s.clientAuth(r)
	s.record("revoke", r, c.ID)
	if !ok {
		OAuthError(w, 401, "invalid_client", "client authentication failed")
		return
	}
	t := r.PostForm.Get("token")
	s.mu.Lock()
	if g, ok := s.refresh[t]; ok {
		for _, other := range s.refresh {
			if other.family == g.family {
				other.revoked = true
			}
		}
	}
	s.revoked[t] = true
	s.mu.Unlock()
	w.WriteHeader(200)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
