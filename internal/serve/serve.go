// Package serve runs an HTTP handler the way every binary of this project
// does: listen (port 0 picks a free port), print one JSON "ready" line on
// stdout once the socket accepts connections, serve until the context ends
// (SIGTERM/SIGINT in the binaries), then shut down gracefully.
//
// The ready line is the contract that scripts, the smoke suite and the
// conformance runner rely on to learn the chosen port without parsing logs:
//
//	{"ready":true,"url":"http://127.0.0.1:PORT", ...extra fields}
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"
)

// Options configures Run.
type Options struct {
	// Addr is the listen address, e.g. "127.0.0.1:0".
	Addr string
	// Handler serves every request.
	Handler http.Handler
	// Ready returns the fields of the ready line beyond "ready" and "url";
	// it receives the base URL actually bound so that fields such as an
	// issuer can be derived from it. It may be nil.
	Ready func(baseURL string) map[string]any
	// OnListen, if set, is called with the bound base URL before the ready
	// line is printed (e.g. to fix an issuer URL that depends on the port).
	OnListen func(baseURL string) error
	// Stdout receives the ready line; os.Stdout when nil.
	Stdout io.Writer
	// Logger logs start and shutdown; slog.Default() when nil.
	Logger *slog.Logger
	// ShutdownTimeout bounds graceful shutdown; 10s when zero.
	ShutdownTimeout time.Duration
	// Limits bound what one client can hold of the server; zero fields
	// take the defaults of Limits.
	Limits Limits
}

// Listen binds addr and returns the listener with its base URL
// ("http://host:port"). IPv6 hosts are bracketed.
func Listen(addr string) (net.Listener, string, error) {
	if addr == "" {
		return nil, "", errors.New("serve: listen address is empty")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("serve: listen on %s: %w", addr, err)
	}
	return ln, "http://" + ln.Addr().String(), nil
}

// ReadyLine renders the ready line for baseURL with extra fields.
func ReadyLine(baseURL string, extra map[string]any) ([]byte, error) {
	fields := make(map[string]any, len(extra)+2)
	for k, v := range extra {
		fields[k] = v
	}
	fields["ready"] = true
	fields["url"] = baseURL
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("serve: encode ready line: %w", err)
	}
	return append(b, '\n'), nil
}

// Run listens, prints the ready line, and serves until ctx is done. It
// returns nil after a clean shutdown.
func Run(ctx context.Context, opts Options) error {
	ln, baseURL, err := Listen(opts.Addr)
	if err != nil {
		return err
	}
	return RunListener(ctx, ln, baseURL, opts)
}

// RunListener is Run on an already bound listener.
func RunListener(ctx context.Context, ln net.Listener, baseURL string, opts Options) error {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	stdout := opts.Stdout
	if stdout == nil {
		stdout = os.Stdout
	}
	timeout := opts.ShutdownTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if opts.OnListen != nil {
		if err := opts.OnListen(baseURL); err != nil {
			// Nothing was served on ln: the hook's error is the news, and a
			// failure to close an idle listener would only bury it.
			_ = ln.Close()
			return err
		}
	}
	srv := NewServer(opts.Handler, opts.Limits)
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(LimitListener(ln, opts.Limits.MaxConnections)) }()

	var extra map[string]any
	if opts.Ready != nil {
		extra = opts.Ready(baseURL)
	}
	line, err := ReadyLine(baseURL, extra)
	if err != nil {
		return errors.Join(err, srv.Close())
	}
	if _, err := stdout.Write(line); err != nil {
		return errors.Join(fmt.Errorf("serve: write ready line: %w", err), srv.Close())
	}
	logger.Info("listening", "url", baseURL)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Graceful shutdown ran out of time: cut the remaining connections.
		return errors.Join(fmt.Errorf("serve: shutdown: %w", err), srv.Close())
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
