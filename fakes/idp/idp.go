// Package idp is a fake OpenID Connect / OAuth 2.1 authorization server for
// tests and local development. It stands in for Keycloak with standard token
// exchange v2 and aims to be strict rather than permissive: every request is
// checked the way the RFCs say a conforming server checks it, so that a
// client which works against this fake has a fair chance of working against
// a real IdP.
//
// It implements discovery (OpenID Connect and RFC 8414), JWKS with key
// rotation, the authorization code flow with PKCE (RFC 7636, S256 only),
// RFC 9207 iss, RFC 8707 resource indicators, refresh token rotation with
// reuse detection, client credentials, RFC 8693 token exchange, RFC 9068 JWT
// access tokens (or opaque ones per client), RFC 7662 introspection, RFC 7009
// revocation, userinfo, RFC 7591/7592 dynamic client registration, and a
// test-control API under /_fake/.
//
// All state lives in memory behind one mutex; signing happens outside it.
package idp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/fault"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/reqlog"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// Grant type identifiers (RFC 6749, RFC 8693).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// Token type identifiers of RFC 8693 §3.
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
)

// User is an account that can log in at the authorization endpoint.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Subject is the "sub" claim; it defaults to Username.
	Subject string `json:"subject,omitempty"`
	Email   string `json:"email,omitempty"`
	Name    string `json:"name,omitempty"`
}

// Client is a registered OAuth client.
type Client struct {
	ID string `json:"id"`
	// Secret authenticates a confidential client (client_secret_basic or
	// client_secret_post). Public clients have none.
	Secret string `json:"secret,omitempty"`
	Public bool   `json:"public,omitempty"`
	// RedirectURIs are matched exactly, except that a loopback redirect URI
	// (127.0.0.1, [::1], localhost over http) matches any port (RFC 8252 §7.3).
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	// AnyLoopbackRedirect accepts every http loopback redirect URI, any port
	// and any path, as native MCP clients pick them at run time.
	AnyLoopbackRedirect bool `json:"any_loopback_redirect,omitempty"`
	// DefaultAudiences is the access token's aud when no resource was
	// requested (like Keycloak audience mappers). Empty means the client's
	// own id.
	DefaultAudiences []string `json:"default_audiences,omitempty"`
	// ResourceURIs are the resource URIs this client serves (e.g. the MCP
	// server's /mcp URL). A token whose aud holds one of them counts as
	// addressed to this client for the token-exchange audience rule.
	ResourceURIs []string `json:"resource_uris,omitempty"`
	// ExchangeAudiences are the client ids this client may obtain tokens for
	// by RFC 8693 exchange. A confidential client with a non-empty list may
	// use the token-exchange grant (and may also name itself).
	ExchangeAudiences []string `json:"exchange_audiences,omitempty"`
	// AllowOfflineAccess lets the client request offline_access and so
	// receive refresh tokens.
	AllowOfflineAccess bool `json:"allow_offline_access,omitempty"`
	// OpaqueAccessTokens makes the access tokens issued to this client
	// opaque strings that only introspection can read.
	OpaqueAccessTokens bool `json:"opaque_access_tokens,omitempty"`
	// CanIntrospect allows the client to call the introspection endpoint.
	CanIntrospect bool `json:"can_introspect,omitempty"`
	// Scopes limits the scopes the client may request; empty means every
	// scope the server supports.
	Scopes []string `json:"scopes,omitempty"`
	// DefaultScopes are granted when a request names no scope.
	DefaultScopes []string `json:"default_scopes,omitempty"`
	// GrantTypes limits the grants the client may use; empty means the
	// defaults: authorization_code and refresh_token, plus
	// client_credentials for confidential clients, plus token exchange for
	// confidential clients with ExchangeAudiences.
	GrantTypes []string `json:"grant_types,omitempty"`
	// RequirePKCE demands PKCE from a confidential client too (public
	// clients always need it).
	RequirePKCE bool `json:"require_pkce,omitempty"`
	// Name is a display name for the consent page.
	Name string `json:"name,omitempty"`

	// registration holds RFC 7591 metadata echoed by RFC 7592 reads.
	registration map[string]any
}

