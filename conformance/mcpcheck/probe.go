// Package mcpcheck grades an MCP server from outside: its resource-server
// surface (RFC 9728 metadata, RFC 6750 challenges, token validation), its
// soft scopes, its token modes and their invariants (observed through the
// fakes' request logs), and progressive consent. Every check talks HTTP
// only; hooks a target lacks make a check N/A, never a pass.
package mcpcheck

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/mcpwire"
)

// Tool names of the upstream Nextcloud MCP server that some checks use as
// probes (a deployment of the same architecture exposes them).
const (
	toolGetNote       = "nc_notes_get_note"
	toolCreateNote    = "nc_notes_create_note"
	toolGetAttachment = "nc_notes_get_attachment"
	toolDeleteNote    = "nc_notes_delete_note"
	toolProvision     = "provision_nextcloud_access"
	toolStatus        = "check_provisioning_status"
	toolRevoke        = "revoke_nextcloud_access"
)

// provisioningTools need no Nextcloud access and no scope.
var provisioningTools = []string{toolProvision, toolStatus, toolRevoke}

// needMCP returns N/A when the target has no MCP server.
func needMCP(t *grade.Target) (grade.Outcome, bool) {
	if t.MCP == nil || t.MCP.URL == "" {
		return grade.NAf("no MCP server in this target"), false
	}
	return grade.Outcome{}, true
}

// needOAuth returns N/A for servers without inbound authorization.
func needOAuth(t *grade.Target) (grade.Outcome, bool) {
	if o, ok := needMCP(t); !ok {
		return o, false
	}
	if t.MCP.Mode == grade.ModeBasic {
		return grade.NAf("basic mode has no inbound authorization (docs/architecture.md §2.1; MCP: authorization is OPTIONAL)"), false
	}
	return grade.Outcome{}, true
}

func needTokens(t *grade.Target) (grade.Outcome, bool) {
	if o, ok := needOAuth(t); !ok {
		return o, false
	}
	if t.MCP.Tokens == nil {
		return grade.NAf("no access tokens for this target (set CONFORMANCE_MCP_TOKEN)"), false
	}
	return grade.Outcome{}, true
}

func needIdPControl(t *grade.Target) (grade.Outcome, bool) {
	if t.MCP.IdPControl == nil {
		return grade.NAf("needs the fake IdP's control API (/_fake/), absent here"), false
	}
	return grade.Outcome{}, true
}

func needNCControl(t *grade.Target) (grade.Outcome, bool) {
	if t.MCP.NCControl == nil {
		return grade.NAf("needs the fake Nextcloud's request log (/_fake/), absent here"), false
	}
	return grade.Outcome{}, true
}

func primary(t *grade.Target) string {
	if len(t.MCP.Users) > 0 && t.MCP.Users[0] != "" {
		return t.MCP.Users[0]
	}
	return "alice"
}

func otherUser(t *grade.Target) (string, bool) {
	if len(t.MCP.Users) > 1 && t.MCP.Users[1] != "" && t.MCP.Users[1] != primary(t) {
		return t.MCP.Users[1], true
	}
	return "", false
}

// metadataURL is the RFC 9728 §3.1 path-form metadata URL of resource.
func metadataURL(resource string) (string, error) {
	u, err := url.Parse(resource)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

func rootMetadataURL(resource string) (string, error) {
	u, err := url.Parse(resource)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource", nil
}

// PRM is a fetched Protected Resource Metadata document.
type prmDoc struct {
	URL                  string
	Status               int
	ContentType          string
	Raw                  map[string]any
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
	Err                  error
}

func fetchPRM(ctx context.Context, hc *http.Client, u string) *prmDoc {
	d := &prmDoc{URL: u}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		d.Err = err
		return d
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		d.Err = err
		return d
	}
	defer func() { _ = resp.Body.Close() }() // read below; closing only releases the connection
	d.Status = resp.StatusCode
	d.ContentType = resp.Header.Get("Content-Type")
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		d.Err = err
		return d
	}
	if resp.StatusCode != http.StatusOK {
		d.Err = fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
		return d
	}
	if err := json.Unmarshal(body, &d.Raw); err != nil {
		d.Err = fmt.Errorf("GET %s: not a JSON object: %v", u, err)
		return d
	}
	if err := json.Unmarshal(body, d); err != nil {
		d.Err = fmt.Errorf("GET %s: malformed metadata: %v", u, err)
	}
	return d
}

