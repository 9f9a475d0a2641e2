package server

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/envflag"
	ncfiles "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/files"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// Mode is how the server obtains the credentials it sends to Nextcloud
// (docs/architecture.md §2.1). Tool code never sees it.
type Mode string

const (
	// ModeBasic: one shared Nextcloud client with an app password; no
	// inbound authentication (bind to loopback).
	ModeBasic Mode = "basic"
	// ModePassthrough: the validated inbound token is sent to Nextcloud as
	// is — the MCP specification's "token passthrough" pattern; kept for
	// deployments whose IdP lacks RFC 8693, with that trade-off documented.
	ModePassthrough Mode = "passthrough"
	// ModeExchange: every call exchanges the inbound token (RFC 8693) for a
	// short-lived Nextcloud-audience token used for that call only.
	ModeExchange Mode = "exchange"
)

// Config is the server's configuration. Flags and environment variables
// (upstream-compatible names where one exists) fill it; see Bind.
type Config struct {
	// Listen is the HTTP listen address ("127.0.0.1:0" picks a port).
	Listen string
	// PublicURL is the externally visible base URL of this server
	// (NEXTCLOUD_MCP_SERVER_URL); the MCP endpoint, and so the canonical
	// resource identifier tokens must name, is PublicURL + "/mcp". Empty:
	// derived from the bound listen address.
	PublicURL string
	// Transport is "http" (streamable HTTP at /mcp) or "stdio".
	Transport string

	NextcloudHost     string
	NextcloudUsername string
	NextcloudPassword string

	// OIDCDiscoveryURL is the IdP's issuer or its discovery document URL.
	OIDCDiscoveryURL string
	// OIDCClientID/Secret are this server's confidential client at the IdP
	// (token exchange, Flow 2, introspection). The client id is also an
	// accepted token audience besides the canonical resource URL.
	OIDCClientID     string
	OIDCClientSecret string
	// NextcloudAudience is Nextcloud's client id at the IdP: the audience
	// of exchanged tokens and of Flow 2 grants.
	NextcloudAudience string
	// NextcloudResource is the RFC 8707 resource indicator of Nextcloud,
	// sent with NextcloudAudience on Flow 2 (authorization, code and
	// refresh requests) and on token exchange, so a resource-indicator IdP
	// issues Nextcloud's token rather than one for its own userinfo
	// endpoint. Empty means NextcloudHost; ResourceNone sends none.
	NextcloudResource string
	// ExtraAudiences are further accepted audiences of inbound tokens.
	ExtraAudiences []string

	EnableTokenExchange bool
	// ExchangeRefreshFallback lets a failed exchange fall back to the
	// user's Flow 2 refresh grant. Off by default: it breaks invariant 1
	// (refresh tokens never serve tool calls) and conformance flags it.
	ExchangeRefreshFallback bool

	EnableProgressiveConsent bool
	TokenEncryptionKey       string
	TokenStorageDB           string
	// TokenStorageURL, a postgres:// URL, puts the token store in
	// PostgreSQL instead of the SQLite file TokenStorageDB: what several
	// replicas share (docs/architecture.md §1.4). TokenStorageMaxConns
	// bounds this process's connections to it.
	TokenStorageURL      string
	TokenStorageMaxConns int
	// TokenStorageTimeout bounds every statement of the token store: a
	// database that is down or hangs fails the one request with a clear
	// error after this long.
	TokenStorageTimeout time.Duration
	// SessionMode is "stateful" (MCP sessions live in this process) or
	// "stateless" (go-sdk's stateless streamable HTTP: any replica answers
	// any request); empty picks stateless with a PostgreSQL store (a
	// deployment of several replicas) and stateful otherwise.
	SessionMode string
	// SyncInterval is how often the background worker runs the modules'
	// background work (the notes search index) for each user with
	// background access. Its variable keeps the upstream name,
	// NOTES_SYNC_INTERVAL.
	SyncInterval time.Duration

	// MaxSessions bounds the live MCP sessions, MaxSessionsPerUser those
	// of one user (a new session beyond it closes the user's oldest), and
	// MaxBatch the messages of one JSON-RPC batch.
	MaxSessions        int
	MaxSessionsPerUser int
	MaxBatch           int
	// MaxBodyBytes bounds the body of one request to /mcp, as go-sdk
	// does (4 MiB): a file written through nc_webdav_write_file travels in
	// it, base64 adding a third, so large writes need it raised.
	MaxBodyBytes int64

	// FilesMaxReadBytes is the largest file a tool reads (the Files
	// module's nc_webdav_read_file and nc://Files/ resources);
	// FilesChunkSize the chunk of Nextcloud's chunked upload, used for
	// writes larger than one chunk.
	FilesMaxReadBytes int64
	FilesChunkSize    int64

	// AllowedOrigins are the web origins besides the server's own whose
	// requests to /mcp are served (MCP_ALLOWED_ORIGINS).
	AllowedOrigins []string

	// AllowRemoteBasic lets basic mode listen on a non-loopback address.
	// Basic mode has no inbound authentication: whoever reaches the
	// listener acts as NEXTCLOUD_USERNAME, so Validate refuses such an
	// address unless this explicit opt-in is given, and New logs a
	// warning when it is used.
	AllowRemoteBasic bool

	// HTTPTimeout bounds every request to Nextcloud and the IdP.
	HTTPTimeout time.Duration
	// BodyTimeout bounds how long a client may take to send a request's
	// body, IdleTimeout how long an idle keep-alive connection stays
	// open, MaxConnections how many connections are served at once
	// (serve.Limits; the request headers are bounded to 10 s).
	BodyTimeout    time.Duration
	IdleTimeout    time.Duration
	MaxConnections int
	LogFormat      string
	LogLevel       string

	// brokenVariant names a deliberately broken behaviour for the
	// conformance self-test. Only SetBrokenVariant, compiled with the
	// conformance_selftest build tag, sets it: no flag, environment
	// variable or config file reaches it.
	brokenVariant string

	// Modules, when set, builds the modules to serve instead of the
	// registry (modules.New): for programs that embed the server with a
	// module of their own, and for tests. No flag or variable sets it.
	Modules func() []tools.Module
}

