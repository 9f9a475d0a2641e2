package mcpcheck

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/mcpwire"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/wwwauth"
)

// PRMPath: Protected Resource Metadata at the path-form well-known URL,
// with resource and at least one authorization server.
func PRMPath(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	d := prm(ctx, t, false)
	if d.Err != nil {
		return grade.Failf("%v", d.Err)
	}
	if d.Resource == "" {
		return grade.Failf("GET %s: no resource", d.URL)
	}
	if len(d.AuthorizationServers) == 0 {
		return grade.Failf("GET %s: authorization_servers is empty or missing", d.URL)
	}
	if !strings.HasPrefix(d.ContentType, "application/json") {
		return grade.Failf("GET %s: Content-Type %q, want application/json (RFC 9728 §3.2)", d.URL, d.ContentType)
	}
	return grade.Passf("GET %s: 200 application/json, resource %q, authorization_servers %v", d.URL, d.Resource, d.AuthorizationServers)
}

// PRMExactResource: resource equals the MCP endpoint URL byte for byte
// (RFC 9728 §3.3; the Go SDK client compares exactly).
func PRMExactResource(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	d := prm(ctx, t, false)
	if d.Err != nil {
		return grade.Failf("%v", d.Err)
	}
	if d.Resource != t.MCP.URL {
		return grade.Failf("resource %q != MCP endpoint %q", d.Resource, t.MCP.URL)
	}
	return grade.Passf("resource %q == MCP endpoint URL", d.Resource)
}

// PRMBothLocations: docs/architecture.md §3 — the same metadata at the root and
// the path form: exact resource, authorization_servers = [issuer],
// scopes_supported.
func PRMBothLocations(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	var ev []string
	for _, root := range []bool{false, true} {
		d := prm(ctx, t, root)
		if d.Err != nil {
			return grade.Failf("%v", d.Err)
		}
		if d.Resource != t.MCP.URL {
			return grade.Failf("GET %s: resource %q != %q", d.URL, d.Resource, t.MCP.URL)
		}
		if t.MCP.Issuer != "" && !slices.Equal(d.AuthorizationServers, []string{t.MCP.Issuer}) {
			return grade.Failf("GET %s: authorization_servers %v, want [%s]", d.URL, d.AuthorizationServers, t.MCP.Issuer)
		}
		if len(d.AuthorizationServers) == 0 {
			return grade.Failf("GET %s: no authorization_servers", d.URL)
		}
		if len(d.ScopesSupported) == 0 {
			return grade.Failf("GET %s: no scopes_supported", d.URL)
		}
		ev = append(ev, fmt.Sprintf("%s ok", strings.TrimPrefix(d.URL, originOf(t.MCP.URL))))
	}
	d := prm(ctx, t, false)
	return grade.Passf("%s; resource %q, authorization_servers %v, %d scopes_supported", strings.Join(ev, ", "), d.Resource, d.AuthorizationServers, len(d.ScopesSupported))
}

func originOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			return u[:i+3+j]
		}
	}
	return u
}

// challenge401 memoizes the answer to an unauthenticated initialize.
type challengeProbe struct {
	Resp      *mcpwire.Response
	Challenge wwwauth.Challenge
	ParseErr  error
}

