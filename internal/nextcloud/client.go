// Package nextcloud is a typed, context-aware client for the parts of the
// Nextcloud HTTP API this server uses: OCS (current user, capabilities), the
// Notes API v1 and WebDAV files (note attachments).
//
// Every call is bounded by a timeout (WithTimeout, default 30 s) that covers
// all of its attempts. Only idempotent requests are retried (see
// WithRetry): safe methods (GET, HEAD, PROPFIND) and the unconditional
// settings PUT. POST, DELETE, MOVE and conditional writes (PUT with
// If-Match) are never retried, because a retry after a first attempt that
// did land would report a false conflict (412) or a false "not found" (404)
// instead of the success that happened.
//
// Failures are *Error values whose text is safe to show to a user: they
// never contain credentials, and they name the operation and the object
// ("Note 42 not found", "Note 42 changed since etag X; fetch it again").
package nextcloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for a Client; each has an Option.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 10 << 20 // 10 MiB: a chunk of 100 notes or one attachment
	DefaultMaxAttempts      = 3
	DefaultRetryBase        = 200 * time.Millisecond
	DefaultRetryMax         = 2 * time.Second
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
// Bearer or Anonymous. Their String, GoString and LogValue never reveal the
// secret, so a stray %v or slog attribute cannot leak it.
type Credentials interface {
	apply(h http.Header)
	kind() AuthKind
}

type basicCreds struct{ user, password string }

func (b basicCreds) apply(h http.Header) {
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(b.user+":"+b.password)))
}
func (basicCreds) kind() AuthKind         { return AuthBasic }
func (b basicCreds) String() string       { return "basic(" + b.user + ")" }
func (b basicCreds) GoString() string     { return b.String() }
func (b basicCreds) LogValue() slog.Value { return slog.StringValue(b.String()) }

type bearerCreds struct{ token string }

func (b bearerCreds) apply(h http.Header)  { h.Set("Authorization", "Bearer "+b.token) }
func (bearerCreds) kind() AuthKind         { return AuthBearer }
func (bearerCreds) String() string         { return "bearer(redacted)" }
func (b bearerCreds) GoString() string     { return b.String() }
func (b bearerCreds) LogValue() slog.Value { return slog.StringValue(b.String()) }

type noCreds struct{}

func (noCreds) apply(http.Header) {}
func (noCreds) kind() AuthKind    { return AuthNone }
func (noCreds) String() string    { return "anonymous" }

// Basic returns HTTP Basic credentials: a login name and a password or,
// better, an app password.
func Basic(user, password string) Credentials { return basicCreds{user, password} }

// Bearer returns credentials that send the token as "Authorization: Bearer".
func Bearer(token string) Credentials { return bearerCreds{token} }

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
	sleep          func(ctx context.Context, d time.Duration) error
}

// WithHTTPClient sets the HTTP client (and so the transport) every request
// uses. Its Timeout, if any, bounds each attempt; the Client's own timeout
// (WithTimeout) bounds each call. Do not give it a cookie jar: Nextcloud
// sessions must not leak between users sharing the transport.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.hc = hc } }

// WithTimeout bounds each call, all its retries included. Zero or negative
// keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithMaxResponseBytes caps how much of a response body is read; a larger
// body fails the call with a clear error. Zero or negative keeps the default.
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
// stock server (nextcloud-wire.md §1.3). The upstream Python client does
// not send it; turn it off to behave like upstream.
func WithAppRouteOCSHeader(on bool) Option { return func(c *config) { c.ocsOnAppRoutes = on } }

// Client talks to one Nextcloud server with one set of credentials. It is
// safe for concurrent use. WithCredentials makes cheap copies for other
// users that share the transport.
type Client struct {
	base  string // scheme://host[/prefix], no trailing slash
	creds Credentials
	cfg   *config

	mu  sync.Mutex
	uid string // cached from CurrentUser, per credentials
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
		sleep:          sleepCtx,
	}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.hc == nil {
		// The per-call context deadline is the real bound; this backstop
		// keeps a misbehaving server from holding an attempt forever even if
		// a caller passes a context without a deadline to a raw request.
		cfg.hc = &http.Client{Timeout: cfg.timeout}
	}
	base := u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/")
	return &Client{base: base, creds: creds, cfg: cfg}, nil
}

