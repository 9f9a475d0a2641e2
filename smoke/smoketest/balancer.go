package smoketest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// Balancer is the scale-out suite's load balancer: a test-side
// round-robin reverse proxy in front of the server replicas (the engine
// under test is PostgreSQL and the replicas, not the balancer). Request i
// goes to the next backend in turn; a backend that refuses the connection
// (a killed replica) is skipped and the request goes to the next one, as a
// balancer's health check would arrange — the request never reached the
// dead backend, so resending it is safe. A response that fails midway is
// not retried.
type Balancer struct {
	URL string

	backends []*url.URL
	// transport opens a connection per request: a killed replica then
	// always shows as a refused connection, never as a pooled connection
	// that dies under a request.
	transport *http.Transport
	srv       *http.Server
	ln        net.Listener

	mu   sync.Mutex
	next int
	hits []Hit
}

// Hit is one request the balancer forwarded: to which backend (index),
// what, and the status it got (0: the backend refused the connection).
type Hit struct {
	Backend int
	Method  string
	Path    string
	Status  int
}

// maxBalancedBody bounds a buffered request body (go-sdk's own bound).
const maxBalancedBody = 4 << 20

// StartBalancer listens on addr (127.0.0.1:port) and forwards to backends
// (base URLs) in turn.
func StartBalancer(addr string, backends []string) (*Balancer, error) {
	b := &Balancer{transport: &http.Transport{DisableKeepAlives: true}}
	for _, raw := range backends {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, err
		}
		b.backends = append(b.backends, u)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b.ln, b.URL = ln, "http://"+ln.Addr().String()
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }() // ends with Close
	return b, nil
}

// Close stops the balancer.
func (b *Balancer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.srv.Shutdown(ctx)
}

// Hits returns what was forwarded so far.
func (b *Balancer) Hits() []Hit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Hit(nil), b.hits...)
}

// Next is the backend the next request tries first.
func (b *Balancer) Next() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.next % len(b.backends)
}

// Skip moves the turn to the following backend.
func (b *Balancer) Skip() {
	b.mu.Lock()
	b.next++
	b.mu.Unlock()
}

func (b *Balancer) turn() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.next % len(b.backends)
	b.next++
	return i
}

func (b *Balancer) record(h Hit) {
	b.mu.Lock()
	b.hits = append(b.hits, h)
	b.mu.Unlock()
}

func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxBalancedBody+1))
		if err != nil || len(body) > maxBalancedBody {
			http.Error(w, "balancer: unreadable or oversized body", http.StatusBadRequest)
			return
		}
	}
	first := b.turn()
	for k := range b.backends {
		i := (first + k) % len(b.backends)
		refused := false
		// Every hit is recorded before the first byte of the answer
		// reaches the client: a test that reads Hits right after its call
		// returned must find that call there.
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(b.backends[i])
				pr.Out.Host = pr.In.Host // the public host, as a balancer keeps it
			},
			Transport:     b.transport,
			FlushInterval: -1, // SSE responses stream through
			ModifyResponse: func(resp *http.Response) error {
				b.record(Hit{Backend: i, Method: r.Method, Path: r.URL.Path, Status: resp.StatusCode})
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				if errors.Is(err, syscall.ECONNREFUSED) {
					refused = true
					b.record(Hit{Backend: i, Method: r.Method, Path: r.URL.Path})
					return
				}
				b.record(Hit{Backend: i, Method: r.Method, Path: r.URL.Path, Status: http.StatusBadGateway})
				w.WriteHeader(http.StatusBadGateway)
			},
		}
		req := r.Clone(r.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		proxy.ServeHTTP(w, req)
		if refused {
			continue
		}
		return
	}
	http.Error(w, "balancer: every backend refused the connection", http.StatusBadGateway)
}
