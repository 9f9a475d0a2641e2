package serve

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults of Limits (docs/architecture.md §4.1).
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxConnections    = 1024
)

// Limits bound what one client can hold of a server: how long it may take
// to send a request, how long an idle keep-alive connection stays open,
// and how many connections are served at once. Responses are not bounded
// in time: MCP streams server-sent events for as long as a session lives.
type Limits struct {
	// ReadHeaderTimeout bounds the request line and headers
	// (DefaultReadHeaderTimeout when zero).
	ReadHeaderTimeout time.Duration
	// BodyTimeout bounds the request body, counted from the end of the
	// headers (DefaultBodyTimeout when zero). It also bounds the draining
	// of a body the handler did not read, so a refusal (a 401 sent before
	// the body arrived) cannot keep a trickling client's connection.
	BodyTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long
	// (DefaultIdleTimeout when zero).
	IdleTimeout time.Duration
	// MaxConnections bounds the connections served at once
	// (DefaultMaxConnections when zero, no bound when negative). Further
	// connections wait in the kernel's accept queue until one closes.
	MaxConnections int
}

// WithDefaults fills the zero fields of l with the defaults.
func (l Limits) WithDefaults() Limits {
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = DefaultBodyTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	return l
}

// NewServer returns an http.Server for h bounded by l (see Limits). Serve
// it on LimitListener(ln, l.MaxConnections) to bound connections too.
//
// There is deliberately no http.Server.ReadTimeout: it would stay armed
// while a handler streams a long response, and net/http cancels a
// request's context when its connection read times out. The body deadline
// is set per request instead and lifted once the body has been read.
func NewServer(h http.Handler, l Limits) *http.Server {
	l = l.WithDefaults()
	return &http.Server{
		Handler:           bodyDeadline(h, l.BodyTimeout),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
	}
}

// bodyDeadline arms a read deadline for a request that has a body and
// lifts it when the body has been read to its end.
func bodyDeadline(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			// Not a plain HTTP/1 connection (a test recorder): nothing
			// to bound here.
			next.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() {
			// Lifting can only fail on a connection already gone.
			_ = rc.SetReadDeadline(time.Time{})
		}}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the connection's read deadline once the body has
// been read completely, so that a long response to it (an SSE stream) is
// not cut when the deadline passes.
type deadlineBody struct {
	io.ReadCloser
	lift   func()
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		b.lift()
	}
	return n, err
}

// LimitListener returns ln bounded to n connections served at once (no
// bound when n <= 0): Accept waits until a served connection closes.
func LimitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
