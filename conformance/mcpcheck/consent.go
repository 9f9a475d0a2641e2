package mcpcheck

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/asclient"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/mcpwire"
)

func needConsent(t *grade.Target) (grade.Outcome, bool) {
	if o, ok := needTokens(t); !ok {
		return o, false
	}
	if !t.MCP.ProgressiveConsent {
		return grade.NAf("progressive consent is off in this target"), false
	}
	return grade.Outcome{}, true
}

func needApprove(t *grade.Target) (grade.Outcome, bool) {
	if t.MCP.Approve == nil {
		return grade.NAf("needs a way to approve a Flow 2 authorization at the IdP (the fake IdP's auto-approve)"), false
	}
	return grade.Outcome{}, true
}

var urlRE = regexp.MustCompile(`https?://[^\s"'<>\\]+`)

// authorizationURL finds the Flow 2 authorization URL in a tool result.
func authorizationURL(co callOutcome) (string, error) {
	if len(co.Structured) > 0 {
		var v struct {
			URL string `json:"authorization_url"`
		}
		if json.Unmarshal(co.Structured, &v) == nil && v.URL != "" {
			return v.URL, nil
		}
	}
	for _, u := range urlRE.FindAllString(co.Text, -1) {
		if strings.Contains(u, "code_challenge=") || strings.Contains(u, "state=") {
			return strings.TrimRight(u, ".,;)"), nil
		}
	}
	return "", fmt.Errorf("no authorization URL in %q", truncate(co.Text, 200))
}

func provisionLink(ctx context.Context, c *mcpwire.Client) (string, callOutcome, error) {
	co, err := callTool(ctx, c, toolProvision, nil)
	if err != nil {
		return "", co, err
	}
	if !co.OK {
		return "", co, fmt.Errorf("%s failed: %s %s", toolProvision, co.Summary, truncate(co.Text, 200))
	}
	u, err := authorizationURL(co)
	return u, co, err
}

// provisionedStatus asks check_provisioning_status.
func provisionedStatus(ctx context.Context, c *mcpwire.Client) (bool, string, error) {
	co, err := callTool(ctx, c, toolStatus, nil)
	if err != nil {
		return false, "", err
	}
	if !co.OK {
		return false, co.Text, fmt.Errorf("%s failed: %s %s", toolStatus, co.Summary, truncate(co.Text, 200))
	}
	var v struct {
		Provisioned *bool `json:"provisioned"`
	}
	src := co.Text
	if len(co.Structured) > 0 {
		src = string(co.Structured)
	}
	if jsonUnmarshalLoose(src, &v) == nil && v.Provisioned != nil {
		return *v.Provisioned, co.Text, nil
	}
	return false, co.Text, fmt.Errorf("%s: no provisioned field in %q", toolStatus, truncate(src, 200))
}

// getURL GETs u without following redirects.
func getURL(ctx context.Context, t *grade.Target, u string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := t.HTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }() // read below; closing only releases the connection
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(b), nil
}

// consentFlow is the primary user's completed Flow 2.
type consentFlow struct {
	AuthURL        string
	CallbackURL    string
	CallbackStatus int
}

