package mcpcheck

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/mcpwire"
)

// ready returns a session of the primary user with every scope that can
// reach Nextcloud (provisioned first when progressive consent is on), the
// token, and the probe call.
func ready(ctx context.Context, t *grade.Target) (*mcpwire.Client, string, probeCall, error) {
	var tok string
	var err error
	if t.MCP.Mode == grade.ModeBasic {
		tok = ""
	} else if tok, err = fullToken(ctx, t, primary(t)); err != nil {
		return nil, "", probeCall{}, err
	}
	if t.MCP.ProgressiveConsent {
		if _, err := provisioned(ctx, t); err != nil {
			return nil, "", probeCall{}, fmt.Errorf("provisioning %s: %w", primary(t), err)
		}
	}
	c, err := session(ctx, t, tok)
	if err != nil {
		return nil, "", probeCall{}, err
	}
	p, err := pickProbe(ctx, t, c, tok)
	if err != nil {
		return nil, "", probeCall{}, err
	}
	return c, tok, p, nil
}

// observation is one probe call seen from both fakes.
type observation struct {
	Call  callOutcome
	Probe probeCall
	Flow1 map[string]any // claims of the client's token (nil in basic mode)
	NC    []fakectl.NCLogEntry
	IdP   []fakectl.IdPLogEntry
}

func observe(ctx context.Context, t *grade.Target) (*observation, error) {
	if t.MCP.NCControl == nil {
		return nil, fmt.Errorf("needs the fake Nextcloud's request log: %w", grade.ErrUnavailable)
	}
	c, tok, p, err := ready(ctx, t)
	if err != nil {
		return nil, err
	}
	o := &observation{Probe: p}
	if tok != "" {
		if o.Flow1, err = jwtClaims(tok); err != nil {
			return nil, fmt.Errorf("the client's token: %w", err)
		}
	}
	call := func() error {
		var err error
		o.Call, err = callTool(ctx, c, p.Tool, p.Args)
		return err
	}
	if t.MCP.IdPControl != nil {
		o.IdP, o.NC, err = bothLogsAround(ctx, t, call)
	} else {
		o.NC, err = ncLogAround(ctx, t, call)
	}
	if err != nil {
		return nil, err
	}
	if !o.Call.OK {
		return nil, fmt.Errorf("probe call %s failed: %s: %s", p.Tool, o.Call.Summary, truncate(o.Call.Text, 200))
	}
	if len(o.NC) == 0 {
		return nil, fmt.Errorf("probe call %s made no Nextcloud request", p.Tool)
	}
	return o, nil
}

func bearerEntries(log []fakectl.NCLogEntry) (bearer []fakectl.NCLogEntry, other []string) {
	for _, e := range log {
		if e.AuthKind == "bearer" && e.Claims != nil {
			bearer = append(bearer, e)
		} else {
			other = append(other, fmt.Sprintf("%s %s auth=%s status=%d", e.Method, e.Path, e.AuthKind, e.Status))
		}
	}
	return bearer, other
}

const passthroughWarning = `pass-through mode is the MCP specification's "token passthrough" pattern (2025-11-25 §Access Token Privilege Restriction: the server MUST NOT pass through the token it received): Nextcloud received the client's own token (jti %s). Reason it exists: IdPs without RFC 8693 token exchange (docs/architecture.md §2.3). Risk: the client's token must also be valid at Nextcloud, so a leak at either end is a leak at both. Remedy: ENABLE_TOKEN_EXCHANGE=true (exchange mode)`

// NoTokenPassthrough: MCP §Access Token Privilege Restriction — the token
// sent to Nextcloud is not the one the client sent. Pass-through mode is
// reported as WARN (docs/architecture.md §2.3); in exchange mode
// forwarding is a failure.
func NoTokenPassthrough(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	o, err := observe(ctx, t)
	if err != nil {
		return grade.Errorf("observing a tool call", err)
	}
	jti := claimString(o.Flow1, "jti")
	bearer, other := bearerEntries(o.NC)
	var forwarded int
	for _, e := range bearer {
		if e.Claims.Jti == jti {
			forwarded++
		}
	}
	if forwarded > 0 {
		if t.MCP.Mode == grade.ModeExchange {
			return grade.Failf("exchange mode forwarded the client's token (jti %s) to Nextcloud in %d of %d request(s)", jti, forwarded, len(o.NC))
		}
		return grade.Warnf(passthroughWarning, jti)
	}
	if len(bearer) == 0 {
		return grade.Failf("Nextcloud saw no bearer token during %s: %v", o.Probe.Tool, other)
	}
	return grade.Passf("%d Nextcloud request(s) during %s carried tokens with jti %s, never the client's (jti %s)", len(bearer), o.Probe.Tool, distinctJTIs(bearer), jti)
}

