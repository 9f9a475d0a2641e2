package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Grant and token type identifiers used across the packages.
const (
	GrantTypeAuthorizationCode = "authorization_code"
	GrantTypeRefreshToken      = "refresh_token"
	GrantTypeTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken       = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken      = "urn:ietf:params:oauth:token-type:refresh_token"
)

// Metadata is the part of an authorization server's metadata (RFC 8414 §2,
// OpenID Connect Discovery §3) this server uses.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                     string   `json:"token_endpoint,omitempty"`
	JWKSURI                           string   `json:"jwks_uri,omitempty"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	RegistrationEndpoint              string   `json:"registration_endpoint,omitempty"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported (RFC 9207): when true,
	// authorization responses carry iss and clients must check it.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// SupportsGrant reports whether the metadata lists grant type g. RFC 8414
// §2: an absent grant_types_supported means ["authorization_code",
// "implicit"].
func (m *Metadata) SupportsGrant(g string) bool {
	if len(m.GrantTypesSupported) == 0 {
		return g == GrantTypeAuthorizationCode || g == "implicit"
	}
	return slices.Contains(m.GrantTypesSupported, g)
}

// SupportsPKCE reports whether the server advertises PKCE with S256 (MCP
// 2025-11-25: absent code_challenge_methods_supported means no PKCE).
func (m *Metadata) SupportsPKCE() bool {
	return slices.Contains(m.CodeChallengeMethodsSupported, "S256")
}

// MetadataURLs lists, in the order MCP 2025-11-25 prescribes, the URLs where
// an issuer's metadata may live: RFC 8414 path insertion, OIDC path
// insertion, OIDC appended to the path. For an issuer without a path the
// last two coincide and are listed once.
func MetadataURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("issuer must be an absolute http(s) URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("issuer must not have a query or fragment (RFC 8414 §2)")
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	urls := []string{origin + "/.well-known/oauth-authorization-server" + path}
	if path == "" {
		return append(urls, origin+"/.well-known/openid-configuration"), nil
	}
	return append(urls,
		origin+"/.well-known/openid-configuration"+path,
		origin+path+"/.well-known/openid-configuration"), nil
}

// IssuerFromMetadataURL derives the issuer a well-known metadata URL belongs
// to (the inverse of MetadataURLs), so that a configured discovery URL such
// as OIDC_DISCOVERY_URL can be checked against the issuer its document
// claims. ok is false for URLs that are not of a well-known form.
func IssuerFromMetadataURL(metadataURL string) (issuer string, ok bool) {
	u, err := url.Parse(metadataURL)
	if err != nil || u.Host == "" {
		return "", false
	}
	origin := u.Scheme + "://" + u.Host
	p := u.EscapedPath()
	for _, wk := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		if rest, found := strings.CutPrefix(p, wk); found && (rest == "" || strings.HasPrefix(rest, "/")) {
			return origin + rest, true
		}
	}
	if prefix, found := strings.CutSuffix(p, "/.well-known/openid-configuration"); found {
		return origin + prefix, true
	}
	return "", false
}

// Discover fetches the metadata of issuer from the first well-known URL of
// MetadataURLs that answers 200. A document whose issuer differs from
// issuer is refused (RFC 8414 §3.3), as is one without a token endpoint.
// Failures to reach the server wrap ErrUnavailable.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	urls, err := MetadataURLs(issuer)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, u := range urls {
		m, err := FetchMetadata(ctx, hc, u, issuer)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, errNotFound) {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w: no metadata found for issuer %s: %w", ErrUnavailable, issuer, errors.Join(errs...))
}

var errNotFound = errors.New("no metadata at this URL")

// FetchMetadata fetches one metadata document. issuer is the issuer the
// document must name; "" derives it from a well-known metadataURL (see
// IssuerFromMetadataURL) and, for any other URL, accepts the document's
// own issuer.
func FetchMetadata(ctx context.Context, hc *http.Client, metadataURL, issuer string) (*Metadata, error) {
	if hc == nil {
		hc = defaultHTTPClient
	}
	if issuer == "" {
		issuer, _ = IssuerFromMetadataURL(metadataURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metadataURL, nil)
	if err != nil {
		return nil, fmt.Errorf("metadata URL: %v", redactURLError(err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetching metadata: %v", ErrUnavailable, redactURLError(err))
	}
	defer closeBody(resp.Body)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading metadata: %v", ErrUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w (HTTP %d at %s)", errNotFound, resp.StatusCode, metadataURL)
	default:
		return nil, fmt.Errorf("%w: metadata endpoint answered HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	if len(body) > maxResponseBytes {
		return nil, fmt.Errorf("%w: metadata document larger than %d bytes", ErrUnavailable, maxResponseBytes)
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: metadata at %s is not valid JSON", ErrUnavailable, metadataURL)
	}
	if m.Issuer == "" {
		return nil, fmt.Errorf("metadata at %s has no issuer", metadataURL)
	}
	if issuer != "" && m.Issuer != issuer {
		return nil, fmt.Errorf("metadata at %s names issuer %s, want %s (RFC 8414 §3.3)", metadataURL, m.Issuer, issuer)
	}
	if m.TokenEndpoint == "" {
		return nil, fmt.Errorf("metadata of %s has no token_endpoint", m.Issuer)
	}
	for name, v := range map[string]string{
		"authorization_endpoint": m.AuthorizationEndpoint,
		"token_endpoint":         m.TokenEndpoint,
		"jwks_uri":               m.JWKSURI,
		"introspection_endpoint": m.IntrospectionEndpoint,
		"revocation_endpoint":    m.RevocationEndpoint,
		"registration_endpoint":  m.RegistrationEndpoint,
		"userinfo_endpoint":      m.UserinfoEndpoint,
	} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("metadata of %s: %s is not an absolute http(s) URL", m.Issuer, name)
		}
	}
	return &m, nil
}
