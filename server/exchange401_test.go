package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// callOverHTTP sends a tools/call of name as one raw POST (after
// initializing a session in stateful mode) and returns the answer's
// status, WWW-Authenticate header and body.
func callOverHTTP(t *testing.T, st *devstack.Stack, token, name string) (int, string, string) {
	t.Helper()
	var session string
	if st.ServerConfig.SessionMode != server.SessionsStateless {
		resp := post(t, st.MCPURL, token, initBody)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		session = resp.Header.Get("Mcp-Session-Id")
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"` + name + `","arguments":{"query":"welcome"}}}`
	req, err := http.NewRequest(http.MethodPost, st.MCPURL, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
}

// TestExchangeRefusingClientTokenAnswers401: when the IdP refuses the
// exchange because of the client's own token — expired past the IdP's
// clock though within this server's 30 s leeway, or any invalid_grant /
// invalid_token verdict — the tool call is answered HTTP 401 with
// `WWW-Authenticate: Bearer error="invalid_token"` (a JSON-RPC error for
// the call's id in the body), so the client refreshes; nothing reaches
// Nextcloud. Every other exchange failure stays a tool error with the
// IdP's reason. In both session modes: the 401 is produced at the HTTP
// layer, around go-sdk (bearer.RejectToken).
func TestExchangeRefusingClientTokenAnswers401(t *testing.T) {
	for _, mode := range []string{server.SessionsStateful, server.SessionsStateless} {
		t.Run(mode, func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange,
				MutateServer: func(c *server.Config) { c.SessionMode = mode }})
			claims := map[string]any{"sub": "alice", "aud": st.MCPURL, "scope": "notes:read", "client_id": devstack.MCPClientID, "preferred_username": "alice"}
			mint := func(expiresIn time.Duration) string {
				tok, err := st.IdP.Mint(idp.MintRequest{Claims: claims, ExpiresIn: expiresIn})
				require.NoError(t, err)
				return tok
			}
			cases := []struct {
				name   string
				token  string
				arm    func()
				want   int
				reason string
			}{
				{name: "expired within the server's leeway", token: mint(-10 * time.Second), want: http.StatusUnauthorized, reason: "invalid_request"},
				{name: "the IdP answers invalid_grant", token: mint(time.Hour), want: http.StatusUnauthorized, reason: "invalid_grant",
					arm: func() { st.IdP.InjectFault(idp.Fault{Endpoint: "token", Status: 400, Error: "invalid_grant"}) }},
				{name: "the IdP answers invalid_token", token: mint(time.Hour), want: http.StatusUnauthorized, reason: "invalid_token",
					arm: func() { st.IdP.InjectFault(idp.Fault{Endpoint: "token", Status: 400, Error: "invalid_token"}) }},
				{name: "invalid_request for a live token stays a tool error", token: mint(time.Hour), want: http.StatusOK, reason: "invalid_request",
					arm: func() { st.IdP.InjectFault(idp.Fault{Endpoint: "token", Status: 400, Error: "invalid_request"}) }},
				{name: "exchange not offered stays a tool error", token: mint(time.Hour), want: http.StatusOK, reason: "unsupported_grant_type",
					arm: func() { st.IdP.SetTokenExchange(false) }},
				{name: "the IdP down stays a tool error", token: mint(time.Hour), want: http.StatusOK, reason: "unavailable",
					arm: func() { st.IdP.InjectFault(idp.Fault{Endpoint: "token", Status: 503, Count: 10}) }},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Cleanup(func() { st.IdP.ClearFaults(); st.IdP.SetTokenExchange(true) })
					if tc.arm != nil {
						tc.arm()
					}
					st.Nextcloud.ResetLog()
					status, challenge, body := callOverHTTP(t, st, tc.token, notes.ToolSearchNotes)
					assert.Equal(t, tc.want, status, body)
					assert.Empty(t, st.Nextcloud.RequestLog(), "a request reached Nextcloud")
					assert.NotContains(t, body+challenge, tc.token, "the answer echoes the token")
					if tc.want == http.StatusOK {
						assert.Empty(t, challenge)
						assert.Contains(t, body, `"isError":true`)
						assert.Contains(t, body, "token exchange")
						return
					}
					assert.Contains(t, challenge, `error="invalid_token"`)
					assert.Contains(t, challenge, "refused to exchange this access token ("+tc.reason+")")
					assert.Contains(t, challenge, `resource_metadata="`+st.BaseURL+`/.well-known/oauth-protected-resource/mcp"`)
					var rpc struct {
						ID    int `json:"id"`
						Error struct {
							Message string `json:"message"`
						} `json:"error"`
					}
					require.NoError(t, json.Unmarshal([]byte(body), &rpc), body)
					assert.Equal(t, 7, rpc.ID)
					assert.Contains(t, rpc.Error.Message, "invalid_token")
				})
			}
		})
	}
}
