// Package server wires the Nextcloud MCP server: configuration, the three
// token modes behind one client call (docs/architecture.md §2.1), the OAuth resource-
// server surface (server/bearer), soft-scope policy, progressive consent,
// the background worker, and the tools of server/tools.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/exchange"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/bearer"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// Version is reported in the MCP implementation info.
var Version = "0.1.0"

// Server is one configured MCP server.
type Server struct {
	cfg     Config
	mode    Mode
	logger  *slog.Logger
	hc      *http.Client
	nc      *nextcloud.Client
	mcp     *mcp.Server
	set     *tools.Set
	policy  scopePolicy
	handler http.Handler
	origins originPolicy
	// background is the modules' background work, by module id.
	background map[string]*tools.Background
	// resync asks the worker to sync one user again (after a write).
	resync chan string

	// OAuth modes only.
	meta     *oauth.Metadata
	verifier *verify.Verifier
	// ncVerifier checks tokens the IdP issues for Nextcloud (exchange
	// results, Flow 2 and refreshed grants); it shares the JWKS cache with
	// verifier and caches no result, as each such token is used once.
	ncVerifier *verify.Verifier
	consent    *consentService // nil unless progressive consent is on

	closeOnce sync.Once
	closers   []func() error
}

// New builds a server from a validated configuration. cfg.PublicURL must
// be set (the serve command derives it from the bound address when it is
// not configured). In OAuth modes New discovers the IdP's metadata, so the
// IdP must be reachable.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PublicURL == "" {
		return nil, errors.New("server: the public URL is not set")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.applyDefaults()
	s := &Server{
		cfg:    cfg,
		mode:   cfg.Mode(),
		logger: logger,
		hc:     oauth.NewHTTPClient(cfg.HTTPTimeout),
		resync: make(chan string, 64),
	}
	creds := nextcloud.Anonymous()
	if s.mode == ModeBasic {
		creds = nextcloud.Basic(cfg.NextcloudUsername, cfg.NextcloudPassword)
	}
	nc, err := nextcloud.New(cfg.NextcloudHost, creds,
		nextcloud.WithTimeout(cfg.HTTPTimeout),
		nextcloud.WithLogger(logger),
		nextcloud.WithUserAgent("nextcloud-mcp-go/"+Version))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.nc = nc
	// The two upstream transports (Nextcloud's and the IdP's) keep their
	// connections alive between calls; a closed server lets them go.
	s.closers = append(s.closers, func() error {
		nc.CloseIdleConnections()
		s.hc.CloseIdleConnections()
		return nil
	})

	var clients clientSource
	switch s.mode {
	case ModeBasic:
		clients = basicClients(nc)
	default:
		if err := s.setupOAuth(ctx); err != nil {
			return nil, errors.Join(err, s.Close())
		}
		if s.mode == ModeExchange {
			ex, err := s.newExchanger()
			if err != nil {
				return nil, errors.Join(err, s.Close())
			}
			var fallback offlineTokens
			if cfg.ExchangeRefreshFallback && s.consent != nil {
				fallback = s.consent
			}
			var exchanger tokenExchanger = ex
			if cfg.brokenVariant == variantLogTokens {
				exchanger = leakyExchanger{next: ex, logger: logger}
			}
			clients = exchangeClients(nc, exchanger, fallback, logger)
			switch cfg.brokenVariant {
			case variantExchangeFallback:
				clients = brokenPassthroughFallback(nc, ex)
			case variantExchangeReuse:
				clients = brokenExchangeReuse(nc, ex)
			case variantRefreshForToolCalls:
				if s.consent != nil {
					clients = brokenRefreshPerCall(nc, s.consent)
				}
			case variantRefreshCached:
				if s.consent != nil {
					clients = brokenRefreshCached(nc, s.consent)
				}
			}
		} else {
			clients = passthroughClients(nc)
		}
		if s.consent != nil {
			clients = s.consent.gate(clients)
		}
	}

	// The registry's modules, plus the progressive-consent tools when
	// that is on: one set, one policy, one registration path.
	mods := modules.New()
	if cfg.Modules != nil {
		mods = cfg.Modules()
	}
	if s.consent != nil {
		mods = append(mods, s.consent.module())
	}
	s.set = tools.NewSet(mods...)
	s.policy = scopePolicy{p: s.set.Policy()}
	s.background = s.set.Backgrounds()
	if s.consent != nil {
		s.consent.forgotten = s.forget
	}
	sopts := &mcp.ServerOptions{
		Instructions: s.set.Instructions(),
		Logger:       logger,
	}
	if cfg.brokenVariant == variantPublicCache {
		sopts.SetCacheable = func(_ context.Context, _ mcp.Request, c *mcp.Cacheable) { c.CacheScope = "public" }
	}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "nextcloud-mcp", Title: "Nextcloud MCP", Version: Version}, sopts)
	deps := &tools.Deps{
		Client: func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
			return clients(ctx, extra)
		},
		Principal: principal,
		Resync:    s.requestSync,
		Logger:    logger,
		ExplainError: func(err error) error {
			return describeNextcloudError(s.mode, cfg.NextcloudAudience, err)
		},
		Files: tools.FileTransfer{MaxReadBytes: cfg.FilesMaxReadBytes, ChunkSize: cfg.FilesChunkSize},
	}
	s.set.Register(s.mcp, deps)
	s.mcp.AddReceivingMiddleware(s.policy.middleware(s.mode != ModeBasic, cfg.brokenVariant != variantNoCallScopeCheck))
	if s.consent != nil {
		s.mcp.AddReceivingMiddleware(s.consent.dropRevoked)
	}
	s.origins = newOriginPolicy(cfg.PublicURL, cfg.AllowedOrigins)
	s.handler = s.routes()
	if s.mode == ModeBasic && cfg.Transport == "http" && !LoopbackListen(cfg.Listen) {
		// Validate refused this unless MCP_ALLOW_REMOTE_BASIC opted in.
		logger.Warn("basic mode listens on a non-loopback address (MCP_ALLOW_REMOTE_BASIC): it authenticates nobody, so anyone who reaches this address acts as the configured Nextcloud user",
			"listen", cfg.Listen, "nextcloud_user", cfg.NextcloudUsername)
	}
	logger.Info("nextcloud-mcp configured", "mode", string(s.mode), "mcp_url", cfg.MCPURL(), "sessions", cfg.SessionMode,
		"nextcloud", cfg.NextcloudHost, "issuer", s.issuer(), "progressive_consent", s.consent != nil, "token_store", s.storeBackend(),
		"tools", len(s.set.Tools()))
	return s, nil
}

