package server_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// BenchmarkNotesGetNote measures one nc_notes_get_note call end to end,
// per token mode: MCP client → server (bearer verification, scope policy,
// mode layer: nothing, pass-through, or an RFC 8693 exchange at the fake
// IdP) → fake Nextcloud (JWT validation) and back, all over loopback HTTP.
func BenchmarkNotesGetNote(b *testing.B) {
	cases := []struct {
		name string
		opts devstack.Options
	}{
		{"basic", devstack.Options{Mode: server.ModeBasic}},
		{"passthrough", devstack.Options{Mode: server.ModePassthrough}},
		{"exchange", devstack.Options{Mode: server.ModeExchange}},
		// The IdP signs with ES256: most of an exchange is RSA signing.
		{"exchange-es256", devstack.Options{Mode: server.ModeExchange, MutateIdP: func(c *idp.Config) { c.SigningAlg = "ES256" }}},
	}
	for _, tc := range cases {
		mode := tc.opts.Mode
		b.Run(tc.name, func(b *testing.B) {
			st := devstacktest.Start(b, tc.opts)
			token := ""
			if mode != server.ModeBasic {
				var err error
				if token, err = st.Token(context.Background(), "alice", allScopes); err != nil {
					b.Fatal(err)
				}
			}
			cs := connect(b, st.MCPURL, token)
			var out struct {
				Results []struct {
					ID int64 `json:"id"`
				} `json:"results"`
			}
			mustCall(b, cs, notes.ToolSearchNotes, map[string]any{"query": ""}, &out)
			params := &mcp.CallToolParams{Name: notes.ToolGetNote, Arguments: map[string]any{"note_id": out.Results[0].ID}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(ctx, params)
				if err != nil || res.IsError {
					b.Fatalf("%v %+v", err, res)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