func probeChallenge(ctx context.Context, t *grade.Target, key, tok string) (*challengeProbe, error) {
	v, err := t.Memo("challenge:"+key, func() (any, error) {
		c := newClient(t, tok)
		resp, err := c.Initialize(ctx)
		if err != nil {
			return nil, err
		}
		p := &challengeProbe{Resp: resp}
		p.Challenge, p.ParseErr = wwwauth.Bearer(resp.Header)
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*challengeProbe), nil
}

// NoTokenChallenge: a request without a token gets 401 with a Bearer
// challenge whose resource_metadata serves this resource's metadata.
func NoTokenChallenge(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	p, err := probeChallenge(ctx, t, "none", "")
	if err != nil {
		return grade.Errorf("initialize without a token", err)
	}
	if p.Resp.Status != http.StatusUnauthorized {
		return grade.Failf("initialize without a token: HTTP %d, want 401", p.Resp.Status)
	}
	if p.ParseErr != nil {
		return grade.Failf("401 without a usable Bearer challenge: %v (WWW-Authenticate %q)", p.ParseErr, p.Resp.Header.Values("WWW-Authenticate"))
	}
	rm, ok := p.Challenge.Param("resource_metadata")
	if !ok || rm == "" {
		return grade.Failf("401 challenge has no resource_metadata: %q", p.Resp.Header.Get("WWW-Authenticate"))
	}
	d := fetchPRM(ctx, t.HTTP, rm)
	if d.Err != nil {
		return grade.Failf("resource_metadata %q: %v", rm, d.Err)
	}
	if d.Resource != t.MCP.URL {
		return grade.Failf("resource_metadata %q names resource %q, not %q", rm, d.Resource, t.MCP.URL)
	}
	return grade.Passf("401, WWW-Authenticate: %s; its metadata names resource %q", p.Resp.Header.Get("WWW-Authenticate"), d.Resource)
}

// NoTokenNoErrorCode: RFC 6750 §3.1 — without credentials the challenge
// SHOULD NOT carry an error code.
func NoTokenNoErrorCode(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	p, err := probeChallenge(ctx, t, "none", "")
	if err != nil {
		return grade.Errorf("initialize without a token", err)
	}
	if p.Resp.Status != http.StatusUnauthorized || p.ParseErr != nil {
		return grade.Failf("no Bearer 401 to inspect: HTTP %d %v", p.Resp.Status, p.ParseErr)
	}
	if e, ok := p.Challenge.Param("error"); ok {
		return grade.Failf("401 without credentials carries error=%q", e)
	}
	return grade.Passf("401 without credentials has no error code: %s", p.Resp.Header.Get("WWW-Authenticate"))
}

// ChallengeScope: the 401 challenge SHOULD carry scope (MCP 2025-11-25).
func ChallengeScope(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	p, err := probeChallenge(ctx, t, "none", "")
	if err != nil {
		return grade.Errorf("initialize without a token", err)
	}
	if p.Resp.Status != http.StatusUnauthorized || p.ParseErr != nil {
		return grade.Failf("no Bearer 401 to inspect: HTTP %d %v", p.Resp.Status, p.ParseErr)
	}
	s, ok := p.Challenge.Param("scope")
	if !ok || strings.TrimSpace(s) == "" {
		return grade.Failf("401 challenge has no scope: %s", p.Resp.Header.Get("WWW-Authenticate"))
	}
	return grade.Passf("401 challenge scope=%q", s)
}

const garbageToken = "conformance-not-a-token"

// MalformedToken: an unparseable token gets 401.
func MalformedToken(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	p, err := probeChallenge(ctx, t, "garbage", garbageToken)
	if err != nil {
		return grade.Errorf("initialize with a garbage token", err)
	}
	if p.Resp.Status != http.StatusUnauthorized {
		return grade.Failf("garbage token: HTTP %d, want 401", p.Resp.Status)
	}
	return grade.Passf("garbage token: 401")
}

// InvalidTokenChallenge: docs/architecture.md §3 — a 401 for a token that was
// sent carries error="invalid_token", resource_metadata and scope.
func InvalidTokenChallenge(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	p, err := probeChallenge(ctx, t, "garbage", garbageToken)
	if err != nil {
		return grade.Errorf("initialize with a garbage token", err)
	}
	h := p.Resp.Header.Get("WWW-Authenticate")
	switch {
	case p.Resp.Status != http.StatusUnauthorized:
		return grade.Failf("garbage token: HTTP %d, want 401", p.Resp.Status)
	case p.ParseErr != nil:
		return grade.Failf("no usable Bearer challenge: %v", p.ParseErr)
	}
	var missing []string
	if e, _ := p.Challenge.Param("error"); e != "invalid_token" {
		missing = append(missing, fmt.Sprintf("error=%q (want invalid_token)", e))
	}
	for _, k := range []string{"resource_metadata", "scope"} {
		if v, _ := p.Challenge.Param(k); v == "" {
			missing = append(missing, k+" missing")
		}
	}
	if len(missing) > 0 {
		return grade.Failf("%s; WWW-Authenticate: %s", strings.Join(missing, ", "), h)
	}
	return grade.Passf("401, WWW-Authenticate: %s", h)
}

// badToken grades one token that must be refused: 401 with
// error="invalid_token". A minted valid token must pass first, so a 401
// proves the one defect was detected.
func badToken(ctx context.Context, t *grade.Target, what string, mk func(ctx context.Context, base map[string]any) (string, error)) grade.Outcome {
	if o, ok := needOAuth(t); !ok {
		return o
	}
	if err := positiveControl(ctx, t); err != nil {
		return grade.Errorf("positive control", err)
	}
	base := validClaims(ctx, t)
	if _, err := t.Memo("mint-control", func() (any, error) {
		if t.MCP.IdPControl == nil {
			return nil, fmt.Errorf("minting needs the fake IdP's control API: %w", grade.ErrUnavailable)
		}
		tok, err := t.MCP.IdPControl.Mint(ctx, fakectl.MintRequest{Claims: base, Key: fakectl.KeyCurrent})
		if err != nil {
			return nil, err
		}
		if _, err := session(ctx, t, tok); err != nil {
			return nil, fmt.Errorf("a minted valid token was refused, so minted negatives prove nothing: %w", err)
		}
		return nil, nil
	}); err != nil {
		return grade.Errorf("minted positive control", err)
	}
	tok, err := mk(ctx, base)
	if err != nil {
		return grade.Errorf("making the "+what+" token", err)
	}
	resp, err := newClient(t, tok).Initialize(ctx)
	if err != nil {
		return grade.Errorf("initialize", err)
	}
	if resp.Status != http.StatusUnauthorized {
		return grade.Failf("%s: HTTP %d, want 401 (the token was accepted or refused wrongly)", what, resp.Status)
	}
	ch, err := wwwauth.Bearer(resp.Header)
	if e, _ := ch.Param("error"); err != nil || e != "invalid_token" {
		return grade.Failf("%s: 401 but WWW-Authenticate %q lacks error=\"invalid_token\"", what, resp.Header.Get("WWW-Authenticate"))
	}
	return grade.Passf("%s: 401 invalid_token (a minted valid token was accepted)", what)
}

// validClaims are claims the server must accept: the primary user, the
// MCP URL as audience, every advertised scope, issued by the IdP.
func validClaims(ctx context.Context, t *grade.Target) map[string]any {
	all, _, _ := scopeSets(ctx, t)
	u := primary(t)
	return map[string]any{
		"sub": u, "preferred_username": u, "aud": t.MCP.URL, "scope": strings.Join(all, " "),
		"client_id": "mcp-client", "azp": "mcp-client",
	}
}

func mint(ctx context.Context, t *grade.Target, r fakectl.MintRequest) (string, error) {
	if t.MCP.IdPControl == nil {
		return "", fmt.Errorf("minting needs the fake IdP's control API: %w", grade.ErrUnavailable)
	}
	tok, err := t.MCP.IdPControl.Mint(ctx, r)
	t.AddSecret(tok)
	return tok, err
}

func with(base map[string]any, kv ...any) map[string]any {
	m := make(map[string]any, len(base)+len(kv)/2)
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// UserlessToken: docs/architecture.md §1.1 — a token that names no user is
// refused: a client-credentials grant (sub = the client, RFC 9068 §2.2)
// and a Keycloak service account (preferred_username
// service-account-<client>, sub a UUID). The server acts for users; such
// a token would make Nextcloud provision a user named after the client.
func UserlessToken(ctx context.Context, t *grade.Target) grade.Outcome {
	var ev []string
	for _, tc := range []struct {
		what   string
		claims []any
	}{
		{"client-credentials token (sub = client_id = azp)", []any{"sub", "conformance-svc", "client_id", "conformance-svc", "azp", "conformance-svc", "preferred_username", "service-account-conformance-svc"}},
		{"client-credentials token (sub = azp, no username)", []any{"sub", "conformance-svc", "client_id", nil, "azp", "conformance-svc", "preferred_username", nil}},
		{"Keycloak service-account token", []any{"sub", "0b9c2a1e-5d4f-4c1a-9e7b-3f2d1c0b9a88", "client_id", "conformance-svc", "azp", "conformance-svc", "preferred_username", "service-account-conformance-svc"}},
	} {
		o := badToken(ctx, t, tc.what, func(ctx context.Context, base map[string]any) (string, error) {
			return mint(ctx, t, fakectl.MintRequest{Claims: with(base, tc.claims...), Key: fakectl.KeyCurrent})
		})
		if o.Status != grade.Pass {
			return o
		}
		ev = append(ev, o.Evidence)
	}
	return grade.Passf("%s", strings.Join(ev, "; "))
}

// WrongIssuer: RFC 9068 §4 — iss must match the issuer exactly.
func WrongIssuer(ctx context.Context, t *grade.Target) grade.Outcome {
	return badToken(ctx, t, "token with iss https://wrong-issuer.example", func(ctx context.Context, base map[string]any) (string, error) {
		return mint(ctx, t, fakectl.MintRequest{Claims: with(base, "iss", "https://wrong-issuer.example"), Key: fakectl.KeyCurrent})
	})
}

// WrongAudience: RFC 9068 §4 / RFC 8707 — aud must name this server.
func WrongAudience(ctx context.Context, t *grade.Target) grade.Outcome {
	return badToken(ctx, t, "token with aud https://other-resource.example/mcp", func(ctx context.Context, base map[string]any) (string, error) {
		return mint(ctx, t, fakectl.MintRequest{Claims: with(base, "aud", "https://other-resource.example/mcp"), Key: fakectl.KeyCurrent})
	})
}

// NextcloudAudience: a token for Nextcloud (what an exchange yields) is
// not a token for the MCP server (MCP: accept only tokens intended for
// itself).
func NextcloudAudience(ctx context.Context, t *grade.Target) grade.Outcome {
	aud := t.MCP.NextcloudAudience
	if aud == "" {
		aud = "nextcloud"
	}
	return badToken(ctx, t, fmt.Sprintf("token with aud %q (Nextcloud's)", aud), func(ctx context.Context, base map[string]any) (string, error) {
		act := map[string]any{"sub": t.MCP.ServerClientID}
		return mint(ctx, t, fakectl.MintRequest{Claims: with(base, "aud", aud, "azp", t.MCP.ServerClientID, "act", act), Key: fakectl.KeyCurrent})
	})
}

// UnknownKey: RFC 9068 §4 — the signature must verify with the issuer's
// published keys.
func UnknownKey(ctx context.Context, t *grade.Target) grade.Outcome {
	return badToken(ctx, t, "token signed by an unpublished key", func(ctx context.Context, base map[string]any) (string, error) {
		return mint(ctx, t, fakectl.MintRequest{Claims: base, Key: fakectl.KeyUnknown})
	})
}

// TamperedToken: a valid token whose payload was changed after signing.
// Needs no control API: it edits a token the target issued.
func TamperedToken(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	return badToken0(ctx, t, "valid token with a tampered payload (sub changed)", func(ctx context.Context) (string, error) {
		_, read, err := scopeSets(ctx, t)
		if err != nil {
			return "", err
		}
		tok, err := token(ctx, t, primary(t), read)
		if err != nil {
			return "", err
		}
		return tamper(tok)
	})
}

// badToken0 is badToken without the minting positive control (for
// negatives that need no control API).
func badToken0(ctx context.Context, t *grade.Target, what string, mk func(context.Context) (string, error)) grade.Outcome {
	if err := positiveControl(ctx, t); err != nil {
		return grade.Errorf("positive control", err)
	}
	tok, err := mk(ctx)
	if err != nil {
		return grade.Errorf("making the "+what+" token", err)
	}
	resp, err := newClient(t, tok).Initialize(ctx)
	if err != nil {
		return grade.Errorf("initialize", err)
	}
	if resp.Status != http.StatusUnauthorized {
		return grade.Failf("%s: HTTP %d, want 401", what, resp.Status)
	}
	return grade.Passf("%s: 401 (the untampered token is accepted)", what)
}

// tamper rewrites a JWT's sub claim and keeps the original signature.
func tamper(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("the target's token is not a JWT: cannot tamper with it: %w", grade.ErrUnavailable)
	}
	m, err := jwtClaims(tok)
	if err != nil {
		return "", err
	}
	m["sub"] = "mallory"
	m["preferred_username"] = "mallory"
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, "."), nil
}

