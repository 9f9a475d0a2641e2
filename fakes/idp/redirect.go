package idp

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// checkRedirectURI validates a redirect URI for registration: absolute, no
// fragment (RFC 6749 §3.1.2), https or loopback http (RFC 8252 §7.3), or a
// private-use scheme containing a dot (RFC 8252 §7.1).
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New("redirect URI " + printable(raw) + " is not an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("redirect URI must not have a fragment")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errors.New("https redirect URI has no host")
		}
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return errors.New("http redirect URIs must use a loopback host (127.0.0.1, [::1] or localhost)")
		}
	default:
		if !strings.Contains(u.Scheme, ".") {
			return errors.New("custom redirect URI schemes must be reverse domain names (RFC 8252 §7.1)")
		}
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// redirectAllowed reports whether got is a registered redirect URI of c:
// exact string match, or for loopback http URIs the same URI with any port
// (RFC 8252 §7.3), or any loopback http URI for AnyLoopbackRedirect clients.
func redirectAllowed(c *Client, got string) bool {
	u, err := url.Parse(got)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(got, "#") || u.User != nil {
		return false
	}
	loopback := u.Scheme == "http" && isLoopbackHost(u.Hostname())
	if loopback && c.AnyLoopbackRedirect {
		return true
	}
	for _, reg := range c.RedirectURIs {
		if reg == got {
			return true
		}
		if !loopback {
			continue
		}
		r, err := url.Parse(reg)
		if err != nil || r.Scheme != "http" || !isLoopbackHost(r.Hostname()) {
			continue
		}
		if r.Hostname() == u.Hostname() && r.EscapedPath() == u.EscapedPath() && r.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

// checkResourceURI is RFC 8707 §2: an absolute URI without a fragment.
func checkResourceURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("resource " + printable(raw) + " must be an absolute URI without a fragment")
	}
	return nil
}

// withParams appends query parameters to a redirect URI, keeping its own.
func withParams(redirect string, kv ...string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return redirect
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
