// Package loopback tells a loopback Host header from any other. The fakes'
// control APIs (minting tokens, seeding data, faults) answer only requests
// addressed to a loopback name: a web page that rebinds its own DNS name
// to 127.0.0.1 reaches the listener, but its requests carry its own name
// in Host (MCP 2025-11-25 Security Best Practices, local server
// compromise; the same defence go-sdk applies to MCP endpoints).
package loopback

import (
	"net"
	"strings"
)

// Host reports whether a Host header names the loopback interface:
// "localhost", a 127.0.0.0/8 address or ::1, with or without a port.
// Names are not resolved: a rebinding name resolves to 127.0.0.1 too.
func Host(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
