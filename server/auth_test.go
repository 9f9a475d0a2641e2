package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`

// post sends one raw JSON-RPC POST to /mcp.
func post(t *testing.T, url, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestProtectedResourceMetadata(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		resp, err := http.Get(st.BaseURL + path)
		if err != nil {
			t.Fatal(err)
		}
		var prm struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			ScopesSupported      []string `json:"scopes_supported"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&prm); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || prm.Resource != st.MCPURL || !slices.Equal(prm.AuthorizationServers, []string{st.IdPURL}) ||
			!slices.Contains(prm.ScopesSupported, scopes.NotesWrite) {
			t.Errorf("%s: %d %+v", path, resp.StatusCode, prm)
		}
	}
}

// TestBadTokens: every kind of bad token gets 401 with an invalid_token
// challenge, and nothing reaches Nextcloud.
func TestBadTokens(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	ctx := context.Background()
	good := map[string]any{"sub": "alice", "aud": st.MCPURL, "scope": "notes:read", "client_id": "mcp-client"}
	with := func(over map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	mint := func(r idp.MintRequest) string {
		tok, err := st.IdP.Mint(r)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := mint(idp.MintRequest{Claims: good})
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
	opaqueClient, _ := st.IdP.Client(devstack.MCPClientID)
	opaqueClient.ID = "opaque-client"
	opaqueClient.OpaqueAccessTokens = true
	if err := st.IdP.UpsertClient(opaqueClient); err != nil {
		t.Fatal(err)
	}
	issueOpaque := func() string {
		res, err := st.IdP.IssueAccessToken(ctx, idp.IssueRequest{ClientID: "opaque-client", Username: "alice", Scopes: []string{"notes:read"}, Resource: st.MCPURL})
		if err != nil {
			t.Fatal(err)
		}
		return res.AccessToken
	}
	opaque, activeOpaque := issueOpaque(), issueOpaque()
	// Revoke one at the IdP as the client would (RFC 7009).
	rresp, err := http.Post(st.IdPURL+"/revoke", "application/x-www-form-urlencoded", strings.NewReader("token="+opaque+"&client_id=opaque-client"))
	if err != nil {
		t.Fatal(err)
	}
	rresp.Body.Close()

	tests := []struct {
		name, token string
	}{
		{"expired", mint(idp.MintRequest{Claims: good, ExpiresIn: -time.Hour})},
		{"not yet valid", mint(idp.MintRequest{Claims: with(map[string]any{"nbf": time.Now().Add(time.Hour).Unix()})})},
		{"wrong audience", mint(idp.MintRequest{Claims: with(map[string]any{"aud": "some-other-api"})})},
		{"only Nextcloud's audience", mint(idp.MintRequest{Claims: with(map[string]any{"aud": "nextcloud"})})},
		{"wrong issuer", mint(idp.MintRequest{Claims: with(map[string]any{"iss": "http://127.0.0.1:1/evil"})})},
		{"unknown kid", mint(idp.MintRequest{Claims: good, Key: idp.KeyUnknown})},
		{"alg none", mint(idp.MintRequest{Claims: good, Key: idp.KeyNone})},
		{"HS256 with the public key", mint(idp.MintRequest{Claims: good, Key: idp.KeyHS256Public})},
		{"tampered payload", tampered},
		{"missing sub", mint(idp.MintRequest{Claims: with(map[string]any{"sub": nil})})},
		{"opaque, revoked (introspection says inactive)", opaque},
		{"garbage", "not-a-token"},
	}
	st.Nextcloud.ResetLog()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, st.MCPURL, tt.token, initBody)
			body, _ := io.ReadAll(resp.Body)
			wa := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != 401 || !strings.Contains(wa, `error="invalid_token"`) || !strings.Contains(wa, `resource_metadata="`+st.BaseURL+`/.well-known/oauth-protected-resource/mcp"`) {
				t.Errorf("status %d, WWW-Authenticate %q, body %s", resp.StatusCode, wa, body)
			}
			if strings.Contains(string(body)+wa, tt.token) {
				t.Error("the response echoes the token")
			}
		})
	}
	if n := len(st.Nextcloud.RequestLog()); n != 0 {
		t.Errorf("%d requests reached Nextcloud", n)
	}
	// The controls: a valid minted JWT and an active opaque token work.
	for name, tok := range map[string]string{"valid JWT": valid, "active opaque": activeOpaque} {
		if resp := post(t, st.MCPURL, tok, initBody); resp.StatusCode != 200 {
			t.Errorf("%s: status %d", name, resp.StatusCode)
		}
	}
}

func TestMissingTokenChallenge(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModePassthrough})
	resp := post(t, st.MCPURL, "", initBody)
	wa := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 || strings.Contains(wa, "error=") || !strings.Contains(wa, `scope="files:read notes:read"`) || !strings.Contains(wa, "resource_metadata=") {
		t.Errorf("status %d, WWW-Authenticate %q", resp.StatusCode, wa)
	}
	resp = post(t, st.MCPURL+"?access_token=abc", "", initBody)
	if resp.StatusCode != 400 {
		t.Errorf("token in query: status %d, want 400", resp.StatusCode)
	}
}