// Config configures an IdP. Zero values take the defaults documented on each
// field; DefaultConfig fills users, clients and scopes.
type Config struct {
	// Issuer is the public issuer URL. It may be empty at construction and
	// set later with SetIssuer (e.g. once the listener's port is known).
	Issuer  string
	Users   []User
	Clients []Client
	// Scopes lists every scope the server supports.
	Scopes []string
	// SigningAlg is "RS256" (default) or "ES256".
	SigningAlg string
	// AutoApprove skips the login and consent pages: the user named by
	// login_hint (default "alice") approves every requested scope at once.
	AutoApprove bool
	// DefaultLoginHint is the auto-approve user when no login_hint is sent;
	// "alice" when empty.
	DefaultLoginHint string
	// DisableTokenExchange turns RFC 8693 off entirely: discovery omits the
	// grant and the token endpoint answers unsupported_grant_type.
	DisableTokenExchange bool
	// DisableRegistration turns dynamic client registration off.
	DisableRegistration bool
	// RegistrationToken, when set, is the initial access token RFC 7591 §3
	// requires on registration requests.
	RegistrationToken string
	// DynamicClientAudiences are the DefaultAudiences of dynamically
	// registered clients; nil means those of DefaultConfig's mcp-client.
	DynamicClientAudiences []string
	// StrictResources refuses RFC 8707 resource values that no client lists
	// in its ResourceURIs (invalid_target). Off by default, so any absolute
	// URI is accepted and becomes the token's audience.
	StrictResources bool
	// StrictRegisteredScopes limits a dynamically registered client to the
	// scopes of its registration's scope metadata (RFC 7591 §2), as
	// certified providers (oidc-provider, for one) do: a later request for
	// any other scope is invalid_scope. Off by default, so MCP step-up
	// keeps working with SDKs that register with their first challenge's
	// scope; a registration without scope may request any scope either way.
	StrictRegisteredScopes bool
	// ControlAPI serves the test-control API under /_fake/.
	ControlAPI bool

	AccessTokenTTL    time.Duration // default 1h
	ExchangedTokenTTL time.Duration // default 300s
	RefreshTokenTTL   time.Duration // default 30 days
	IDTokenTTL        time.Duration // default AccessTokenTTL
	CodeTTL           time.Duration // default 60s
	// KeyGracePeriod keeps a rotated-out public key in the JWKS; default 1h.
	KeyGracePeriod time.Duration
	// JWKSMaxAge is the Cache-Control max-age of the JWKS; default 300s.
	JWKSMaxAge time.Duration
	// RequestLogSize bounds the request log (oldest entries are dropped);
	// default 10000.
	RequestLogSize int

	// Now is the base clock; time.Now when nil. The control API's clock
	// offset is added to it.
	Now    func() time.Time
	Logger *slog.Logger
}

// Default user names, passwords and client ids (see DefaultConfig).
const (
	ClientMCP       = "mcp-client"
	ClientMCPServer = "nextcloud-mcp-server"
	ClientNextcloud = "nextcloud"
)

// DefaultConfig returns the defaults the dev stack and the tests rely on:
// users alice, bob and admin (password = user name + "-password"); clients
// mcp-client (public), nextcloud-mcp-server (confidential, may exchange to
// nextcloud) and nextcloud (confidential, may introspect); the OpenID scopes
// plus the soft scopes.
func DefaultConfig() Config {
	var users []User
	for _, u := range []struct{ name, display string }{
		{"alice", "Alice Anderson"}, {"bob", "Bob Brown"}, {"admin", "Administrator"},
	} {
		users = append(users, User{
			Username: u.name, Password: u.name + "-password", Subject: u.name,
			Email: u.name + "@example.com", Name: u.display,
		})
	}
	return Config{
		Users: users,
		Clients: []Client{
			{
				ID: ClientMCP, Public: true, AnyLoopbackRedirect: true,
				DefaultAudiences:   []string{ClientMCPServer, ClientNextcloud},
				AllowOfflineAccess: true, Name: "MCP client",
			},
			{
				ID: ClientMCPServer, Secret: ClientMCPServer + "-secret",
				RedirectURIs:       []string{"http://127.0.0.1/oauth/callback", "http://localhost/oauth/callback"},
				DefaultAudiences:   []string{ClientNextcloud},
				ExchangeAudiences:  []string{ClientNextcloud},
				AllowOfflineAccess: true, CanIntrospect: true, Name: "Nextcloud MCP server",
			},
			{
				ID: ClientNextcloud, Secret: ClientNextcloud + "-secret",
				RedirectURIs:  []string{"http://127.0.0.1/apps/user_oidc/code", "http://localhost/apps/user_oidc/code"},
				CanIntrospect: true, Name: "Nextcloud",
			},
		},
		Scopes: append(slices.Clone(scopes.Standard), scopes.Soft...),
	}
}