// principal keys a request's user for background work: the verified
// token's subject, or "" without a token (basic mode).
func principal(extra *mcp.RequestExtra) string {
	if ti := tokenInfo(extra); ti != nil {
		return ti.UserID
	}
	return ""
}

// setupOAuth discovers the IdP and builds the inbound-token verifier.
func (s *Server) setupOAuth(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.HTTPTimeout)
	defer cancel()
	var (
		meta *oauth.Metadata
		err  error
	)
	if issuer, ok := oauth.IssuerFromMetadataURL(s.cfg.OIDCDiscoveryURL); ok {
		meta, err = oauth.FetchMetadata(dctx, s.hc, s.cfg.OIDCDiscoveryURL, issuer)
	} else {
		meta, err = oauth.Discover(dctx, s.hc, s.cfg.OIDCDiscoveryURL)
	}
	if err != nil {
		return fmt.Errorf("server: identity provider discovery at %s: %w", s.cfg.OIDCDiscoveryURL, err)
	}
	if meta.JWKSURI == "" && meta.IntrospectionEndpoint == "" {
		return errors.New("server: the identity provider publishes neither jwks_uri nor an introspection endpoint; tokens cannot be verified")
	}
	s.meta = meta
	vcfg := verify.Config{
		Issuer:    meta.Issuer,
		Audiences: append([]string{s.cfg.MCPURL(), s.cfg.OIDCClientID}, s.cfg.ExtraAudiences...),

		InsecureSkipAudienceCheck: s.cfg.brokenVariant == variantNoAudienceCheck,
		// The server acts for users: a client's token for itself would
		// make Nextcloud provision a user named after the client.
		RequireUser: s.cfg.brokenVariant != variantAcceptUserless,
	}
	if meta.JWKSURI != "" {
		vcfg.Keys = verify.NewKeySet(meta.JWKSURI, verify.KeySetOptions{HTTPClient: s.hc})
		nv, err := verify.New(verify.Config{Issuer: meta.Issuer, Audiences: []string{s.cfg.NextcloudAudience}, Keys: vcfg.Keys, CacheSize: -1})
		if err != nil {
			return fmt.Errorf("server: Nextcloud-token verifier: %w", err)
		}
		s.ncVerifier = nv
	}
	if meta.IntrospectionEndpoint != "" && s.cfg.OIDCClientSecret != "" {
		vcfg.Introspection = oauth.Endpoint{
			Name: "introspection endpoint", URL: meta.IntrospectionEndpoint, HTTPClient: s.hc,
			Client: oauth.ClientCredentials{ID: s.cfg.OIDCClientID, Secret: s.cfg.OIDCClientSecret},
		}
	}
	v, err := verify.New(vcfg)
	if err != nil {
		return fmt.Errorf("server: token verifier: %w", err)
	}
	s.verifier = v
	if s.cfg.EnableProgressiveConsent {
		cs, err := newConsentService(ctx, s)
		if err != nil {
			return err
		}
		s.consent = cs
		s.closers = append(s.closers, cs.Close)
	}
	return nil
}

