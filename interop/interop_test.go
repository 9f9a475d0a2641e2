//go:build interop

// Package interop runs nextcloud-mcp against an identity provider nobody
// here wrote: oidc-provider (npm, pinned in oidc-provider/package.json, on
// the Node 22 it installs), configured by oidc-provider/provider.mjs. Each
// deployment is that IdP, the fake Nextcloud verifying its tokens as
// user_oidc does, and the MCP server configured as a deployment would be;
// the tests drive them as an MCP client and a person at the IdP's pages
// would, then grade each deployment with the conformance suite as an
// external target. make interop runs them; see interop/README.md.
package interop

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/report"
	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// TestMain installs Node 22 and oidc-provider once, before any test's
// clock runs.
func TestMain(m *testing.M) {
	cmd := exec.Command("bash", "run-idp.sh", "--install")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: installing Node 22 and oidc-provider failed (%v); the interop suite needs npm and the npm registry\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// allScopesList is every soft scope.
var allScopesList = scopes.Soft

// allScopes is what MCP clients here ask for: every soft scope (the IdP
// grants those of the MCP server's resource).
var allScopes = "openid offline_access " + strings.Join(scopes.Soft, " ")

// readScopes are the read scopes of what the server advertises (its
// Protected Resource Metadata's scopes_supported), as a read-only client
// would ask.
func readScopes(supported []string) string {
	r := []string{"openid"}
	for _, s := range supported {
		if strings.HasSuffix(s, ":read") {
			r = append(r, s)
		}
	}
	return strings.Join(r, " ")
}

// serverScopes are the scopes the server advertises plus the OpenID ones.
func serverScopes(supported []string) string {
	return "openid offline_access " + strings.Join(supported, " ")
}

// clientTokens are what the MCP clients of a deployment obtained through
// the IdP's pages.
type clientTokens struct {
	clientID                  string
	full, readOnly, bob       string
	refresh                   string
	foreign, opaque, shortTok string
	shortExpiry               time.Time
}

// obtain registers an MCP client dynamically and runs the code flows.
func obtain(t *testing.T, d *deployment) clientTokens {
	md, supported := d.discover(t)
	var ct clientTokens
	ct.clientID = register(t, md, allScopes)
	full := tokens(t, md, ct.clientID, "alice", serverScopes(supported), d.MCPURL)
	ct.full, ct.refresh = full.Str("access_token"), full.Str("refresh_token")
	require.NotEmpty(t, ct.refresh, "no refresh token with offline_access")
	ct.readOnly = tokens(t, md, ct.clientID, "alice", readScopes(supported), d.MCPURL).Str("access_token")
	ct.bob = tokens(t, md, ct.clientID, "bob", serverScopes(supported), d.MCPURL).Str("access_token")
	// A token for another resource (Nextcloud): not for the MCP server.
	ct.foreign = tokens(t, md, "interop-client", "alice", allScopes, d.NCURL).Str("access_token")
	ct.opaque = tokens(t, md, "interop-opaque", "alice", allScopes, d.MCPURL).Str("access_token")
	ct.shortTok = tokens(t, md, "interop-short", "alice", allScopes, d.MCPURL).Str("access_token")
	ct.shortExpiry = time.Now().Add(2 * time.Second)
	for name, tok := range map[string]string{"full": ct.full, "read-only": ct.readOnly, "bob": ct.bob, "foreign": ct.foreign, "short": ct.shortTok} {
		require.Equal(t, 2, strings.Count(tok, "."), "the %s token is not a JWT", name)
	}
	require.NotEqual(t, 2, strings.Count(ct.opaque, "."), "the interop-opaque client's token is a JWT")
	return ct
}

// notesRoundTrip creates, reads, searches and deletes a note, and returns
// what Nextcloud's log shows of the bearer tokens it received.
func notesRoundTrip(t *testing.T, d *deployment, token string) []fakenc.LogEntry {
	cs := connect(t, d.MCPURL, token)
	d.Nextcloud.ResetLog()
	created := callTool(t, cs, notes.ToolCreateNote, map[string]any{"title": "interop", "content": "written through oidc-provider", "category": ""})
	require.False(t, created.IsError, resultText(created))
	var note struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, jsonOf(created, &note))
	got := callTool(t, cs, notes.ToolGetNote, map[string]any{"note_id": note.ID})
	require.False(t, got.IsError, resultText(got))
	assert.Contains(t, resultText(got)+string(structured(got)), "written through oidc-provider")
	found := callTool(t, cs, notes.ToolSearchNotes, map[string]any{"query": "interop"})
	require.False(t, found.IsError, resultText(found))
	del := callTool(t, cs, notes.ToolDeleteNote, map[string]any{"note_id": note.ID})
	require.False(t, del.IsError, resultText(del))
	return d.Nextcloud.RequestLog()
}