// Deliberately broken variants (conformance self-test only).
const (
	variantNoCallScopeCheck    = "no-call-scope-check"
	variantExchangeFallback    = "exchange-fallback-passthrough"
	variantNoAudienceCheck     = "no-audience-check"
	variantRefreshForToolCalls = "refresh-for-tool-calls"
	variantNoOriginCheck       = "no-origin-check"
	variantAcceptUserless      = "accept-userless-tokens"
	variantNoLimits            = "no-session-or-batch-caps"
	variantPublicCache         = "public-cache-scope"
	variantSessionIdentity     = "session-identity-cache"
	variantExchangeReuse       = "exchanged-token-reuse"
	variantLogTokens           = "log-issued-tokens"
	variantRefreshCached       = "refresh-cached-for-tool-calls"
	variantQueryToken          = "query-token-accepted"
	// variantNoHTTPScopeCheck leaves only the MCP layer's call check (a
	// test of that layer as wired; not a self-test variant).
	variantNoHTTPScopeCheck = "no-http-scope-check"
)

// envNames maps flag names to their environment variables.
var envNames = map[string]string{
	"listen":                    "MCP_LISTEN",
	"public-url":                "NEXTCLOUD_MCP_SERVER_URL",
	"transport":                 "MCP_TRANSPORT",
	"nextcloud-host":            "NEXTCLOUD_HOST",
	"nextcloud-username":        "NEXTCLOUD_USERNAME",
	"nextcloud-password":        "NEXTCLOUD_PASSWORD",
	"oidc-discovery-url":        "OIDC_DISCOVERY_URL",
	"oidc-client-id":            "OIDC_CLIENT_ID",
	"oidc-client-secret":        "OIDC_CLIENT_SECRET",
	"nextcloud-audience":        "NEXTCLOUD_OIDC_AUDIENCE",
	"nextcloud-resource":        "NEXTCLOUD_RESOURCE",
	"extra-audiences":           "MCP_EXTRA_AUDIENCES",
	"enable-token-exchange":     "ENABLE_TOKEN_EXCHANGE",
	"exchange-refresh-fallback": "TOKEN_EXCHANGE_REFRESH_FALLBACK",
	"progressive-consent":       "ENABLE_PROGRESSIVE_CONSENT",
	"token-encryption-key":      "TOKEN_ENCRYPTION_KEY",
	"token-storage-db":          "TOKEN_STORAGE_DB",
	"token-storage-url":         "TOKEN_STORAGE_URL",
	"token-storage-max-conns":   "TOKEN_STORAGE_MAX_CONNS",
	"token-storage-timeout":     "TOKEN_STORAGE_TIMEOUT",
	"session-mode":              "MCP_SESSION_MODE",
	"sync-interval":             "NOTES_SYNC_INTERVAL",
	"http-timeout":              "NEXTCLOUD_HTTP_TIMEOUT",
	"body-timeout":              "MCP_BODY_TIMEOUT",
	"idle-timeout":              "MCP_IDLE_TIMEOUT",
	"max-connections":           "MCP_MAX_CONNECTIONS",
	"allow-remote-basic":        "MCP_ALLOW_REMOTE_BASIC",
	"allowed-origins":           "MCP_ALLOWED_ORIGINS",
	"max-sessions":              "MCP_MAX_SESSIONS",
	"max-sessions-per-user":     "MCP_MAX_SESSIONS_PER_USER",
	"max-batch":                 "MCP_MAX_BATCH",
	"max-body-bytes":            "MCP_MAX_BODY_BYTES",
	"files-max-read-bytes":      "FILES_MAX_READ_BYTES",
	"files-chunk-size":          "FILES_CHUNK_SIZE",
	"log-format":                "LOG_FORMAT",
	"log-level":                 "LOG_LEVEL",
}

