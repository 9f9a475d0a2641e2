package nextcloud_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

// shareView is the part of a formatShare object these tests compare.
type shareView struct {
	ID              string `json:"id"`
	Permissions     int    `json:"permissions"`
	CanEdit         bool   `json:"can_edit"`
	CanDelete       bool   `json:"can_delete"`
	ItemPermissions int    `json:"item_permissions"`
	Path            string `json:"path"`
	FileTarget      string `json:"file_target"`
	IsMountRoot     bool   `json:"is-mount-root"`
	MountType       string `json:"mount-type"`
}

// sharesAs lists the shares uid made (query "") or received
// ("shared_with_me=true") over the fake's OCS API.
func sharesAs(t *testing.T, s *nctest.Server, uid, query string) []shareView {
	t.Helper()
	r := do(t, s, "GET", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&"+query, "", asUser(uid), ocsHeader())
	require.Equal(t, 200, r.status, "%s", r)
	var env struct {
		OCS struct {
			Data []shareView `json:"data"`
		} `json:"ocs"`
	}
	require.NoError(t, json.Unmarshal(r.body, &env))
	return env.OCS.Data
}

// TestShareViews: each side of a share sees the fields
// ShareAPIController::formatShare computes for it (nextcloud/server
// apps/files_sharing/lib/Controller/ShareAPIController.php, formatShare,
// canEditShare, canDeleteShare, canDeleteShareFromSelf). A recipient who
// does not own the file gets item_permissions = the share's permissions,
// plus DELETE when they may delete the share (a user share's recipient)
// or leave it (a group member), plus UPDATE when they may edit it (never,
// for a plain recipient); the file owner gets the node's own permissions.
func TestShareViews(t *testing.T) {
	type view struct {
		uid, query string
		want       shareView
	}
	cases := []struct {
		name  string
		share string // POST body, as alice
		views []view
	}{
		{name: "user share of a folder, read only",
			share: "path=/Documents&shareType=0&shareWith=bob&permissions=1",
			views: []view{
				// bob has a Documents folder of his own: the mount is "Documents (2)".
				{uid: "bob", query: "shared_with_me=true", want: shareView{Permissions: 1, CanEdit: false, CanDelete: true, ItemPermissions: 1 | 8,
					Path: "/Documents (2)", FileTarget: "/Documents (2)", IsMountRoot: true, MountType: "shared"}},
				{uid: "alice", want: shareView{Permissions: 1, CanEdit: true, CanDelete: true, ItemPermissions: 31,
					Path: "/Documents", FileTarget: "/Documents (2)", IsMountRoot: false, MountType: ""}},
			}},
		{name: "user share of a file, read, update and share",
			share: "path=/Readme.md&shareType=0&shareWith=bob&permissions=19",
			views: []view{
				{uid: "bob", query: "shared_with_me=true", want: shareView{Permissions: 19, CanEdit: false, CanDelete: true, ItemPermissions: 19 | 8,
					Path: "/Readme.md", FileTarget: "/Readme.md", IsMountRoot: true, MountType: "shared"}},
				{uid: "alice", want: shareView{Permissions: 19, CanEdit: true, CanDelete: true, ItemPermissions: 27,
					Path: "/Readme.md", FileTarget: "/Readme.md"}},
			}},
		{name: "group share: members may leave it, not delete it",
			share: "path=/Photos&shareType=1&shareWith=users&permissions=5",
			views: []view{
				{uid: "bob", query: "shared_with_me=true", want: shareView{Permissions: 5, CanEdit: false, CanDelete: false, ItemPermissions: 5 | 8,
					Path: "/Photos", FileTarget: "/Photos", IsMountRoot: true, MountType: "shared"}},
				{uid: "admin", query: "shared_with_me=true", want: shareView{Permissions: 5, CanEdit: false, CanDelete: false, ItemPermissions: 5 | 8,
					Path: "/Photos", FileTarget: "/Photos", IsMountRoot: true, MountType: "shared"}},
			}},
	}
	form := hdr("Content-Type", "application/x-www-form-urlencoded")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startDefault(t)
			id := shareID(t, do(t, s, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", tc.share, alice, ocsHeader(), form))
			for _, v := range tc.views {
				got := sharesAs(t, s, v.uid, v.query)
				require.Len(t, got, 1, "%s's list", v.uid)
				v.want.ID = id
				assert.Equal(t, v.want, got[0], "%s's view", v.uid)
			}
		})
	}
}