func distinctJTIs(es []fakectl.NCLogEntry) string {
	var out []string
	for _, e := range es {
		if e.Claims != nil && !slices.Contains(out, e.Claims.Jti) {
			out = append(out, e.Claims.Jti)
		}
	}
	return strings.Join(out, ",")
}

func audString(a []string) string { return "[" + strings.Join(a, " ") + "]" }

// ExchangedToken: exchange mode — what Nextcloud receives is an RFC 8693
// exchange result: aud = Nextcloud, act.sub = the server's client, same
// sub, a jti other than the client's; the IdP saw the exchange.
func ExchangedToken(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needExchange(t); !ok {
		return o
	}
	o, err := observe(ctx, t)
	if err != nil {
		return grade.Errorf("observing a tool call", err)
	}
	bearer, other := bearerEntries(o.NC)
	if len(other) > 0 || len(bearer) == 0 {
		return grade.Failf("Nextcloud requests without an exchanged bearer token: %v", other)
	}
	jti, sub := claimString(o.Flow1, "jti"), claimString(o.Flow1, "sub")
	for _, e := range bearer {
		c := e.Claims
		actSub, _ := c.Act["sub"].(string)
		switch {
		case c.Jti == jti:
			return grade.Failf("%s %s carried the client's own token (jti %s)", e.Method, e.Path, jti)
		case !slices.Contains(c.Aud, t.MCP.NextcloudAudience):
			return grade.Failf("%s %s: token aud %s lacks %q", e.Method, e.Path, audString(c.Aud), t.MCP.NextcloudAudience)
		case t.MCP.ServerClientID != "" && actSub != t.MCP.ServerClientID:
			return grade.Failf("%s %s: token act.sub %q, want the server's client %q (RFC 8693 §4.1)", e.Method, e.Path, actSub, t.MCP.ServerClientID)
		case c.Sub != sub:
			return grade.Failf("%s %s: token sub %q, the client's is %q", e.Method, e.Path, c.Sub, sub)
		}
	}
	c := bearer[0].Claims
	ev := fmt.Sprintf("Nextcloud got aud %s act.sub %q sub %q jti %s (client's jti %s)", audString(c.Aud), c.Act["sub"], c.Sub, c.Jti, jti)
	if t.MCP.IdPControl == nil {
		// A real IdP keeps no log this suite can read; Nextcloud's log
		// alone shows an exchange result (act, Nextcloud's aud, a jti
		// of its own).
		return grade.Passf("%s; the IdP's log is not readable here (no fake IdP), so the exchange is known by the token's act claim", ev)
	}
	n := countGrants(o.IdP, fakectl.GrantExchange)
	if n == 0 {
		return grade.Failf("the IdP saw no token-exchange grant during the call")
	}
	return grade.Passf("%s; IdP: %d exchange grant(s)", ev, n)
}

// needExchange admits exchange-mode targets with tokens and the fake
// Nextcloud's request log (what Nextcloud received); the fake IdP's log
// adds evidence where it is available.
func needExchange(t *grade.Target) (grade.Outcome, bool) {
	if o, ok := needTokens(t); !ok {
		return o, false
	}
	if t.MCP.Mode != grade.ModeExchange {
		return grade.NAf("only for exchange mode (this target: %s)", modeName(t)), false
	}
	return needNCControl(t)
}

// logsAround returns the IdP's log (nil without the fake IdP) and
// Nextcloud's log of what f did.
func logsAround(ctx context.Context, t *grade.Target, f func() error) ([]fakectl.IdPLogEntry, []fakectl.NCLogEntry, error) {
	if t.MCP.IdPControl == nil {
		nc, err := ncLogAround(ctx, t, f)
		return nil, nc, err
	}
	return bothLogsAround(ctx, t, f)
}

