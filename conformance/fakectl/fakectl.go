// Package fakectl drives the /_fake/ control APIs of the in-repo fake IdP
// and fake Nextcloud over HTTP. The conformance suite uses HTTP, not the
// fakes' Go API, so the same checks work against fakes running in
// containers or other processes; where no control API answers, the checks
// that need one are "not applicable".
package fakectl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ErrNoControlAPI is returned by Probe when the base URL serves no control
// API.
var ErrNoControlAPI = errors.New("fakectl: no /_fake/ control API at this URL")

type base struct {
	url  string
	http *http.Client
}

func (b *base) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.url+"/_fake"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read below; closing only releases the connection
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return &StatusError{Method: method, Path: "/_fake" + path, Status: resp.StatusCode, Body: strings.TrimSpace(string(data))}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("fakectl: %s /_fake%s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

// StatusError is a control API call answered with a non-2xx status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fakectl: %s %s: HTTP %d: %.200s", e.Method, e.Path, e.Status, e.Body)
}

func newBase(url string, hc *http.Client) base {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return base{url: strings.TrimSuffix(url, "/"), http: hc}
}

// IdP is the fake IdP's control API.
type IdP struct{ base }

// NewIdP returns a client for the control API below issuer. It does not
// contact the server; see Probe.
func NewIdP(issuer string, hc *http.Client) *IdP { return &IdP{newBase(issuer, hc)} }

// Probe reports whether the control API answers (ErrNoControlAPI if not).
func (c *IdP) Probe(ctx context.Context) error {
	var v []IdPLogEntry
	if err := c.do(ctx, http.MethodGet, "/log", nil, &v); err != nil {
		var se *StatusError
		if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed) {
			return ErrNoControlAPI
		}
		return err
	}
	return nil
}

// IdPLogEntry is one entry of the fake IdP's request log.
type IdPLogEntry struct {
	Time      time.Time `json:"time"`
	Endpoint  string    `json:"endpoint"`
	Method    string    `json:"method"`
	GrantType string    `json:"grant_type"`
	ClientID  string    `json:"client_id"`
	Subject   string    `json:"subject"`
	Audience  []string  `json:"audience"`
	Status    int       `json:"status"`
	Outcome   string    `json:"outcome"`
}

// Grant types as they appear in the log.
const (
	GrantRefresh  = "refresh_token"
	GrantCode     = "authorization_code"
	GrantExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// Log returns the request log, oldest first.
func (c *IdP) Log(ctx context.Context) ([]IdPLogEntry, error) {
	var v []IdPLogEntry
	return v, c.do(ctx, http.MethodGet, "/log", nil, &v)
}

// ResetLog empties the request log.
func (c *IdP) ResetLog(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/log", nil, nil)
}

// IssueRequest asks the fake IdP for exactly what its token endpoint would
// issue after an authorization-code flow.
type IssueRequest struct {
	ClientID string   `json:"client_id"`
	Username string   `json:"username"`
	Scopes   []string `json:"scopes"`
	Resource string   `json:"resource,omitempty"`
	Offline  bool     `json:"offline,omitempty"`
}

// TokenResponse is an RFC 6749 §5.1 token response.
type TokenResponse struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	RefreshToken    string `json:"refresh_token"`
	Scope           string `json:"scope"`
	IDToken         string `json:"id_token"`
	IssuedTokenType string `json:"issued_token_type"`
}

// Issue issues tokens (POST /_fake/issue).
func (c *IdP) Issue(ctx context.Context, r IssueRequest) (*TokenResponse, error) {
	var v TokenResponse
	if err := c.do(ctx, http.MethodPost, "/issue", r, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Mint keys (see the fake IdP's README).
const (
	KeyCurrent     = "current"
	KeyUnknown     = "unknown"
	KeyNone        = "none"
	KeyHS256Public = "hs256-public"
)

// MintRequest describes an arbitrary token.
type MintRequest struct {
	Claims map[string]any `json:"claims,omitempty"`
	Header map[string]any `json:"header,omitempty"`
	Key    string         `json:"key,omitempty"`
	// ExpiresIn in seconds; negative gives an expired token; nil the default.
	ExpiresIn  *int64 `json:"expires_in,omitempty"`
	NoDefaults bool   `json:"no_defaults,omitempty"`
}

// Mint signs an arbitrary token.
func (c *IdP) Mint(ctx context.Context, r MintRequest) (string, error) {
	var v struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, http.MethodPost, "/mint", r, &v); err != nil {
		return "", err
	}
	if v.Token == "" {
		return "", errors.New("fakectl: mint answered no token")
	}
	return v.Token, nil
}

// Fault makes the next Count requests to an endpoint answer Status.
type Fault struct {
	Endpoint string `json:"endpoint"`
	Status   int    `json:"status,omitempty"`
	DelayMS  int64  `json:"delay_ms,omitempty"`
	Count    int    `json:"count,omitempty"`
	Error    string `json:"error,omitempty"`
}

// InjectFault queues a fault.
func (c *IdP) InjectFault(ctx context.Context, f Fault) error {
	return c.do(ctx, http.MethodPost, "/faults", f, nil)
}

// ClearFaults drops every queued fault.
func (c *IdP) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/faults", nil, nil)
}

// SetTokenExchange switches RFC 8693 on or off.
func (c *IdP) SetTokenExchange(ctx context.Context, enabled bool) error {
	return c.do(ctx, http.MethodPost, "/exchange", map[string]bool{"enabled": enabled}, nil)
}

// Nextcloud is the fake Nextcloud's control API.
type Nextcloud struct{ base }

// NewNextcloud returns a client for the control API of the fake at url.
func NewNextcloud(url string, hc *http.Client) *Nextcloud { return &Nextcloud{newBase(url, hc)} }

// Probe reports whether the control API answers (ErrNoControlAPI if not).
func (c *Nextcloud) Probe(ctx context.Context) error {
	var v []NCLogEntry
	if err := c.do(ctx, http.MethodGet, "/log", nil, &v); err != nil {
		var se *StatusError
		if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed) {
			return ErrNoControlAPI
		}
		return err
	}
	return nil
}

// NCClaims are the claims of a bearer token the fake Nextcloud accepted.
type NCClaims struct {
	Sub   string         `json:"sub"`
	Aud   []string       `json:"aud"`
	Azp   string         `json:"azp"`
	Act   map[string]any `json:"act"`
	Scope string         `json:"scope"`
	Jti   string         `json:"jti"`
}

// NCLogEntry is one request the fake Nextcloud saw.
type NCLogEntry struct {
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	AuthKind  string    `json:"auth_kind"` // none | basic | bearer
	UID       string    `json:"uid"`
	Claims    *NCClaims `json:"claims"`
	AuthError string    `json:"auth_error"`
}

// Log returns the request log, oldest first.
func (c *Nextcloud) Log(ctx context.Context) ([]NCLogEntry, error) {
	var v []NCLogEntry
	return v, c.do(ctx, http.MethodGet, "/log", nil, &v)
}

// ResetLog empties the request log.
func (c *Nextcloud) ResetLog(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/log", nil, nil)
}
