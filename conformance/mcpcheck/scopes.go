package mcpcheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/mcpwire"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/wwwauth"
)

// listSets are the tool lists for tokens with all scopes, read scopes only
// and no soft scope.
type listSets struct {
	All, Read, None []string
	AllTools        []mcpwire.Tool
	ReadScopes      []string
	AllScopes       []string
	NoneChecked     bool
}

func lists(ctx context.Context, t *grade.Target) (*listSets, error) {
	v, err := t.Memo("list-sets", func() (any, error) {
		all, read, err := scopeSets(ctx, t)
		if err != nil {
			return nil, err
		}
		ls := &listSets{ReadScopes: read, AllScopes: all}
		tokAll, err := token(ctx, t, primary(t), all)
		if err != nil {
			return nil, err
		}
		if ls.AllTools, err = tools(ctx, t, tokAll); err != nil {
			return nil, err
		}
		ls.All = toolNames(ls.AllTools)
		tokRead, err := token(ctx, t, primary(t), read)
		if err != nil {
			return nil, err
		}
		rt, err := tools(ctx, t, tokRead)
		if err != nil {
			return nil, err
		}
		ls.Read = toolNames(rt)
		// "openid" is never a soft scope: the token carries none. Static
		// token sources may have no such token: then that part is skipped.
		tokNone, err := token(ctx, t, primary(t), []string{"openid"})
		if errors.Is(err, grade.ErrUnavailable) {
			return ls, nil
		}
		if err != nil {
			return nil, err
		}
		ls.NoneChecked = true
		nt, err := tools(ctx, t, tokNone)
		if err != nil {
			return nil, err
		}
		ls.None = toolNames(nt)
		return ls, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*listSets), nil
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// ListFiltering: docs/architecture.md §3 — tools/list shows only the tools whose
// scopes the token holds.
func ListFiltering(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	ls, err := lists(ctx, t)
	if err != nil {
		return grade.Errorf("listing tools", err)
	}
	if x := minus(ls.Read, ls.All); len(x) > 0 {
		return grade.Failf("read-scope token sees tools the full token does not: %v", x)
	}
	if x := minus(ls.None, ls.Read); len(x) > 0 {
		return grade.Failf("a token without soft scopes sees tools the read token does not: %v", x)
	}
	hiddenFromRead := minus(ls.All, ls.Read)
	if len(hiddenFromRead) == 0 {
		return grade.Failf("a token with only %v sees all %d tools: no filtering by scope", ls.ReadScopes, len(ls.All))
	}
	ev := fmt.Sprintf("all scopes: %d tools; read scopes: %d (hides %s)", len(ls.All), len(ls.Read), strings.Join(hiddenFromRead, ", "))
	if !ls.NoneChecked {
		return grade.Passf("%s; no token without soft scopes to compare", ev)
	}
	if len(minus(ls.Read, ls.None)) == 0 {
		return grade.Failf("a token without soft scopes sees the read tools too (%v): no filtering", ls.None)
	}
	rest := "none"
	if len(ls.None) > 0 {
		rest = strings.Join(ls.None, ", ")
	}
	return grade.Passf("%s; no soft scope: %d (%s)", ev, len(ls.None), rest)
}

// stepUpProbe calls every tool hidden from a read token with that token.
type stepUpProbe struct {
	Granted   []string
	Calls     []stepUpCall
	NCCount   int  // Nextcloud requests seen during the refused calls
	NCChecked bool // whether the Nextcloud log could be read
	StepUp    *stepUpCall
	StepUpErr error
}

type stepUpCall struct {
	Tool      string
	Status    int
	Header    string
	Challenge wwwauth.Challenge
	ParseErr  error
	Summary   string
}

func probeStepUp(ctx context.Context, t *grade.Target) (*stepUpProbe, error) {
	v, err := t.Memo("step-up", func() (any, error) {
		ls, err := lists(ctx, t)
		if err != nil {
			return nil, err
		}
		hidden := minus(ls.All, ls.Read)
		if len(hidden) == 0 {
			return nil, fmt.Errorf("no tool is hidden from a read-only token: nothing needs a step-up")
		}
		tok, granted, err := readToken(ctx, t, primary(t))
		if err != nil {
			return nil, err
		}
		c, err := session(ctx, t, tok)
		if err != nil {
			return nil, err
		}
		p := &stepUpProbe{Granted: granted}
		run := func() error {
			for _, name := range hidden {
				tool, _ := findTool(ls.AllTools, name)
				resp, err := c.Send(ctx, "tools/call", map[string]any{"name": name, "arguments": synthArgs(tool.InputSchema)})
				if err != nil {
					return err
				}
				sc := stepUpCall{Tool: name, Status: resp.Status, Header: resp.Header.Get("WWW-Authenticate"), Summary: resp.Summary()}
				sc.Challenge, sc.ParseErr = wwwauth.Bearer(resp.Header)
				p.Calls = append(p.Calls, sc)
			}
			return nil
		}
		if t.MCP.NCControl != nil {
			log, err := ncLogAround(ctx, t, run)
			if err != nil {
				return nil, err
			}
			p.NCCount, p.NCChecked = len(log), true
		} else if err := run(); err != nil {
			return nil, err
		}
		// Step up: a token with exactly the challenged scope passes the
		// gate. Prefer a tool that is not destructive.
		first := p.Calls[0]
		for _, sc := range p.Calls {
			tool, _ := findTool(ls.AllTools, sc.Tool)
			if tool.Annotations == nil || tool.Annotations.DestructiveHint == nil || !*tool.Annotations.DestructiveHint {
				first = sc
				break
			}
		}
		scope, _ := first.Challenge.Param("scope")
		if first.Status == http.StatusForbidden && scope != "" {
			tok2, err := token(ctx, t, primary(t), strings.Fields(scope))
			if err != nil {
				p.StepUpErr = err
				return p, nil
			}
			c2, err := session(ctx, t, tok2)
			if err != nil {
				p.StepUpErr = err
				return p, nil
			}
			tool, _ := findTool(ls.AllTools, first.Tool)
			resp, err := c2.Send(ctx, "tools/call", map[string]any{"name": first.Tool, "arguments": synthArgs(tool.InputSchema)})
			if err != nil {
				p.StepUpErr = err
				return p, nil
			}
			p.StepUp = &stepUpCall{Tool: first.Tool, Status: resp.Status, Summary: resp.Summary(), Header: resp.Header.Get("WWW-Authenticate")}
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*stepUpProbe), nil
}

// CallTimeScope: docs/architecture.md §3 — a tools/call whose scopes are missing
// is refused before any Nextcloud request with 403 insufficient_scope,
// scope = granted ∪ required and resource_metadata; a token with the
// challenged scope then passes.
func CallTimeScope(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	p, err := probeStepUp(ctx, t)
	if err != nil {
		return grade.Errorf("step-up probe", err)
	}
	all, _, _ := scopeSets(ctx, t)
	var names []string
	for _, sc := range p.Calls {
		if sc.Status != http.StatusForbidden {
			return grade.Failf("%s with scopes %v: %s, want 403 insufficient_scope (only list filtering?)", sc.Tool, p.Granted, sc.Summary)
		}
		if sc.ParseErr != nil {
			return grade.Failf("%s: 403 without a usable Bearer challenge: %v", sc.Tool, sc.ParseErr)
		}
		if e, _ := sc.Challenge.Param("error"); e != "insufficient_scope" {
			return grade.Failf("%s: 403 with error=%q, want insufficient_scope", sc.Tool, e)
		}
		if rm, _ := sc.Challenge.Param("resource_metadata"); rm == "" {
			return grade.Failf("%s: 403 challenge without resource_metadata: %s", sc.Tool, sc.Header)
		}
		scope, _ := sc.Challenge.Param("scope")
		got := strings.Fields(scope)
		if x := minus(p.Granted, got); len(x) > 0 {
			return grade.Failf("%s: challenged scope %q drops granted %v (must be granted ∪ required)", sc.Tool, scope, x)
		}
		extra := minus(got, p.Granted)
		if len(extra) == 0 {
			return grade.Failf("%s: challenged scope %q adds nothing to the granted scopes", sc.Tool, scope)
		}
		if x := minus(extra, all); len(x) > 0 {
			return grade.Failf("%s: challenged scope names %v, not in scopes_supported %v", sc.Tool, x, all)
		}
		names = append(names, sc.Tool)
	}
	if p.NCChecked && p.NCCount > 0 {
		return grade.Failf("the refused calls still reached Nextcloud: %d request(s) in its log", p.NCCount)
	}
	if p.StepUpErr != nil {
		return grade.Errorf("step-up", p.StepUpErr)
	}
	if p.StepUp == nil {
		return grade.Failf("no step-up attempted")
	}
	if p.StepUp.Status == http.StatusForbidden || p.StepUp.Status == http.StatusUnauthorized {
		return grade.Failf("%s with a token holding the challenged scope: %s — step-up does not unlock the tool", p.StepUp.Tool, p.StepUp.Summary)
	}
	nc := "Nextcloud log not readable"
	if p.NCChecked {
		nc = "Nextcloud saw 0 requests"
	}
	sc0 := p.Calls[0]
	scope, _ := sc0.Challenge.Param("scope")
	return grade.Passf("%d tool(s) refused with 403 insufficient_scope (%s), e.g. scope=%q for granted %v; %s; step-up token passes the gate (%s: HTTP %d)",
		len(names), strings.Join(names, ", "), scope, p.Granted, nc, p.StepUp.Tool, p.StepUp.Status)
}

// InsufficientScopeShape: MCP 2025-11-25 §Runtime Insufficient Scope
// Errors — 403 with error="insufficient_scope", scope and
// resource_metadata.
func InsufficientScopeShape(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needTokens(t); !ok {
		return o
	}
	p, err := probeStepUp(ctx, t)
	if err != nil {
		return grade.Errorf("step-up probe", err)
	}
	sc := p.Calls[0]
	if sc.Status != http.StatusForbidden {
		return grade.Failf("%s without its scope: %s, want 403", sc.Tool, sc.Summary)
	}
	e, _ := sc.Challenge.Param("error")
	s, _ := sc.Challenge.Param("scope")
	rm, _ := sc.Challenge.Param("resource_metadata")
	if sc.ParseErr != nil || e != "insufficient_scope" || s == "" || rm == "" {
		return grade.Failf("%s: 403 WWW-Authenticate %q: want error=\"insufficient_scope\", scope and resource_metadata", sc.Tool, sc.Header)
	}
	return grade.Passf("%s: 403 WWW-Authenticate: %s", sc.Tool, sc.Header)
}