// IdP is the fake authorization server. It is an http.Handler; create it
// with New.
type IdP struct {
	log               *slog.Logger
	baseNow           func() time.Time
	alg               string
	autoApprove       bool
	defaultLoginHint  string
	registrationToken string
	dcrAudiences      []string
	strictResources   bool
	strictRegScopes   bool
	controlAPI        bool
	registrationOff   bool
	accessTTL         time.Duration
	exchangedTTL      time.Duration
	refreshTTL        time.Duration
	idTokenTTL        time.Duration
	codeTTL           time.Duration
	keyGrace          time.Duration
	jwksMaxAge        time.Duration

	// initial is the configuration Reset restores.
	initial Config

	mu              sync.Mutex
	issuer          string
	issuerPath      string
	offset          time.Duration
	exchangeEnabled bool
	users           map[string]*User // by username
	clients         map[string]*Client
	scopes          []string
	keys            keyRing
	unknownKey      *signingKey // lazily made key that is never published
	state           store
	faults          fault.Queue[Fault]
	reqlog          *reqlog.Log[LogEntry]
}

// New builds an IdP from cfg. It generates a fresh signing key.
func New(cfg Config) (*IdP, error) {
	p := &IdP{
		log:               cfg.Logger,
		baseNow:           cfg.Now,
		alg:               cfg.SigningAlg,
		autoApprove:       cfg.AutoApprove,
		defaultLoginHint:  cfg.DefaultLoginHint,
		registrationToken: cfg.RegistrationToken,
		dcrAudiences:      cfg.DynamicClientAudiences,
		strictResources:   cfg.StrictResources,
		strictRegScopes:   cfg.StrictRegisteredScopes,
		controlAPI:        cfg.ControlAPI,
		registrationOff:   cfg.DisableRegistration,
		accessTTL:         orDefault(cfg.AccessTokenTTL, time.Hour),
		exchangedTTL:      orDefault(cfg.ExchangedTokenTTL, 300*time.Second),
		refreshTTL:        orDefault(cfg.RefreshTokenTTL, 30*24*time.Hour),
		codeTTL:           orDefault(cfg.CodeTTL, 60*time.Second),
		keyGrace:          orDefault(cfg.KeyGracePeriod, time.Hour),
		jwksMaxAge:        orDefault(cfg.JWKSMaxAge, 300*time.Second),
	}
	p.idTokenTTL = orDefault(cfg.IDTokenTTL, p.accessTTL)
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.baseNow == nil {
		p.baseNow = time.Now
	}
	if p.alg == "" {
		p.alg = "RS256"
	}
	if p.defaultLoginHint == "" {
		p.defaultLoginHint = "alice"
	}
	if p.dcrAudiences == nil {
		p.dcrAudiences = []string{ClientMCPServer, ClientNextcloud}
	}
	logSize := cfg.RequestLogSize
	if logSize <= 0 {
		logSize = 10000
	}
	p.reqlog = reqlog.New[LogEntry](logSize)
	for name, d := range map[string]time.Duration{
		"AccessTokenTTL": cfg.AccessTokenTTL, "ExchangedTokenTTL": cfg.ExchangedTokenTTL,
		"RefreshTokenTTL": cfg.RefreshTokenTTL, "IDTokenTTL": cfg.IDTokenTTL, "CodeTTL": cfg.CodeTTL,
		"KeyGracePeriod": cfg.KeyGracePeriod, "JWKSMaxAge": cfg.JWKSMaxAge,
	} {
		if d < 0 {
			return nil, fmt.Errorf("idp: %s must not be negative", name)
		}
	}
	if err := p.load(cfg); err != nil {
		return nil, err
	}
	key, err := newSigningKey(p.alg)
	if err != nil {
		return nil, err
	}
	p.keys.current = key
	if cfg.Issuer != "" {
		if err := p.SetIssuer(cfg.Issuer); err != nil {
			return nil, err
		}
	}
	p.initial = cfg
	p.initial.Users = slices.Clone(cfg.Users)
	p.initial.Clients = slices.Clone(cfg.Clients)
	p.initial.Scopes = slices.Clone(cfg.Scopes)
	return p, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// load validates and installs users, clients and scopes. Callers hold mu or
// own p exclusively.
func (p *IdP) load(cfg Config) error {
	users := make(map[string]*User, len(cfg.Users))
	for _, u := range cfg.Users {
		if u.Username == "" {
			return errors.New("idp: a user has no username")
		}
		if _, dup := users[u.Username]; dup {
			return fmt.Errorf("idp: user %q is listed twice", u.Username)
		}
		if u.Subject == "" {
			u.Subject = u.Username
		}
		users[u.Username] = &u
	}
	var sc []string
	for _, s := range cfg.Scopes {
		if !validScopeToken(s) {
			return fmt.Errorf("idp: scope %q is not a valid scope token", s)
		}
		if !slices.Contains(sc, s) {
			sc = append(sc, s)
		}
	}
	p.users = users
	p.scopes = sc
	p.clients = make(map[string]*Client, len(cfg.Clients))
	p.exchangeEnabled = !cfg.DisableTokenExchange
	for _, c := range cfg.Clients {
		if _, dup := p.clients[c.ID]; dup {
			return fmt.Errorf("idp: client %q is listed twice", c.ID)
		}
		if err := p.checkClient(&c); err != nil {
			return err
		}
		p.clients[c.ID] = cloneClient(&c)
	}
	return nil
}

func (p *IdP) checkClient(c *Client) error {
	if c.ID == "" {
		return errors.New("idp: a client has no id")
	}
	if c.Public && c.Secret != "" {
		return fmt.Errorf("idp: client %q is public but has a secret", c.ID)
	}
	if !c.Public && c.Secret == "" {
		return fmt.Errorf("idp: client %q is confidential but has no secret", c.ID)
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return fmt.Errorf("idp: client %q: %w", c.ID, err)
		}
	}
	for _, r := range c.ResourceURIs {
		if err := checkResourceURI(r); err != nil {
			return fmt.Errorf("idp: client %q: %w", c.ID, err)
		}
	}
	for _, g := range c.GrantTypes {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantTokenExchange:
		default:
			return fmt.Errorf("idp: client %q: unknown grant type %q", c.ID, g)
		}
	}
	for _, s := range append(slices.Clone(c.Scopes), c.DefaultScopes...) {
		if !slices.Contains(p.scopes, s) {
			return fmt.Errorf("idp: client %q: scope %q is not a server scope", c.ID, s)
		}
	}
	return nil
}