// AlgNone: RFC 9068 §4 — alg "none" is refused.
func AlgNone(ctx context.Context, t *grade.Target) grade.Outcome {
	return badToken(ctx, t, `token with alg "none"`, func(ctx context.Context, base map[string]any) (string, error) {
		return mint(ctx, t, fakectl.MintRequest{Claims: base, Key: fakectl.KeyNone})
	})
}

// HS256Confusion: RFC 8725 §2.1/§3.1 — HS256 keyed with the public key.
func HS256Confusion(ctx context.Context, t *grade.Target) grade.Outcome {
	return badToken(ctx, t, "HS256 token keyed with the IdP's public key", func(ctx context.Context, base map[string]any) (string, error) {
		return mint(ctx, t, fakectl.MintRequest{Claims: base, Key: fakectl.KeyHS256Public})
	})
}

// Expired: RFC 9068 §4 — the current time must be before exp.
func Expired(ctx context.Context, t *grade.Target) grade.Outcome {
	return badToken(ctx, t, "token expired 10 minutes ago", func(ctx context.Context, base map[string]any) (string, error) {
		exp := int64(-600)
		return mint(ctx, t, fakectl.MintRequest{Claims: base, Key: fakectl.KeyCurrent, ExpiresIn: &exp})
	})
}

// NotYetValid: RFC 7519 §4.1.5 — nbf in the future.
func NotYetValid(ctx context.Context, t *grade.Target) grade.Outcome {
	return badToken(ctx, t, "token with nbf 10 minutes ahead", func(ctx context.Context, base map[string]any) (string, error) {
		now := time.Now().Unix()
		return mint(ctx, t, fakectl.MintRequest{Claims: with(base, "nbf", now+600, "iat", now, "exp", now+3600), Key: fakectl.KeyCurrent})
	})
}

