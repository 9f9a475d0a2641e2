// Package idpcheck grades an OAuth 2.1 / OpenID Connect authorization
// server from its issuer URL alone (plus a public client, a confidential
// client and, optionally, tokens to work with): RFC 8414 metadata, PKCE,
// RFC 6749 token-endpoint errors, RFC 8693 token exchange, RFC 7662
// introspection and refresh-token rotation. The same checks run against
// the fake IdP and a real Keycloak, so the two can be compared.
package idpcheck

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/asclient"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// Token-exchange URNs (RFC 8693 §2.1, §3).
const (
	grantExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	typeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

func needIdP(t *grade.Target) (grade.Outcome, bool) {
	if t.IdP == nil || t.IdP.Issuer == "" {
		return grade.NAf("no IdP in this target"), false
	}
	return grade.Outcome{}, true
}

func metadata(ctx context.Context, t *grade.Target) (*asclient.Metadata, error) {
	v, err := t.Memo("idp-metadata", func() (any, error) {
		return asclient.Discover(ctx, t.HTTP, t.IdP.Issuer)
	})
	if err != nil {
		return nil, err
	}
	return v.(*asclient.Metadata), nil
}

func confidential(t *grade.Target) (*asclient.Client, error) {
	if t.IdP.Confidential == nil || t.IdP.Confidential.ID == "" {
		return nil, fmt.Errorf("no confidential client configured: %w", grade.ErrUnavailable)
	}
	return &asclient.Client{ID: t.IdP.Confidential.ID, Secret: t.IdP.Confidential.Secret}, nil
}

// MetadataIssuer: RFC 8414 §3.3 — the metadata's issuer is identical to
// the issuer the metadata URL was built from.
func MetadataIssuer(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	m, err := metadata(ctx, t)
	if err != nil {
		return grade.Failf("%v", err)
	}
	if m.Issuer != t.IdP.Issuer {
		return grade.Failf("%s: issuer %q != %q", m.URL, m.Issuer, t.IdP.Issuer)
	}
	return grade.Passf("%s: issuer %q", m.URL, m.Issuer)
}

// MetadataRequired: RFC 8414 §2 — the REQUIRED fields are present
// (authorization_endpoint and token_endpoint for the code grant,
// response_types_supported with "code").
func MetadataRequired(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	m, err := metadata(ctx, t)
	if err != nil {
		return grade.Failf("%v", err)
	}
	var bad []string
	for name, v := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint} {
		if u, err := url.Parse(v); v == "" || err != nil || !u.IsAbs() {
			bad = append(bad, fmt.Sprintf("%s %q is not an absolute URL", name, v))
		}
	}
	if !slices.Contains(m.ResponseTypesSupported, "code") {
		bad = append(bad, fmt.Sprintf("response_types_supported %v lacks code", m.ResponseTypesSupported))
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return grade.Failf("%s", strings.Join(bad, "; "))
	}
	return grade.Passf("authorization_endpoint, token_endpoint, response_types_supported %v", m.ResponseTypesSupported)
}

// MetadataS256: MCP 2025-11-25 §Authorization Code Protection — clients
// MUST refuse an AS whose metadata lacks code_challenge_methods_supported;
// S256 must be listed.
func MetadataS256(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	m, err := metadata(ctx, t)
	if err != nil {
		return grade.Failf("%v", err)
	}
	if !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
		return grade.Failf("code_challenge_methods_supported %v lacks S256", m.CodeChallengeMethodsSupported)
	}
	return grade.Passf("code_challenge_methods_supported %v", m.CodeChallengeMethodsSupported)
}

