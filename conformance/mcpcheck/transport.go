package mcpcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/mcpwire"
)

// clientFor returns a client for any mode: with a full-scope token in
// OAuth modes, without one in basic mode. ok=false means the target lacks
// tokens (N/A).
func clientFor(ctx context.Context, t *grade.Target) (*mcpwire.Client, grade.Outcome, bool) {
	if o, ok := needMCP(t); !ok {
		return nil, o, false
	}
	if t.MCP.Mode == grade.ModeBasic {
		return newClient(t, ""), grade.Outcome{}, true
	}
	if o, ok := needTokens(t); !ok {
		return nil, o, false
	}
	tok, err := fullToken(ctx, t, primary(t))
	if err != nil {
		return nil, grade.Errorf("token", err), false
	}
	return newClient(t, tok), grade.Outcome{}, true
}

func withOrigin(origin string) mcpwire.Request {
	return func(r *http.Request) { r.Header.Set("Origin", origin) }
}

// OriginValidation: MCP 2025-11-25 basic/transports — the server validates
// Origin on every request and answers 403 when it is present and invalid
// (DNS rebinding, cross-site requests from a web page). Its own origin
// and a request without Origin (not a browser) must still work, so the
// 403s are the check's doing and not a broken endpoint.
func OriginValidation(ctx context.Context, t *grade.Target) grade.Outcome {
	base, o, ok := clientFor(ctx, t)
	if !ok {
		return o
	}
	var ev []string
	for _, origin := range []string{"", originOf(t.MCP.URL)} {
		c := newClient(t, base.Token)
		var tweaks []mcpwire.Request
		label := "no Origin"
		if origin != "" {
			tweaks = append(tweaks, withOrigin(origin))
			label = "its own origin"
		}
		resp, err := c.Initialize(ctx, tweaks...)
		if err != nil {
			return grade.Errorf("initialize with "+label, err)
		}
		if !resp.OK() || resp.Reply == nil || resp.Reply.Error != nil {
			return grade.Errorf("positive control", fmt.Errorf("initialize with %s: %s", label, resp.Summary()))
		}
	}
	// Its own host under the other scheme is another origin (RFC 6454).
	own := originOf(t.MCP.URL)
	other := "https://" + strings.TrimPrefix(own, "http://")
	if strings.HasPrefix(own, "https://") {
		other = "http://" + strings.TrimPrefix(own, "https://")
	}
	for _, origin := range []string{"http://evil.example", "null", other} {
		c := newClient(t, base.Token)
		resp, err := c.Initialize(ctx, withOrigin(origin))
		if err != nil {
			return grade.Errorf("initialize", err)
		}
		if resp.Status != http.StatusForbidden {
			return grade.Failf("initialize with Origin %q: %s, want 403", origin, resp.Summary())
		}
		ev = append(ev, fmt.Sprintf("Origin %q → 403", origin))
	}
	return grade.Passf("%s; no Origin and its own origin are served", strings.Join(ev, ", "))
}

// batchProbe is how many messages the batch check sends: far above any
// sensible cap, far below what would hurt a server that has none (each is
// a ping, which touches nothing).
const batchProbe = 100