// provisioned runs Flow 2 for the primary user once per target.
func provisioned(ctx context.Context, t *grade.Target) (*consentFlow, error) {
	v, err := t.Memo("consent-flow", func() (any, error) {
		if t.MCP.Approve == nil {
			return nil, fmt.Errorf("no way to approve at the IdP: %w", grade.ErrUnavailable)
		}
		tok, err := fullToken(ctx, t, primary(t))
		if err != nil {
			return nil, err
		}
		c, err := session(ctx, t, tok)
		if err != nil {
			return nil, err
		}
		link, _, err := provisionLink(ctx, c)
		if err != nil {
			return nil, err
		}
		cb, err := t.MCP.Approve(ctx, link, primary(t))
		if err != nil {
			return nil, fmt.Errorf("approving at the IdP: %w", err)
		}
		status, body, err := getURL(ctx, t, cb)
		if err != nil {
			return nil, err
		}
		if status >= 400 {
			return nil, fmt.Errorf("callback answered HTTP %d: %s", status, truncate(body, 160))
		}
		ok, text, err := provisionedStatus(ctx, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("after a successful callback (HTTP %d) the status says not provisioned: %s", status, truncate(text, 160))
		}
		return &consentFlow{AuthURL: link, CallbackURL: cb, CallbackStatus: status}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*consentFlow), nil
}

// UnprovisionedRefused: docs/architecture.md §1.2 — while progressive consent is on, every
// Nextcloud tool refuses an unprovisioned user with a tool error naming
// provision_nextcloud_access and carrying the authorization URL; Nextcloud
// sees nothing.
func UnprovisionedRefused(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needConsent(t); !ok {
		return o
	}
	if o, ok := needNCControl(t); !ok {
		return o
	}
	user, ok := otherUser(t)
	if !ok {
		return grade.NAf("needs a second, never provisioned user")
	}
	tok, err := fullToken(ctx, t, user)
	if err != nil {
		return grade.Errorf("token", err)
	}
	c, err := session(ctx, t, tok)
	if err != nil {
		return grade.Errorf("session", err)
	}
	list, err := tools(ctx, t, tok)
	if err != nil {
		return grade.Errorf("tools/list", err)
	}
	var names []string
	var bad string
	log, err := ncLogAround(ctx, t, func() error {
		for _, tool := range list {
			if slices.Contains(provisioningTools, tool.Name) {
				continue
			}
			co, err := callTool(ctx, c, tool.Name, synthAllArgs(tool.InputSchema))
			if err != nil {
				return err
			}
			names = append(names, tool.Name)
			if bad != "" {
				continue
			}
			switch {
			case co.OK:
				bad = fmt.Sprintf("%s succeeded for unprovisioned %s", tool.Name, user)
			case !strings.Contains(co.Text, toolProvision):
				bad = fmt.Sprintf("%s's error does not name %s: %q", tool.Name, toolProvision, truncate(co.Text, 160))
			case !urlRE.MatchString(co.Text):
				bad = fmt.Sprintf("%s's error carries no authorization URL: %q", tool.Name, truncate(co.Text, 160))
			}
		}
		return nil
	})
	if err != nil {
		return grade.Errorf("tool calls", err)
	}
	if bad != "" {
		return grade.Failf("%s", bad)
	}
	if len(names) == 0 {
		return grade.Failf("no Nextcloud tool listed")
	}
	if len(log) > 0 {
		return grade.Failf("Nextcloud saw %d request(s) for unprovisioned %s (auth %s)", len(log), user, authKinds(log))
	}
	return grade.Passf("all %d Nextcloud tools refused unprovisioned %s with a tool error naming %s and a link; Nextcloud saw nothing", len(names), user, toolProvision)
}

var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// PKCEAndState: the Flow 2 authorization request uses PKCE S256, a fresh
// unguessable state, the server's own client and callback, and asks for
// offline access.
func PKCEAndState(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needConsent(t); !ok {
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
	var qs []url.Values
	for i := 0; i < 2; i++ {
		link, _, err := provisionLink(ctx, c)
		if err != nil {
			return grade.Errorf(toolProvision, err)
		}
		u, err := url.Parse(link)
		if err != nil {
			return grade.Failf("authorization URL %q: %v", link, err)
		}
		qs = append(qs, u.Query())
	}
	q := qs[0]
	switch {
	case q.Get("response_type") != "code":
		return grade.Failf("response_type=%q, want code", q.Get("response_type"))
	case q.Get("code_challenge_method") != "S256":
		return grade.Failf("code_challenge_method=%q, want S256 (RFC 7636 §4.3; plain exposes the verifier)", q.Get("code_challenge_method"))
	case !challengeRE.MatchString(q.Get("code_challenge")):
		return grade.Failf("code_challenge %q is not a base64url SHA-256 (43 characters)", q.Get("code_challenge"))
	case len(q.Get("state")) < 22:
		return grade.Failf("state %q is shorter than 128 bits of base64url", q.Get("state"))
	case qs[0].Get("state") == qs[1].Get("state"):
		return grade.Failf("two provisioning requests got the same state %q", q.Get("state"))
	case qs[0].Get("code_challenge") == qs[1].Get("code_challenge"):
		return grade.Failf("two provisioning requests got the same code_challenge")
	case t.MCP.ServerClientID != "" && q.Get("client_id") != t.MCP.ServerClientID:
		return grade.Failf("client_id=%q, want the server's client %q", q.Get("client_id"), t.MCP.ServerClientID)
	case !slices.Contains(strings.Fields(q.Get("scope")), "offline_access"):
		return grade.Failf("scope %q lacks offline_access", q.Get("scope"))
	}
	ru, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || originOf(ru.String()) != originOf(t.MCP.URL) {
		return grade.Failf("redirect_uri %q is not on the server's origin %s", q.Get("redirect_uri"), originOf(t.MCP.URL))
	}
	return grade.Passf("code_challenge_method=S256, 43-char challenge, %d-char state, both fresh per request; client_id=%s redirect_uri=%s; scope has offline_access",
		len(q.Get("state")), q.Get("client_id"), q.Get("redirect_uri"))
}

func randomState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// callbackBase returns the server's Flow 2 callback URL from a fresh link.
func callbackBase(ctx context.Context, t *grade.Target, user string) (string, error) {
	tok, err := fullToken(ctx, t, user)
	if err != nil {
		return "", err
	}
	c, err := session(ctx, t, tok)
	if err != nil {
		return "", err
	}
	link, _, err := provisionLink(ctx, c)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", err
	}
	cb := u.Query().Get("redirect_uri")
	if cb == "" {
		return "", fmt.Errorf("authorization URL has no redirect_uri")
	}
	return cb, nil
}

// callbackRefused GETs a callback URL and reports whether it was refused
// without a code redemption at the IdP.
func callbackRefused(ctx context.Context, t *grade.Target, cb string) (status int, redemptions int, checked bool, err error) {
	run := func() error {
		var err error
		status, _, err = getURL(ctx, t, cb)
		return err
	}
	if t.MCP.IdPControl == nil {
		return status, 0, false, run()
	}
	if err := t.MCP.IdPControl.ResetLog(ctx); err != nil {
		return 0, 0, false, err
	}
	if err := run(); err != nil {
		return 0, 0, false, err
	}
	log, err := t.MCP.IdPControl.Log(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	return status, countGrants(log, fakectl.GrantCode), true, nil
}

// ForeignState: the callback refuses a state it never issued, before
// contacting the IdP (RFC 6749 §10.12 CSRF protection).
func ForeignState(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needConsent(t); !ok {
		return o
	}
	cb, err := callbackBase(ctx, t, primary(t))
	if err != nil {
		return grade.Errorf("callback URL", err)
	}
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("code", "conformance-bogus-code")
	q.Set("state", randomState())
	if t.MCP.Issuer != "" {
		q.Set("iss", t.MCP.Issuer)
	}
	u.RawQuery = q.Encode()
	status, redemptions, checked, err := callbackRefused(ctx, t, u.String())
	if err != nil {
		return grade.Errorf("callback", err)
	}
	if status < 400 || status >= 500 {
		return grade.Failf("callback with a state it never issued: HTTP %d, want 4xx", status)
	}
	if redemptions > 0 {
		return grade.Failf("callback with a foreign state: HTTP %d, but the server redeemed the code at the IdP first", status)
	}
	ev := fmt.Sprintf("callback with a state it never issued: HTTP %d", status)
	if checked {
		ev += "; the IdP saw no code redemption"
	}
	return grade.Passf("%s", ev)
}

// CallbackReplay: a state is single-use — replaying a completed callback
// is refused without a second code redemption.
func CallbackReplay(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needConsent(t); !ok {
		return o
	}
	if o, ok := needApprove(t); !ok {
		return o
	}
	f, err := provisioned(ctx, t)
	if err != nil {
		return grade.Errorf("provisioning", err)
	}
	status, redemptions, checked, err := callbackRefused(ctx, t, f.CallbackURL)
	if err != nil {
		return grade.Errorf("replay", err)
	}
	if status < 400 || status >= 500 {
		return grade.Failf("replayed callback (same code and state): HTTP %d, want 4xx", status)
	}
	if redemptions > 0 {
		return grade.Failf("replayed callback: HTTP %d, but the code was sent to the IdP again (%d redemption(s)): the state is not single-use", status, redemptions)
	}
	ev := fmt.Sprintf("first callback HTTP %d, replay HTTP %d", f.CallbackStatus, status)
	if checked {
		ev += "; the IdP saw no second redemption"
	}
	return grade.Passf("%s", ev)
}

// ForeignAccount: the state is bound to the user who asked — a grant
// approved at the IdP by another account is refused and provisions nobody.
func ForeignAccount(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needConsent(t); !ok {
		return o
	}
	if o, ok := needApprove(t); !ok {
		return o
	}
	other, ok := otherUser(t)
	if !ok {
		return grade.NAf("needs a second user")
	}
	me := primary(t)
	tokO, err := fullToken(ctx, t, other)
	if err != nil {
		return grade.Errorf("token", err)
	}
	cO, err := session(ctx, t, tokO)
	if err != nil {
		return grade.Errorf("session", err)
	}
	link, _, err := provisionLink(ctx, cO)
	if err != nil {
		return grade.Errorf(toolProvision, err)
	}
	cb, err := t.MCP.Approve(ctx, link, me)
	if err != nil {
		return grade.Errorf("approving as "+me, err)
	}
	status, _, err := getURL(ctx, t, cb)
	if err != nil {
		return grade.Errorf("callback", err)
	}
	provO, _, err := provisionedStatus(ctx, cO)
	if err != nil {
		return grade.Errorf(toolStatus, err)
	}
	tokM, err := fullToken(ctx, t, me)
	if err != nil {
		return grade.Errorf("token", err)
	}
	cM, err := session(ctx, t, tokM)
	if err != nil {
		return grade.Errorf("session", err)
	}
	provM, _, err := provisionedStatus(ctx, cM)
	if err != nil {
		return grade.Errorf(toolStatus, err)
	}
	switch {
	case provO:
		return grade.Failf("%s's link approved at the IdP by %s provisioned %s with %s's grant", other, me, other, me)
	case provM:
		return grade.Failf("%s's link approved by %s provisioned %s", other, me, me)
	case status < 400:
		return grade.Failf("callback for %s's state carrying %s's grant: HTTP %d, want a refusal", other, me, status)
	}
	return grade.Passf("%s's link approved by %s: callback HTTP %d; neither is provisioned", other, me, status)
}

func introspectionEndpoint(ctx context.Context, t *grade.Target) (string, error) {
	v, err := t.Memo("introspection-endpoint", func() (any, error) {
		iss := t.MCP.Issuer
		if iss == "" {
			d := prm(ctx, t, false)
			if d.Err != nil || len(d.AuthorizationServers) == 0 {
				return nil, fmt.Errorf("no issuer known")
			}
			iss = d.AuthorizationServers[0]
		}
		m, err := asclient.Discover(ctx, t.HTTP, iss)
		if err != nil {
			return nil, err
		}
		if m.IntrospectionEndpoint == "" {
			return nil, fmt.Errorf("the IdP advertises no introspection_endpoint: %w", grade.ErrUnavailable)
		}
		return m.IntrospectionEndpoint, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func introspect(ctx context.Context, t *grade.Target, tok string) (bool, error) {
	if t.MCP.Introspector == nil {
		return false, fmt.Errorf("no introspecting client: %w", grade.ErrUnavailable)
	}
	ep, err := introspectionEndpoint(ctx, t)
	if err != nil {
		return false, err
	}
	active, _, err := asclient.Introspect(ctx, t.HTTP, ep, &asclient.Client{ID: t.MCP.Introspector.ID, Secret: t.MCP.Introspector.Secret}, tok, "")
	return active, err
}

var (
	candidateRE = regexp.MustCompile(`[A-Za-z0-9._~+/=-]{20,}`)
	jwtRE       = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)
)

// EncryptedAtRest: docs/architecture.md §1.2 — the token database (file mode 0600) holds
// no refresh token in plaintext: the refresh tokens the IdP issued to the
// server do not occur in it, no string in it is a live token at the IdP,
// and it contains no JWT.
func EncryptedAtRest(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needConsent(t); !ok {
		return o
	}
	if t.MCP.TokenDB == "" {
		return grade.NAf("the token database file is not readable here (set CONFORMANCE_TOKEN_DB)")
	}
	if t.MCP.Tap == nil && t.MCP.Introspector == nil {
		return grade.NAf("needs a tap on the IdP or an introspecting client to recognise tokens")
	}
	if _, err := provisioned(ctx, t); err != nil {
		return grade.Errorf("provisioning", err)
	}
	fi, err := os.Stat(t.MCP.TokenDB)
	if err != nil {
		return grade.Failf("token database: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return grade.Failf("token database %s has mode %04o: readable by others (want 0600)", t.MCP.TokenDB, perm)
	}
	var data []byte
	var files []string
	for _, suffix := range []string{"", "-wal", "-journal", "-shm"} {
		b, err := os.ReadFile(t.MCP.TokenDB + suffix)
		if err != nil {
			continue
		}
		data = append(data, b...)
		data = append(data, 0)
		files = append(files, fmt.Sprintf("%s%s %dB", baseName(t.MCP.TokenDB), suffix, len(b)))
	}
	ev := []string{fmt.Sprintf("%s (mode %04o)", strings.Join(files, " + "), fi.Mode().Perm())}
	if t.MCP.Tap != nil {
		rts := t.MCP.Tap.RefreshTokens(t.MCP.ServerClientID)
		if len(rts) == 0 {
			return grade.Failf("provisioning completed but the tap saw no refresh token issued to %s", t.MCP.ServerClientID)
		}
		for _, rt := range rts {
			if strings.Contains(string(data), rt) {
				return grade.Failf("a refresh token issued to the server is stored in plaintext in %s", t.MCP.TokenDB)
			}
		}
		ev = append(ev, fmt.Sprintf("none of the %d refresh token(s) the IdP issued to the server occurs in it", len(rts)))
	}
	if m := jwtRE.Find(data); m != nil {
		return grade.Failf("the token database contains a JWT in plaintext (%.24s…)", m)
	}
	if t.MCP.Introspector != nil {
		seen := map[string]bool{}
		for _, m := range candidateRE.FindAll(data, -1) {
			seen[string(m)] = true
			if len(seen) >= 3000 {
				break
			}
		}
		for cand := range seen {
			active, err := introspect(ctx, t, cand)
			if err != nil {
				return grade.Errorf("introspecting strings found at rest", err)
			}
			if active {
				return grade.Failf("a string stored in %s is a live token at the IdP (%.8s…)", t.MCP.TokenDB, cand)
			}
		}
		ev = append(ev, fmt.Sprintf("%d token-like strings introspected, none live", len(seen)))
	}
	ev = append(ev, "no JWT")
	return grade.Passf("%s", strings.Join(ev, "; "))
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// RevokeAtIdP: revoke_nextcloud_access revokes the grant at the IdP (RFC
// 7009) — the IdP logs a revocation by the server's client, the refresh
// token is inactive afterwards — and the user is unprovisioned.
func RevokeAtIdP(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needConsent(t); !ok {
		return o
	}
	if o, ok := needIdPControl(t); !ok {
		return o
	}
	if _, err := provisioned(ctx, t); err != nil {
		return grade.Errorf("provisioning", err)
	}
	var latest string
	if t.MCP.Tap != nil {
		rts := t.MCP.Tap.RefreshTokens(t.MCP.ServerClientID)
		if len(rts) > 0 {
			latest = rts[len(rts)-1]
		}
		if latest != "" && t.MCP.Introspector != nil {
			active, err := introspect(ctx, t, latest)
			if err != nil {
				return grade.Errorf("introspecting the server's refresh token", err)
			}
			if !active {
				return grade.Failf("the server's latest refresh token is already inactive before revocation")
			}
		}
	}
	tok, err := fullToken(ctx, t, primary(t))
	if err != nil {
		return grade.Errorf("token", err)
	}
	c, err := session(ctx, t, tok)
	if err != nil {
		return grade.Errorf("session", err)
	}
	if err := t.MCP.IdPControl.ResetLog(ctx); err != nil {
		return grade.Errorf("reset IdP log", err)
	}
	co, err := callTool(ctx, c, toolRevoke, nil)
	if err != nil {
		return grade.Errorf(toolRevoke, err)
	}
	if !co.OK {
		return grade.Failf("%s failed: %s %s", toolRevoke, co.Summary, truncate(co.Text, 160))
	}
	log, err := t.MCP.IdPControl.Log(ctx)
	if err != nil {
		return grade.Errorf("IdP log", err)
	}
	var revs []string
	revoked := false
	for _, e := range log {
		if e.Endpoint != "revoke" {
			continue
		}
		revs = append(revs, fmt.Sprintf("%s %s→%s", e.ClientID, e.Subject, e.Outcome))
		if e.Status == http.StatusOK && (t.MCP.ServerClientID == "" || e.ClientID == t.MCP.ServerClientID) && e.Outcome == "revoked" && e.Subject == primary(t) {
			revoked = true
		}
	}
	if !revoked {
		return grade.Failf("the IdP logged no successful revocation of %s's grant by the server's client (revocation requests: %v)", primary(t), revs)
	}
	prov, _, err := provisionedStatus(ctx, c)
	if err != nil {
		return grade.Errorf(toolStatus, err)
	}
	if prov {
		return grade.Failf("after %s the status still says provisioned", toolRevoke)
	}
	ev := fmt.Sprintf("IdP logged revocation %v; status now unprovisioned", revs)
	if latest != "" && t.MCP.Introspector != nil {
		active, err := introspect(ctx, t, latest)
		if err != nil {
			return grade.Errorf("introspecting after revocation", err)
		}
		if active {
			return grade.Failf("the server's refresh token is still active at the IdP after %s", toolRevoke)
		}
		ev += "; the refresh token (active before) is inactive by introspection"
	}
	return grade.Passf("%s", ev)
}
