// Package nextcloud is the core of a typed, context-aware client for the
// Nextcloud HTTP API: one Client per server and set of credentials, the
// request/response primitives every app builds on (Send, JSON, OCS, WebDAV,
// and Do for libraries that take an *http.Client-like value), OCS (current
// user, capabilities) and WebDAV files. Each Nextcloud app has its own
// sub-package on top of this one (notes: the Notes API v1 and note
// attachments).
//
// Every call is bounded by a timeout (WithTimeout, default 30 s) that covers
// all of its attempts and the reading of the response body. Only requests
// marked idempotent are retried (see WithRetry), and only when their body
// can be sent again: safe methods (GET, HEAD, PROPFIND) and unconditional
// PUTs such as the Notes settings. POST, DELETE, MOVE and conditional writes
// (PUT with If-Match) are never retried, because a retry after a first
// attempt that did land would report a false conflict (412) or a false "not
// found" (404) instead of the success that happened.
//
// Response bodies stream: no call buffers more than its size limit
// (WithMaxResponseBytes, or Request.MaxResponseBytes per call), and reading
// past the limit fails with an error that names it.
//
// Failures are *Error values whose text is safe to show to a user: they
// never contain credentials, and they name the operation and the object
// ("Note 42 not found", "Note 42 changed since etag X; fetch it again").
package nextcloud

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/upstream"
)

// Defaults for a Client; each has an Option.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 10 << 20 // 10 MiB: a chunk of 100 notes or one attachment
	DefaultMaxAttempts      = 3
	DefaultRetryBase        = 200 * time.Millisecond
	DefaultRetryMax         = 2 * time.Second
	// DefaultUIDCacheSize and DefaultUIDCacheTTL bound the cache of uids
	// per authenticated principal (WithUIDCache).
	DefaultUIDCacheSize = 4096
	DefaultUIDCacheTTL  = 10 * time.Minute
)

// AuthKind names the kind of credentials a request carried.
type AuthKind string

// The credential kinds.
const (
	AuthNone   AuthKind = "none"
	AuthBasic  AuthKind = "basic"
	AuthBearer AuthKind = "bearer"
)

// Credentials authenticate requests to Nextcloud. Build them with Basic,
// Bearer, BearerFor or Anonymous. Their String, GoString and LogValue never
// reveal the secret, so a stray %v or slog attribute cannot leak it.
type Credentials interface {
	apply(h http.Header)
	kind() AuthKind
	// principalKey names the authenticated principal for the uid cache; it
	// is never a raw secret. salt keys the hash of a bare token. "" means
	// nobody (anonymous): nothing is cached.
	principalKey(salt []byte) string
}

type basicCreds struct{ user, password string }

func (b basicCreds) apply(h http.Header) {
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(b.user+":"+b.password)))
}
func (basicCreds) kind() AuthKind                     { return AuthBasic }
func (b basicCreds) principalKey([]byte) string       { return "login:" + b.user }
func (b basicCreds) String() string                   { return "basic(" + b.user + ")" }
func (b basicCreds) GoString() string                 { return b.String() }
func (b basicCreds) LogValue() slog.Value             { return slog.StringValue(b.String()) }
func (b bearerCreds) apply(h http.Header)             { h.Set("Authorization", "Bearer "+b.token) }
func (bearerCreds) kind() AuthKind                    { return AuthBearer }
func (bearerCreds) String() string                    { return "bearer(redacted)" }
func (b bearerCreds) GoString() string                { return b.String() }
func (b bearerCreds) LogValue() slog.Value            { return slog.StringValue(b.String()) }
func (noCreds) apply(http.Header)                     {}
func (noCreds) kind() AuthKind                        { return AuthNone }
func (noCreds) principalKey([]byte) string            { return "" }
func (noCreds) String() string                        { return "anonymous" }
func (b bearerCreds) principalKey(salt []byte) string { return b.key(salt) }

type bearerCreds struct{ principal, token string }

// key is the principal when the caller named one; otherwise a keyed hash
// of the token, so that the cache holds nothing a token could be recovered
// from or matched against outside this process.
func (b bearerCreds) key(salt []byte) string {
	if b.principal != "" {
		return "principal:" + b.principal
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(b.token))
	return "token:" + hex.EncodeToString(m.Sum(nil))
}

type noCreds struct{}

// Basic returns HTTP Basic credentials: a login name and a password or,
// better, an app password. The uid cache keys on the login name.
func Basic(user, password string) Credentials { return basicCreds{user: user, password: password} }

