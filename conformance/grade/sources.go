package grade

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
)

// ControlTokens issues Flow 1 tokens through the fake IdP's control API,
// exactly as its token endpoint would after an authorization-code flow of
// ClientID.
type ControlTokens struct {
	Control  *fakectl.IdP
	ClientID string
	// Resource is the RFC 8707 resource (the MCP URL); empty uses the
	// client's default audiences (what a pass-through deployment needs,
	// since the token must be valid at Nextcloud too).
	Resource string
}

// Token implements Tokens.
func (c ControlTokens) Token(ctx context.Context, user string, scopes []string) (string, error) {
	res, err := c.Control.Issue(ctx, fakectl.IssueRequest{ClientID: c.ClientID, Username: user, Scopes: scopes, Resource: c.Resource})
	if err != nil {
		return "", err
	}
	return res.AccessToken, nil
}

// StaticTokens serves tokens given up front (an external deployment):
// Full carries every scope, ReadOnly only <app>:read scopes, Other is a
// second user's full token. A request it cannot serve is ErrUnavailable.
type StaticTokens struct {
	Full, ReadOnly, Other string
	// Users are the users the tokens belong to: [0] for Full and ReadOnly,
	// [1] for Other.
	Users [2]string
}

// Token implements Tokens: the token is chosen by user and by whether the
// scopes are all read scopes or include a write scope.
func (s StaticTokens) Token(_ context.Context, user string, scopes []string) (string, error) {
	pick := func(tok, what string) (string, error) {
		if tok == "" {
			return "", fmt.Errorf("no %s token configured: %w", what, ErrUnavailable)
		}
		return tok, nil
	}
	allRead, anyWrite := len(scopes) > 0, false
	for _, sc := range scopes {
		allRead = allRead && strings.HasSuffix(sc, ":read")
		anyWrite = anyWrite || strings.HasSuffix(sc, ":write")
	}
	if user == s.Users[1] && user != s.Users[0] {
		if anyWrite {
			return pick(s.Other, "second user's")
		}
		return "", fmt.Errorf("only a full-scope token of the second user is configured: %w", ErrUnavailable)
	}
	switch {
	case allRead:
		return pick(s.ReadOnly, "read-only")
	case anyWrite:
		return pick(s.Full, "full-scope")
	}
	return "", fmt.Errorf("no token without soft scopes configured: %w", ErrUnavailable)
}

// FakeIdPApprove returns an Approve hook for the fake IdP in auto-approve
// mode: the authorization URL with login_hint = user is opened, and
// redirects within the IdP are followed until one leaves for the
// client's redirect_uri.
func FakeIdPApprove(hc *http.Client) func(ctx context.Context, authorizationURL, user string) (string, error) {
	return func(ctx context.Context, authorizationURL, user string) (string, error) {
		u, err := url.Parse(authorizationURL)
		if err != nil {
			return "", err
		}
		q := u.Query()
		redirect := q.Get("redirect_uri")
		if redirect == "" {
			return "", errors.New("the authorization URL has no redirect_uri")
		}
		q.Set("login_hint", user)
		u.RawQuery = q.Encode()
		next := u.String()
		for hop := 0; hop < 6; hop++ {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
			if err != nil {
				return "", err
			}
			resp, err := hc.Do(req)
			if err != nil {
				return "", err
			}
			_ = resp.Body.Close() // the body is not needed; closing only releases the connection
			loc := resp.Header.Get("Location")
			if resp.StatusCode < 300 || resp.StatusCode >= 400 || loc == "" {
				return "", fmt.Errorf("the IdP answered HTTP %d instead of redirecting (is auto-approve on?)", resp.StatusCode)
			}
			lu, err := resp.Request.URL.Parse(loc)
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(lu.String(), redirect) {
				if e := lu.Query().Get("error"); e != "" {
					return "", fmt.Errorf("the IdP refused the authorization: %s %s", e, lu.Query().Get("error_description"))
				}
				return lu.String(), nil
			}
			next = lu.String()
		}
		return "", errors.New("too many redirects at the IdP")
	}
}
