package server_test

import (
	"context"
	"fmt"
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

// alive reports whether a session still exists: a ping on it is answered
// (a closed session is 404).
func (s *rawSession) alive() bool {
	s.t.Helper()
	resp, _ := s.post(`{"jsonrpc":"2.0","id":99,"method":"ping"}`)
	return resp.StatusCode == http.StatusOK
}

// TestSessionFloodIsBounded: a client that opens session after session
// (basic mode needs no token) holds at most the per-user cap at a time:
// each new session beyond it closes that user's oldest, and the newest
// ones keep working.
func TestSessionFloodIsBounded(t *testing.T) {
	const perUser, flood = 5, 60
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeBasic, MutateServer: func(c *server.Config) {
		c.MaxSessions, c.MaxSessionsPerUser = 1000, perUser
	}})
	var all []*rawSession
	for range flood {
		all = append(all, openRaw(t, st.MCPURL, ""))
	}
	var live []int
	for i, s := range all {
		if s.alive() {
			live = append(live, i)
		}
	}
	assert.Len(t, live, perUser, "live sessions after a flood of %d", flood)
	for _, i := range live {
		assert.GreaterOrEqual(t, i, flood-perUser, "an old session survived while newer ones were opened")
	}
}

// TestSessionCaps: one user's sessions beyond the per-user cap evict that
// user's oldest; beyond the global cap new sessions are refused with 503
// and Retry-After (another user's sessions are never evicted); a closed
// session frees its slot.
func TestSessionCaps(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: func(c *server.Config) {
		c.MaxSessions, c.MaxSessionsPerUser = 6, 4
	}})
	ctx := context.Background()
	alice, err := st.Token(ctx, "alice", allScopes)
	require.NoError(t, err)
	bob, err := st.Token(ctx, "bob", allScopes)
	require.NoError(t, err)

	var as []*rawSession
	for range 5 {
		as = append(as, openRaw(t, st.MCPURL, alice))
	}
	assert.False(t, as[0].alive(), "alice's oldest session outlived her fifth")
	for i := 1; i < 5; i++ {
		assert.True(t, as[i].alive(), "alice's session %d", i)
	}
	b1, b2 := openRaw(t, st.MCPURL, bob), openRaw(t, st.MCPURL, bob)

	// 4 + 2 = 6 sessions: the global cap.
	third := &rawSession{t: t, url: st.MCPURL, token: bob}
	resp, body := third.post(initBody)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "sessions")
	for i := 1; i < 5; i++ {
		assert.True(t, as[i].alive(), "bob's attempt evicted alice's session %d", i)
	}
	assert.True(t, b1.alive())
	assert.True(t, b2.alive())

	// Ending a session (DELETE) frees a slot.
	req, err := http.NewRequest(http.MethodDelete, st.MCPURL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Mcp-Session-Id", as[1].sessionID)
	del, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, del.Body.Close())
	require.Equal(t, http.StatusNoContent, del.StatusCode)
	openRaw(t, st.MCPURL, bob)
}

const init20250326 = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`

// batchOf builds a JSON-RPC batch of n reads of note 1.
func batchOf(n int) string {
	var calls []string
	for i := range n {
		calls = append(calls, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{"note_id":1}}}`, i+10, notes.ToolGetNote))
	}
	return "[" + strings.Join(calls, ",") + "]"
}

// TestBatchCap: protocol 2025-03-26 allows JSON-RPC batches; one longer
// than MCP_MAX_BATCH is refused as a whole (400) before any of its calls
// runs, a shorter one is served.
func TestBatchCap(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeBasic, MutateServer: func(c *server.Config) { c.MaxBatch = 3 }})
	s := &rawSession{t: t, url: st.MCPURL, protocol: "2025-03-26"}
	resp, body := s.post(init20250326)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `"protocolVersion":"2025-03-26"`)
	s.sessionID = resp.Header.Get("Mcp-Session-Id")
	resp, body = s.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)

	st.Nextcloud.ResetLog()
	resp, body = s.post(batchOf(50))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	assert.Contains(t, body, "batch")
	assert.Empty(t, notesRequests(st), "calls of a refused batch reached Nextcloud")

	resp, body = s.post(batchOf(3))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, 3, strings.Count(body, `"result"`), body)
}