// EnvNames returns the flag → environment variable table (the README
// documents each; a test checks it).
func EnvNames() map[string]string {
	out := make(map[string]string, len(envNames))
	for k, v := range envNames {
		out[k] = v
	}
	return out
}

// Bind registers the configuration's flags on fs with their defaults.
func (c *Config) Bind(fs *flag.FlagSet) {
	u := func(name, text string) string { return text + envflag.Usage(envNames, name) }
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8000", u("listen", "HTTP listen address (port 0 picks a free port)"))
	fs.StringVar(&c.PublicURL, "public-url", "", u("public-url", "public base URL of this server; the MCP endpoint is <public-url>/mcp (default: from the bound address)"))
	fs.StringVar(&c.Transport, "transport", "http", u("transport", "http (streamable HTTP at /mcp) or stdio (basic mode only)"))
	fs.StringVar(&c.NextcloudHost, "nextcloud-host", "", u("nextcloud-host", "Nextcloud base URL"))
	fs.StringVar(&c.NextcloudUsername, "nextcloud-username", "", u("nextcloud-username", "login name for basic mode"))
	fs.StringVar(&c.NextcloudPassword, "nextcloud-password", "", u("nextcloud-password", "app password for basic mode"))
	fs.StringVar(&c.OIDCDiscoveryURL, "oidc-discovery-url", "", u("oidc-discovery-url", "IdP issuer URL or its /.well-known/openid-configuration URL (OAuth modes)"))
	fs.StringVar(&c.OIDCClientID, "oidc-client-id", "", u("oidc-client-id", "this server's client id at the IdP (also an accepted token audience)"))
	fs.StringVar(&c.OIDCClientSecret, "oidc-client-secret", "", u("oidc-client-secret", "this server's client secret at the IdP"))
	fs.StringVar(&c.NextcloudAudience, "nextcloud-audience", "nextcloud", u("nextcloud-audience", "Nextcloud's client id at the IdP (audience of exchanged and Flow 2 tokens)"))
	fs.StringVar(&c.NextcloudResource, "nextcloud-resource", "", u("nextcloud-resource", "RFC 8707 resource indicator of Nextcloud sent on Flow 2 and token exchange (default: --nextcloud-host; none sends none)"))
	fs.Func("extra-audiences", u("extra-audiences", "comma-separated further accepted audiences of inbound tokens"), func(s string) error {
		c.ExtraAudiences = splitList(s)
		return nil
	})
	fs.BoolVar(&c.EnableTokenExchange, "enable-token-exchange", false, u("enable-token-exchange", "OAuth mode: exchange the client's token per call (RFC 8693) instead of passing it through"))
	fs.BoolVar(&c.ExchangeRefreshFallback, "exchange-refresh-fallback", false, u("exchange-refresh-fallback", "when an exchange fails, serve the call with the user's offline grant (breaks invariant 1; off by default)"))
	fs.BoolVar(&c.EnableProgressiveConsent, "progressive-consent", false, u("progressive-consent", "require users to provision offline access (Flow 2) before Nextcloud tools work"))
	fs.StringVar(&c.TokenEncryptionKey, "token-encryption-key", "", u("token-encryption-key", "key for stored refresh tokens (`nextcloud-mcp keygen` prints one)"))
	fs.StringVar(&c.TokenStorageDB, "token-storage-db", "nextcloud-mcp-tokens.db", u("token-storage-db", "SQLite file for provisioned grants (one process)"))
	fs.StringVar(&c.TokenStorageURL, "token-storage-url", "", u("token-storage-url", "postgres:// URL of a PostgreSQL database for the token store, shared by several replicas (instead of --token-storage-db)"))
	fs.IntVar(&c.TokenStorageMaxConns, "token-storage-max-conns", 10, u("token-storage-max-conns", "PostgreSQL connections of this process at most"))
	fs.DurationVar(&c.TokenStorageTimeout, "token-storage-timeout", tokenstore.DefaultStatementTimeout, u("token-storage-timeout", "every token-store statement must finish within this time"))
	fs.StringVar(&c.SessionMode, "session-mode", "", u("session-mode", "stateful or stateless MCP sessions (default: stateless with --token-storage-url, else stateful)"))
	fs.Func("allowed-origins", u("allowed-origins", "comma-separated web origins (scheme://host[:port]) besides this server's own whose browser requests /mcp serves; others get 403"), func(s string) error {
		c.AllowedOrigins = splitList(s)
		return nil
	})
	fs.IntVar(&c.MaxSessions, "max-sessions", DefaultMaxSessions, u("max-sessions", "live MCP sessions at most; beyond, new sessions get 503"))
	fs.IntVar(&c.MaxSessionsPerUser, "max-sessions-per-user", DefaultMaxSessionsPerUser, u("max-sessions-per-user", "live MCP sessions of one user at most; a new one closes the user's oldest"))
	fs.IntVar(&c.MaxBatch, "max-batch", DefaultMaxBatch, u("max-batch", "messages of one JSON-RPC batch at most (protocol 2025-03-26); longer batches are refused"))
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", DefaultMaxBodyBytes, u("max-body-bytes", "bytes of one request body to /mcp at most (a file written through a tool travels in it, base64 adding a third); larger bodies get 413"))
	fs.Int64Var(&c.FilesMaxReadBytes, "files-max-read-bytes", tools.DefaultMaxReadBytes, u("files-max-read-bytes", "largest file a tool reads, in bytes; larger files are refused with an error naming this limit"))
	fs.Int64Var(&c.FilesChunkSize, "files-chunk-size", tools.DefaultChunkSize, u("files-chunk-size", "files written with more bytes than this are uploaded in chunks of this size (Nextcloud's chunked upload v2; at least 5 MiB)"))
	fs.BoolVar(&c.AllowRemoteBasic, "allow-remote-basic", false, u("allow-remote-basic", "let basic mode (no inbound authentication) listen on a non-loopback address: anyone who reaches it acts as the configured user"))
	fs.DurationVar(&c.SyncInterval, "sync-interval", 5*time.Minute, u("sync-interval", "background notes index refresh interval"))
	fs.DurationVar(&c.HTTPTimeout, "http-timeout", 30*time.Second, u("http-timeout", "timeout of every request to Nextcloud and the IdP"))
	fs.DurationVar(&c.BodyTimeout, "body-timeout", serve.DefaultBodyTimeout, u("body-timeout", "a request's body must arrive within this time after its headers, or the connection is closed"))
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", serve.DefaultIdleTimeout, u("idle-timeout", "idle keep-alive connections are closed after this time"))
	fs.IntVar(&c.MaxConnections, "max-connections", serve.DefaultMaxConnections, u("max-connections", "connections served at once; more wait until one closes"))
	fs.StringVar(&c.LogFormat, "log-format", "text", u("log-format", "text or json"))
	fs.StringVar(&c.LogLevel, "log-level", "info", u("log-level", "debug, info, warn or error"))
}

