package smoketest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Token is what a token endpoint answered.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
}

// TokenRequest is the Flow 1 token a suite wants for the MCP client.
type TokenRequest struct {
	User   string
	Scopes []string
	// Resource is the RFC 8707 resource (the MCP URL); empty asks for the
	// client's default audiences (Keycloak's audience-mapper style).
	Resource string
}

// TokenSource obtains Flow 1 tokens the way an MCP client would.
type TokenSource interface {
	Token(ctx context.Context, req TokenRequest) (*Token, error)
}

// Endpoints are the parts of an IdP's metadata the suites use.
type Endpoints struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
}

// Discover reads issuer/.well-known/openid-configuration.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Endpoints, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("IdP discovery: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // closing only releases the connection
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("IdP discovery at %s: %s", u, resp.Status)
	}
	var ep Endpoints
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ep); err != nil {
		return nil, fmt.Errorf("IdP discovery at %s: %w", u, err)
	}
	if ep.TokenEndpoint == "" {
		return nil, fmt.Errorf("IdP discovery at %s: no token_endpoint", u)
	}
	return &ep, nil
}

// noRedirect is an HTTP client that returns redirects instead of
// following them, so each hop of a flow can be checked.
func noRedirect(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// CodeFlow is the authorization code flow with PKCE (S256) of a public
// client against an IdP that approves without interaction (the fake IdP
// with --auto-approve; login_hint picks the user). It is a real flow over
// plain HTTP: authorize, redirect with code, code redemption.
type CodeFlow struct {
	Issuer   string
	ClientID string
	// RedirectURI is where the IdP sends the code; nothing needs to listen
	// there because the redirect is read, not followed.
	RedirectURI string
	HTTP        *http.Client
	// OnCode, when set, sees each authorization code (the suites add it to
	// the secrets the container logs must not contain).
	OnCode func(code string)
}

// Token runs the flow once.
func (f *CodeFlow) Token(ctx context.Context, r TokenRequest) (*Token, error) {
	hc := f.HTTP
	if hc == nil {
		hc = noRedirect(15 * time.Second)
	}
	ep, err := Discover(ctx, hc, f.Issuer)
	if err != nil {
		return nil, err
	}
	verifier, challenge := pkce()
	state := randomString(16)
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {f.ClientID},
		"redirect_uri":          {f.RedirectURI},
		"scope":                 {strings.Join(r.Scopes, " ")},
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"login_hint":            {r.User},
	}
	if r.Resource != "" {
		q.Set("resource", r.Resource)
	}
	loc, err := authorize(ctx, hc, ep.AuthorizationEndpoint+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(loc.String(), f.RedirectURI) {
		return nil, fmt.Errorf("authorization redirected to %s, not to the client's redirect URI", loc.Redacted())
	}
	back := loc.Query()
	if e := back.Get("error"); e != "" {
		return nil, fmt.Errorf("authorization refused: %s: %s", e, back.Get("error_description"))
	}
	if back.Get("state") != state {
		return nil, errors.New("authorization response: state does not match")
	}
	code := back.Get("code")
	if code == "" {
		return nil, errors.New("authorization response without a code")
	}
	if f.OnCode != nil {
		f.OnCode(code)
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {f.RedirectURI},
		"client_id":     {f.ClientID},
		"code_verifier": {verifier},
	}
	if r.Resource != "" {
		form.Set("resource", r.Resource)
	}
	return postToken(ctx, hc, ep.TokenEndpoint, form, "", "")
}

// authorize GETs an authorization URL and returns the redirect it answers.
func authorize(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("authorization request: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // closing only releases the connection
	// Drained only so the connection can be reused; the redirect is in the headers.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 3 {
		if resp.StatusCode == http.StatusOK {
			return nil, errors.New("the IdP answered the authorization request with a page (an interactive login or consent); the smoke suites need an IdP that approves at once (fake IdP: --auto-approve)")
		}
		return nil, fmt.Errorf("authorization request: %s", resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("authorization request: %s without a usable Location: %w", resp.Status, err)
	}
	return loc, nil
}

// PasswordGrant obtains tokens with the resource owner password grant. It
// exists for real IdPs (Keycloak with "direct access grants" on the
// client), where no interactive flow can run in a test; the fake IdP does
// not offer the grant, so the suites use CodeFlow against it.
type PasswordGrant struct {
	Issuer       string
	ClientID     string
	ClientSecret string // empty for a public client
	// Password returns the user's password.
	Password func(user string) string
	HTTP     *http.Client
}

// Token asks for r.Scopes as r.User. Resource is ignored: Keycloak has no
// RFC 8707 support; its audience mappers set aud.
func (g *PasswordGrant) Token(ctx context.Context, r TokenRequest) (*Token, error) {
	hc := g.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	ep, err := Discover(ctx, hc, g.Issuer)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type": {"password"},
		"username":   {r.User},
		"password":   {g.Password(r.User)},
		"scope":      {strings.Join(r.Scopes, " ")},
	}
	if g.ClientSecret == "" {
		form.Set("client_id", g.ClientID)
	}
	return postToken(ctx, hc, ep.TokenEndpoint, form, g.ClientID, g.ClientSecret)
}

func postToken(ctx context.Context, hc *http.Client, endpoint string, form url.Values, id, secret string) (*Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // closing only releases the connection
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		// RFC 6749 §5.2 error bodies hold no secret; show code and text.
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, fmt.Errorf("token request: %s: %s %s", resp.Status, e.Error, e.Description)
	}
	var t Token
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return nil, fmt.Errorf("token response without an access token (%v)", err)
	}
	return &t, nil
}

// Hop is one HTTP exchange of a followed authorization.
type Hop struct {
	URL    string // without query (it may hold a code)
	Status int
}

// FollowAuthorization follows an authorization URL the MCP server handed
// out (progressive consent) the way a browser would, over plain HTTP: the
// IdP approves at once and redirects to the server's /oauth/callback,
// which redeems the code. It returns the hops, the callback's final status
// and body, and calls onCode with the code it passed through.
func FollowAuthorization(ctx context.Context, authURL string, onCode func(string)) (hops []Hop, status int, body string, err error) {
	hc := noRedirect(15 * time.Second)
	next := authURL
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return hops, 0, "", err
		}
		if code := req.URL.Query().Get("code"); code != "" && onCode != nil {
			onCode(code)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return hops, 0, "", fmt.Errorf("following the authorization URL: %w", err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close() // read above; closing only releases the connection
		u := *req.URL
		u.RawQuery = ""
		hops = append(hops, Hop{URL: u.String(), Status: resp.StatusCode})
		if resp.StatusCode/100 != 3 {
			return hops, resp.StatusCode, string(b), nil
		}
		loc, err := resp.Location()
		if err != nil {
			return hops, resp.StatusCode, "", fmt.Errorf("redirect without Location at %s", u.String())
		}
		next = loc.String()
	}
	return hops, 0, "", errors.New("following the authorization URL: too many redirects")
}

func pkce() (verifier, challenge string) {
	verifier = randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomSecret returns a fresh secret of n random bytes, base64 (standard
// alphabet, padded): the shape of `openssl rand -base64 n` and of
// TOKEN_ENCRYPTION_KEY for n = 32.
func RandomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// JWTClaims decodes a JWT's payload without verifying it (the suites only
// compare claims such as jti). A non-JWT gives an error.
func JWTClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	return m, nil
}