// TestScopes: a notes:read token lists only the read tools, and a write
// call is refused with a 403 step-up challenge before Nextcloud is asked.
func TestScopes(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	ctx := context.Background()
	readTok, err := st.Token(ctx, "alice", []string{scopes.NotesRead})
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, st.MCPURL, readTok)
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range lt.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	want := []string{notes.ToolGetAttachment, notes.ToolGetNote, notes.ToolSearchNotes}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("tools with notes:read = %v, want %v", names, want)
	}
	st.Nextcloud.ResetLog()
	st.IdP.ResetLog()
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"nc_notes_create_note","arguments":{"title":"x","content":"y","category":""}}}`
	resp := post(t, st.MCPURL, readTok, body)
	wa := resp.Header.Get("WWW-Authenticate")
	wantWA := `Bearer error="insufficient_scope", error_description="tools/call nc_notes_create_note requires scope notes:write", scope="notes:read notes:write", resource_metadata="` + st.BaseURL + `/.well-known/oauth-protected-resource/mcp"`
	if resp.StatusCode != 403 || wa != wantWA {
		t.Errorf("status %d\nWWW-Authenticate %s\nwant             %s", resp.StatusCode, wa, wantWA)
	}
	if n := len(st.Nextcloud.RequestLog()); n != 0 {
		t.Errorf("%d requests reached Nextcloud", n)
	}
	if n := len(grants(st, idp.GrantTokenExchange)); n != 0 {
		t.Errorf("%d token exchanges for a refused call", n)
	}
	// Through a real client the refusal is a clear error, not a crash.
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: notes.ToolCreateNote, Arguments: map[string]any{"title": "x", "content": "y", "category": ""}})
	if err == nil || !strings.Contains(err.Error(), "insufficient_scope") {
		t.Errorf("client error = %v", err)
	}
	// Read tools still work on the same session.
	mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, nil)
}

func TestHealthAndReady(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(st.BaseURL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s = %d", path, resp.StatusCode)
		}
	}
	st.IdP.InjectFault(idp.Fault{Endpoint: "*", Status: 503, Count: 10})
	resp, err := http.Get(st.BaseURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), "identity_provider") {
		t.Errorf("/readyz with the IdP down = %d %s", resp.StatusCode, b)
	}
}

// TestSessionBoundToUser: a session created with alice's token cannot be
// used with bob's, even though bob's token is valid.
// sessionBindingProblems runs the session-binding scenario on st and
// returns what went wrong: alice opens a session and uses it (so any
// identity a server might cache per session is hers), then bob's token
// is used on her session for a tool call. It must be refused, reach no
// Nextcloud route, and leave alice's session working.
func sessionBindingProblems(t *testing.T, st *devstack.Stack) []string {
	t.Helper()
	ctx := context.Background()
	alice, err := st.Token(ctx, "alice", allScopes)
	require.NoError(t, err)
	bob, err := st.Token(ctx, "bob", allScopes)
	require.NoError(t, err)
	s := openRaw(t, st.MCPURL, alice)
	search := fmt.Sprintf(`{"jsonrpc":"2.0","id":%%d,"method":"tools/call","params":{"name":%q,"arguments":{"query":""}}}`, notes.ToolSearchNotes)
	var problems []string
	if resp, body := s.post(fmt.Sprintf(search, 2)); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"result"`) {
		problems = append(problems, fmt.Sprintf("alice's own call on her session: %d %s", resp.StatusCode, body))
	}
	st.Nextcloud.ResetLog()
	intruder := *s
	intruder.token = bob
	resp, body := intruder.post(fmt.Sprintf(search, 3))
	if resp.StatusCode != http.StatusForbidden {
		problems = append(problems, fmt.Sprintf("bob's token on alice's session: %d %s, want 403", resp.StatusCode, body))
	}
	for _, e := range st.Nextcloud.RequestLog() {
		problems = append(problems, fmt.Sprintf("bob's attempt reached Nextcloud: %s %s as %s", e.Method, e.Path, e.UID))
	}
	if resp, body := s.post(fmt.Sprintf(search, 4)); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"result"`) {
		problems = append(problems, fmt.Sprintf("alice's call after the intrusion: %d %s", resp.StatusCode, body))
	}
	return problems
}

// TestSessionBoundToUser: a session belongs to the user whose token
// opened it (MCP security best practices, session hijacking).
func TestSessionBoundToUser(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	assert.Empty(t, sessionBindingProblems(t, st))
}

// TestSessionBindingCatchesIdentityCachedPerSession: the scenario above
// fails against a server that caches the identity of a session's first
// successful request (the owner's) and serves later requests on it with
// that identity, whatever token they carry.
func TestSessionBindingCatchesIdentityCachedPerSession(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: server.WithBrokenVariant("session-identity-cache")})
	assert.NotEmpty(t, sessionBindingProblems(t, st), "the session-binding scenario did not notice a per-session identity cache")
}

// TestCORS: in OAuth modes browser clients may call /mcp (a preflight
// without a token is answered, the 401 challenge is readable); basic mode
// offers no CORS.
// TestCORS: browser clients of an allowed origin get CORS in OAuth modes,
// with the origin reflected (never "*") and WWW-Authenticate readable;
// basic mode answers no CORS even for an allowed origin.
func TestCORS(t *testing.T) {
	allow := func(c *server.Config) { c.AllowedOrigins = []string{inspectorOrigin} }
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: allow})
	resp, _ := originRequest(t, http.MethodOptions, st.MCPURL, "", inspectorOrigin)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, inspectorOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	assert.Contains(t, resp.Header.Values("Vary"), "Origin")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))

	resp, body := originRequest(t, http.MethodPost, st.MCPURL, "", inspectorOrigin)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	assert.Equal(t, inspectorOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate")

	basic := devstacktest.Start(t, devstack.Options{Mode: server.ModeBasic, MutateServer: allow})
	resp, _ = originRequest(t, http.MethodOptions, basic.MCPURL, "", inspectorOrigin)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "basic mode answers CORS")
}
