package nextcloud

import (
	"bytes"
	"context"
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

// Request describes one call for Send and the helpers built on it (JSON,
// OCS, WebDAV). Op, Resource and ETag only shape error messages; the rest
// is the HTTP request.
type Request struct {
	// Op is a verb phrase naming the call in error messages: "get note 42".
	// Empty: the method and path stand in.
	Op string
	// Resource names the object, when there is one: "Note 42". A missing,
	// locked or concurrently changed object is reported by this name.
	Resource string
	// ETag is the etag a conditional write sent (If-Match), for the text
	// of a 412.
	ETag string

	Method string
	// Path is the escaped path below the base URL, starting with "/"; it
	// must not contain "." or ".." segments, a query or a fragment.
	Path   string
	Query  url.Values
	Header http.Header
	// Body is the request body, or nil. Send never closes it: the caller
	// owns it.
	Body io.Reader
	// GetBody, when set, returns a fresh copy of the body for another
	// attempt. Without it, a Body that is an io.Seeker is rewound instead;
	// any other body makes the request a single attempt.
	GetBody func() (io.Reader, error)
	// ContentLength is the body's size, when known. Send finds it itself
	// for *bytes.Reader, *bytes.Buffer and *strings.Reader bodies; 0 with
	// another body means unknown (sent chunked).
	ContentLength int64

	// Idempotent marks a request that may be sent again after a transport
	// failure or a 429/5xx answer.
	Idempotent bool
	// AppRoute marks an index.php/apps/... route, which Nextcloud guards
	// with its #[CORS] middleware (see WithAppRouteOCSHeader).
	AppRoute bool
	// OCS marks an OCS API call: "format=json" is added to the query and
	// "OCS-APIRequest: true" to the header.
	OCS bool
	// MaxResponseBytes caps this call's response body; 0 uses the Client's
	// limit (WithMaxResponseBytes).
	MaxResponseBytes int64
}

// Response is Nextcloud's answer to a Request, whatever its status. Body
// streams: the caller reads it and must close it. Reading past the call's
// size limit fails with an *Error that names the limit, and the call's
// timeout still runs while the body is read; Close releases it.
type Response struct {
	Status int
	Header http.Header
	Body   io.ReadCloser
}

// ErrResponseTooLarge matches a call whose response body exceeded its
// size limit.
var ErrResponseTooLarge = errors.New("nextcloud: response body too large")

type limitError struct{ limit int64 }

func (l *limitError) Error() string {
	return fmt.Sprintf("response body exceeds the %s limit", humanBytes(l.limit))
}
func (l *limitError) Is(target error) bool { return target == ErrResponseTooLarge }

// Send sends r and returns Nextcloud's response, whatever its status. A
// non-nil error means there is no usable response: an invalid request,
// a transport failure or the call's timeout, all as *Error. Idempotent
// requests with a rewindable body are retried on transport failures and
// on 429, 500, 502, 503 and 504, within the call's timeout.
func (c *Client) Send(ctx context.Context, r *Request) (*Response, error) {
	target, err := c.target(r)
	if err != nil {
		return nil, err
	}
	src := newBodySource(r)
	attempts := 1
	if r.Idempotent && src.rewindable() {
		attempts = c.cfg.maxAttempts
	}
	res, err := c.run(ctx, r, attempts, func(ctx context.Context, attempt int) (*http.Request, error) {
		body, err := src.open(ctx, attempt)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, r.Method, target, body)
		if err != nil {
			return nil, err
		}
		if src.length > 0 {
			req.ContentLength = src.length
		}
		for k, v := range r.Header {
			req.Header[k] = v
		}
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: res.Body}, nil
}

// target validates r's path and returns the URL to send it to.
func (c *Client) target(r *Request) (string, error) {
	if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?#") || hasDotSegment(r.Path) {
		return "", fmt.Errorf("%w: request path %q must be an escaped absolute path without . or .. segments", ErrInvalidPath, r.Path)
	}
	t := c.base + r.Path
	q := r.Query
	if r.OCS {
		q = make(url.Values, len(r.Query)+1)
		for k, v := range r.Query {
			q[k] = v
		}
		q.Set("format", "json")
	}
	if len(q) > 0 {
		t += "?" + q.Encode()
	}
	return t, nil
}

