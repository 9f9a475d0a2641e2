package devstack_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
)

// closeBound is how long the tests wait for a listener to close a
// connection it must close: generous, as the tests are about closing at
// all, not about speed.
const closeBound = 15 * time.Second

// closedWithin reports whether the peer closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d)) // without it the read is unbounded and the test fails by its own timeout
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	timedOut := errors.As(err, &ne) && ne.Timeout()
	return !timedOut
}

// trickle sends the headers of a POST with a large body to path on
// base's host, then one byte every 100 ms until the connection fails or
// stop closes.
func trickle(t *testing.T, base, path string, stop <-chan struct{}) net.Conn {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() }) // already closed by the listener when the test passes
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{", path, u.Host)
	require.NoError(t, err)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	return conn
}

// TestListenersCutSlowClients: the dev stack's three listeners (the MCP
// server, the fake IdP, the fake Nextcloud) close connections whose body
// trickles, also several at once and unauthenticated (the MCP server in
// OAuth mode answers 401 before the body arrives), and idle keep-alive
// connections.
func TestListenersCutSlowClients(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange,
		Limits: serve.Limits{BodyTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}})
	tests := []struct {
		name, base, path string
	}{
		{name: "MCP server", base: st.BaseURL, path: "/mcp"},
		{name: "fake IdP", base: st.IdPURL, path: "/token"},
		{name: "fake Nextcloud", base: st.NextcloudURL, path: "/index.php/apps/notes/api/v1/notes"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" slow bodies", func(t *testing.T) {
			stop := make(chan struct{})
			defer close(stop)
			const clients = 10
			var wg sync.WaitGroup
			open := make(chan int, clients)
			for i := range clients {
				conn := trickle(t, tt.base, tt.path, stop)
				wg.Go(func() {
					if !closedWithin(conn, closeBound) {
						open <- i
					}
				})
			}
			wg.Wait()
			close(open)
			var still []int
			for i := range open {
				still = append(still, i)
			}
			assert.Empty(t, still, "trickling clients still connected after %s", closeBound)
		})
		t.Run(tt.name+" idle keep-alive", func(t *testing.T) {
			u, err := url.Parse(tt.base)
			require.NoError(t, err)
			conn, err := net.Dial("tcp", u.Host)
			require.NoError(t, err)
			defer func() { _ = conn.Close() }()
			// A complete request on a keep-alive connection, then silence.
			_, err = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host)
			require.NoError(t, err)
			assert.True(t, closedWithin(conn, closeBound), "an idle keep-alive connection stayed open for %s", closeBound)
		})
	}
}
