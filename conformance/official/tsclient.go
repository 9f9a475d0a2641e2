package official

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// TSClientResult is what tsclient.mjs reports in its last line.
type TSClientResult struct {
	Registered bool `json:"registered"`
	// RegisteredScope is the scope of the SDK's registration (RFC 7591
	// scope metadata) as the IdP answered it; "" when none.
	RegisteredScope string `json:"registeredScope"`
	Authorizations  []struct {
		Scope    string `json:"scope"`
		Resource string `json:"resource"`
		Method   string `json:"method"`
		// Error is the error the IdP redirected back with, if any.
		Error string `json:"error"`
	} `json:"authorizations"`
	Tools  []string `json:"tools"`
	Read   bool     `json:"read"`
	Write  bool     `json:"write"`
	StepUp bool     `json:"stepUp"`
	Error  string   `json:"error"`
}

// ParseTSClient finds the result line in tsclient.mjs's output.
func ParseTSClient(out []byte) (*TSClientResult, bool) {
	var res *TSClientResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Result *TSClientResult `json:"result"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Result != nil {
			res = line.Result
		}
	}
	return res, res != nil
}

// GradeTSClient grades a probe run against mcpURL: the SDK registered,
// authorized with PKCE S256 and resource = the MCP URL, could use a read
// tool with the first (read-scoped) token, and got the write tool to work
// only through a step-up that kept the read scope.
//
// One outcome is a WARN, not a verdict on the server: the SDK registers
// its client with the scope of the first 401 challenge, so a step-up asks
// for scopes outside the registration. An IdP that limits a registered
// client to its registered scope (certified providers do; RFC 7591 §2
// lets them) refuses that step-up; one that does not lets it pass. Either
// way the user of such a client needs the IdP configured for it, and the
// WARN says how.
func GradeTSClient(r *TSClientResult, mcpURL string) grade.Outcome {
	if w, ok := registeredScopeWarning(r); ok {
		return w
	}
	if r.Error != "" {
		return grade.Failf("the TypeScript SDK client failed: %s", r.Error)
	}
	var problems []string
	if !r.Registered {
		problems = append(problems, "no dynamic client registration")
	}
	if len(r.Authorizations) != 2 {
		problems = append(problems, fmt.Sprintf("%d authorizations, want 2 (initial, then step-up)", len(r.Authorizations)))
	}
	for i, a := range r.Authorizations {
		if a.Method != "S256" || a.Resource != mcpURL {
			problems = append(problems, fmt.Sprintf("authorization %d: code_challenge_method %q, resource %q", i+1, a.Method, a.Resource))
		}
	}
	if len(r.Authorizations) == 2 {
		first, second := strings.Fields(r.Authorizations[0].Scope), strings.Fields(r.Authorizations[1].Scope)
		if slices.Contains(first, "notes:write") {
			problems = append(problems, "the first authorization already asked for notes:write: the 401 challenge's scope was not a read scope")
		}
		if !slices.Contains(second, "notes:write") || !slices.Contains(second, "notes:read") {
			problems = append(problems, fmt.Sprintf("the step-up asked for %q, want notes:read and notes:write (granted ∪ required)", r.Authorizations[1].Scope))
		}
	}
	if slices.Contains(r.Tools, "nc_notes_create_note") {
		problems = append(problems, "tools/list showed a write tool to a read-scoped token")
	}
	if !r.Read {
		problems = append(problems, "the read tool failed")
	}
	if !r.StepUp || !r.Write {
		problems = append(problems, "the write tool did not succeed through a 403 step-up")
	}
	if len(problems) > 0 {
		return grade.Failf("TypeScript SDK client: %s", strings.Join(problems, "; "))
	}
	return grade.Passf("@modelcontextprotocol/sdk (with conformance@%s): PRM discovery, DCR, PKCE S256 + resource through the IdP's pages, %d read tools listed, read call, 403 → step-up %q → write call", Version, len(r.Tools), r.Authorizations[1].Scope)
}

// stepUpAdvice is what a deployment does about clients whose registered
// scope cannot cover a step-up.
const stepUpAdvice = "Clients that register with their first challenge's scope and step up later (the official TypeScript SDK, so the MCP Inspector) need the IdP to let a registered client request the server's other scopes: register the client with every scope of the server's scopes_supported, or give dynamically registered clients those scopes by the IdP's registration policy (oidc-provider: a registration policy or extraClientMetadata validator that sets scope; Keycloak: the realm's client registration policy \"Allowed Client Scopes\" and the scopes as optional client scopes)"

// registeredScopeWarning grades a run whose step-up asked for scopes the
// SDK's registration did not include.
func registeredScopeWarning(r *TSClientResult) (grade.Outcome, bool) {
	if r.RegisteredScope == "" || len(r.Authorizations) < 2 {
		return grade.Outcome{}, false
	}
	registered := strings.Fields(r.RegisteredScope)
	step := r.Authorizations[len(r.Authorizations)-1]
	var outside []string
	for _, s := range strings.Fields(step.Scope) {
		if !slices.Contains(registered, s) {
			outside = append(outside, s)
		}
	}
	if len(outside) == 0 {
		return grade.Outcome{}, false
	}
	what := fmt.Sprintf("the TypeScript SDK registered its client with scope %q (its first 401 challenge's) and stepped up to %q, outside the registration (%s)",
		r.RegisteredScope, step.Scope, strings.Join(outside, " "))
	switch {
	case step.Error != "":
		return grade.Warnf("%s: this IdP refused the step-up (%s), as certified providers limit a registered client to its registered scope; the server's 403 challenge was right. %s", what, step.Error, stepUpAdvice), true
	case r.Error == "" && r.Write && r.StepUp:
		return grade.Warnf("%s: it worked only because this IdP lets a registered client request scopes beyond its registration; a certified provider would refuse it. %s", what, stepUpAdvice), true
	}
	return grade.Outcome{}, false
}

// TSClient runs tsclient.mjs against t.Official.OAuthURL.
func TSClient(ctx context.Context, t *grade.Target) grade.Outcome {
	if t.Official == nil {
		return grade.NAf("the official suite was not requested for this target (-official)")
	}
	if t.Official.OAuthURL == "" {
		return grade.NAf("needs an MCP endpoint that requires OAuth, with an IdP whose login the probe can complete as alice")
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", t.Official.Script, "--ts-client", t.Official.OAuthURL)
	cmd.WaitDelay = 5 * time.Second
	out, runErr := cmd.CombinedOutput()
	tail := string(out)
	if len(tail) > 400 {
		tail = tail[len(tail)-400:]
	}
	if ctx.Err() != nil {
		return grade.Failf("the TypeScript SDK probe did not finish in time; its output ended with: %s", tail)
	}
	r, ok := ParseTSClient(out)
	if !ok {
		return grade.Failf("the TypeScript SDK probe printed no result (%v): %s", runErr, tail)
	}
	return GradeTSClient(r, t.Official.OAuthURL)
}
