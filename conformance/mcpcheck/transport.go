package mcpcheck

import (
	"context"
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
