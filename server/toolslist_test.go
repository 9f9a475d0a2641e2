package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
)

// TestBasicModeListsEveryNextcloudTool: tools/list over HTTP in basic mode
// (no token, so no scope filter) shows every Nextcloud tool of the
// registry under upstream's names, so prompts and client configurations
// written for the upstream server keep working: 7 notes, 11 files (WebDAV)
// and 5 sharing tools.
func TestBasicModeListsEveryNextcloudTool(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeBasic})
	cs := connect(t, st.MCPURL, "")
	lt, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tl := range lt.Tools {
		names = append(names, tl.Name)
	}
	want := []string{
		// notes
		"nc_notes_create_note", "nc_notes_update_note", "nc_notes_append_content", "nc_notes_search_notes",
		"nc_notes_get_note", "nc_notes_get_attachment", "nc_notes_delete_note",
		// files (WebDAV)
		"nc_webdav_list_directory", "nc_webdav_read_file", "nc_webdav_write_file", "nc_webdav_create_directory",
		"nc_webdav_delete_resource", "nc_webdav_move_resource", "nc_webdav_copy_resource", "nc_webdav_search_files",
		"nc_webdav_find_by_name", "nc_webdav_find_by_type", "nc_webdav_list_favorites",
		// sharing
		"nc_share_create", "nc_share_delete", "nc_share_get", "nc_share_list", "nc_share_update",
	}
	require.Len(t, want, 7+11+5)
	assert.ElementsMatch(t, want, names, "basic mode lists the 23 Nextcloud tools and nothing else")
}

// TestOversizedBodyNamesTheLimit: a request body over MCP_MAX_BODY_BYTES
// is refused with 413 before any tool runs, and the answer names the
// limit and the setting — in basic mode (the batch bound reads the body)
// and in OAuth modes (the bearer middleware reads it), since a file
// written through a tool is the usual way to meet it.
func TestOversizedBodyNamesTheLimit(t *testing.T) {
	const limit = 64 << 10
	for _, mode := range []server.Mode{server.ModeBasic, server.ModeExchange} {
		t.Run(string(mode), func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: mode, MutateServer: func(c *server.Config) { c.MaxBodyBytes = limit }})
			token := ""
			if mode != server.ModeBasic {
				var err error
				token, err = st.Token(context.Background(), "alice", []string{scopes.FilesWrite})
				require.NoError(t, err)
			}
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nc_webdav_write_file","arguments":{"path":"big.txt","content":"` +
				strings.Repeat("x", limit) + `"}}}`
			req, err := http.NewRequest(http.MethodPost, st.MCPURL, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			st.Nextcloud.ResetLog()
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.Contains(t, string(b), fmt.Sprintf("at most %d bytes", limit))
			assert.Contains(t, string(b), "MCP_MAX_BODY_BYTES")
			// (basic mode's notes index may sync in the background meanwhile)
			for _, e := range st.Nextcloud.RequestLog() {
				assert.NotContains(t, e.Path, "/remote.php/dav/", "nothing of the write reaches Nextcloud: %s %s", e.Method, e.Path)
			}
		})
	}
}