// QueryToken: tokens are accepted only in the Authorization header (MCP
// 2025-11-25 §Token Requirements): a valid token in the query string must
// not authenticate.
func QueryToken(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	if err := positiveControl(ctx, t); err != nil {
		return grade.Errorf("positive control", err)
	}
	tok, err := fullToken(ctx, t, primary(t))
	if err != nil {
		return grade.Errorf("token", err)
	}
	c := newClient(t, "")
	resp, err := c.Initialize(ctx, func(r *http.Request) {
		q := r.URL.Query()
		q.Set("access_token", tok)
		r.URL.RawQuery = q.Encode()
	})
	if err != nil {
		return grade.Errorf("initialize", err)
	}
	if resp.OK() {
		return grade.Failf("POST /mcp?access_token=<valid token> without a header: %s — the query token was accepted", resp.Summary())
	}
	// The refusal must be the resource server's own: a 400 or 401 with a
	// Bearer challenge (RFC 6750 §3). A bare 401 from a layer further in
	// (an SDK that happens to look only at the header) means the server
	// itself took the query token — one layer away from accepting it.
	ch, err := wwwauth.Bearer(resp.Header)
	if (resp.Status != http.StatusBadRequest && resp.Status != http.StatusUnauthorized) || err != nil {
		return grade.Failf("POST /mcp?access_token=<valid token>: %s without a Bearer challenge (WWW-Authenticate %q): the refusal is not the resource server's", resp.Summary(), resp.Header.Get("WWW-Authenticate"))
	}
	e, _ := ch.Param("error")
	// Form-encoded body tokens (RFC 6750 §2.2) are not JSON-RPC, so they
	// cannot reach an MCP handler; the header is the only way in.
	return grade.Passf("POST /mcp?access_token=<valid token>: HTTP %d with a Bearer challenge (error %q; the same token in the header is accepted)", resp.Status, e)
}