// ExchangePerCall: exchange mode — one exchange per tool call; an
// exchanged token is used for that call only (distinct jti per call).
func ExchangePerCall(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needExchange(t); !ok {
		return o
	}
	c, _, p, err := ready(ctx, t)
	if err != nil {
		return grade.Errorf("session", err)
	}
	const calls = 3
	seen := map[string]int{} // jti → call index
	var perCall []string
	var exchanges int
	for i := 0; i < calls; i++ {
		var co callOutcome
		idpLog, ncLog, err := logsAround(ctx, t, func() error {
			var err error
			co, err = callTool(ctx, c, p.Tool, p.Args)
			return err
		})
		if err != nil {
			return grade.Errorf("call", err)
		}
		if !co.OK {
			return grade.Failf("call %d of %s failed: %s %s", i+1, p.Tool, co.Summary, truncate(co.Text, 160))
		}
		if t.MCP.IdPControl != nil {
			exchanges += countGrants(idpLog, fakectl.GrantExchange)
			if countGrants(idpLog, fakectl.GrantExchange) < 1 {
				return grade.Failf("call %d made no token exchange (an exchanged token was cached or reused)", i+1)
			}
		}
		bearer, _ := bearerEntries(ncLog)
		if len(bearer) == 0 {
			return grade.Failf("call %d: Nextcloud saw no bearer token", i+1)
		}
		for _, e := range bearer {
			if len(e.Claims.Act) == 0 {
				return grade.Failf("call %d: Nextcloud got a token that is no exchange result (no act claim, jti %s)", i+1, e.Claims.Jti)
			}
		}
		var jtis []string
		for _, e := range bearer {
			if prev, ok := seen[e.Claims.Jti]; ok && prev != i {
				return grade.Failf("jti %s used in call %d and again in call %d: exchanged tokens reused", e.Claims.Jti, prev+1, i+1)
			}
			if _, ok := seen[e.Claims.Jti]; !ok {
				jtis = append(jtis, e.Claims.Jti)
			}
			seen[e.Claims.Jti] = i
		}
		perCall = append(perCall, strings.Join(jtis, ","))
	}
	if t.MCP.IdPControl == nil {
		return grade.Passf("%d calls of %s → exchange results (act) with jti per call %s (all distinct; from Nextcloud's log, the IdP's is not readable here)", calls, p.Tool, strings.Join(perCall, " | "))
	}
	return grade.Passf("%d calls of %s → %d exchanges, jti per call %s (all distinct)", calls, p.Tool, exchanges, strings.Join(perCall, " | "))
}