// BatchCap: a JSON-RPC batch (protocol 2025-03-26; later revisions have
// none) is bounded: a batch of batchProbe pings is refused whole rather
// than served message by message. Every message of a batch may be a tool
// call with its token exchange and Nextcloud request.
func BatchCap(ctx context.Context, t *grade.Target) grade.Outcome {
	base, o, ok := clientFor(ctx, t)
	if !ok {
		return o
	}
	c := newClient(t, base.Token)
	c.Offer = "2025-03-26"
	resp, err := c.Initialize(ctx)
	if err != nil {
		return grade.Errorf("initialize", err)
	}
	if !resp.OK() || resp.Reply == nil || resp.Reply.Error != nil {
		return grade.Errorf("positive control", fmt.Errorf("initialize offering 2025-03-26: %s", resp.Summary()))
	}
	var b strings.Builder
	b.WriteByte('[')
	for i := range batchProbe {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"ping"}`, 1000+i)
	}
	b.WriteByte(']')
	out, err := c.SendRaw(ctx, []byte(b.String()))
	if err != nil {
		return grade.Errorf("batch", err)
	}
	served := 0
	for _, m := range out.Others {
		if m.Result != nil {
			served++
		}
	}
	if served >= batchProbe {
		return grade.Failf("a batch of %d pings (negotiated protocol %s) was served whole: %d results, HTTP %d", batchProbe, c.Protocol, served, out.Status)
	}
	return grade.Passf("a batch of %d pings (negotiated protocol %s): HTTP %d, %d results", batchProbe, c.Protocol, out.Status, served)
}

// sessionProbe is how many sessions the session check opens for one user:
// above any sensible per-user cap, small enough to cost a server without
// caps nothing worth mentioning.
const sessionProbe = 120

// SessionCap: live sessions are bounded per user: after one user opens
// sessionProbe sessions, either some were refused or the oldest is gone.
// It uses the second user (or, in basic mode, the only one) and deletes
// what it opened, so later checks keep their sessions.
func SessionCap(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needMCP(t); !ok {
		return o
	}
	tok := ""
	if t.MCP.Mode != grade.ModeBasic {
		if o, ok := needTokens(t); !ok {
			return o
		}
		user, ok := otherUser(t)
		if !ok {
			user = primary(t)
		}
		var err error
		if tok, err = fullToken(ctx, t, user); err != nil {
			return grade.Errorf("token", err)
		}
	}
	var opened []*mcpwire.Client
	defer func() {
		for _, c := range opened {
			_, _ = c.Delete(ctx) // best effort: a session already closed is no problem
		}
	}()
	refused := 0
	var refusal string
	for range sessionProbe {
		c := newClient(t, tok)
		resp, err := c.Initialize(ctx)
		if err != nil {
			return grade.Errorf("initialize", err)
		}
		if !resp.OK() || resp.Reply == nil || resp.Reply.Error != nil {
			if len(opened) == 0 {
				return grade.Errorf("positive control", fmt.Errorf("the first initialize: %s", resp.Summary()))
			}
			refused++
			refusal = resp.Summary()
			continue
		}
		if c.SessionID == "" {
			return grade.NAf("the server assigned no Mcp-Session-Id (stateless): no sessions to bound")
		}
		opened = append(opened, c)
	}
	first, err := opened[0].Send(ctx, "ping", nil)
	if err != nil {
		return grade.Errorf("ping", err)
	}
	live := first.OK() && first.Reply != nil && first.Reply.Error == nil
	if refused == 0 && live {
		return grade.Failf("one user opened %d sessions: none was refused and the first still answers", sessionProbe)
	}
	ev := fmt.Sprintf("one user opened %d sessions: ", sessionProbe)
	if refused > 0 {
		ev += fmt.Sprintf("%d refused (%s), ", refused, refusal)
	}
	if live {
		return grade.Passf("%sthe first one still live", ev)
	}
	return grade.Passf("%sthe first one closed (%s)", ev, first.Summary())
}

// PrivateResults: results that carry one user's data say cacheScope
// "private" (the protocol's default is "public": any client or
// intermediary may cache and serve them): every static resource the
// server lists, read, and in OAuth modes the token-filtered lists.
func PrivateResults(ctx context.Context, t *grade.Target) grade.Outcome {
	base, o, ok := clientFor(ctx, t)
	if !ok {
		return o
	}
	if t.MCP.ProgressiveConsent {
		// Reads need Nextcloud access: provision first (the catalogue
		// runs this after the checks that need an unprovisioned user).
		if _, err := provisioned(ctx, t); err != nil {
			return grade.Errorf("provisioning", err)
		}
	}
	c := newClient(t, base.Token)
	if resp, err := c.Initialize(ctx); err != nil || !resp.OK() || resp.Reply == nil || resp.Reply.Error != nil {
		return grade.Errorf("session", fmt.Errorf("initialize: %v %v", err, summary(resp)))
	}
	type cacheable struct {
		CacheScope string `json:"cacheScope"`
	}
	send := func(method string, params any) (json.RawMessage, error) {
		resp, err := c.Send(ctx, method, params)
		if err != nil {
			return nil, err
		}
		if resp.Reply == nil || resp.Reply.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, resp.Summary())
		}
		return resp.Reply.Result, nil
	}
	var ev []string
	judge := func(what string, raw json.RawMessage) (grade.Outcome, bool) {
		var cs cacheable
		if err := json.Unmarshal(raw, &cs); err != nil {
			return grade.Errorf(what, err), false
		}
		if cs.CacheScope != "private" {
			scope := cs.CacheScope
			if scope == "" {
				scope = "absent (the default, public)"
			}
			return grade.Failf("%s: cacheScope %s, want private", what, scope), false
		}
		ev = append(ev, what+" private")
		return grade.Outcome{}, true
	}
	raw, err := send("resources/list", nil)
	if err != nil {
		return grade.Errorf("resources/list", err)
	}
	if t.MCP.Mode != grade.ModeBasic {
		if o, ok := judge("resources/list", raw); !ok {
			return o
		}
		tl, err := send("tools/list", nil)
		if err != nil {
			return grade.Errorf("tools/list", err)
		}
		if o, ok := judge("tools/list", tl); !ok {
			return o
		}
	}
	var list struct {
		Resources []struct {
			URI string `json:"uri"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return grade.Errorf("resources/list", err)
	}
	if len(list.Resources) == 0 {
		return grade.NAf("the server lists no resources to read")
	}
	for _, r := range list.Resources {
		res, err := send("resources/read", map[string]any{"uri": r.URI})
		if err != nil {
			return grade.Errorf("resources/read "+r.URI, err)
		}
		if o, ok := judge("resources/read "+r.URI, res); !ok {
			return o
		}
	}
	return grade.Passf("%s", strings.Join(ev, ", "))
}
