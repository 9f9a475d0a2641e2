// Package upstream builds the HTTP transport the server uses for each of
// its upstreams, Nextcloud and the identity provider: one transport per
// upstream, shared by every call to it, that keeps its connections alive
// between calls (docs/architecture.md §4.2).
//
// Go's default transport keeps only two idle connections per host, so
// with more than two calls in flight most calls dial a new connection (in
// production a new TLS handshake) and leave one more socket in TIME_WAIT.
// This transport keeps as many idle connections as it may open, so after
// warm-up a server under steady load opens none.
package upstream

import (
	"net"
	"net/http"
	"time"
)

// DefaultMaxConns bounds the connections the server keeps to one
// upstream host, busy and idle together: its concurrency towards that
// upstream. A call beyond it waits for a connection to come free (within
// its own timeout) rather than opening one that would be closed again.
const DefaultMaxConns = 64

// Timeouts of the connection itself; each call's total time is bounded by
// its client's timeout and its context.
const (
	DialTimeout         = 10 * time.Second
	KeepAlive           = 30 * time.Second
	TLSHandshakeTimeout = 10 * time.Second
	IdleConnTimeout     = 90 * time.Second
	// HTTP/2 connections that received nothing for H2SendPingTimeout
	// are pinged, and closed when the ping is not answered within
	// H2PingTimeout: a dead connection is not handed to the next call.
	H2SendPingTimeout = 30 * time.Second
	H2PingTimeout     = 15 * time.Second
)

// NewTransport returns a transport for one upstream that keeps up to
// maxConns connections per host open and idle between calls (maxConns <=
// 0 means DefaultMaxConns), negotiates HTTP/2 over TLS (one multiplexed
// connection then serves many concurrent calls) and keeps HTTP/1.1 over
// plain HTTP, honours the proxy environment variables like Go's default
// transport, and bounds dialling, TLS handshakes and idle time.
func NewTransport(maxConns int) *http.Transport {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{Timeout: DialTimeout, KeepAlive: KeepAlive}).DialContext,
		// A custom dialer turns Go's automatic HTTP/2 off; ask for it.
		ForceAttemptHTTP2: true,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: H2SendPingTimeout,
			PingTimeout:     H2PingTimeout,
		},
		MaxConnsPerHost:       maxConns,
		MaxIdleConnsPerHost:   maxConns,
		MaxIdleConns:          4 * maxConns, // an IdP may serve its endpoints from a few hosts
		IdleConnTimeout:       IdleConnTimeout,
		TLSHandshakeTimeout:   TLSHandshakeTimeout,
		ExpectContinueTimeout: time.Second,
	}
}
