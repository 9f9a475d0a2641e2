package asclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CodeFlow is an authorization-code grant with PKCE S256 (RFC 7636) of a
// public client, the way an MCP client obtains its tokens: no password
// grant, which certified providers do not offer.
type CodeFlow struct {
	ClientID    string
	RedirectURI string
	Scope       string
	// Resource, when set, is the RFC 8707 resource of the authorization
	// and token requests (the MCP server's canonical URL).
	Resource string

	state, verifier string
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthorizationURL starts the flow: the URL a browser must open.
func (f *CodeFlow) AuthorizationURL(m *Metadata) (string, error) {
	u, err := url.Parse(m.AuthorizationEndpoint)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("authorization endpoint %q is not an absolute URL", m.AuthorizationEndpoint)
	}
	f.state, f.verifier = random(), random()
	sum := sha256.Sum256([]byte(f.verifier))
	q := u.Query()
	for k, v := range map[string]string{
		"response_type": "code", "client_id": f.ClientID, "redirect_uri": f.RedirectURI, "scope": f.Scope,
		"state": f.state, "code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "code_challenge_method": "S256",
		"prompt": "consent",
	} {
		q.Set(k, v)
	}
	if f.Resource != "" {
		q.Set("resource", f.Resource)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Redeem checks the redirect the browser ended at (state, RFC 9207 iss,
// error) and exchanges its code for tokens.
func (f *CodeFlow) Redeem(ctx context.Context, hc *http.Client, m *Metadata, redirect *url.URL) (*Answer, error) {
	q := redirect.Query()
	switch {
	case q.Get("error") != "":
		return nil, fmt.Errorf("the IdP answered error=%s (%s)", q.Get("error"), q.Get("error_description"))
	case f.state == "" || q.Get("state") != f.state:
		return nil, errors.New("the redirect's state is not the one this flow sent")
	case q.Get("iss") != "" && q.Get("iss") != m.Issuer:
		return nil, fmt.Errorf("the redirect's iss %q is not the issuer %q (RFC 9207)", q.Get("iss"), m.Issuer)
	case q.Get("code") == "":
		return nil, errors.New("the redirect carries no code")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {f.RedirectURI},
		"code_verifier": {f.verifier}}
	if f.Resource != "" {
		form.Set("resource", f.Resource)
	}
	a, err := Post(ctx, hc, m.TokenEndpoint, form, &Client{ID: f.ClientID})
	if err != nil {
		return nil, err
	}
	if a.Status != http.StatusOK || a.Str("access_token") == "" {
		return nil, fmt.Errorf("redeeming the code: %s", a.Summary())
	}
	return a, nil
}

// IsJWT reports whether a token looks like a compact JWS.
func IsJWT(tok string) bool { return strings.Count(tok, ".") == 2 }