// prm returns the path-form (root=false) or root metadata, memoized.
func prm(ctx context.Context, t *grade.Target, root bool) *prmDoc {
	key := "prm-path"
	if root {
		key = "prm-root"
	}
	v, _ := t.Memo(key, func() (any, error) {
		var u string
		var err error
		if root {
			u, err = rootMetadataURL(t.MCP.URL)
		} else {
			u, err = metadataURL(t.MCP.URL)
		}
		if err != nil {
			return &prmDoc{Err: err}, nil
		}
		return fetchPRM(ctx, t.HTTP, u), nil
	})
	return v.(*prmDoc)
}

// scopeSets returns the server's advertised soft scopes (all) and the read
// scopes among them, from the path-form metadata.
func scopeSets(ctx context.Context, t *grade.Target) (all, read []string, err error) {
	d := prm(ctx, t, false)
	if d.Err != nil {
		return nil, nil, fmt.Errorf("metadata: %w", d.Err)
	}
	if len(d.ScopesSupported) == 0 {
		return nil, nil, errors.New("metadata has no scopes_supported: cannot pick token scopes")
	}
	for _, s := range d.ScopesSupported {
		all = append(all, s)
		if strings.HasSuffix(s, ":read") {
			read = append(read, s)
		}
	}
	return all, read, nil
}

// token issues a Flow 1 token and remembers it as a secret.
func token(ctx context.Context, t *grade.Target, user string, scopes []string) (string, error) {
	if t.MCP.Tokens == nil {
		return "", fmt.Errorf("no token source: %w", grade.ErrUnavailable)
	}
	tok, err := t.MCP.Tokens.Token(ctx, user, scopes)
	t.AddSecret(tok)
	return tok, err
}

func fullToken(ctx context.Context, t *grade.Target, user string) (string, error) {
	all, _, err := scopeSets(ctx, t)
	if err != nil {
		return "", err
	}
	return token(ctx, t, user, all)
}

func readToken(ctx context.Context, t *grade.Target, user string) (string, []string, error) {
	_, read, err := scopeSets(ctx, t)
	if err != nil {
		return "", nil, err
	}
	if len(read) == 0 {
		return "", nil, errors.New("scopes_supported has no <app>:read scope")
	}
	tok, err := token(ctx, t, user, read)
	return tok, read, err
}

func newClient(t *grade.Target, tok string) *mcpwire.Client {
	return &mcpwire.Client{URL: t.MCP.URL, HTTP: t.HTTP, Token: tok}
}

// session returns an initialized client for tok, or an error describing
// why initialization failed.
func session(ctx context.Context, t *grade.Target, tok string) (*mcpwire.Client, error) {
	c := newClient(t, tok)
	resp, err := c.Initialize(ctx)
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if !resp.OK() || resp.Reply == nil || resp.Reply.Error != nil {
		return nil, fmt.Errorf("initialize with a valid token: %s", resp.Summary())
	}
	return c, nil
}

// positiveControl checks, once per target, that a valid full-scope token
// opens a session: negative checks are only meaningful if it does.
func positiveControl(ctx context.Context, t *grade.Target) error {
	_, err := t.Memo("positive-control", func() (any, error) {
		tok, err := fullToken(ctx, t, primary(t))
		if err != nil {
			return nil, err
		}
		if _, err := session(ctx, t, tok); err != nil {
			return nil, fmt.Errorf("positive control failed: %w", err)
		}
		return nil, nil
	})
	return err
}

// jwtClaims decodes a JWT's payload without verifying it (the harness
// only needs jti/sub of tokens it obtained itself).
func jwtClaims(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	return m, nil
}