// NoSilentFallback: docs/architecture.md §2 invariant 2 — when the IdP refuses or
// lacks RFC 8693 the call fails with a clear error and Nextcloud sees
// nothing (no pass-through fallback).
func NoSilentFallback(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needExchange(t); !ok {
		return o
	}
	if t.MCP.IdPControl == nil {
		return grade.NAf("needs a way to make the IdP refuse or fail exchanges (the fake IdP's control API switches exchange off and injects faults); a real IdP offers none")
	}
	c, tok, p, err := ready(ctx, t)
	if err != nil {
		return grade.Errorf("session", err)
	}
	flow1, _ := jwtClaims(tok)
	// Positive control: the call works while exchange works.
	if co, err := callTool(ctx, c, p.Tool, p.Args); err != nil || !co.OK {
		return grade.Failf("positive control: %s failed before any fault: %v %s", p.Tool, err, truncate(co.Text, 160))
	}
	ctl := t.MCP.IdPControl
	scenarios := []struct {
		name   string
		arm    func() error
		disarm func() error
	}{
		{"exchange disabled at the IdP (unsupported_grant_type)",
			func() error { return ctl.SetTokenExchange(ctx, false) },
			func() error { return ctl.SetTokenExchange(context.WithoutCancel(ctx), true) }},
		{"token endpoint answering 503",
			func() error { return ctl.InjectFault(ctx, fakectl.Fault{Endpoint: "token", Status: 503, Count: 10}) },
			func() error { return ctl.ClearFaults(context.WithoutCancel(ctx)) }},
	}
	var ev []string
	for _, sc := range scenarios {
		if err := sc.arm(); err != nil {
			return grade.Errorf("arming "+sc.name, err)
		}
		var co callOutcome
		idpLog, ncLog, err := bothLogsAround(ctx, t, func() error {
			var err error
			co, err = callTool(ctx, c, p.Tool, p.Args)
			return err
		})
		derr := sc.disarm()
		if err != nil {
			return grade.Errorf(sc.name, err)
		}
		if derr != nil {
			return grade.Errorf("disarming "+sc.name, derr)
		}
		if co.OK {
			how := fallbackKind(ncLog, claimString(flow1, "jti"), countGrants(idpLog, fakectl.GrantRefresh))
			return grade.Failf("%s: %s still succeeded (%d Nextcloud request(s), auth %s) through %s: silent fallback", sc.name, p.Tool, len(ncLog), authKinds(ncLog), how)
		}
		if len(ncLog) > 0 {
			var refused []string
			for _, e := range ncLog {
				if e.AuthError != "" {
					refused = append(refused, e.AuthError)
				}
			}
			return grade.Failf("%s: the call failed but Nextcloud saw %d request(s) (auth %s%s): the server sent a credential instead of failing",
				sc.name, len(ncLog), authKinds(ncLog), strings.TrimSuffix(" refused by Nextcloud: "+strings.Join(refused, "; "), " refused by Nextcloud: "))
		}
		if !strings.Contains(strings.ToLower(co.Text), "exchange") {
			return grade.Failf("%s: the error does not name the cause (token exchange): %q", sc.name, truncate(co.Text, 200))
		}
		ev = append(ev, fmt.Sprintf("%s → %s %q, Nextcloud saw nothing", sc.name, co.Summary, truncate(co.Text, 90)))
	}
	if co, err := callTool(ctx, c, p.Tool, p.Args); err != nil || !co.OK {
		return grade.Failf("after the faults were cleared, %s still fails: %v %s", p.Tool, err, truncate(co.Text, 160))
	}
	return grade.Passf("%s", strings.Join(ev, "; "))
}

// fallbackKind names what a call used when exchange was impossible.
func fallbackKind(log []fakectl.NCLogEntry, clientJTI string, refreshes int) string {
	for _, e := range log {
		switch {
		case e.Claims == nil:
		case e.Claims.Jti == clientJTI:
			return "the client's own token (pass-through fallback)"
		case len(e.Claims.Act) == 0:
			return fmt.Sprintf("a token that is no exchange result (no act claim: the user's offline grant, %d refresh grant(s) during the call — TOKEN_EXCHANGE_REFRESH_FALLBACK)", refreshes)
		}
	}
	if refreshes > 0 {
		return fmt.Sprintf("%d refresh grant(s)", refreshes)
	}
	return "a credential the suite could not identify"
}

func authKinds(log []fakectl.NCLogEntry) string {
	var out []string
	for _, e := range log {
		if !slices.Contains(out, e.AuthKind) {
			out = append(out, e.AuthKind)
		}
	}
	return strings.Join(out, ",")
}

func modeName(t *grade.Target) string {
	if t.MCP.Mode == "" {
		return "mode unknown"
	}
	return t.MCP.Mode
}

// PassthroughExact: docs/architecture.md §2 invariant 3 — pass-through forwards
// exactly the validated token and nothing else.
func PassthroughExact(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	if t.MCP.Mode != grade.ModePassthrough {
		return grade.NAf("only for pass-through mode (this target: %s)", modeName(t))
	}
	o, err := observe(ctx, t)
	if err != nil {
		return grade.Errorf("observing a tool call", err)
	}
	jti := claimString(o.Flow1, "jti")
	bearer, other := bearerEntries(o.NC)
	if len(other) > 0 {
		return grade.Failf("Nextcloud requests without the client's bearer token: %v", other)
	}
	for _, e := range bearer {
		if e.Claims.Jti != jti || e.Claims.Sub != claimString(o.Flow1, "sub") {
			return grade.Failf("%s %s carried jti %s sub %q, not the validated token (jti %s)", e.Method, e.Path, e.Claims.Jti, e.Claims.Sub, jti)
		}
	}
	if n := countGrants(o.IdP, fakectl.GrantExchange) + countGrants(o.IdP, fakectl.GrantRefresh); n > 0 {
		return grade.Failf("the IdP saw %d exchange/refresh grant(s) during a pass-through call", n)
	}
	return grade.Passf("all %d Nextcloud request(s) carried exactly the validated token (jti %s)", len(bearer), jti)
}

