package nextcloud

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Do sends an HTTP request built by another library, which makes a Client
// usable wherever an HTTP client with this method is taken, such as
// github.com/emersion/go-webdav's webdav.HTTPClient (its WebDAV, CalDAV and
// CardDAV clients). Do
//
//   - refuses (ErrForeignURL) any request whose URL is not below the base
//     URL: same scheme and host, path under the base path, no user info
//     and no "." or ".." segments; the credentials never go anywhere else;
//   - sets the Client's credentials (replacing any Authorization header)
//     and User-Agent;
//   - bounds the call by the Client's timeout, until the response body is
//     closed, and the body by the Client's size limit;
//   - retries safe methods (GET, HEAD, OPTIONS, PROPFIND, REPORT, SEARCH)
//     whose body is absent or rewindable (GetBody), like Send;
//   - returns a 2xx or 304 response as is (the caller reads and closes the
//     body) and turns any other status into an *Error that keeps
//     Nextcloud's message (sabre/dav's <s:message>, OCS or app JSON).
//
// Like http.Client.Do, it closes the request body, also on errors.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.URL == nil || !onBase(c.baseURL, req.URL) {
		closeBody(req)
		return nil, fmt.Errorf("%w: refusing to send a request for %s to a URL outside %s", ErrForeignURL, describeURL(req.URL), c.base)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	r := &Request{Method: method, Path: req.URL.EscapedPath(), Idempotent: safeMethod(method)}
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	attempts := 1
	if r.Idempotent && rewindable {
		attempts = c.cfg.maxAttempts
	}
	res, err := c.run(req.Context(), r, attempts, func(ctx context.Context, attempt int) (*http.Request, error) {
		out := req.Clone(ctx)
		out.Method = method
		out.RequestURI = ""
		if attempt > 1 && req.GetBody != nil {
			b, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("rewinding the request body: %w", err)
			}
			out.Body = b
		}
		return out, nil
	})
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if res.StatusCode/100 == 2 || res.StatusCode == http.StatusNotModified {
		return res, nil
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	return nil, c.newError(r, res.StatusCode, body, nil)
}

// safeMethod lists the methods Do may send again: those that change
// nothing on the server (RFC 9110 §9.2.1; RFC 4918 PROPFIND, RFC 3253
// REPORT, RFC 5323 SEARCH).
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, "PROPFIND", "REPORT", "SEARCH":
		return true
	}
	return false
}

// describeURL names a refused URL without user info, query or fragment,
// which can carry secrets.
func describeURL(u *url.URL) string {
	if u == nil {
		return "no URL"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