// newExchanger builds the RFC 8693 client. It checks each issued token's
// claims for Nextcloud's audience, the caller's subject and this server
// as actor (docs/architecture.md §2.1.1); each token is used once.
func (s *Server) newExchanger() (*exchange.Exchanger, error) {
	if s.meta.TokenEndpoint == "" {
		return nil, errors.New("server: the identity provider has no token endpoint; token exchange is impossible")
	}
	if !s.meta.SupportsGrant(oauth.GrantTypeTokenExchange) {
		// Not fatal: a call then fails with the IdP's own answer, which
		// names the cause. Discovery may simply not list the grant.
		s.logger.Warn("the identity provider does not advertise RFC 8693 token exchange; exchange-mode tool calls will fail until it does")
	}
	if s.ncVerifier == nil {
		return nil, errors.New("server: the identity provider publishes no jwks_uri; exchanged tokens cannot be verified")
	}
	ex, err := exchange.New(exchange.Config{
		TokenEndpoint: s.meta.TokenEndpoint,
		Client:        oauth.ClientCredentials{ID: s.cfg.OIDCClientID, Secret: s.cfg.OIDCClientSecret},
		Audience:      s.cfg.NextcloudAudience,
		Resource:      s.cfg.Resource(),
		Verifier:      s.ncVerifier,
		Actor:         s.cfg.OIDCClientID,
		HTTPClient:    s.hc,
	})
	if err != nil {
		return nil, fmt.Errorf("server: token exchange: %w", err)
	}
	return ex, nil
}

// storeBackend names the token store's engine ("" without consent).
func (s *Server) storeBackend() string {
	if s.consent == nil {
		return ""
	}
	return s.consent.store.Backend()
}

func (s *Server) issuer() string {
	if s.meta == nil {
		return ""
	}
	return s.meta.Issuer
}

// verifyBearer adapts the verifier for server/bearer and records the
// token's hash for the mode layer (see verifiedToken).
func (s *Server) verifyBearer(ctx context.Context, token string) (*auth.TokenInfo, error) {
	ti, err := s.verifier.VerifyTokenInfo(ctx, token)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(token))
	extra := make(map[string]any, len(ti.Extra)+1)
	for k, v := range ti.Extra {
		extra[k] = v
	}
	extra[tokenHashKey] = sum[:]
	ti.Extra = extra
	return ti, nil
}