// BasicAuthOnly: docs/architecture.md §2.1 — basic mode sends HTTP Basic (the app
// password) and never a bearer token.
func BasicAuthOnly(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needMCP(t); !ok {
		return o
	}
	if t.MCP.Mode != grade.ModeBasic {
		return grade.NAf("only for basic mode (this target: %s)", modeName(t))
	}
	o, err := observe(ctx, t)
	if err != nil {
		return grade.Errorf("observing a tool call", err)
	}
	uids := map[string]bool{}
	for _, e := range o.NC {
		if e.AuthKind != "basic" || e.UID == "" {
			return grade.Failf("%s %s: auth %s uid %q, want Basic with a valid app password", e.Method, e.Path, e.AuthKind, e.UID)
		}
		uids[e.UID] = true
	}
	return grade.Passf("%d Nextcloud request(s), all HTTP Basic as %v", len(o.NC), keys(uids))
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// NoRefreshDuringCalls: docs/architecture.md §2 invariant 1 — a Flow 2 refresh
// token never serves a tool call; the IdP's log shows no refresh grant
// while tool calls run.
func NoRefreshDuringCalls(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	if !t.MCP.ProgressiveConsent {
		return grade.NAf("progressive consent is off: the server holds no refresh token to misuse")
	}
	if o, ok := needIdPControl(t); !ok {
		return o
	}
	c, tok, p, err := ready(ctx, t)
	if err != nil {
		return grade.Errorf("session", err)
	}
	// A background worker may refresh right after provisioning; let it
	// settle so its grants are not mistaken for the calls'.
	if err := waitQuiet(ctx, t, 400*time.Millisecond, 4*time.Second); err != nil {
		return grade.Errorf("waiting for background refreshes", err)
	}
	if err := t.MCP.IdPControl.ResetLog(ctx); err != nil {
		return grade.Errorf("reset IdP log", err)
	}
	if t.MCP.NCControl != nil {
		if err := t.MCP.NCControl.ResetLog(ctx); err != nil {
			return grade.Errorf("reset Nextcloud log", err)
		}
	}
	const calls = 3
	for i := 0; i < calls; i++ {
		co, err := callTool(ctx, c, p.Tool, p.Args)
		if err != nil {
			return grade.Errorf("call", err)
		}
		if !co.OK {
			return grade.Failf("call %d of %s failed: %s %s", i+1, p.Tool, co.Summary, truncate(co.Text, 160))
		}
	}
	log, err := t.MCP.IdPControl.Log(ctx)
	if err != nil {
		return grade.Errorf("IdP log", err)
	}
	var refresh []string
	for _, e := range log {
		if e.Endpoint == "token" && e.GrantType == fakectl.GrantRefresh {
			refresh = append(refresh, fmt.Sprintf("%s for %s (%s)", e.ClientID, e.Subject, e.Outcome))
		}
	}
	if len(refresh) > 0 {
		return grade.Failf("%d refresh grant(s) while %d tool calls ran for provisioned %s: %s", len(refresh), calls, primary(t), strings.Join(refresh, "; "))
	}
	// No refresh grant ran, but a token the worker's refresh already
	// produced (a broker's cache) would serve the calls as well: every
	// token that reached Nextcloud must be the client's own (pass-through)
	// or an exchange result (with act), never a Flow 2 token of the
	// server's own client.
	checked := ""
	if t.MCP.NCControl != nil {
		nc, err := t.MCP.NCControl.Log(ctx)
		if err != nil {
			return grade.Errorf("Nextcloud log", err)
		}
		flow1, _ := jwtClaims(tok)
		bearer, _ := bearerEntries(nc)
		for _, e := range bearer {
			own := flow1 != nil && e.Claims.Jti != "" && e.Claims.Jti == claimString(flow1, "jti")
			if !own && len(e.Claims.Act) == 0 {
				return grade.Failf("a tool call of provisioned %s reached Nextcloud with a token that is neither the client's nor an exchange result (azp %s, no act): a Flow 2 grant served the call without a refresh grant of its own", primary(t), e.Claims.Azp)
			}
		}
		checked = fmt.Sprintf("; the %d bearer token(s) Nextcloud saw were exchange results or the client's own", len(bearer))
	}
	return grade.Passf("%d calls of %s by provisioned %s: 0 refresh grants, %d exchange grant(s) at the IdP%s",
		calls, p.Tool, primary(t), countGrants(log, fakectl.GrantExchange), checked)
}

// UIDFromNextcloud: docs/architecture.md §2 invariant 5 — the Nextcloud user id
// comes from GET /ocs/v2.php/cloud/user, not from the token's sub: every
// WebDAV path names the uid Nextcloud authenticated.
func UIDFromNextcloud(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needMCP(t); !ok {
		return o
	}
	if o, ok := needNCControl(t); !ok {
		return o
	}
	c, tok, _, err := ready(ctx, t)
	if err != nil {
		return grade.Errorf("session", err)
	}
	list, err := tools(ctx, t, tok)
	if err != nil {
		return grade.Errorf("tools/list", err)
	}
	for _, n := range []string{toolCreateNote, toolGetAttachment, toolDeleteNote} {
		if _, ok := findTool(list, n); !ok {
			return grade.NAf("needs the tools %s, %s and %s to make the server use a uid-bearing WebDAV path", toolCreateNote, toolGetAttachment, toolDeleteNote)
		}
	}
	var created callOutcome
	log, err := ncLogAround(ctx, t, func() error {
		var err error
		created, err = callTool(ctx, c, toolCreateNote, map[string]any{"title": "conformance uid probe", "content": "conformance", "category": ""})
		if err != nil || !created.OK {
			return err
		}
		id, err := noteID(created)
		if err != nil {
			return err
		}
		if _, err := callTool(ctx, c, toolGetAttachment, map[string]any{"note_id": id, "attachment_filename": "conformance.png"}); err != nil {
			return err
		}
		_, err = callTool(ctx, c, toolDeleteNote, map[string]any{"note_id": id})
		return err
	})
	if err != nil {
		return grade.Errorf("tool calls", err)
	}
	if !created.OK {
		return grade.Failf("%s failed: %s %s", toolCreateNote, created.Summary, truncate(created.Text, 200))
	}
	var sawUser bool
	var dav int
	var uid string
	for _, e := range log {
		if e.Path == "/ocs/v2.php/cloud/user" && e.Status == 200 {
			sawUser = true
		}
		if e.UID != "" {
			uid = e.UID
		}
		rest, ok := strings.CutPrefix(e.Path, "/remote.php/dav/files/")
		if !ok {
			continue
		}
		dav++
		seg, _, _ := strings.Cut(rest, "/")
		pathUID, err := url.PathUnescape(seg)
		if err != nil {
			pathUID = seg
		}
		if pathUID != e.UID {
			return grade.Failf("%s %s: the path names uid %q but Nextcloud authenticated %q (uid guessed, not read from Nextcloud)", e.Method, e.Path, pathUID, e.UID)
		}
	}
	if dav == 0 {
		return grade.Failf("%s made no WebDAV request: the uid in WebDAV paths was not exercised", toolGetAttachment)
	}
	sub := ""
	if tok != "" {
		if m, err := jwtClaims(tok); err == nil {
			sub = claimString(m, "sub")
		}
	}
	ev := fmt.Sprintf("%d WebDAV request(s) all under /files/%s/ (the uid Nextcloud authenticated", dav, uid)
	if sub != "" {
		ev += fmt.Sprintf("; token sub %q", sub)
	}
	ev += ")"
	if !sawUser && sub != "" && sub != uid {
		ev += "; uid known from an earlier GET /ocs/v2.php/cloud/user"
	}
	return grade.Passf("%s", ev)
}

// noteID reads the id of a created note from a tool result.
func noteID(co callOutcome) (int64, error) {
	text := co.Text
	if len(co.Structured) > 0 {
		text = string(co.Structured)
	}
	var v struct {
		ID   int64 `json:"id"`
		Note *struct {
			ID int64 `json:"id"`
		} `json:"note"`
	}
	if err := jsonUnmarshalLoose(text, &v); err != nil {
		return 0, fmt.Errorf("reading the created note's id from %q: %w", truncate(text, 120), err)
	}
	if v.ID == 0 && v.Note != nil {
		v.ID = v.Note.ID
	}
	if v.ID == 0 {
		return 0, errors.New("the created note's result has no id")
	}
	return v.ID, nil
}
