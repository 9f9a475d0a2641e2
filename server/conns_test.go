package server_test

import (
	"context"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// TestConcurrentCallsReuseUpstreamConnections: in every token mode, N
// sessions calling at once open about N connections to each upstream
// however many calls they make, because the server keeps one transport
// per upstream whose connections stay alive between calls
// (docs/architecture.md §4.2). The fakes count the connections they
// accept. With Go's default transport (two idle connections per host)
// most of these calls would dial again.
func TestConcurrentCallsReuseUpstreamConnections(t *testing.T) {
	const sessions, rounds, callsPerRound = 8, 2, 20
	for _, mode := range []server.Mode{server.ModeBasic, server.ModePassthrough, server.ModeExchange} {
		t.Run(string(mode), func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: mode})
			ctx := context.Background()
			token := ""
			if mode != server.ModeBasic {
				var err error
				token, err = st.Token(ctx, "alice", allScopes)
				require.NoError(t, err)
			}
			css := make([]*mcp.ClientSession, sessions)
			for i := range css {
				css[i] = connect(t, st.MCPURL, token)
			}
			var found struct {
				Results []struct {
					ID int64 `json:"id"`
				} `json:"results"`
			}
			// The first call also fetches what is fetched once: the IdP's
			// keys (the server's and the fake Nextcloud's).
			mustCall(t, css[0], notes.ToolSearchNotes, map[string]any{"query": ""}, &found)
			require.NotEmpty(t, found.Results)
			params := &mcp.CallToolParams{Name: notes.ToolGetNote, Arguments: map[string]any{"note_id": found.Results[0].ID}}

			before := st.Connections()
			for range rounds {
				var wg sync.WaitGroup
				for _, cs := range css {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range callsPerRound {
							res, err := cs.CallTool(ctx, params)
							if !assert.NoError(t, err) || !assert.False(t, res.IsError, "%s", text(res)) {
								return
							}
						}
					}()
				}
				wg.Wait()
			}
			after := st.Connections()
			calls := sessions * rounds * callsPerRound
			// About one connection per concurrent call; a call that starts
			// while a finished call's connection is still on its way back to
			// the pool may dial one more, which the pool then keeps. Go's
			// default transport opened 74-107 here.
			bound := int64(2 * sessions)
			assert.LessOrEqual(t, after.Nextcloud-before.Nextcloud, bound,
				"new connections to Nextcloud for %d calls from %d sessions", calls, sessions)
			// Exchange mode makes one exchange per call at the IdP; the
			// other modes none (the keys are cached).
			assert.LessOrEqual(t, after.IdP-before.IdP, bound,
				"new connections to the IdP for %d calls from %d sessions", calls, sessions)
			t.Logf("%s: %d calls; new connections: Nextcloud %d, IdP %d", mode, calls,
				after.Nextcloud-before.Nextcloud, after.IdP-before.IdP)
		})
	}
}
