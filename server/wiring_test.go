package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// readOnlyScopes are every scope except the :write ones.
var readOnlyScopes = func() []string {
	var out []string
	for _, s := range allScopes {
		if !strings.HasSuffix(s, ":write") {
			out = append(out, s)
		}
	}
	return out
}()

// rawSession is an MCP session driven by hand-written JSON-RPC bodies.
type rawSession struct {
	t         *testing.T
	url       string
	token     string
	sessionID string
	protocol  string // Mcp-Protocol-Version; 2025-11-25 when empty
}

// openRaw initializes a session for token at url.
func openRaw(t *testing.T, url, token string) *rawSession {
	t.Helper()
	s := &rawSession{t: t, url: url, token: token}
	resp, body := s.post(initBody)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	s.sessionID = resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, s.sessionID)
	resp, body = s.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	return s
}

// post sends body on the session and returns the response and its body.
func (s *rawSession) post(body string) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url, strings.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	proto := s.protocol
	if proto == "" {
		proto = "2025-11-25"
	}
	req.Header.Set("Mcp-Protocol-Version", proto)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if s.sessionID != "" {
		req.Header.Set("Mcp-Session-Id", s.sessionID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	require.NoError(s.t, resp.Body.Close())
	return resp, string(b)
}

// rpcReply extracts the JSON-RPC response from a JSON or SSE body.
func rpcReply(t *testing.T, body string) (result json.RawMessage, errMsg string) {
	t.Helper()
	if i := strings.Index(body, "data: "); i >= 0 {
		body = strings.TrimSpace(strings.SplitN(body[i+len("data: "):], "\n", 2)[0])
	}
	var m struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &m), "not a JSON-RPC response: %s", body)
	if m.Error != nil {
		return nil, m.Error.Message
	}
	return m.Result, ""
}

// smuggledCreate is a tools/call whose params name a writing tool for
// go-sdk (exact, case-sensitive "name") and a reading one for a decoder
// that matches keys case-insensitively with the last duplicate winning.
func smuggledCreate(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"NAME":%q,"arguments":{"title":"smuggled","content":"x","category":""}}}`,
		id, notes.ToolCreateNote, notes.ToolSearchNotes)
}

func plainCreate(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{"title":"plain","content":"x","category":""}}}`,
		id, notes.ToolCreateNote)
}

// noteWrites returns the Notes requests that reached Nextcloud other than
// reads.
func noteWrites(st *devstack.Stack) []string {
	var out []string
	for _, e := range notesRequests(st) {
		if e.Method != http.MethodGet {
			out = append(out, e.Method+" "+e.Path)
		}
	}
	return out
}

// TestSmuggledWriteIsRefused: a read-only token's write call, smuggled
// past a case-insensitive reading of params, is refused by the HTTP layer
// as an invalid request (one reading of the request for the scope check),
// and nothing reaches Nextcloud.
func TestSmuggledWriteIsRefused(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	tok, err := st.Token(context.Background(), "alice", readOnlyScopes)
	require.NoError(t, err)
	s := openRaw(t, st.MCPURL, tok)
	st.Nextcloud.ResetLog()

	resp, body := s.post(smuggledCreate(2))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	_, msg := rpcReply(t, body)
	assert.Contains(t, msg, `"name" and "NAME"`)

	resp, body = s.post(plainCreate(3))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the plain write gets the step-up challenge: %s", body)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`)

	assert.Empty(t, noteWrites(st), "a read-only token's write reached Nextcloud")
}

// TestMCPLayerRefusesAsWired: the MCP layer's call check, as server.New
// wires it, refuses a read-only token's write (smuggled or plain) when the
// HTTP layer lets it through, and nothing reaches Nextcloud. It is the
// only refusing layer here, so switching it off turns this test red.
func TestMCPLayerRefusesAsWired(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: server.WithoutHTTPScopeCheck})
	ctx := context.Background()
	tok, err := st.Token(ctx, "alice", readOnlyScopes)
	require.NoError(t, err)
	s := openRaw(t, st.MCPURL, tok)
	st.Nextcloud.ResetLog()
	for i, body := range []string{smuggledCreate(2), plainCreate(3)} {
		resp, out := s.post(body)
		require.Equal(t, http.StatusOK, resp.StatusCode, "the HTTP layer is off in this test: %s", out)
		result, msg := rpcReply(t, out)
		assert.Contains(t, msg, "insufficient_scope", "call %d: result %s", i+1, result)
	}
	assert.Empty(t, noteWrites(st), "a read-only token's write reached Nextcloud")

	// Positive control: a write-scoped token's call passes the same layer.
	full, err := st.Token(ctx, "alice", allScopes)
	require.NoError(t, err)
	s = openRaw(t, st.MCPURL, full)
	resp, out := s.post(plainCreate(4))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	result, msg := rpcReply(t, out)
	assert.Empty(t, msg)
	assert.NotEmpty(t, noteWrites(st), "the write-scoped call did not reach Nextcloud: %s", result)
}