func cloneClient(c *Client) *Client {
	n := *c
	n.RedirectURIs = slices.Clone(c.RedirectURIs)
	n.DefaultAudiences = slices.Clone(c.DefaultAudiences)
	n.ResourceURIs = slices.Clone(c.ResourceURIs)
	n.ExchangeAudiences = slices.Clone(c.ExchangeAudiences)
	n.Scopes = slices.Clone(c.Scopes)
	n.DefaultScopes = slices.Clone(c.DefaultScopes)
	n.GrantTypes = slices.Clone(c.GrantTypes)
	return &n
}

// allowsGrant reports whether the client may use grant type g.
func (c *Client) allowsGrant(g string) bool {
	if len(c.GrantTypes) > 0 {
		if !slices.Contains(c.GrantTypes, g) {
			return false
		}
		// Confidentiality rules hold whatever the list says.
		return !c.Public || (g != GrantClientCredentials && g != GrantTokenExchange)
	}
	switch g {
	case GrantAuthorizationCode, GrantRefreshToken:
		return true
	case GrantClientCredentials:
		return !c.Public
	case GrantTokenExchange:
		return !c.Public && len(c.ExchangeAudiences) > 0
	}
	return false
}

// SetIssuer sets the public issuer URL: an absolute http(s) URL without
// query, fragment or trailing slash. Endpoints are served below its path.
func (p *IdP) SetIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(issuer, "/") {
		return fmt.Errorf("idp: issuer %q must be an absolute http(s) URL without query, fragment or trailing slash", issuer)
	}
	p.mu.Lock()
	p.issuer = issuer
	p.issuerPath = u.EscapedPath()
	p.mu.Unlock()
	return nil
}