// WithCredentials returns a copy of c that authenticates with creds and
// shares c's transport and options. It is cheap enough to call per request.
func (c *Client) WithCredentials(creds Credentials) *Client {
	if creds == nil {
		creds = Anonymous()
	}
	return &Client{base: c.base, creds: creds, cfg: c.cfg}
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

// request describes one logical call.
type request struct {
	op       string // verb phrase for messages: "get note 42"
	resource string // subject for messages: "Note 42" (may be empty)
	etag     string // the etag a conditional write sent, for 412 messages

	method string
	path   string // already escaped, starting with "/"
	query  url.Values
	header http.Header
	body   []byte

	idempotent bool // may be retried
	appRoute   bool // index.php/apps/... (#[CORS] routes)
	ocs        bool // OCS API: envelope, format=json
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// retryableStatus lists the statuses worth another attempt of an
// idempotent request: transient server trouble and rate limiting.
func retryableStatus(s int) bool {
	switch s {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// do sends r, retrying idempotent requests on transport errors and
// retryable statuses. It returns the final response whatever its status;
// a non-nil error means no usable response (transport, timeout, size).
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	defer cancel()

	target := c.base + r.path
	if r.ocs {
		q := url.Values{}
		for k, v := range r.query {
			q[k] = v
		}
		q.Set("format", "json")
		r.query = q
	}
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}

	attempts := 1
	if r.idempotent {
		attempts = c.cfg.maxAttempts
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, r, target)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, c.ctxError(parent, r, ctxErr)
			}
			if tooBig := (*sizeError)(nil); errors.As(err, &tooBig) {
				return nil, c.newError(r, &response{status: tooBig.status}, fmt.Errorf("response body exceeds the %s limit", humanBytes(c.cfg.maxBody)))
			}
			transportErr := &Error{Op: r.op, Resource: r.resource, Method: r.method, Path: r.path, AuthKind: c.creds.kind(), Err: scrubURLError(err)}
			if attempt >= attempts {
				return nil, transportErr
			}
			if werr := c.backoff(ctx, r, attempt, 0, err.Error()); werr != nil {
				if ctx.Err() != nil {
					return nil, c.ctxError(parent, r, werr)
				}
				// No time left for another attempt: the transport failure
				// is the fact to report.
				return nil, transportErr
			}
			continue
		}
		if retryableStatus(resp.status) && attempt < attempts {
			wait := retryAfter(resp.header.Get("Retry-After"))
			if werr := c.backoff(ctx, r, attempt, wait, strconv.Itoa(resp.status)); werr != nil {
				// Out of time: report what the server said rather than a
				// bare timeout, it is the more useful fact.
				if parent.Err() != nil {
					return nil, c.ctxError(parent, r, parent.Err())
				}
				return resp, nil
			}
			continue
		}
		return resp, nil
	}
}

// once performs a single HTTP exchange and reads the (size-limited) body.
func (c *Client) once(ctx context.Context, r *request, target string) (*response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if c.cfg.userAgent != "" {
		req.Header.Set("User-Agent", c.cfg.userAgent)
	}
	if r.ocs || (r.appRoute && c.cfg.ocsOnAppRoutes) {
		req.Header.Set("OCS-APIRequest", "true")
	}
	c.creds.apply(req.Header)
	res, err := c.cfg.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, c.cfg.maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.cfg.maxBody {
		return nil, &sizeError{status: res.StatusCode}
	}
	return &response{status: res.StatusCode, header: res.Header, body: data}, nil
}

type sizeError struct{ status int }

func (e *sizeError) Error() string { return "response body too large" }

// backoff waits before the next attempt; wait > 0 is a server-requested
// delay (Retry-After), capped at the configured maximum.
func (c *Client) backoff(ctx context.Context, r *request, attempt int, wait time.Duration, why string) error {
	d := c.cfg.retryBase << (attempt - 1)
	if d <= 0 || d > c.cfg.retryMax {
		d = c.cfg.retryMax
	}
	// ±20 % jitter so many clients retrying one server do not align.
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	if wait > 0 {
		d = min(wait, c.cfg.retryMax)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return context.DeadlineExceeded
	}
	c.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "nextcloud request retry",
		slog.String("method", r.method), slog.String("path", r.path),
		slog.String("cause", why), slog.Int("attempt", attempt), slog.Duration("delay", d))
	return c.cfg.sleep(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfter parses a Retry-After header in seconds (the HTTP-date form is
// ignored: Nextcloud sends seconds).
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// ctxError turns a context error into an *Error that says whether the
// per-call timeout expired or the caller gave up.
func (c *Client) ctxError(parent context.Context, r *request, err error) error {
	e := &Error{Op: r.op, Resource: r.resource, Method: r.method, Path: r.path, AuthKind: c.creds.kind()}
	if perr := parent.Err(); perr != nil {
		e.Err = perr
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		e.Err = &timeoutError{d: c.cfg.timeout}
		return e
	}
	e.Err = err
	return e
}

type timeoutError struct{ d time.Duration }

func (t *timeoutError) Error() string { return fmt.Sprintf("no answer within %s", t.d) }
func (t *timeoutError) Timeout() bool { return true }
func (t *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// scrubURLError removes the URL from a *url.Error: the path can carry a
// user id, and the message reads better without it ("connection refused").
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
