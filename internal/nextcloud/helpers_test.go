package nextcloud

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const (
	testUser     = "alice"
	testPassword = "s3cret-app-password"
	testToken    = "eyJhbGciOiJSUzI1NiJ9.secret-bearer-token.sig"
)

// fixture reads a wire body from testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seen is one request as the test server received it.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// recorder is an httptest server that records requests and answers with h.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func (r *recorder) requests() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

func newRecorder(t testing.TB, h http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), string(body)})
		rec.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// noSleep records backoff delays instead of sleeping, keeping retry tests
// fast.
type noSleep struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (n *noSleep) sleep(ctx context.Context, d time.Duration) error {
	n.mu.Lock()
	n.delays = append(n.delays, d)
	n.mu.Unlock()
	return ctx.Err()
}

func withSleep(f func(context.Context, time.Duration) error) Option {
	return func(c *config) { c.sleep = f }
}

// newTestClient returns a client for rec with Basic credentials and no real
// backoff sleeping.
func newTestClient(t testing.TB, rec *recorder, opts ...Option) *Client {
	t.Helper()
	ns := &noSleep{}
	all := append([]Option{withSleep(ns.sleep)}, opts...)
	c, err := New(rec.URL, Basic(testUser, testPassword), all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeJSON answers with a JSON body the way Nextcloud's AppFramework does.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