// grade runs the conformance suite against the deployment as an external
// target and requires no MUST or INVARIANT failure.
func grade(t *testing.T, d *deployment, ct clientTokens, md map[string]string) *report.Report {
	env := map[string]string{
		"CONFORMANCE_MCP_URL": d.MCPURL, "CONFORMANCE_MCP_MODE": string(d.Mode),
		"CONFORMANCE_MCP_TOKEN": ct.full, "CONFORMANCE_MCP_TOKEN_READONLY": ct.readOnly, "CONFORMANCE_MCP_TOKEN_OTHER_USER": ct.bob,
		"CONFORMANCE_SERVER_LOG":           d.LogPath,
		"CONFORMANCE_IDP_ISSUER":           d.Issuer,
		"CONFORMANCE_IDP_PUBLIC_CLIENT_ID": ct.clientID, "CONFORMANCE_IDP_REDIRECT_URI": loopbackCB,
		"CONFORMANCE_IDP_CLIENT_ID": serverClientID, "CONFORMANCE_IDP_CLIENT_SECRET": serverSecret,
		"CONFORMANCE_IDP_SUBJECT_TOKEN": ct.full, "CONFORMANCE_IDP_REFRESH_TOKEN": ct.refresh, "CONFORMANCE_IDP_OPAQUE_TOKEN": ct.opaque,
		"CONFORMANCE_NEXTCLOUD_URL": d.NCURL, "CONFORMANCE_NEXTCLOUD_USER": "alice", "CONFORMANCE_NEXTCLOUD_PASSWORD": fakenc.DefaultAppPassword("alice"),
	}
	for k, v := range md {
		env[k] = v
	}
	spec, err := conformance.ExternalSpec(func(k string) string { return env[k] }, "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep := conformance.Run(ctx, []conformance.TargetSpec{spec}, conformance.Catalogue(), conformance.Options{})
	var table strings.Builder
	_ = rep.WriteTable(&table)
	t.Logf("conformance against oidc-provider (%s):\n%s", d.Mode, table.String())
	if dir := os.Getenv("INTEROP_REPORT_DIR"); dir != "" {
		sub := dir + "/" + string(d.Mode)
		if err := os.MkdirAll(sub, 0o755); err == nil {
			_, _ = rep.WriteFiles(sub)
		}
	}
	require.Len(t, rep.Targets, 1)
	require.Empty(t, rep.Targets[0].Error)
	assert.Empty(t, rep.Blocking, "MUST or INVARIANT failures against oidc-provider")
	return rep
}

func results(rep *report.Report) map[string]report.Result {
	m := map[string]report.Result{}
	for _, r := range rep.Targets[0].Results {
		m[r.ID] = r
	}
	return m
}

// TestPassthrough: pass-through mode on oidc-provider, whose JWT
// customiser adds Nextcloud's client id to the audience of tokens for the
// MCP server (the audience rule for pass-through).
func TestPassthrough(t *testing.T) {
	t.Parallel()
	d := start(t, options{mode: server.ModePassthrough})
	ct := obtain(t, d)

	t.Run("notes calls forward the client's own token", func(t *testing.T) {
		log := notesRoundTrip(t, d, ct.full)
		require.NotEmpty(t, log)
		for _, e := range log {
			require.Equal(t, "bearer", e.AuthKind, "%s %s", e.Method, e.Path)
			require.NotNil(t, e.Token)
			assert.Contains(t, e.Token.Aud, "nextcloud")
			assert.Contains(t, e.Token.Aud, d.MCPURL)
			assert.Empty(t, e.Token.Act)
		}
	})
	t.Run("a read-only token gets the 403 step-up challenge", func(t *testing.T) { readOnly403(t, d, ct) })
	t.Run("a token for another resource gets 401", func(t *testing.T) { foreign401(t, d, ct) })
	t.Run("an opaque token is accepted through introspection", func(t *testing.T) {
		status, challenge, body := rawCall(t, d.MCPURL, ct.opaque, "check_provisioning_status", `{}`)
		// No consent module here: the call is refused as unknown, but only
		// after the token was introspected and accepted (not a 401).
		assert.Equal(t, http.StatusOK, status, challenge+body)
	})
	t.Run("conformance", func(t *testing.T) {
		rep := grade(t, d, ct, nil)
		r := results(rep)
		assert.Equal(t, "WARN", r["MCP-AUTH-010"].Status, r["MCP-AUTH-010"].Evidence)
		assert.Equal(t, "PASS", r["INV-3"].Status, r["INV-3"].Evidence)
	})
	t.Run("an expired token gets 401 once past the leeway", func(t *testing.T) {
		// The server allows 30 s of clock skew (docs/architecture.md §1.1).
		if wait := time.Until(ct.shortExpiry.Add(31 * time.Second)); wait > 0 {
			time.Sleep(wait)
		}
		status, challenge, body := rawCall(t, d.MCPURL, ct.shortTok, notes.ToolSearchNotes, `{"query":"x"}`)
		assert.Equal(t, http.StatusUnauthorized, status, body)
		assert.Contains(t, challenge, `error="invalid_token"`)
	})
}

// TestExchange: exchange mode, the RFC 8693 grant of provider.mjs.
func TestExchange(t *testing.T) {
	t.Parallel()
	d := start(t, options{mode: server.ModeExchange})
	ct := obtain(t, d)

	t.Run("notes calls send Nextcloud an exchanged token", func(t *testing.T) {
		log := notesRoundTrip(t, d, ct.full)
		require.NotEmpty(t, log)
		jtis := map[string]bool{}
		for _, e := range log {
			require.Equal(t, "bearer", e.AuthKind, "%s %s", e.Method, e.Path)
			assert.Equal(t, []string{"nextcloud"}, e.Token.Aud)
			assert.Equal(t, serverClientID, e.Token.Act["sub"])
			assert.Equal(t, "alice", e.Token.Sub)
			jtis[e.Token.Jti] = true
		}
		assert.Greater(t, len(jtis), 1, "one exchanged token served several calls")
	})
	t.Run("a read-only token gets the 403 step-up challenge", func(t *testing.T) { readOnly403(t, d, ct) })
	t.Run("a token for another resource gets 401", func(t *testing.T) { foreign401(t, d, ct) })
	t.Run("an opaque token works through introspection and exchange", func(t *testing.T) {
		d.Nextcloud.ResetLog()
		cs := connect(t, d.MCPURL, ct.opaque)
		res := callTool(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"})
		require.False(t, res.IsError, resultText(res))
		for _, e := range d.Nextcloud.RequestLog() {
			assert.Equal(t, serverClientID, e.Token.Act["sub"])
		}
	})
	t.Run("an expired token gets 401 from the refused exchange", func(t *testing.T) {
		// Within the server's 30 s leeway, past the IdP's clock: the IdP
		// refuses the exchange (invalid_grant) and the client is told to
		// refresh with a 401, not a tool error.
		if wait := time.Until(ct.shortExpiry.Add(2 * time.Second)); wait > 0 {
			time.Sleep(wait)
		}
		d.Nextcloud.ResetLog()
		status, challenge, body := rawCall(t, d.MCPURL, ct.shortTok, notes.ToolSearchNotes, `{"query":"x"}`)
		assert.Equal(t, http.StatusUnauthorized, status, body)
		assert.Contains(t, challenge, `error="invalid_token"`)
		assert.Contains(t, challenge, "refused to exchange this access token (invalid_grant)")
		assert.Empty(t, d.Nextcloud.RequestLog())
	})
	t.Run("conformance", func(t *testing.T) {
		rep := grade(t, d, ct, nil)
		r := results(rep)
		for _, id := range []string{"MODE-2", "MODE-3", "RFC8693-001", "RFC7662-001", "MCP-AUTH-010", "SCOPE-2"} {
			assert.Equal(t, "PASS", r[id].Status, "%s: %s", id, r[id].Evidence)
		}
	})
}

// TestProgressiveConsent: Flow 2 with resource indicators — the server's
// authorization link names Nextcloud's resource, the person approves at
// the IdP's pages, the callback stores the grant, the tools work, and
// revocation reaches the IdP.
func TestProgressiveConsent(t *testing.T) {
	t.Parallel()
	d := start(t, options{mode: server.ModeExchange, consent: true})
	md := d.metadata(t)
	clientID := register(t, md, allScopes)
	tok := tokens(t, md, clientID, "alice", allScopes, d.MCPURL).Str("access_token")
	cs := connect(t, d.MCPURL, tok)

	refused := callTool(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"})
	require.True(t, refused.IsError)
	var link struct {
		URL string `json:"authorization_url"`
	}
	res := callTool(t, cs, "provision_nextcloud_access", nil)
	require.False(t, res.IsError, resultText(res))
	require.NoError(t, jsonOf(res, &link))
	assert.Contains(t, link.URL, "resource="+urlQueryEscape(d.NCURL))

	p, err := newBrowser("alice").visit(context.Background(), link.URL, d.BaseURL+"/oauth/callback", true)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	assert.Contains(t, p.Body, "Nextcloud access provisioned")

	ok := callTool(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"})
	require.False(t, ok.IsError, resultText(ok))
	st := callTool(t, cs, "check_provisioning_status", nil)
	assert.Contains(t, resultText(st)+string(structured(st)), `"provisioned":true`)
	rv := callTool(t, cs, "revoke_nextcloud_access", nil)
	assert.Contains(t, resultText(rv)+string(structured(rv)), "revoked at the identity provider")
	again := callTool(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"})
	assert.True(t, again.IsError, "still provisioned after the revocation")
}

// TestMisconfiguredIdPFailsReadably: what a user sees when the IdP is not
// set up for the server — each says what was wrong and what to configure.
func TestMisconfiguredIdPFailsReadably(t *testing.T) {
	t.Parallel()
	t.Run("pass-through without Nextcloud's audience", func(t *testing.T) {
		// The IdP's JWT customiser is off (MODE=exchange at the IdP), so
		// the client's token names only the MCP server.
		d := start(t, options{mode: server.ModePassthrough, idpEnv: map[string]string{"MODE": "exchange"}})
		md := d.metadata(t)
		tok := tokens(t, md, register(t, md, allScopes), "alice", allScopes, d.MCPURL).Str("access_token")
		res := callTool(t, connect(t, d.MCPURL, tok), notes.ToolSearchNotes, map[string]any{"query": "welcome"})
		require.True(t, res.IsError)
		assert.Contains(t, resultText(res), "in pass-through mode your access token must also be valid for Nextcloud (its audience must include Nextcloud's client id")
	})
	t.Run("Flow 2 without Nextcloud's resource", func(t *testing.T) {
		// NEXTCLOUD_RESOURCE=none: the resource-indicator IdP issues an
		// opaque token for its userinfo endpoint instead of Nextcloud's.
		d := start(t, options{mode: server.ModeExchange, consent: true, server: func(c *server.Config) { c.NextcloudResource = server.ResourceNone }})
		md := d.metadata(t)
		tok := tokens(t, md, register(t, md, allScopes), "alice", allScopes, d.MCPURL).Str("access_token")
		var link struct {
			URL string `json:"authorization_url"`
		}
		res := callTool(t, connect(t, d.MCPURL, tok), "provision_nextcloud_access", nil)
		require.NoError(t, jsonOf(res, &link))
		p, err := newBrowser("alice").visit(context.Background(), link.URL, d.BaseURL+"/oauth/callback", true)
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, p.Status)
		for _, want := range []string{"the IdP granted an opaque access token (not a JWT)", "resource (none)", "NEXTCLOUD_RESOURCE"} {
			assert.Contains(t, p.Body, want)
		}
		t.Logf("the callback said: %s", between(p.Body, "<p>", "</p>"))
	})
	t.Run("exchange mode on an IdP without RFC 8693", func(t *testing.T) {
		d := start(t, options{mode: server.ModeExchange, idpEnv: map[string]string{"EXCHANGE": "off"}})
		md := d.metadata(t)
		tok := tokens(t, md, register(t, md, allScopes), "alice", allScopes, d.MCPURL).Str("access_token")
		res := callTool(t, connect(t, d.MCPURL, tok), notes.ToolSearchNotes, map[string]any{"query": "welcome"})
		require.True(t, res.IsError)
		assert.Contains(t, resultText(res), "ENABLE_TOKEN_EXCHANGE=false")
		t.Logf("the tool error said: %s", resultText(res))
	})
}

func readOnly403(t *testing.T, d *deployment, ct clientTokens) {
	d.Nextcloud.ResetLog()
	status, challenge, body := rawCall(t, d.MCPURL, ct.readOnly, notes.ToolCreateNote, `{"title":"x","content":"x","category":""}`)
	assert.Equal(t, http.StatusForbidden, status, body)
	assert.Contains(t, challenge, `error="insufficient_scope"`)
	assert.Contains(t, challenge, "notes:write")
	assert.Empty(t, d.Nextcloud.RequestLog(), "a refused call reached Nextcloud")
}

func foreign401(t *testing.T, d *deployment, ct clientTokens) {
	status, challenge, body := rawCall(t, d.MCPURL, ct.foreign, notes.ToolSearchNotes, `{"query":"x"}`)
	assert.Equal(t, http.StatusUnauthorized, status, body)
	assert.Contains(t, challenge, `error="invalid_token"`)
}