func claimString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// tools lists the tools visible to tok (memoized per token).
func tools(ctx context.Context, t *grade.Target, tok string) ([]mcpwire.Tool, error) {
	v, err := t.Memo("tools:"+tok, func() (any, error) {
		c, err := session(ctx, t, tok)
		if err != nil {
			return nil, err
		}
		list, resp, err := c.ListTools(ctx)
		if err != nil {
			return nil, err
		}
		if list == nil {
			return nil, fmt.Errorf("tools/list: %s", resp.Summary())
		}
		return list, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]mcpwire.Tool), nil
}

func toolNames(ts []mcpwire.Tool) []string {
	out := make([]string, 0, len(ts))
	for _, x := range ts {
		out = append(out, x.Name)
	}
	sort.Strings(out)
	return out
}

func findTool(ts []mcpwire.Tool, name string) (mcpwire.Tool, bool) {
	for _, x := range ts {
		if x.Name == name {
			return x, true
		}
	}
	return mcpwire.Tool{}, false
}

// probeID is an id no real object has: synthesized calls that slip
// through a broken gate must not touch real data.
const probeID = 987654321

// synthArgs builds arguments satisfying a tool's required properties with
// harmless values: a property's first example when its schema gives one
// (JSON Schema 2020-12 §9.5, "examples"; a tool declares the shape of
// values it validates further that way), else a placeholder of its type.
func synthArgs(schema json.RawMessage) map[string]any { return synth(schema, false) }

// synthAllArgs fills every property, so that argument validation cannot be
// what refuses a call. A schema whose properties carry examples declares
// one valid call with them (some arguments exclude others: a share's
// password and a user as recipient): then the properties with an example,
// and the required ones, are filled.
func synthAllArgs(schema json.RawMessage) map[string]any { return synth(schema, true) }