// ApplyEnv fills flags that were not given from their environment
// variables. Call after fs.Parse.
func ApplyEnv(fs *flag.FlagSet) error { return envflag.Apply(fs, envNames) }

// Mode derives the token mode: basic when both Nextcloud credentials are
// set, otherwise OAuth (exchange when enabled, else pass-through).
func (c *Config) Mode() Mode {
	switch {
	case c.NextcloudUsername != "" && c.NextcloudPassword != "":
		return ModeBasic
	case c.EnableTokenExchange:
		return ModeExchange
	default:
		return ModePassthrough
	}
}

// Validate reports every configuration problem at once, naming flags and
// environment variables but never a secret's value.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkURL(c.NextcloudHost); err != nil {
		bad("NEXTCLOUD_HOST (--nextcloud-host): %v", err)
	}
	if c.PublicURL != "" {
		if err := checkURL(c.PublicURL); err != nil {
			bad("NEXTCLOUD_MCP_SERVER_URL (--public-url): %v", err)
		}
	}
	if (c.NextcloudUsername == "") != (c.NextcloudPassword == "") {
		bad("NEXTCLOUD_USERNAME and NEXTCLOUD_PASSWORD must be set together (basic mode)")
	}
	switch c.Transport {
	case "http", "stdio":
	default:
		bad("MCP_TRANSPORT (--transport) must be http or stdio, not %q", c.Transport)
	}
	mode := c.Mode()
	if mode == ModeBasic {
		if c.OIDCDiscoveryURL != "" {
			bad("basic mode (NEXTCLOUD_USERNAME/NEXTCLOUD_PASSWORD) and OIDC_DISCOVERY_URL are mutually exclusive: unset one")
		}
		if c.EnableTokenExchange || c.EnableProgressiveConsent {
			bad("ENABLE_TOKEN_EXCHANGE and ENABLE_PROGRESSIVE_CONSENT need an OAuth mode, not basic mode")
		}
		if c.Transport == "http" && !c.AllowRemoteBasic && !LoopbackListen(c.Listen) {
			bad("MCP_LISTEN (--listen) is not a loopback address, and basic mode authenticates nobody: whoever reaches it would act as NEXTCLOUD_USERNAME; listen on 127.0.0.1 or [::1], use an OAuth mode, or set MCP_ALLOW_REMOTE_BASIC=true (--allow-remote-basic) to accept that")
		}
	} else {
		if c.Transport == "stdio" {
			bad("the stdio transport works in basic mode only: set NEXTCLOUD_USERNAME and NEXTCLOUD_PASSWORD")
		}
		if c.OIDCDiscoveryURL == "" {
			bad("no credentials configured: set NEXTCLOUD_USERNAME and NEXTCLOUD_PASSWORD (basic mode) or OIDC_DISCOVERY_URL and OIDC_CLIENT_ID (OAuth modes)")
		} else if err := checkURL(c.OIDCDiscoveryURL); err != nil {
			bad("OIDC_DISCOVERY_URL (--oidc-discovery-url): %v", err)
		}
		if c.OIDCDiscoveryURL != "" && c.OIDCClientID == "" {
			bad("OIDC_CLIENT_ID (--oidc-client-id) is required in OAuth modes")
		}
		needSecret := c.EnableTokenExchange || c.EnableProgressiveConsent
		if needSecret && c.OIDCClientSecret == "" {
			bad("OIDC_CLIENT_SECRET (--oidc-client-secret) is required for token exchange and progressive consent")
		}
		if c.EnableTokenExchange && c.NextcloudAudience == "" {
			bad("NEXTCLOUD_OIDC_AUDIENCE (--nextcloud-audience) must name Nextcloud's client id for token exchange")
		}
		if r := c.NextcloudResource; r != "" && r != ResourceNone {
			if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.Fragment != "" || u.User != nil {
				// A resource indicator is no secret; naming it tells what to fix.
				bad("NEXTCLOUD_RESOURCE (--nextcloud-resource) must be an absolute URI without fragment or credentials (RFC 8707 §2), or %q, not %q", ResourceNone, r)
			}
		}
		if c.ExchangeRefreshFallback && (!c.EnableTokenExchange || !c.EnableProgressiveConsent) {
			bad("TOKEN_EXCHANGE_REFRESH_FALLBACK needs ENABLE_TOKEN_EXCHANGE and ENABLE_PROGRESSIVE_CONSENT")
		}
		if c.EnableProgressiveConsent {
			if c.TokenEncryptionKey == "" {
				bad("TOKEN_ENCRYPTION_KEY (--token-encryption-key) is required for progressive consent; `nextcloud-mcp keygen` prints one")
			}
			if c.TokenStorageDB == "" && c.TokenStorageURL == "" {
				bad("TOKEN_STORAGE_DB (--token-storage-db) or TOKEN_STORAGE_URL (--token-storage-url) is required for progressive consent")
			}
		}
	}
	if c.TokenStorageURL != "" && !tokenstore.IsPostgresURL(c.TokenStorageURL) {
		// Never echo the value: it may hold a password.
		bad("TOKEN_STORAGE_URL (--token-storage-url) must be a postgres:// or postgresql:// URL")
	}
	if c.TokenStorageMaxConns < 0 || c.TokenStorageMaxConns == 1 {
		bad("TOKEN_STORAGE_MAX_CONNS (--token-storage-max-conns) must be at least 2 (a refresh holds one connection while it writes on another)")
	}
	if c.TokenStorageTimeout < 0 {
		bad("TOKEN_STORAGE_TIMEOUT (--token-storage-timeout) must not be negative")
	}
	switch c.SessionMode {
	case "", SessionsStateful, SessionsStateless:
	default:
		bad("MCP_SESSION_MODE (--session-mode) must be stateful or stateless, not %q", c.SessionMode)
	}
	if c.HTTPTimeout <= 0 {
		bad("NEXTCLOUD_HTTP_TIMEOUT (--http-timeout) must be positive")
	}
	if c.SyncInterval <= 0 {
		bad("NOTES_SYNC_INTERVAL (--sync-interval) must be positive")
	}
	for _, o := range c.AllowedOrigins {
		if _, err := normalizeOrigin(o); err != nil {
			// An origin is no secret; naming it tells which entry to fix.
			bad("MCP_ALLOWED_ORIGINS (--allowed-origins): %q %v", o, err)
		}
	}
	if c.MaxSessions < 0 {
		bad("MCP_MAX_SESSIONS (--max-sessions) must be positive")
	}
	if c.MaxSessionsPerUser < 0 || (c.MaxSessions > 0 && c.MaxSessionsPerUser > c.MaxSessions) {
		bad("MCP_MAX_SESSIONS_PER_USER (--max-sessions-per-user) must be positive and at most MCP_MAX_SESSIONS")
	}
	if c.MaxBatch < 0 {
		bad("MCP_MAX_BATCH (--max-batch) must be positive")
	}
	if c.MaxBodyBytes < 0 {
		bad("MCP_MAX_BODY_BYTES (--max-body-bytes) must be positive")
	}
	if c.FilesMaxReadBytes < 0 {
		bad("FILES_MAX_READ_BYTES (--files-max-read-bytes) must be positive")
	}
	if c.FilesChunkSize != 0 && (c.FilesChunkSize < ncfiles.MinChunkSize || c.FilesChunkSize > MaxFilesChunkSize) {
		bad("FILES_CHUNK_SIZE (--files-chunk-size) must be between %d (5 MiB, Nextcloud's minimum) and %d (1 GiB)", ncfiles.MinChunkSize, MaxFilesChunkSize)
	}
	if c.BodyTimeout < 0 {
		bad("MCP_BODY_TIMEOUT (--body-timeout) must not be negative")
	}
	if c.IdleTimeout < 0 {
		bad("MCP_IDLE_TIMEOUT (--idle-timeout) must not be negative")
	}
	if c.MaxConnections < 0 {
		bad("MCP_MAX_CONNECTIONS (--max-connections) must not be negative")
	}
	return errors.Join(errs...)
}