// hasDotSegment reports whether a path has a "." or ".." segment, also
// percent-encoded (RFC 3986 §6.2.2.2: "%2E" is ".").
func hasDotSegment(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == "." || s == ".." {
			return true
		}
		if strings.Contains(s, "%") {
			if dec, err := url.PathUnescape(s); err == nil && hasDotSegment(dec) {
				return true
			}
		}
	}
	return false
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

// buildFunc makes the HTTP request of one attempt, with ctx (the call's).
type buildFunc func(ctx context.Context, attempt int) (*http.Request, error)

// run performs a call: up to attempts attempts within the call's timeout.
// It returns the final response whatever its status, its body wrapped to
// enforce r's size limit and to release the call's context on Close.
func (c *Client) run(ctx context.Context, r *Request, attempts int, build buildFunc) (*http.Response, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	handedOver := false
	defer func() {
		if !handedOver {
			cancel()
		}
	}()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, c.ctxError(parent, r, err)
		}
		req, err := build(ctx, attempt)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, c.ctxError(parent, r, ctxErr)
			}
			return nil, c.errorAt(r, 0, err)
		}
		c.authorize(req, r)
		res, err := c.cfg.hc.Do(req)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, c.ctxError(parent, r, ctxErr)
			}
			transportErr := c.errorAt(r, 0, scrubURLError(err))
			if attempt >= attempts {
				return nil, transportErr
			}
			d, ok := c.delay(ctx, attempt, 0)
			if !ok {
				// No time left for another attempt: the transport failure
				// is the fact to report.
				return nil, transportErr
			}
			if werr := c.pause(ctx, r, attempt, d, err.Error()); werr != nil {
				if ctx.Err() != nil {
					return nil, c.ctxError(parent, r, werr)
				}
				return nil, transportErr
			}
			continue
		}
		if retryableStatus(res.StatusCode) && attempt < attempts {
			d, ok := c.delay(ctx, attempt, retryAfter(res.Header.Get("Retry-After")))
			if ok {
				drain(res.Body)
				if werr := c.pause(ctx, r, attempt, d, strconv.Itoa(res.StatusCode)); werr != nil {
					return nil, c.ctxError(parent, r, werr)
				}
				continue
			}
			// Out of time for another attempt: report what the server
			// said rather than a bare timeout, it is the more useful fact.
			if parent.Err() != nil {
				drain(res.Body)
				return nil, c.ctxError(parent, r, parent.Err())
			}
		}
		limit := r.MaxResponseBytes
		if limit <= 0 {
			limit = c.cfg.maxBody
		}
		status := res.StatusCode
		res.Body = &limitedBody{rc: res.Body, limit: limit, cancel: cancel, fail: func(err error) error {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return c.ctxError(parent, r, ctxErr)
			}
			var le *limitError
			if errors.As(err, &le) {
				return c.errorAt(r, status, err)
			}
			return c.errorAt(r, status, scrubURLError(err))
		}}
		handedOver = true
		return res, nil
	}
}

// authorize adds what every request carries: User-Agent, OCS-APIRequest
// where it belongs and the credentials (replacing any Authorization the
// request came with).
func (c *Client) authorize(req *http.Request, r *Request) {
	if c.cfg.userAgent != "" {
		req.Header.Set("User-Agent", c.cfg.userAgent)
	}
	if r.OCS || (r.AppRoute && c.cfg.ocsOnAppRoutes) {
		req.Header.Set("OCS-APIRequest", "true")
	}
	req.Header.Del("Authorization")
	c.creds.apply(req.Header)
}

// drain reads a little of an unwanted body, so the connection can be
// reused, and closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 4<<10)
	_ = rc.Close()
}

// errorAt builds the *Error of r for a status (0: no response) and cause.
func (c *Client) errorAt(r *Request, status int, cause error) *Error {
	return &Error{Op: r.Op, Resource: r.Resource, Method: r.Method, Path: r.Path,
		Status: status, AuthKind: c.creds.kind(), ETag: r.ETag, Err: cause}
}

