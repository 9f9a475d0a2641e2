package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// putAttachment stores a file beside a note through the fake Nextcloud's
// WebDAV, as the Notes app does.
func putAttachment(t *testing.T, st *devstack.Stack, user string, noteID int64, name string) {
	t.Helper()
	url := fmt.Sprintf("%s/remote.php/dav/files/%s/Notes/.attachments.%d/%s", st.NextcloudURL, user, noteID, name)
	mkcol, err := http.NewRequest("MKCOL", url[:strings.LastIndex(url, "/")], nil)
	require.NoError(t, err)
	mkcol.SetBasicAuth(user, fakenc.DefaultAppPassword(user))
	resp, err := http.DefaultClient.Do(mkcol)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	put, err := http.NewRequest(http.MethodPut, url, strings.NewReader("\x89PNG fake"))
	require.NoError(t, err)
	put.SetBasicAuth(user, fakenc.DefaultAppPassword(user))
	put.Header.Set("Content-Type", "image/png")
	resp, err = http.DefaultClient.Do(put)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Contains(t, []int{http.StatusCreated, http.StatusNoContent}, resp.StatusCode)
}

// TestPerUserResultsArePrivate: every resources/read result is the
// user's own data (read with the user's credentials, capabilities
// included), so it says cacheScope "private" — "public" would let a shared
// cache serve one user's notes to another — in every mode; in OAuth modes
// the list results, filtered by the token's scopes, are private too.
func TestPerUserResultsArePrivate(t *testing.T) {
	for _, mode := range []server.Mode{server.ModeBasic, server.ModeExchange} {
		t.Run(string(mode), func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: mode})
			ctx := context.Background()
			tok := ""
			if mode != server.ModeBasic {
				var err error
				tok, err = st.Token(ctx, "alice", allScopes)
				require.NoError(t, err)
			}
			cs := connect(t, st.MCPURL, tok)
			var created writeOut
			mustCall(t, cs, notes.ToolCreateNote, map[string]any{"title": "Cache", "content": "private", "category": ""}, &created)
			putAttachment(t, st, "alice", created.ID, "a.png")

			for _, uri := range []string{notes.NotesSettingsURI, notes.NoteURI(created.ID), notes.AttachmentURI(created.ID, "a.png"), core.CapabilitiesURI} {
				res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
				require.NoError(t, err, uri)
				assert.Equal(t, "private", res.CacheScope, uri)
			}
			if mode == server.ModeBasic {
				return
			}
			tl, err := cs.ListTools(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, "private", tl.CacheScope, "tools/list")
			rl, err := cs.ListResources(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, "private", rl.CacheScope, "resources/list")
			rt, err := cs.ListResourceTemplates(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, "private", rt.CacheScope, "resources/templates/list")
		})
	}
}