// Issuer returns the issuer URL.
func (p *IdP) Issuer() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issuer
}

// UpsertClient adds a client or replaces the one with the same id (e.g. to
// set the MCP server's ResourceURIs once its port is known).
func (p *IdP) UpsertClient(c Client) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.checkClient(&c); err != nil {
		return err
	}
	p.clients[c.ID] = cloneClient(&c)
	return nil
}

// Client returns a copy of the client with the given id.
func (p *IdP) Client(id string) (Client, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.clients[id]
	if !ok {
		return Client{}, false
	}
	return *cloneClient(c), true
}

// SetTokenExchange turns RFC 8693 token exchange on or off at run time.
func (p *IdP) SetTokenExchange(enabled bool) {
	p.mu.Lock()
	p.exchangeEnabled = enabled
	p.mu.Unlock()
}

// SetClockOffset shifts the IdP's clock by d (positive = the future), for
// expiry tests. It affects issued tokens and validation alike.
func (p *IdP) SetClockOffset(d time.Duration) {
	p.mu.Lock()
	p.offset = d
	p.mu.Unlock()
}

// ClockOffset returns the current clock offset.
func (p *IdP) ClockOffset() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offset
}

// Now returns the IdP's current time (base clock plus offset).
func (p *IdP) Now() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nowLocked()
}

func (p *IdP) nowLocked() time.Time { return p.baseNow().Add(p.offset) }

// Reset restores the initial users, clients and scopes and forgets every
// code, token, grant, session, registration, fault and log entry; the clock
// offset returns to zero and token exchange to its configured state. Signing
// keys are kept, so verifiers' JWKS caches stay valid.
func (p *IdP) Reset() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.load(p.initial); err != nil {
		return err
	}
	p.offset = 0
	p.state = store{}
	p.faults.Clear()
	p.reqlog.Reset()
	return nil
}

// endpoint names, used by routing, faults and the request log.
const (
	epDiscoveryOIDC  = "openid-configuration"
	epDiscoveryOAuth = "oauth-authorization-server"
	epJWKS           = "jwks"
	epAuthorize      = "authorize"
	epLogin          = "login"
	epConsent        = "consent"
	epToken          = "token"
	epIntrospect     = "introspect"
	epRevoke         = "revoke"
	epUserinfo       = "userinfo"
	epRegister       = "register"
	epHealth         = "healthz"
)

// endpointPaths maps endpoint names to their paths below the issuer.
var endpointPaths = map[string]string{
	epJWKS:       "/jwks",
	epAuthorize:  "/authorize",
	epLogin:      "/authorize/login",
	epConsent:    "/authorize/consent",
	epToken:      "/token",
	epIntrospect: "/introspect",
	epRevoke:     "/revoke",
	epUserinfo:   "/userinfo",
	epRegister:   "/register",
}

