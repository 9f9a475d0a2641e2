package loadbench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sync/errgroup"
)

// callTimeout bounds one call of the load client.
const callTimeout = 30 * time.Second

// clientTransport is the load client's one transport: every session's
// requests (calls, and the standalone SSE streams go-sdk's client keeps
// open) reuse a pool large enough for the idle phase, so the client opens
// no connection per call and the server's CPU per call holds no accept.
func clientTransport(maxConns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // loopback only, whatever HTTP_PROXY says
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
	}
}

// bearer adds the access token to every request of a session.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" {
		return b.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// client opens MCP sessions to one endpoint.
type client struct {
	url string
	hc  *http.Client
}

func newClient(url, token string, tr *http.Transport) *client {
	return &client{url: url, hc: &http.Client{Transport: bearer{token: token, next: tr}, Timeout: 0}}
}

// open opens n sessions, at most 16 handshakes at a time.
func (c *client) open(ctx context.Context, n int) ([]*mcp.ClientSession, error) {
	out := make([]*mcp.ClientSession, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range out {
		g.Go(func() error {
			cctx, cancel := context.WithTimeout(gctx, callTimeout)
			defer cancel()
			cl := mcp.NewClient(&mcp.Implementation{Name: "bench-load", Version: "0"}, nil)
			cs, err := cl.Connect(cctx, &mcp.StreamableClientTransport{Endpoint: c.url, HTTPClient: c.hc}, nil)
			if err != nil {
				return fmt.Errorf("opening session %d of %d: %w", i+1, n, err)
			}
			out[i] = cs
			return nil
		})
	}
	err := g.Wait()
	if err != nil {
		closeSessions(out)
		return nil, err
	}
	return out, nil
}

// closeSessions ends sessions (go-sdk sends the DELETE), in parallel.
func closeSessions(sessions []*mcp.ClientSession) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, cs := range sessions {
		if cs == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = cs.Close() // best effort: the server is stopped next anyway
		}()
	}
	wg.Wait()
}

// load is the outcome of driving sessions for a while.
type load struct {
	latencies []time.Duration
	errors    int
	firstErr  error
	elapsed   time.Duration
}

// drive makes every session call params in a loop, one call at a time,
// until d has passed, and records each successful call's latency.
func drive(ctx context.Context, sessions []*mcp.ClientSession, params *mcp.CallToolParams, d time.Duration) load {
	type result struct {
		lat  []time.Duration
		errs int
		err  error
	}
	results := make([]result, len(sessions))
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, cs := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.lat = make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				cctx, cancel := context.WithTimeout(ctx, callTimeout)
				t0 := time.Now()
				res, err := cs.CallTool(cctx, params)
				lat := time.Since(t0)
				cancel()
				switch {
				case err != nil:
				case res.IsError:
					err = errors.New(resultText(res))
				}
				if err != nil {
					r.errs++
					if r.err == nil {
						r.err = err
					}
					continue
				}
				r.lat = append(r.lat, lat)
			}
		}()
	}
	wg.Wait()
	out := load{elapsed: time.Since(start)}
	for _, r := range results {
		out.latencies = append(out.latencies, r.lat...)
		out.errors += r.errs
		if out.firstErr == nil {
			out.firstErr = r.err
		}
	}
	return out
}

func resultText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			return t.Text
		}
	}
	return "tool error without text"
}
