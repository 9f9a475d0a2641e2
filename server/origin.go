package server

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// normalizeOrigin returns the RFC 6454 serialization of an origin
// ("scheme://host[:port]", lower case, the scheme's default port left
// out), or an error for anything else: "null", a URL with a path, query,
// fragment or credentials, a scheme other than http(s).
func normalizeOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "HTTP" && u.Scheme != "HTTPS") {
		return "", errors.New("is not an http(s) origin")
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", errors.New("is not an origin (scheme://host[:port], nothing else)")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}

// originPolicy decides which browser origins may use /mcp: the server's
// own and the configured allow-list (MCP_ALLOWED_ORIGINS).
type originPolicy struct {
	allowed map[string]bool
}

func newOriginPolicy(publicURL string, extra []string) originPolicy {
	p := originPolicy{allowed: map[string]bool{}}
	if u, err := url.Parse(publicURL); err == nil {
		if o, err := normalizeOrigin(u.Scheme + "://" + u.Host); err == nil {
			p.allowed[o] = true
		}
	}
	for _, e := range extra {
		if o, err := normalizeOrigin(e); err == nil {
			p.allowed[o] = true
		}
	}
	return p
}

// check returns the request's origin and whether it may be served: a
// request without Origin (not sent by a browser) may; one with several
// Origin headers, "null" or an origin not allowed may not.
func (p originPolicy) check(r *http.Request) (string, bool) {
	values := r.Header.Values("Origin")
	switch len(values) {
	case 0:
		return "", true
	case 1:
	default:
		return "", false
	}
	o, err := normalizeOrigin(values[0])
	if err != nil {
		return "", false
	}
	return o, p.allowed[o]
}

// validateOrigin answers 403 to a request whose Origin is present and not
// allowed (MCP 2025-11-25 basic/transports: servers MUST validate Origin,
// against DNS rebinding and cross-site requests), with a JSON-RPC error
// without id as the body, before anything else runs.
func (p originPolicy) validateOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := p.check(r); !ok {
			w.Header().Set("Vary", "Origin")
			writeJSONRPCError(w, http.StatusForbidden, nil, &jsonrpc.Error{
				Code:    jsonrpc.CodeInvalidRequest,
				Message: "Forbidden: this Origin may not use the MCP endpoint (allowed: the server's own origin and MCP_ALLOWED_ORIGINS)",
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}