// ServeHTTP routes a request. Paths are taken relative to the issuer's path,
// so an issuer such as http://host/realms/dev serves /realms/dev/token.
// RFC 8414 metadata is also served at the inserted well-known location.
func (p *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A panic is a bug; answer like a server, not like a crashed process.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			p.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
			writeError(w, errServer("internal error"))
		}
	}()
	p.mu.Lock()
	issuer, ipath, control := p.issuer, p.issuerPath, p.controlAPI
	p.mu.Unlock()

	path := r.URL.EscapedPath()
	if path == "/healthz" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
		return
	}
	if issuer == "" {
		writeError(w, &Error{Code: "temporarily_unavailable", Description: "issuer not configured yet", Status: http.StatusServiceUnavailable})
		return
	}
	// RFC 8414 §3: /.well-known/oauth-authorization-server + issuer path.
	if path == "/.well-known/oauth-authorization-server"+ipath && ipath != "" {
		p.serveEndpoint(w, r, epDiscoveryOAuth, p.handleDiscovery)
		return
	}
	rel, ok := strings.CutPrefix(path, ipath)
	if !ok || (rel != "" && rel[0] != '/') {
		p.notFound(w, r)
		return
	}
	if strings.HasPrefix(rel, "/_fake/") && control {
		p.handleControl(w, r, strings.TrimPrefix(rel, "/_fake"))
		return
	}
	switch rel {
	case "/.well-known/openid-configuration":
		p.serveEndpoint(w, r, epDiscoveryOIDC, p.handleDiscovery)
	case "/.well-known/oauth-authorization-server":
		p.serveEndpoint(w, r, epDiscoveryOAuth, p.handleDiscovery)
	case endpointPaths[epJWKS]:
		p.serveEndpoint(w, r, epJWKS, p.handleJWKS)
	case endpointPaths[epAuthorize]:
		p.serveEndpoint(w, r, epAuthorize, p.handleAuthorize)
	case endpointPaths[epLogin]:
		p.serveEndpoint(w, r, epLogin, p.handleLogin)
	case endpointPaths[epConsent]:
		p.serveEndpoint(w, r, epConsent, p.handleConsent)
	case endpointPaths[epToken]:
		p.serveEndpoint(w, r, epToken, p.handleToken)
	case endpointPaths[epIntrospect]:
		p.serveEndpoint(w, r, epIntrospect, p.handleIntrospect)
	case endpointPaths[epRevoke]:
		p.serveEndpoint(w, r, epRevoke, p.handleRevoke)
	case endpointPaths[epUserinfo]:
		p.serveEndpoint(w, r, epUserinfo, p.handleUserinfo)
	default:
		if rel == endpointPaths[epRegister] || strings.HasPrefix(rel, endpointPaths[epRegister]+"/") {
			p.serveEndpoint(w, r, epRegister, p.handleRegister)
			return
		}
		p.notFound(w, r)
	}
}

func (p *IdP) notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, &Error{Code: "not_found", Description: "no such endpoint", Status: http.StatusNotFound})
}

// serveEndpoint applies injected faults, runs the handler with a log entry
// in its context, and records the entry.
func (p *IdP) serveEndpoint(w http.ResponseWriter, r *http.Request, name string, h func(http.ResponseWriter, *http.Request)) {
	if corsEndpoints[name] && cors(w, r) {
		return
	}
	entry := &LogEntry{Endpoint: name, Method: r.Method}
	rec := reqlog.NewRecorder(w)
	if f := p.takeFault(r, name); f != nil {
		// A client that gave up still gets its answer (and its log entry).
		fault.Wait(r.Context(), f.Delay)
		if f.Status != 0 {
			entry.Outcome = "fault"
			writeFault(rec, f)
			p.record(entry, rec.Status())
			return
		}
	}
	h(rec, r.WithContext(context.WithValue(r.Context(), logKey{}, entry)))
	p.record(entry, rec.Status())
}

type logKey struct{}

// entryOf returns the request's log entry (a throwaway one outside
// serveEndpoint, e.g. in direct handler tests).
func entryOf(r *http.Request) *LogEntry {
	if e, ok := r.Context().Value(logKey{}).(*LogEntry); ok {
		return e
	}
	return &LogEntry{}
}