// routes builds the HTTP surface.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Stateless (docs/architecture.md §1.4): no session outlives its
	// request, so any replica answers any request; each request is
	// authenticated and bound to its token's user on its own.
	stateless := s.cfg.SessionMode == SessionsStateless
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp }, &mcp.StreamableHTTPOptions{
		Logger:              s.logger,
		SessionTimeout:      30 * time.Minute,
		Stateless:           stateless,
		MaxRequestBodyBytes: s.cfg.MaxBodyBytes,
	})
	var mcpHandler http.Handler = streamable
	switch {
	case stateless && s.cfg.brokenVariant != variantNoLimits:
		// No session is held between requests, so there is nothing for
		// the session caps to count: what a client holds is its
		// in-flight requests, bounded by MCP_MAX_CONNECTIONS.
		mcpHandler = batchCap(s.cfg.MaxBatch, s.cfg.MaxBodyBytes, streamable)
	case s.cfg.brokenVariant != variantNoLimits:
		// Innermost, after authentication: the caps count per verified
		// user, and a refused batch costs no session.
		limiter := newSessionLimiter(s.cfg.MaxSessions, s.cfg.MaxSessionsPerUser, s.mcp.Sessions, s.logger)
		mcpHandler = batchCap(s.cfg.MaxBatch, s.cfg.MaxBodyBytes, limiter.wrap(streamable))
	}
	if s.mode != ModeBasic {
		prmPath, _ := bearer.MetadataPath(s.cfg.MCPURL())
		prmURL := trimSlash(s.cfg.PublicURL) + prmPath
		prm := bearer.MetadataHandler(s.cfg.MCPURL(), s.meta.Issuer, s.scopesSupported(), "Nextcloud MCP")
		mux.Handle("GET "+prmPath, prm)
		mux.Handle("GET /.well-known/oauth-protected-resource", prm)
		required := s.policy.required
		if s.cfg.brokenVariant == variantNoCallScopeCheck || s.cfg.brokenVariant == variantNoHTTPScopeCheck {
			required = nil
		}
		mcpHandler = bearer.Middleware(s.verifyBearer, bearer.Options{
			ResourceMetadataURL: prmURL,
			Scope:               s.readScopes(),
			Required:            required,
			MaxBodyBytes:        s.cfg.MaxBodyBytes,
			Logger:              s.logger,
			ClockSkew:           verify.DefaultLeeway,
			InsecureQueryToken:  s.cfg.brokenVariant == variantQueryToken,
		})(mcpHandler)
		mcpHandler = corsMCP(s.origins, mcpHandler)
		if s.cfg.brokenVariant == variantSessionIdentity {
			mcpHandler = brokenSessionIdentityCache(mcpHandler)
		}
	}
	if s.cfg.brokenVariant != variantNoOriginCheck {
		mcpHandler = s.origins.validateOrigin(mcpHandler)
	}
	mux.Handle("/mcp", mcpHandler)
	if s.consent != nil {
		mux.Handle("GET /oauth/callback", http.HandlerFunc(s.consent.callback))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n")) // a probe that hung up needs no answer
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
}

// scopesSupported lists the scopes advertised in PRM: the soft scopes the
// registry's tools and resources use.
func (s *Server) scopesSupported() []string { return s.set.Policy().Scopes() }

// readScopes are the scopes a 401 challenge asks for: every read scope,
// so a fresh client can use the read tools at once and steps up to write
// scopes when it needs them.
func (s *Server) readScopes() []string {
	var out []string
	for _, sc := range s.scopesSupported() {
		if strings.HasSuffix(sc, ":read") {
			out = append(out, sc)
		}
	}
	return out
}

// readyz reports whether the IdP (OAuth modes) and Nextcloud answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	if _, err := s.nc.WithCredentials(nextcloud.Anonymous()).Capabilities(ctx); err != nil {
		checks["nextcloud"] = err.Error()
		ok = false
	} else {
		checks["nextcloud"] = "ok"
	}
	if s.consent != nil {
		if err := s.consent.store.Ping(ctx); err != nil {
			checks["token_store"] = err.Error()
			ok = false
		} else {
			checks["token_store"] = "ok"
		}
	}
	if s.meta != nil {
		if _, err := oauth.Discover(ctx, s.hc, s.meta.Issuer); err != nil {
			checks["identity_provider"] = err.Error()
			ok = false
		} else {
			checks["identity_provider"] = "ok"
		}
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": ok, "checks": checks}) // the status line already told the prober
}

// Handler is the HTTP surface: /mcp, metadata, callback, probes.
func (s *Server) Handler() http.Handler { return s.handler }

// MCP returns the MCP server (for the stdio transport).
func (s *Server) MCP() *mcp.Server { return s.mcp }

// Mode reports the token mode.
func (s *Server) Mode() Mode { return s.mode }

// Close releases the token store.
func (s *Server) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		for i := len(s.closers) - 1; i >= 0; i-- {
			errs = append(errs, s.closers[i]())
		}
	})
	return errors.Join(errs...)
}

// Catalogue describes every module a server can serve: the registry's and
// the progressive-consent tools (served only when that is on).
func Catalogue() []tools.ModuleInfo {
	return tools.NewSet(append(modules.New(), (&consentService{}).module())...).Modules()
}