// Bearer returns credentials that send the token as "Authorization: Bearer".
// The uid cache keys on a hash of the token, so a new token costs a new
// uid lookup; use BearerFor when the principal is known.
func Bearer(token string) Credentials { return bearerCreds{token: token} }

// BearerFor returns bearer credentials for the given principal: the stable
// name of the authenticated user, such as the subject of the inbound token
// that a per-request token was exchanged for. Clients derived from one base
// then share the principal's uid across calls and tokens. The principal
// only keys the cache: the uid itself always comes from Nextcloud. An empty
// principal is Bearer(token).
func BearerFor(principal, token string) Credentials {
	return bearerCreds{principal: principal, token: token}
}

// Anonymous returns credentials that send no Authorization header, for
// public endpoints such as capabilities (a readiness probe).
func Anonymous() Credentials { return noCreds{} }

// Option configures a Client.
type Option func(*config)

type config struct {
	hc             *http.Client
	timeout        time.Duration
	maxBody        int64
	maxAttempts    int
	retryBase      time.Duration
	retryMax       time.Duration
	userAgent      string
	logger         *slog.Logger
	ocsOnAppRoutes bool
	uidCacheSize   int
	uidCacheTTL    time.Duration
	sleep          func(ctx context.Context, d time.Duration) error
}

// WithHTTPClient sets the HTTP client (and so the transport) every request
// uses; without it a Client gets its own upstream.NewTransport, kept alive
// between calls and shared by its WithCredentials copies. Its Timeout, if any, bounds each attempt; the Client's own timeout
// (WithTimeout) bounds each call. Do not give it a cookie jar: Nextcloud
// sessions must not leak between users sharing the transport. The Client
// uses a copy whose redirect policy refuses to follow a redirect off the
// base URL (the credentials would follow it).
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.hc = hc } }

