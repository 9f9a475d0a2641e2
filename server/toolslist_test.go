package server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
