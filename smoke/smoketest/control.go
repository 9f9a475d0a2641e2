package smoketest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The fakes' control APIs (/_fake/, see fakes/idp/README.md and
// fakes/nextcloud). The suites talk to them over HTTP like to any other
// container: the wire JSON is the contract, not the fakes' Go types.

// IdPLogEntry is one entry of the fake IdP's request log. It never holds a
// token, code or secret.
type IdPLogEntry struct {
	Time      time.Time `json:"time"`
	Endpoint  string    `json:"endpoint"`
	Method    string    `json:"method"`
	GrantType string    `json:"grant_type,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Audience  []string  `json:"audience,omitempty"`
	Status    int       `json:"status"`
	Outcome   string    `json:"outcome"`
}

// NCLogEntry is one entry of the fake Nextcloud's request log: the auth it
// saw and, for bearer tokens, their claims — never the raw credential.
type NCLogEntry struct {
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	AuthKind  string    `json:"auth_kind"`
	UID       string    `json:"uid"`
	Claims    *NCClaims `json:"claims,omitempty"`
	AuthError string    `json:"auth_error,omitempty"`
}

// NCClaims are the claims of a bearer token the fake Nextcloud accepted or
// refused.
type NCClaims struct {
	Sub   string         `json:"sub"`
	Aud   []string       `json:"aud"`
	Azp   string         `json:"azp,omitempty"`
	Act   map[string]any `json:"act,omitempty"`
	Scope string         `json:"scope,omitempty"`
	Jti   string         `json:"jti,omitempty"`
}

// ActSub is the act.sub claim (the party that obtained an exchanged token).
func (c *NCClaims) ActSub() string {
	if c == nil || c.Act == nil {
		return ""
	}
	s, _ := c.Act["sub"].(string)
	return s
}

// MintRequest asks the fake IdP for a token with arbitrary claims
// (POST /_fake/mint): expired ones, wrong audiences, foreign keys.
type MintRequest struct {
	Claims map[string]any `json:"claims,omitempty"`
	// Key is current (default), unknown, none or hs256-public.
	Key string `json:"key,omitempty"`
	// ExpiresIn in seconds; negative gives an expired token.
	ExpiresIn *int64 `json:"expires_in,omitempty"`
}

// Control talks to a fake's /_fake/ API.
type Control struct {
	BaseURL string
	HTTP    *http.Client
}

func (c Control) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (c Control) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return fmt.Errorf("control API %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }() // closing only releases the connection
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("control API %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("control API %s %s: %w", method, path, err)
	}
	return nil
}

// IdPControl is the fake IdP's control API.
type IdPControl struct{ Control }

// Log returns the IdP's request log, oldest first.
func (c *IdPControl) Log(ctx context.Context) ([]IdPLogEntry, error) {
	var out []IdPLogEntry
	err := c.do(ctx, http.MethodGet, "/_fake/log", nil, &out)
	return out, err
}

// Mint returns a token with the requested claims.
func (c *IdPControl) Mint(ctx context.Context, m MintRequest) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, http.MethodPost, "/_fake/mint", m, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// NCControl is the fake Nextcloud's control API.
type NCControl struct{ Control }

// Log returns the fake Nextcloud's request log, oldest first.
func (c *NCControl) Log(ctx context.Context) ([]NCLogEntry, error) {
	var out []NCLogEntry
	err := c.do(ctx, http.MethodGet, "/_fake/log", nil, &out)
	return out, err
}

// AddAppPassword gives uid an extra app password (POST /_fake/seed).
func (c *NCControl) AddAppPassword(ctx context.Context, uid, appPassword string) error {
	seed := map[string]any{"users": []map[string]any{{"uid": uid, "app_passwords": []string{appPassword}}}}
	return c.do(ctx, http.MethodPost, "/_fake/seed", seed, nil)
}