// WithTimeout bounds each call, all its retries and the reading of its
// response body included. Zero or negative keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithMaxResponseBytes caps how much of a response body a call reads; a
// larger body fails the call with a clear error. Request.MaxResponseBytes
// overrides it per call. Zero or negative keeps the default.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithRetry sets how many attempts an idempotent request gets (1 disables
// retries) and the exponential backoff between them (base, doubling, capped
// at max, with jitter). A Retry-After header is honoured up to max.
func WithRetry(attempts int, base, max time.Duration) Option {
	return func(c *config) {
		if attempts >= 1 {
			c.maxAttempts = attempts
		}
		if base > 0 {
			c.retryBase = base
		}
		if max > 0 {
			c.retryMax = max
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithLogger sets the logger for retries. Log lines carry method, path,
// status and attempt, never headers or bodies.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithAppRouteOCSHeader chooses whether requests to index.php app routes
// (Notes) carry "OCS-APIRequest: true". Default true: that header makes
// Nextcloud's #[CORS] middleware accept the request without re-checking
// Basic auth, which is what lets a bearer token reach the Notes API on a
// stock server (docs/nextcloud-contract.md §1.3). The upstream Python client
// does not send it; turn it off to behave like upstream.
func WithAppRouteOCSHeader(on bool) Option { return func(c *config) { c.ocsOnAppRoutes = on } }

// WithUIDCache bounds the cache of uids (the user's name in DAV paths) that
// a Client and every copy made by WithCredentials share: at most size
// principals, each remembered for ttl after Nextcloud named its uid. Zero
// or negative values keep the defaults.
func WithUIDCache(size int, ttl time.Duration) Option {
	return func(c *config) {
		if size > 0 {
			c.uidCacheSize = size
		}
		if ttl > 0 {
			c.uidCacheTTL = ttl
		}
	}
}

// Client talks to one Nextcloud server with one set of credentials. It is
// safe for concurrent use. WithCredentials makes cheap copies for other
// users that share the transport, the options and the uid cache.
type Client struct {
	base    string   // scheme://host[/prefix], no trailing slash
	baseURL *url.URL // base, parsed: the only place credentials may go
	creds   Credentials
	key     string // the credentials' principal key in uids; "" caches nothing
	cfg     *config
	uids    *uidCache
}

// New returns a client for the Nextcloud at baseURL (e.g.
// "https://cloud.example.com" or "https://example.com/nextcloud"). The URL
// must be http or https and must not embed credentials.
func New(baseURL string, creds Credentials, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("nextcloud: invalid base URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("nextcloud: base URL %q must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("nextcloud: base URL %q has no host", u.Redacted())
	}
	if u.User != nil {
		return nil, errors.New("nextcloud: base URL must not contain credentials; pass them with Basic or Bearer")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("nextcloud: base URL %q must not have a query or fragment", u.Redacted())
	}
	if hasDotSegment(u.Path) {
		return nil, fmt.Errorf("nextcloud: base URL %q must not contain . or .. segments", u.Redacted())
	}
	if creds == nil {
		creds = Anonymous()
	}
	cfg := &config{
		timeout:        DefaultTimeout,
		maxBody:        DefaultMaxResponseBytes,
		maxAttempts:    DefaultMaxAttempts,
		retryBase:      DefaultRetryBase,
		retryMax:       DefaultRetryMax,
		userAgent:      "nextcloud-mcp-go",
		ocsOnAppRoutes: true,
		uidCacheSize:   DefaultUIDCacheSize,
		uidCacheTTL:    DefaultUIDCacheTTL,
		sleep:          sleepCtx,
	}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	var hc http.Client
	if cfg.hc != nil {
		hc = *cfg.hc
	} else {
		// One tuned transport per Client, shared by every copy
		// WithCredentials makes: connections to Nextcloud stay alive
		// between calls, whoever makes them.
		hc.Transport = upstream.NewTransport(upstream.DefaultMaxConns)
		// The per-call context deadline is the real bound; this backstop
		// keeps a misbehaving server from holding an attempt forever even
		// if a caller passes a context without a deadline to a raw request.
		hc.Timeout = cfg.timeout
	}
	base := &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: strings.TrimRight(u.Path, "/"), RawPath: strings.TrimRight(u.RawPath, "/")}
	hc.CheckRedirect = stayOnBase(base, hc.CheckRedirect)
	cfg.hc = &hc
	c := &Client{
		base:    base.Scheme + "://" + base.Host + base.EscapedPath(),
		baseURL: base,
		cfg:     cfg,
		uids:    newUIDCache(cfg.uidCacheSize, cfg.uidCacheTTL),
	}
	c.setCreds(creds)
	return c, nil
}

// stayOnBase wraps a redirect policy so that a redirect off the base URL is
// not followed (the 3xx is returned): the request carries credentials.
func stayOnBase(base *url.URL, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !onBase(base, req.URL) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// onBase reports whether u is below base: the only URLs credentials may
// be sent to.
func onBase(base, u *url.URL) bool {
	if u == nil || u.User != nil || u.Opaque != "" ||
		!strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return false
	}
	if hasDotSegment(u.Path) || hasDotSegment(u.EscapedPath()) {
		return false
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	return base.Path == "" || p == base.Path || strings.HasPrefix(p, base.Path+"/")
}

func (c *Client) setCreds(creds Credentials) {
	c.creds = creds
	c.key = creds.principalKey(c.uids.salt[:])
}

// WithCredentials returns a copy of c that authenticates with creds and
// shares c's transport, options and uid cache. It is cheap enough to call
// per request.
func (c *Client) WithCredentials(creds Credentials) *Client {
	if creds == nil {
		creds = Anonymous()
	}
	cp := &Client{base: c.base, baseURL: c.baseURL, cfg: c.cfg, uids: c.uids}
	cp.setCreds(creds)
	return cp
}

// String describes c without its secret, so printing a Client (even with
// %+v, which would otherwise walk into the credentials) is safe.
func (c *Client) String() string {
	return "nextcloud.Client(" + c.base + ", " + string(c.creds.kind()) + ")"
}

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// BaseURL returns the Nextcloud base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// AuthKind reports which kind of credentials c sends.
func (c *Client) AuthKind() AuthKind { return c.creds.kind() }

// Timeout returns the per-call timeout.
func (c *Client) Timeout() time.Duration { return c.cfg.timeout }

// CloseIdleConnections closes the idle connections of the transport c
// shares with its base and every other copy (at shutdown).
func (c *Client) CloseIdleConnections() { c.cfg.hc.CloseIdleConnections() }

// MaxResponseBytes returns the default per-call response size limit.
func (c *Client) MaxResponseBytes() int64 { return c.cfg.maxBody }

// newSalt returns a random key for hashing bearer tokens.
func newSalt() (s [32]byte) {
	if _, err := rand.Read(s[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to
		// a non-secret key rather than panic (the hash still hides the
		// token, only without a per-process key).
		for i := range s {
			s[i] = byte(mathrand.Uint32())
		}
	}
	return s
}