// splitList splits a comma-separated value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// LoopbackListen reports whether a listen address binds loopback only: a
// literal loopback IP (127.0.0.0/8, ::1) or "localhost". An empty host,
// an unspecified address (0.0.0.0, ::) and every other name or address
// may be reachable from the network. Names are not resolved: what a name
// resolves to can change after the check.
func LoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	// The value is never echoed: a URL may carry a password.
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("is not an http(s) URL with a host")
	}
	if u.User != nil {
		return errors.New("must not contain credentials")
	}
	return nil
}

// applyDefaults fills the bounds a program that builds a Config by hand
// (the dev stack, tests) left at zero; flags always set them.
func (c *Config) applyDefaults() {
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxSessionsPerUser == 0 {
		c.MaxSessionsPerUser = min(DefaultMaxSessionsPerUser, c.MaxSessions)
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.SessionMode == "" {
		c.SessionMode = SessionsStateful
		if c.TokenStorageURL != "" {
			c.SessionMode = SessionsStateless
		}
	}
}

// ResourceNone as NEXTCLOUD_RESOURCE sends no resource indicator.
const ResourceNone = "none"

// Resource is the RFC 8707 resource indicator sent for Nextcloud:
// NextcloudResource, by default NextcloudHost without a trailing slash,
// and "" for ResourceNone.
func (c *Config) Resource() string {
	switch c.NextcloudResource {
	case ResourceNone:
		return ""
	case "":
		return trimSlash(c.NextcloudHost)
	}
	return c.NextcloudResource
}

// The session modes (MCP_SESSION_MODE; docs/architecture.md §1.4).
const (
	SessionsStateful  = "stateful"
	SessionsStateless = "stateless"
)

// Limits are the connection bounds of the HTTP listener (zero fields take
// serve's defaults).
func (c *Config) Limits() serve.Limits {
	return serve.Limits{BodyTimeout: c.BodyTimeout, IdleTimeout: c.IdleTimeout, MaxConnections: c.MaxConnections}.WithDefaults()
}

// MCPURL is the canonical resource identifier: PublicURL + "/mcp", without
// a trailing slash (RFC 8707 §2, MCP 2025-11-25 canonical server URI).
func (c *Config) MCPURL() string { return trimSlash(c.PublicURL) + "/mcp" }

// trimSlash drops trailing slashes from a base URL.
func trimSlash(s string) string { return strings.TrimRight(s, "/") }
