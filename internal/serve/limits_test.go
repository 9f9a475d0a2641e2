package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closeBound is how long a test waits for the server to close a
// connection it must close. It is generous: the tests are about the
// server closing at all (today's bug: never), not about how fast.
const closeBound = 15 * time.Second

// start runs h under RunListener with limits on a loopback port and
// returns its address; the server stops when the test ends.
func start(t *testing.T, h http.Handler, l Limits) string {
	t.Helper()
	ln, _, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunListener(ctx, ln, "http://"+ln.Addr().String(), Options{Handler: h, Limits: l, Stdout: io.Discard, Logger: slog.New(slog.DiscardHandler)})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(closeBound):
			t.Error("the server did not stop")
		}
	})
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn within d: a read
// returns EOF or a reset (whatever the server wrote before closing is
// read and returned).
func closedWithin(conn net.Conn, d time.Duration) (string, bool) {
	_ = conn.SetReadDeadline(time.Now().Add(d)) // a failure leaves the read unbounded: the test then fails by timeout
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return string(b), false
	}
	return string(b), true
}

// TestSlowBodyIsCut: a client that sends the headers of a POST with a
// large Content-Length and then trickles its body keeps a connection only
// until the body timeout, whether or not the handler reads the body (an
// OAuth server answers 401 without reading it, and the server would then
// wait for the body to drain).
func TestSlowBodyIsCut(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{name: "handler reads the body", handler: func(w http.ResponseWriter, r *http.Request) {
			_, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				http.Error(w, "slow body", http.StatusRequestTimeout)
				return
			}
			_, _ = io.WriteString(w, "read") // the client may be gone
		}},
		{name: "handler refuses without reading", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no token", http.StatusUnauthorized)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := start(t, tt.handler, Limits{BodyTimeout: 300 * time.Millisecond})
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer func() { _ = conn.Close() }() // closed by the server already when the test passes
			_, err = fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", addr)
			require.NoError(t, err)
			// Trickle one byte every 100 ms, as the attacker did, until the
			// server hangs up (a write then fails) or the test ends.
			stop := make(chan struct{})
			defer close(stop)
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
			got, closed := closedWithin(conn, closeBound)
			assert.True(t, closed, "the server kept a trickling request open for %s (read %q)", closeBound, got)
		})
	}
}

// TestIdleKeepAliveIsClosed: a keep-alive connection that sends nothing
// after its request is closed after the idle timeout.
func TestIdleKeepAliveIsClosed(t *testing.T) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok") // the client may be gone
	}), Limits{IdleTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	_, err = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.False(t, resp.Close, "the server meant to keep the connection alive")

	_ = conn.SetReadDeadline(time.Now().Add(closeBound))
	rest, err := io.ReadAll(br)
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "an idle keep-alive connection stayed open for %s", closeBound)
	assert.Empty(t, rest)
}

// TestMaxConnections: beyond the bound, a new connection is not served
// until one of the open ones closes; it is served then.
func TestMaxConnections(t *testing.T) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok") // the client may be gone
	}), Limits{MaxConnections: 2, IdleTimeout: time.Minute})
	get := func(conn net.Conn) (*http.Response, error) {
		if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
			return nil, err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return resp, errors.Join(err, resp.Body.Close())
	}
	var held []net.Conn
	for i := range 2 {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer func() { _ = conn.Close() }()
		_, err = get(conn)
		require.NoError(t, err, "connection %d", i+1)
		held = append(held, conn)
	}
	third, err := net.Dial("tcp", addr) // the kernel accepts it; the server does not serve it yet
	require.NoError(t, err)
	defer func() { _ = third.Close() }()
	served := make(chan error, 1)
	go func() {
		_, err := get(third)
		served <- err
	}()
	select {
	case err := <-served:
		t.Fatalf("a third connection was served while two were open (err %v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	require.NoError(t, held[0].Close())
	select {
	case err := <-served:
		assert.NoError(t, err)
	case <-time.After(closeBound):
		t.Fatal("the third connection was not served after one closed")
	}
}

func TestLimitsDefaults(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), Limits{})
	assert.Equal(t, DefaultReadHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, DefaultIdleTimeout, srv.IdleTimeout)
	assert.Zero(t, srv.WriteTimeout, "a write timeout would cut SSE streams")
	assert.Zero(t, srv.ReadTimeout, "a whole-request read timeout would cancel long streams; the body timeout is per request")
}