func synth(schema json.RawMessage, all bool) map[string]any {
	var s struct {
		Properties map[string]struct {
			Type     any   `json:"type"`
			Examples []any `json:"examples"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	args := map[string]any{}
	if json.Unmarshal(schema, &s) != nil {
		return args
	}
	names := s.Required
	if all {
		exampled := false
		for _, p := range s.Properties {
			exampled = exampled || len(p.Examples) > 0
		}
		for name, p := range s.Properties {
			if !exampled || len(p.Examples) > 0 {
				if !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
		}
	}
	for _, name := range names {
		if ex := s.Properties[name].Examples; len(ex) > 0 {
			args[name] = ex[0]
			continue
		}
		typ := ""
		switch v := s.Properties[name].Type.(type) {
		case string:
			typ = v
		case []any:
			for _, x := range v {
				if str, ok := x.(string); ok && str != "null" {
					typ = str
					break
				}
			}
		}
		switch typ {
		case "integer", "number":
			args[name] = probeID
		case "boolean":
			args[name] = false
		case "array":
			args[name] = []any{}
		case "object":
			args[name] = map[string]any{}
		default:
			args[name] = "conformance-probe"
		}
	}
	return args
}

// probeCall is the read-only tool call the mode checks use to make the
// server talk to Nextcloud.
type probeCall struct {
	Tool string
	Args map[string]any
}

// pickProbe chooses a read-only call that must reach Nextcloud: reading a
// note the suite creates for the purpose (search may be answered from a
// local index), else the first read-only tool.
func pickProbe(ctx context.Context, t *grade.Target, c *mcpwire.Client, tok string) (probeCall, error) {
	list, err := tools(ctx, t, tok)
	if err != nil {
		return probeCall{}, err
	}
	_, hasCreate := findTool(list, toolCreateNote)
	_, hasGet := findTool(list, toolGetNote)
	_, hasDelete := findTool(list, toolDeleteNote)
	if hasCreate && hasGet {
		v, err := t.Memo("probe-note", func() (any, error) {
			co, err := callTool(ctx, c, toolCreateNote, map[string]any{"title": "conformance probe", "content": "created by the conformance suite", "category": ""})
			if err != nil {
				return nil, err
			}
			if !co.OK {
				return nil, fmt.Errorf("creating the probe note: %s %s", co.Summary, truncate(co.Text, 160))
			}
			id, err := noteID(co)
			if err != nil {
				return nil, err
			}
			if hasDelete {
				t.Cleanup(func(ctx context.Context) {
					if c2, err := session(ctx, t, tok); err == nil {
						_, _ = callTool(ctx, c2, toolDeleteNote, map[string]any{"note_id": id})
					}
				})
			}
			return id, nil
		})
		if err != nil {
			return probeCall{}, err
		}
		return probeCall{Tool: toolGetNote, Args: map[string]any{"note_id": v.(int64)}}, nil
	}
	for _, x := range list {
		if x.Annotations != nil && x.Annotations.ReadOnlyHint && !slices.Contains(provisioningTools, x.Name) {
			return probeCall{Tool: x.Name, Args: synthArgs(x.InputSchema)}, nil
		}
	}
	return probeCall{}, fmt.Errorf("no read-only Nextcloud tool among %v", toolNames(list))
}

// callOutcome describes a tool call: ok is a non-error result.
type callOutcome struct {
	OK         bool
	Text       string
	Structured json.RawMessage
	Status     int
	Summary    string
}

func callTool(ctx context.Context, c *mcpwire.Client, name string, args map[string]any) (callOutcome, error) {
	res, resp, err := c.CallTool(ctx, name, args)
	if err != nil {
		return callOutcome{}, err
	}
	co := callOutcome{Status: resp.Status, Summary: resp.Summary()}
	switch {
	case res != nil:
		co.OK = !res.IsError
		co.Text = res.Text()
		co.Structured = res.StructuredContent
		if co.Text == "" {
			co.Text = string(res.StructuredContent)
		}
		if res.IsError {
			co.Summary += " isError"
		}
	case resp.Reply != nil && resp.Reply.Error != nil:
		co.Text = resp.Reply.Error.Message
	default:
		co.Text = string(resp.Body)
	}
	return co, nil
}

// ncLogSince resets the fake Nextcloud's log, runs f, and returns what
// Nextcloud saw meanwhile.
func ncLogAround(ctx context.Context, t *grade.Target, f func() error) ([]fakectl.NCLogEntry, error) {
	if err := t.MCP.NCControl.ResetLog(ctx); err != nil {
		return nil, err
	}
	if err := f(); err != nil {
		return nil, err
	}
	return t.MCP.NCControl.Log(ctx)
}

// bothLogsAround resets both fakes' logs, runs f, and returns both logs.
func bothLogsAround(ctx context.Context, t *grade.Target, f func() error) ([]fakectl.IdPLogEntry, []fakectl.NCLogEntry, error) {
	if err := t.MCP.IdPControl.ResetLog(ctx); err != nil {
		return nil, nil, err
	}
	nc, err := ncLogAround(ctx, t, f)
	if err != nil {
		return nil, nil, err
	}
	idp, err := t.MCP.IdPControl.Log(ctx)
	return idp, nc, err
}

func countGrants(log []fakectl.IdPLogEntry, grant string) (n int) {
	for _, e := range log {
		if e.Endpoint == "token" && e.GrantType == grant {
			n++
		}
	}
	return n
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// waitQuiet waits until the IdP log shows no new refresh grant for quiet,
// at most max: background workers may refresh right after provisioning.
func waitQuiet(ctx context.Context, t *grade.Target, quiet, max time.Duration) error {
	deadline := time.Now().Add(max)
	last, stable := -1, time.Now()
	for time.Now().Before(deadline) {
		log, err := t.MCP.IdPControl.Log(ctx)
		if err != nil {
			return err
		}
		n := countGrants(log, fakectl.GrantRefresh)
		if n != last {
			last, stable = n, time.Now()
		} else if time.Since(stable) >= quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// jsonUnmarshalLoose decodes the first JSON object in s (tool results
// often wrap JSON in prose).
func jsonUnmarshalLoose(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err == nil {
		return nil
	}
	i, j := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if i < 0 || j <= i {
		return errors.New("no JSON object")
	}
	return json.Unmarshal([]byte(s[i:j+1]), v)
}