// MetadataRecommended: RFC 8414 §2 RECOMMENDED fields and the endpoints
// this architecture uses (introspection, revocation, registration).
func MetadataRecommended(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	m, err := metadata(ctx, t)
	if err != nil {
		return grade.Failf("%v", err)
	}
	var missing []string
	for _, k := range []string{"jwks_uri", "scopes_supported", "grant_types_supported", "token_endpoint_auth_methods_supported",
		"introspection_endpoint", "revocation_endpoint", "registration_endpoint"} {
		if _, ok := m.Raw[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return grade.Failf("metadata lacks %s", strings.Join(missing, ", "))
	}
	return grade.Passf("jwks_uri, scopes_supported (%d), grant_types_supported %v, token_endpoint_auth_methods_supported %v, introspection, revocation and registration endpoints",
		len(m.ScopesSupported), m.GrantTypesSupported, m.TokenEndpointAuthMethodsSupported)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// authorize sends an authorization request and classifies the answer:
// refused (4xx, or a redirect to the client carrying error=) or not.
func authorize(ctx context.Context, t *grade.Target, extra url.Values) (refused bool, desc string, err error) {
	m, err := metadata(ctx, t)
	if err != nil {
		return false, "", err
	}
	if t.IdP.PublicClientID == "" || t.IdP.RedirectURI == "" {
		return false, "", fmt.Errorf("no public client and redirect URI configured: %w", grade.ErrUnavailable)
	}
	q := url.Values{
		"response_type": {"code"}, "client_id": {t.IdP.PublicClientID}, "redirect_uri": {t.IdP.RedirectURI},
		"scope": {"openid"}, "state": {randomString(16)},
	}
	for k, v := range extra {
		if len(v) == 0 {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	u, err := url.Parse(m.AuthorizationEndpoint)
	if err != nil {
		return false, "", err
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, "", err
	}
	resp, err := t.HTTP.Do(req)
	if err != nil {
		return false, "", err
	}
	_ = resp.Body.Close() // the body is not needed; closing only releases the connection
	if resp.StatusCode >= 400 {
		return true, fmt.Sprintf("HTTP %d", resp.StatusCode), nil
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && loc != "" {
		lu, err := url.Parse(loc)
		if err == nil && strings.HasPrefix(loc, t.IdP.RedirectURI) {
			if e := lu.Query().Get("error"); e != "" {
				return true, fmt.Sprintf("HTTP %d redirect with error=%s", resp.StatusCode, e), nil
			}
			return false, fmt.Sprintf("HTTP %d redirect to the client with a code", resp.StatusCode), nil
		}
		return false, fmt.Sprintf("HTTP %d redirect to %s (login)", resp.StatusCode, lu.Path), nil
	}
	return false, fmt.Sprintf("HTTP %d (login page)", resp.StatusCode), nil
}

// pkceRefusal grades one authorization request that must be refused,
// after a positive control with a proper S256 request.
func pkceRefusal(ctx context.Context, t *grade.Target, what string, extra url.Values) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	v := randomString(32)
	refused, desc, err := authorize(ctx, t, url.Values{"code_challenge": {s256(v)}, "code_challenge_method": {"S256"}})
	if err != nil {
		return grade.Errorf("authorization request", err)
	}
	if refused {
		return grade.Failf("positive control: a proper S256 request was refused too (%s): check the public client and redirect URI", desc)
	}
	refused, bad, err := authorize(ctx, t, extra)
	if err != nil {
		return grade.Errorf("authorization request", err)
	}
	if !refused {
		return grade.Failf("%s was accepted: %s (an S256 request: %s)", what, bad, desc)
	}
	return grade.Passf("%s: %s (an S256 request: %s)", what, bad, desc)
}

// PlainRefused: RFC 9700 §2.1.1 — only S256: a plain challenge is refused.
func PlainRefused(ctx context.Context, t *grade.Target) grade.Outcome {
	v := randomString(32)
	return pkceRefusal(ctx, t, "code_challenge_method=plain", url.Values{"code_challenge": {v}, "code_challenge_method": {"plain"}})
}

// PKCERequired: RFC 9700 §2.1.1 / OAuth 2.1 — a public client's
// authorization request without a code challenge is refused.
func PKCERequired(ctx context.Context, t *grade.Target) grade.Outcome {
	return pkceRefusal(ctx, t, "a public client's request without code_challenge", url.Values{"code_challenge": nil, "code_challenge_method": nil})
}

func tokenPost(ctx context.Context, t *grade.Target, form url.Values, c *asclient.Client) (*asclient.Answer, error) {
	m, err := metadata(ctx, t)
	if err != nil {
		return nil, err
	}
	return asclient.Post(ctx, t.HTTP, m.TokenEndpoint, form, c)
}

// UnsupportedGrant: RFC 6749 §5.2 — an unknown grant type is 400
// unsupported_grant_type.
func UnsupportedGrant(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	c, err := confidential(t)
	if err != nil {
		return grade.Errorf("client", err)
	}
	a, err := tokenPost(ctx, t, url.Values{"grant_type": {"urn:example:conformance:no-such-grant"}}, c)
	if err != nil {
		return grade.Errorf("token request", err)
	}
	if a.Status != http.StatusBadRequest || a.Error() != "unsupported_grant_type" {
		return grade.Failf("unknown grant type: %s, want HTTP 400 unsupported_grant_type", a.Summary())
	}
	return grade.Passf("unknown grant type: %s", a.Summary())
}

// InvalidClient: RFC 6749 §5.2 — a token-exchange request with a wrong
// client secret in the Authorization header is 401 invalid_client with
// WWW-Authenticate.
func InvalidClient(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	c, err := confidential(t)
	if err != nil {
		return grade.Errorf("client", err)
	}
	bad := &asclient.Client{ID: c.ID, Secret: c.Secret + "-wrong"}
	a, err := tokenPost(ctx, t, url.Values{"grant_type": {grantExchange}, "subject_token": {"conformance"},
		"subject_token_type": {typeAccessToken}, "audience": {t.IdP.ExchangeAudience}}, bad)
	if err != nil {
		return grade.Errorf("token request", err)
	}
	if o, na := exchangeNotOffered(ctx, t, a); na {
		return o
	}
	if a.Status != http.StatusUnauthorized || a.Error() != "invalid_client" {
		return grade.Failf("exchange with a wrong client secret: %s, want HTTP 401 invalid_client", a.Summary())
	}
	if a.Header.Get("WWW-Authenticate") == "" {
		return grade.Failf("401 invalid_client without WWW-Authenticate (RFC 6749 §5.2 MUST for Authorization-header auth)")
	}
	return grade.Passf("wrong client secret: %s, WWW-Authenticate: %s", a.Summary(), a.Header.Get("WWW-Authenticate"))
}

func subjectToken(ctx context.Context, t *grade.Target) (string, error) {
	if t.IdP.SubjectToken == nil {
		return "", fmt.Errorf("no subject token source: %w", grade.ErrUnavailable)
	}
	return t.IdP.SubjectToken(ctx)
}

// exchange memoizes one successful-looking exchange.
func exchange(ctx context.Context, t *grade.Target) (*asclient.Answer, error) {
	v, err := t.Memo("idp-exchange", func() (any, error) {
		c, err := confidential(t)
		if err != nil {
			return nil, err
		}
		sub, err := subjectToken(ctx, t)
		if err != nil {
			return nil, err
		}
		return tokenPost(ctx, t, url.Values{"grant_type": {grantExchange}, "subject_token": {sub},
			"subject_token_type": {typeAccessToken}, "requested_token_type": {typeAccessToken},
			"audience": {t.IdP.ExchangeAudience}}, c)
	})
	if err != nil {
		return nil, err
	}
	return v.(*asclient.Answer), nil
}

func jwtPayload(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func audList(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// exchangeNotOffered reports, as an N/A outcome, an IdP that does not
// offer RFC 8693 token exchange: its metadata lists grant types without
// it, or it answered the grant unsupported_grant_type. Such an IdP is not
// at fault: pass-through mode exists for it (docs/architecture.md §2.3),
// and RFC8693-004 grades how it says so.
func exchangeNotOffered(ctx context.Context, t *grade.Target, a *asclient.Answer) (grade.Outcome, bool) {
	if a != nil && a.Error() == "unsupported_grant_type" {
		return grade.NAf("the IdP does not support RFC 8693 token exchange (it answered %s): nothing to grade; run the MCP server in pass-through mode with it, or enable exchange there", a.Summary()), true
	}
	m, err := metadata(ctx, t)
	if err == nil && len(m.GrantTypesSupported) > 0 && !slices.Contains(m.GrantTypesSupported, grantExchange) {
		return grade.NAf("the IdP does not advertise RFC 8693 token exchange (grant_types_supported %v): nothing to grade; run the MCP server in pass-through mode with it, or enable exchange there", m.GrantTypesSupported), true
	}
	return grade.Outcome{}, false
}

// ExchangeResponse: RFC 8693 §2.2.1 — a successful exchange returns
// access_token, issued_token_type and token_type; the token is for the
// requested audience.
func ExchangeResponse(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	if o, na := exchangeNotOffered(ctx, t, nil); na {
		return o
	}
	a, err := exchange(ctx, t)
	if err != nil {
		return grade.Errorf("token exchange", err)
	}
	if o, na := exchangeNotOffered(ctx, t, a); na {
		return o
	}
	if a.Status != http.StatusOK {
		return grade.Failf("token exchange for audience %q: %s", t.IdP.ExchangeAudience, a.Summary())
	}
	for _, k := range []string{"access_token", "issued_token_type", "token_type"} {
		if a.Str(k) == "" {
			return grade.Failf("exchange response lacks %s", k)
		}
	}
	if a.Str("issued_token_type") != typeAccessToken {
		return grade.Failf("issued_token_type %q, requested %s", a.Str("issued_token_type"), typeAccessToken)
	}
	ev := fmt.Sprintf("200, issued_token_type %s, token_type %s", a.Str("issued_token_type"), a.Str("token_type"))
	if m := jwtPayload(a.Str("access_token")); m != nil {
		aud := audList(m["aud"])
		if !slices.Contains(aud, t.IdP.ExchangeAudience) {
			return grade.Failf("the exchanged token's aud %v lacks the requested audience %q", aud, t.IdP.ExchangeAudience)
		}
		ev += fmt.Sprintf(", aud %v", aud)
		if act, ok := m["act"].(map[string]any); ok {
			ev += fmt.Sprintf(", act.sub %v", act["sub"])
		}
	}
	return grade.Passf("%s", ev)
}

// NoStore: RFC 6749 §5.1 — token responses carry Cache-Control: no-store.
func NoStore(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	var a *asclient.Answer
	if x, err := exchange(ctx, t); err == nil && x.Status == http.StatusOK {
		a = x
	} else if r, err := rotation(ctx, t); err == nil && r.first.Status == http.StatusOK {
		a = r.first
	} else {
		return grade.NAf("no successful token response to inspect (no subject or refresh token)")
	}
	if !strings.Contains(strings.ToLower(a.Header.Get("Cache-Control")), "no-store") {
		return grade.Failf("successful token response with Cache-Control %q", a.Header.Get("Cache-Control"))
	}
	return grade.Passf("successful token response: Cache-Control %q", a.Header.Get("Cache-Control"))
}

// InvalidTarget: RFC 8693 §2.2.2 — an audience the server will not issue
// for is refused with invalid_target.
func InvalidTarget(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	if o, na := exchangeNotOffered(ctx, t, nil); na {
		return o
	}
	c, err := confidential(t)
	if err != nil {
		return grade.Errorf("client", err)
	}
	sub, err := subjectToken(ctx, t)
	if err != nil {
		return grade.Errorf("subject token", err)
	}
	aud := "conformance-unknown-" + randomString(6)
	a, err := tokenPost(ctx, t, url.Values{"grant_type": {grantExchange}, "subject_token": {sub},
		"subject_token_type": {typeAccessToken}, "audience": {aud}}, c)
	if err != nil {
		return grade.Errorf("token request", err)
	}
	if o, na := exchangeNotOffered(ctx, t, a); na {
		return o
	}
	if a.Status != http.StatusBadRequest || a.Error() != "invalid_target" {
		return grade.Failf("exchange for unknown audience %q: %s, want 400 invalid_target", aud, a.Summary())
	}
	return grade.Passf("exchange for unknown audience %q: %s", aud, a.Summary())
}

// ExchangeUnsupported: RFC 6749 §5.2 / RFC 8414 §2 — when token exchange
// is not offered, discovery does not list it and the grant is answered
// unsupported_grant_type (with the fake's control API the switch is
// flipped to observe both states).
func ExchangeUnsupported(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	c, err := confidential(t)
	if err != nil {
		return grade.Errorf("client", err)
	}
	probe := func() (*asclient.Answer, *asclient.Metadata, error) {
		m, err := asclient.Discover(ctx, t.HTTP, t.IdP.Issuer)
		if err != nil {
			return nil, nil, err
		}
		a, err := asclient.Post(ctx, t.HTTP, m.TokenEndpoint, url.Values{"grant_type": {grantExchange}, "subject_token": {"conformance"},
			"subject_token_type": {typeAccessToken}, "audience": {t.IdP.ExchangeAudience}}, c)
		return a, m, err
	}
	if t.IdP.Control == nil {
		a, m, err := probe()
		if err != nil {
			return grade.Errorf("probe", err)
		}
		if slices.Contains(m.GrantTypesSupported, grantExchange) {
			return grade.NAf("the IdP offers token exchange and has no control API to switch it off; %s for a bad subject token", a.Summary())
		}
		if a.Error() != "unsupported_grant_type" {
			return grade.Failf("metadata does not list token exchange but the grant answers %s, want unsupported_grant_type", a.Summary())
		}
		return grade.Passf("token exchange not advertised; the grant answers %s", a.Summary())
	}
	if err := t.IdP.Control.SetTokenExchange(ctx, false); err != nil {
		return grade.Errorf("switching exchange off", err)
	}
	off, moff, err := probe()
	if rerr := t.IdP.Control.SetTokenExchange(context.WithoutCancel(ctx), true); rerr != nil {
		return grade.Errorf("switching exchange back on", rerr)
	}
	if err != nil {
		return grade.Errorf("probe", err)
	}
	on, mon, err := probe()
	if err != nil {
		return grade.Errorf("probe", err)
	}
	switch {
	case slices.Contains(moff.GrantTypesSupported, grantExchange):
		return grade.Failf("exchange switched off but grant_types_supported still lists it")
	case off.Status != http.StatusBadRequest || off.Error() != "unsupported_grant_type":
		return grade.Failf("exchange switched off: %s, want 400 unsupported_grant_type", off.Summary())
	case !slices.Contains(mon.GrantTypesSupported, grantExchange):
		return grade.Failf("exchange switched on but grant_types_supported omits it")
	case on.Error() == "unsupported_grant_type":
		return grade.Failf("exchange switched on but the grant still answers unsupported_grant_type")
	}
	return grade.Passf("off: not advertised, %s; on: advertised, %s for a bad subject token", off.Summary(), on.Summary())
}

// IntrospectionActive: RFC 7662 §2.2 — a live access token is active:true;
// an unknown one is active:false (and SHOULD say nothing else).
func IntrospectionActive(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	m, err := metadata(ctx, t)
	if err != nil {
		return grade.Failf("%v", err)
	}
	if m.IntrospectionEndpoint == "" {
		return grade.Failf("no introspection_endpoint in the metadata")
	}
	c, err := confidential(t)
	if err != nil {
		return grade.Errorf("client", err)
	}
	sub, err := subjectToken(ctx, t)
	if err != nil {
		return grade.Errorf("token", err)
	}
	kind := "live access token"
	active, a, err := asclient.Introspect(ctx, t.HTTP, m.IntrospectionEndpoint, c, sub, "access_token")
	if err != nil && a != nil && a.Error() == "unsupported_token_type" {
		// RFC 7662 §2.3 lets a server refuse token types it does not
		// introspect; oidc-provider, by design, refuses its structured
		// (JWT) access tokens, which resource servers verify themselves.
		// Grade it with an opaque token of the same IdP instead.
		refused := a.Summary()
		if t.IdP.OpaqueToken == nil {
			return grade.NAf("the IdP does not introspect this (JWT) access token (%s, RFC 7662 §2.3) and no opaque access token was given (CONFORMANCE_IDP_OPAQUE_TOKEN)", refused)
		}
		opaque, oerr := t.IdP.OpaqueToken(ctx)
		if oerr != nil {
			return grade.Errorf("opaque token", oerr)
		}
		kind = fmt.Sprintf("live opaque access token (the JWT one is refused: %s)", refused)
		active, a, err = asclient.Introspect(ctx, t.HTTP, m.IntrospectionEndpoint, c, opaque, "access_token")
	}
	if err != nil {
		return grade.Failf("introspecting a %s: %v", kind, err)
	}
	if !active {
		return grade.Failf("a %s introspects as inactive", kind)
	}
	ev := fmt.Sprintf("%s: active=true (sub %v)", kind, a.JSON["sub"])
	active, a, err = asclient.Introspect(ctx, t.HTTP, m.IntrospectionEndpoint, c, "conformance-"+randomString(24), "")
	if err != nil {
		return grade.Failf("introspecting an unknown token: %v", err)
	}
	if active {
		return grade.Failf("an unknown token introspects as active")
	}
	if len(a.JSON) > 1 {
		return grade.Failf("an unknown token's introspection says more than active=false: %s (RFC 7662 §2.2 SHOULD NOT)", string(a.Body))
	}
	return grade.Passf("%s; unknown token: %s", ev, strings.TrimSpace(string(a.Body)))
}

// IntrospectionAuth: RFC 7662 §2.1 — the endpoint requires authorization
// (prevents token scanning).
func IntrospectionAuth(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	m, err := metadata(ctx, t)
	if err != nil {
		return grade.Failf("%v", err)
	}
	if m.IntrospectionEndpoint == "" {
		return grade.Failf("no introspection_endpoint in the metadata")
	}
	sub, err := subjectToken(ctx, t)
	if err != nil {
		return grade.Errorf("token", err)
	}
	a, err := asclient.Post(ctx, t.HTTP, m.IntrospectionEndpoint, url.Values{"token": {sub}}, nil)
	if err != nil {
		return grade.Errorf("introspection", err)
	}
	if a.Status < 400 {
		return grade.Failf("unauthenticated introspection answered %s: %.120s", a.Summary(), a.Body)
	}
	return grade.Passf("unauthenticated introspection: %s", a.Summary())
}

type rotationProbe struct {
	r1, r2 string
	first  *asclient.Answer
}

func rotation(ctx context.Context, t *grade.Target) (*rotationProbe, error) {
	v, err := t.Memo("idp-rotation", func() (any, error) {
		if t.IdP.RefreshToken == nil {
			return nil, fmt.Errorf("no refresh token source: %w", grade.ErrUnavailable)
		}
		r1, err := t.IdP.RefreshToken(ctx)
		if err != nil {
			return nil, err
		}
		a, err := tokenPost(ctx, t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}}, &asclient.Client{ID: t.IdP.PublicClientID})
		if err != nil {
			return nil, err
		}
		return &rotationProbe{r1: r1, r2: a.Str("refresh_token"), first: a}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*rotationProbe), nil
}

// RefreshRotation: RFC 9700 §4.14.2 — a public client's refresh token is
// rotated on use.
func RefreshRotation(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	r, err := rotation(ctx, t)
	if err != nil {
		return grade.Errorf("refresh", err)
	}
	if r.first.Status != http.StatusOK {
		return grade.Failf("refresh grant: %s", r.first.Summary())
	}
	if r.r2 == "" {
		return grade.Failf("refresh grant returned no new refresh token (no rotation)")
	}
	if r.r2 == r.r1 {
		return grade.Failf("refresh grant returned the same refresh token (no rotation)")
	}
	return grade.Passf("refresh grant: 200 with a new refresh token")
}

// RefreshReuse: RFC 9700 §4.14.2 — presenting a rotated refresh token
// again is refused and revokes the active one too.
func RefreshReuse(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needIdP(t); !ok {
		return o
	}
	r, err := rotation(ctx, t)
	if err != nil {
		return grade.Errorf("refresh", err)
	}
	if r.first.Status != http.StatusOK || r.r2 == "" || r.r2 == r.r1 {
		return grade.Failf("no rotation to test reuse against (%s)", r.first.Summary())
	}
	pub := &asclient.Client{ID: t.IdP.PublicClientID}
	a, err := tokenPost(ctx, t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.r1}}, pub)
	if err != nil {
		return grade.Errorf("reuse", err)
	}
	if a.Status != http.StatusBadRequest || a.Error() != "invalid_grant" {
		return grade.Failf("reusing the rotated refresh token: %s, want 400 invalid_grant", a.Summary())
	}
	b, err := tokenPost(ctx, t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.r2}}, pub)
	if err != nil {
		return grade.Errorf("successor", err)
	}
	if b.Status == http.StatusOK {
		return grade.Failf("after reuse of its predecessor the newest refresh token still works: the family was not revoked")
	}
	return grade.Passf("reuse of the rotated token: %s; its successor is then refused too (%s)", a.Summary(), b.Summary())
}