// limitedBody is a response body that fails past the call's size limit,
// maps read failures to *Error, and ends the call's context on Close.
type limitedBody struct {
	rc     io.ReadCloser
	n      int64
	limit  int64
	err    error // sticky
	cancel context.CancelFunc
	fail   func(error) error
	once   sync.Once
	cerr   error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Ask for one byte beyond the limit at most, to tell "exactly the
	// limit" from "more".
	if room := b.limit + 1 - b.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		n -= int(b.n - b.limit)
		b.n = b.limit
		b.err = b.fail(&limitError{b.limit})
		return n, b.err
	}
	if err != nil && err != io.EOF {
		b.err = b.fail(err)
		return n, b.err
	}
	return n, err
}

func (b *limitedBody) Close() error {
	b.once.Do(func() {
		b.cerr = b.rc.Close()
		b.cancel()
	})
	return b.cerr
}

// bodySource hands each attempt of a Send its request body.
type bodySource struct {
	first  io.Reader
	get    func() (io.Reader, error)
	seeker io.Seeker
	offset int64
	length int64 // > 0: Content-Length
	empty  bool  // known to be empty
	last   *guardedBody
}

func newBodySource(r *Request) *bodySource {
	s := &bodySource{first: r.Body, get: r.GetBody, length: r.ContentLength}
	if r.Body == nil {
		return s
	}
	known := int64(-1)
	switch b := r.Body.(type) {
	case *bytes.Reader:
		known = int64(b.Len())
	case *strings.Reader:
		known = int64(b.Len())
	case *bytes.Buffer:
		known = int64(b.Len())
		if s.get == nil {
			snapshot := b.Bytes()
			s.get = func() (io.Reader, error) { return bytes.NewReader(snapshot), nil }
		}
	}
	if known >= 0 && s.length <= 0 {
		s.length = known
		s.empty = known == 0
	}
	if s.get == nil {
		if sk, ok := r.Body.(io.Seeker); ok {
			if off, err := sk.Seek(0, io.SeekCurrent); err == nil {
				s.seeker, s.offset = sk, off
			}
		}
	}
	return s
}

// rewindable reports whether the body can be sent more than once.
func (s *bodySource) rewindable() bool { return s.first == nil || s.get != nil || s.seeker != nil }

// open returns the body for an attempt. The transport closes what it gets;
// that never reaches the caller's body.
func (s *bodySource) open(ctx context.Context, attempt int) (io.Reader, error) {
	switch {
	case s.first == nil:
		return nil, nil
	case s.empty:
		return http.NoBody, nil
	case attempt == 1 && s.seeker == nil:
		return struct{ io.Reader }{s.first}, nil // hides the caller's Close
	case attempt > 1 && s.get != nil:
		r, err := s.get()
		if err != nil {
			return nil, fmt.Errorf("rewinding the request body: %w", err)
		}
		return struct{ io.Reader }{r}, nil
	case s.seeker == nil:
		return nil, errors.New("the request body cannot be sent again")
	}
	if s.last != nil {
		// The transport may read the previous attempt's body until it
		// closes it; rewinding before that would race with it.
		select {
		case <-s.last.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if _, err := s.seeker.Seek(s.offset, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewinding the request body: %w", err)
		}
	}
	s.last = &guardedBody{r: s.first, done: make(chan struct{})}
	return s.last, nil
}

// guardedBody lends a seekable body to one attempt: once the transport
// closes it, it reads no more, so the next attempt may rewind it.
type guardedBody struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
	done   chan struct{}
}

var errBodyClosed = errors.New("request body closed")

func (g *guardedBody) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, errBodyClosed
	}
	return g.r.Read(p)
}

func (g *guardedBody) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		close(g.done)
	}
	return nil
}

// delay returns how long to wait before the next attempt (wait > 0 is a
// server-requested delay, Retry-After, capped at the configured maximum),
// and false when the call's deadline comes first.
func (c *Client) delay(ctx context.Context, attempt int, wait time.Duration) (time.Duration, bool) {
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
		return 0, false
	}
	return d, true
}

// pause logs a retry and waits d.
func (c *Client) pause(ctx context.Context, r *Request, attempt int, d time.Duration, why string) error {
	c.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "nextcloud request retry",
		slog.String("method", r.Method), slog.String("path", r.Path),
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
func (c *Client) ctxError(parent context.Context, r *Request, err error) error {
	e := c.errorAt(r, 0, nil)
	e.ETag = ""
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
