// Package asclient is the conformance suite's minimal OAuth client for an
// authorization server: metadata discovery, form posts to the token,
// introspection and revocation endpoints with client_secret_basic, and
// decoding of RFC 6749 §5 answers. It returns raw statuses and headers,
// because the suite grades them.
package asclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Metadata is an RFC 8414 authorization server metadata document; Raw
// keeps every field.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Raw                               map[string]any
	// URL is where the document was found.
	URL string
}

// MetadataURLs lists the discovery URLs for issuer in the order MCP
// 2025-11-25 §Authorization Server Metadata Discovery prescribes.
func MetadataURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	if path == "" {
		return []string{origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"}, nil
	}
	return []string{
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + "/.well-known/openid-configuration" + path,
		origin + path + "/.well-known/openid-configuration",
	}, nil
}

// Discover fetches the first metadata document that answers 200.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	urls, err := MetadataURLs(issuer)
	if err != nil {
		return nil, err
	}
	var tried []string
	for _, u := range urls {
		m, status, err := Fetch(ctx, hc, u)
		if err == nil {
			return m, nil
		}
		tried = append(tried, fmt.Sprintf("%s: HTTP %d %v", u, status, err))
	}
	return nil, fmt.Errorf("no authorization server metadata for %s (%s)", issuer, strings.Join(tried, "; "))
}

// Fetch fetches and decodes one metadata document.
func Fetch(ctx context.Context, hc *http.Client, u string) (*Metadata, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = resp.Body.Close() }() // read below; closing only releases the connection
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, errors.New("not found")
	}
	m := &Metadata{URL: u}
	if err := json.Unmarshal(body, &m.Raw); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("not a JSON object: %v", err)
	}
	if err := json.Unmarshal(body, m); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("malformed metadata: %v", err)
	}
	return m, resp.StatusCode, nil
}

// Client is a client's credentials; Secret empty means a public client
// (client_id in the body, no authentication).
type Client struct {
	ID, Secret string
}

// Answer is an endpoint's answer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// JSON is the decoded body when it is a JSON object.
	JSON map[string]any
}

// Str returns a string field of the JSON body.
func (a *Answer) Str(k string) string {
	s, _ := a.JSON[k].(string)
	return s
}

// Error is the RFC 6749 §5.2 error code, if any.
func (a *Answer) Error() string { return a.Str("error") }

// Summary is one line for evidence.
func (a *Answer) Summary() string {
	s := fmt.Sprintf("HTTP %d", a.Status)
	if e := a.Error(); e != "" {
		s += " error=" + e
		if d := a.Str("error_description"); d != "" {
			if len(d) > 100 {
				d = d[:100] + "…"
			}
			s += fmt.Sprintf(" (%s)", d)
		}
	}
	return s
}

// Post sends form to endpoint, authenticating c with client_secret_basic
// (or client_id in the body for public clients; no client when c is nil).
func Post(ctx context.Context, hc *http.Client, endpoint string, form url.Values, c *Client) (*Answer, error) {
	if c != nil && c.Secret == "" {
		form.Set("client_id", c.ID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c != nil && c.Secret != "" {
		// RFC 6749 §2.3.1: form-urlencode id and secret before Basic.
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read below; closing only releases the connection
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	a := &Answer{Status: resp.StatusCode, Header: resp.Header, Body: body}
	_ = json.Unmarshal(body, &a.JSON)
	return a, nil
}

// Introspect asks whether tok is active (RFC 7662).
func Introspect(ctx context.Context, hc *http.Client, endpoint string, c *Client, tok, hint string) (bool, *Answer, error) {
	form := url.Values{"token": {tok}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	a, err := Post(ctx, hc, endpoint, form, c)
	if err != nil {
		return false, nil, err
	}
	if a.Status != http.StatusOK {
		return false, a, fmt.Errorf("introspection: %s", a.Summary())
	}
	active, ok := a.JSON["active"].(bool)
	if !ok {
		return false, a, errors.New("introspection answer has no boolean active")
	}
	return active, a, nil
}
