package server_test

import (
	"context"
	"strings"
	"testing"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// TestNextcloudRefusalsAreExplainedPerMode: a 401 from Nextcloud tells the
// user what to fix in the mode the server runs in.
func TestNextcloudRefusalsAreExplainedPerMode(t *testing.T) {
	tests := []struct {
		name  string
		opts  devstack.Options
		setup func(st *devstack.Stack)
		want  string
	}{
		{name: "basic mode, wrong app password",
			opts: devstack.Options{Mode: server.ModeBasic, MutateServer: func(c *server.Config) { c.NextcloudPassword = "wrong" }},
			want: "NEXTCLOUD_USERNAME and NEXTCLOUD_PASSWORD"},
		{name: "pass-through token without Nextcloud's audience",
			opts: devstack.Options{Mode: server.ModePassthrough, MutateNextcloud: func(c *fakenc.Config) { c.OIDCClientID = "another-client" }},
			want: "audience must include Nextcloud's client id"},
		{name: "exchanged token refused by Nextcloud",
			opts: devstack.Options{Mode: server.ModeExchange, MutateNextcloud: func(c *fakenc.Config) { c.OIDCClientID = "another-client" }},
			want: "Nextcloud refused the exchanged token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := devstacktest.Start(t, tt.opts)
			if tt.setup != nil {
				tt.setup(st)
			}
			token := ""
			if tt.opts.Mode != server.ModeBasic {
				var err error
				if token, err = st.Token(context.Background(), "alice", allScopes); err != nil {
					t.Fatal(err)
				}
			}
			cs := connect(t, st.MCPURL, token)
			res := call(t, cs, notes.ToolGetNote, map[string]any{"note_id": 1}, nil)
			if !res.IsError || !strings.Contains(text(res), tt.want) {
				t.Errorf("isError=%v %q, want it to mention %q", res.IsError, text(res), tt.want)
			}
		})
	}
}

// TestStockCORSNextcloud: stock Nextcloud logs bearer sessions out on
// #[CORS] app routes unless OCS-APIRequest is sent; the client sends it,
// so the Notes tools work against a stock server in both OAuth modes.
func TestStockCORSNextcloud(t *testing.T) {
	for _, mode := range []server.Mode{server.ModePassthrough, server.ModeExchange} {
		t.Run(string(mode), func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: mode})
			if err := st.Nextcloud.SetBearerOnAppRoutes(fakenc.BearerReject); err != nil {
				t.Fatal(err)
			}
			token, err := st.Token(context.Background(), "alice", allScopes)
			if err != nil {
				t.Fatal(err)
			}
			notesCRUD(t, st, token)
		})
	}
}