// SessionNotAuthentication: Security BP §Session Hijacking — every request
// is authenticated; a session id alone is not a credential.
func SessionNotAuthentication(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	tok, err := fullToken(ctx, t, primary(t))
	if err != nil {
		return grade.Errorf("token", err)
	}
	c, err := session(ctx, t, tok)
	if err != nil {
		return grade.Errorf("session", err)
	}
	if c.SessionID == "" {
		return grade.NAf("the server assigned no Mcp-Session-Id (stateless): nothing to hijack")
	}
	c.Token = ""
	resp, err := c.Send(ctx, "tools/list", nil)
	if err != nil {
		return grade.Errorf("tools/list", err)
	}
	if resp.Status != http.StatusUnauthorized {
		return grade.Failf("tools/list with a valid Mcp-Session-Id and no token: %s, want 401", resp.Summary())
	}
	return grade.Passf("tools/list with a valid session id and no token: 401")
}

// SessionBoundToUser: a session created with one user's token refuses
// another user's token (sessions bound to the token's sub).
func SessionBoundToUser(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	other, ok := otherUser(t)
	if !ok {
		return grade.NAf("needs a second user's token")
	}
	tokA, err := fullToken(ctx, t, primary(t))
	if err != nil {
		return grade.Errorf("token", err)
	}
	tokB, err := fullToken(ctx, t, other)
	if err != nil {
		return grade.Errorf("second user's token", err)
	}
	c, err := session(ctx, t, tokA)
	if err != nil {
		return grade.Errorf("session", err)
	}
	if c.SessionID == "" {
		return grade.NAf("the server assigned no Mcp-Session-Id (stateless): nothing to bind")
	}
	// The same session must still work for its owner (positive control).
	if resp, err := c.Send(ctx, "tools/list", nil); err != nil || !resp.OK() {
		return grade.Failf("tools/list by the session's own user failed: %v %v", err, summary(resp))
	}
	c.Token = tokB
	resp, err := c.Send(ctx, "tools/list", nil)
	if err != nil {
		return grade.Errorf("tools/list", err)
	}
	if resp.OK() && (resp.Reply == nil || resp.Reply.Error == nil) {
		return grade.Failf("%s's session accepted %s's token: %s", primary(t), other, resp.Summary())
	}
	return grade.Passf("%s's session with %s's token: %s", primary(t), other, resp.Summary())
}

func summary(r *mcpwire.Response) string {
	if r == nil {
		return "no response"
	}
	return r.Summary()
}
