package server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// TestUIDCachedPerPrincipal: in the OAuth modes every call sends
// Nextcloud a token of its own (in exchange mode a fresh one each time),
// yet the user's uid — which WebDAV paths need — is asked of Nextcloud
// once per user, not once per call: the mode layer names the verified
// token's subject as the principal the client caches the uid under. A
// second user gets their own lookup.
func TestUIDCachedPerPrincipal(t *testing.T) {
	for _, mode := range []server.Mode{server.ModeExchange, server.ModePassthrough} {
		t.Run(string(mode), func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: mode})
			ctx := context.Background()
			userLookups := func(uid string) int {
				n := 0
				for _, e := range st.Nextcloud.RequestLog() {
					if e.Path == "/ocs/v2.php/cloud/user" && e.UID == uid {
						n++
					}
				}
				return n
			}
			for _, user := range []string{"alice", "bob"} {
				tok, err := st.Token(ctx, user, []string{scopes.NotesRead, scopes.NotesWrite})
				require.NoError(t, err)
				cs := connect(t, st.MCPURL, tok)
				var created struct {
					ID int64 `json:"id"`
				}
				mustCall(t, cs, notes.ToolCreateNote, map[string]any{"title": "uid cache", "content": "x", "category": ""}, &created)
				st.Nextcloud.ResetLog()
				st.IdP.ResetLog()
				for range 3 {
					// A missing attachment: the Notes API, then WebDAV (GET, and
					// PROPFIND to list what the note does have) under the uid.
					res := call(t, cs, notes.ToolGetAttachment, map[string]any{"note_id": created.ID, "attachment_filename": "none.png"}, nil)
					require.True(t, res.IsError)
					assert.Contains(t, text(res), "not found")
				}
				assert.Equal(t, 1, userLookups(user), "%s: the uid is looked up once, not per call", user)
				if mode == server.ModeExchange {
					assert.Len(t, grants(st, idp.GrantTokenExchange), 3, "%s: one exchange per call", user)
				}
			}
		})
	}
}
