package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
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

// BenchmarkNotesGetAttachment measures nc_notes_get_attachment end to end
// in the OAuth modes: the note (Notes API), the user's Notes settings, and
// the file over WebDAV, under /remote.php/dav/files/{uid}/. The uid comes
// from Nextcloud once per user (the client caches it per principal, also
// across exchange mode's per-call tokens), so a CPU profile of this
// benchmark shows no GET /ocs/v2.php/cloud/user per call.
func BenchmarkNotesGetAttachment(b *testing.B) {
	for _, mode := range []server.Mode{server.ModePassthrough, server.ModeExchange} {
		b.Run(string(mode), func(b *testing.B) {
			st := devstacktest.Start(b, devstack.Options{Mode: mode})
			ctx := context.Background()
			token, err := st.Token(ctx, "alice", allScopes)
			if err != nil {
				b.Fatal(err)
			}
			cs := connect(b, st.MCPURL, token)
			var out struct {
				Results []struct {
					ID       int64  `json:"id"`
					Category string `json:"category"`
				} `json:"results"`
			}
			mustCall(b, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, &out)
			id := out.Results[0].ID
			// The attachment, put there as the Notes app would.
			dir := fmt.Sprintf("%s/remote.php/dav/files/alice/Notes/.attachments.%d", st.NextcloudURL, id)
			for _, r := range []struct{ method, url, body string }{{"MKCOL", dir, ""}, {http.MethodPut, dir + "/a.txt", "attached"}} {
				req, _ := http.NewRequestWithContext(ctx, r.method, r.url, strings.NewReader(r.body))
				req.SetBasicAuth("alice", fakenc.DefaultAppPassword("alice"))
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode/100 != 2 {
					b.Fatalf("%s %s: %v %v", r.method, r.url, err, resp)
				}
				_ = resp.Body.Close()
			}
			params := &mcp.CallToolParams{Name: notes.ToolGetAttachment, Arguments: map[string]any{"note_id": id, "attachment_filename": "a.txt"}}
			st.Nextcloud.ResetLog()
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(ctx, params)
				if err != nil || res.IsError {
					b.Fatalf("%v %+v", err, res)
				}
			}
			lookups := 0
			for _, e := range st.Nextcloud.RequestLog() {
				if e.Path == "/ocs/v2.php/cloud/user" {
					lookups++
				}
			}
			b.ReportMetric(float64(lookups)/float64(b.N), "uid-lookups/op")
		})
	}
}
