package nextcloud

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/wiretest"
)

const (
	testUser     = "alice"
	testPassword = "s3cret-app-password"
	testToken    = "eyJhbGciOiJSUzI1NiJ9.secret-bearer-token.sig"
)

// fixture reads a wire body from testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return wiretest.Fixture(t, filepath.Join("testdata", name))
}

// The test server and its writers are shared with the other client
// packages' tests.
type recorder = wiretest.Recorder

var (
	newRecorder = wiretest.NewRecorder
	writeJSON   = wiretest.WriteJSON
	writeXML    = wiretest.WriteXML
)

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
