package sharing

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

// TestNextcloudRefusals: what only Nextcloud can know (who exists, which
// ids are whose, what the caller may reshare) comes back as an isError
// result in plain words naming what was wrong — never a panic or a
// protocol error.
func TestNextcloudRefusals(t *testing.T) {
	srv := nctest.Start(t)
	alice, bob := connectAs(t, srv, "alice", nil), connectAs(t, srv, "bob", nil)
	// alice shares her readme with admin (bob cannot see it) and Photos
	// with bob, read only.
	toAdmin := decode[ShareResultOutput](t, alice.call(t, ToolCreate, map[string]any{"path": "/Readme.md", "share_with": "admin"})).Share
	toBob := decode[ShareResultOutput](t, alice.call(t, ToolCreate, map[string]any{"path": "/Photos", "share_with": "bob"})).Share
	link := decode[ShareResultOutput](t, alice.call(t, ToolCreate, map[string]any{"path": "/Documents", "share_type": 3})).Share
	const secret = "s3cret-link-pw"
	cases := []struct {
		name string
		as   session
		tool string
		args map[string]any
		want string
	}{
		{"unknown user", alice, ToolCreate, map[string]any{"path": "/Documents", "share_with": "mallory"},
			`Nextcloud refused to share "/Documents" with user "mallory" (HTTP 404): Please specify a valid account to share with`},
		{"unknown group", alice, ToolCreate, map[string]any{"path": "/Documents", "share_with": "staff", "share_type": 1},
			`Nextcloud refused to share "/Documents" with group "staff" (HTTP 404): Please specify a valid group`},
		{"path not found", alice, ToolCreate, map[string]any{"path": "/Nowhere/x.md", "share_with": "bob"},
			`Nextcloud refused to share "/Nowhere/x.md" with user "bob" (HTTP 404): Wrong path, file/folder does not exist`},
		{"share with oneself", alice, ToolCreate, map[string]any{"path": "/Documents", "share_with": "alice"},
			"(HTTP 403): You cannot share with yourself"},
		{"already shared", alice, ToolCreate, map[string]any{"path": "/Photos", "share_with": "bob"},
			"(HTTP 403): Sharing Photos failed, because this item is already shared with the account"},
		{"resharing beyond permissions", bob, ToolCreate, map[string]any{"path": "/Photos", "share_with": "admin", "permissions": 31},
			`Nextcloud refused to share "/Photos" with user "admin" (HTTP 404): You are not allowed to share Photos`},
		{"id that does not exist", alice, ToolGet, map[string]any{"share_id": 99999},
			"share 99999 does not exist, or it is neither yours nor shared with you"},
		{"update an id that does not exist", alice, ToolUpdate, map[string]any{"share_id": 99999, "note": "x"},
			"share 99999 does not exist, or it is neither yours nor shared with you"},
		{"delete an id that does not exist", alice, ToolDelete, map[string]any{"share_id": 99999},
			"share 99999 does not exist, or it is neither yours nor shared with you"},
		{"someone else's share", bob, ToolGet, map[string]any{"share_id": toAdmin.ID},
			fmt.Sprintf("share %d does not exist, or it is neither yours nor shared with you", toAdmin.ID)},
		{"delete someone else's share", bob, ToolDelete, map[string]any{"share_id": toAdmin.ID},
			fmt.Sprintf("share %d does not exist, or it is neither yours nor shared with you", toAdmin.ID)},
		{"recipient changes the share", bob, ToolUpdate, map[string]any{"share_id": toBob.ID, "permissions": 31},
			fmt.Sprintf("Nextcloud refused to update share %d (HTTP 403): You are not allowed to edit incoming shares", toBob.ID)},
		{"wrong permissions for a user share", alice, ToolUpdate, map[string]any{"share_id": toBob.ID, "permissions": 4},
			fmt.Sprintf("Nextcloud refused to update share %d (HTTP 400): Shares need at least read permissions", toBob.ID)},
		{"password on a user share", alice, ToolUpdate, map[string]any{"share_id": toBob.ID, "password": secret},
			fmt.Sprintf("share %d is a user share: only public links (share_type 3) have a password", toBob.ID)},
		{"list of a missing path", alice, ToolList, map[string]any{"path": "/Nowhere"},
			`Nextcloud refused to list your shares of "/Nowhere" (HTTP 404): Wrong path, file/folder does not exist`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := assertToolError(t, tc.as.call(t, tc.tool, tc.args), tc.want)
			assert.NotContains(t, got, secret)
		})
	}
	// The link's password can be set and removed; it never comes back.
	upd := decode[ShareResultOutput](t, alice.call(t, ToolUpdate, map[string]any{"share_id": link.ID, "password": secret})).Share
	assert.True(t, upd.HasPassword)
	upd = decode[ShareResultOutput](t, alice.call(t, ToolUpdate, map[string]any{"share_id": link.ID, "password": ""})).Share
	assert.False(t, upd.HasPassword)
}

// TestNextcloudFailures: a Nextcloud that fails or hangs is a tool error
// too.
func TestNextcloudFailures(t *testing.T) {
	srv := nctest.Start(t)
	s := connectAs(t, srv, "alice", nil)
	t.Run("503", func(t *testing.T) {
		t.Cleanup(srv.ClearFaults)
		srv.InjectFault(fakenc.Fault{Pattern: "*/apps/files_sharing/api/v1/shares", Status: http.StatusServiceUnavailable, Count: 5})
		assertToolError(t, s.call(t, ToolList, map[string]any{}), "Nextcloud could not list your shares: HTTP 503 Service Unavailable")
	})
	t.Run("500 with a message", func(t *testing.T) {
		t.Cleanup(srv.ClearFaults)
		srv.InjectFault(fakenc.Fault{Pattern: "*/apps/files_sharing/api/v1/shares/*", Status: http.StatusInternalServerError, Message: "database is locked", Count: 5})
		assertToolError(t, s.call(t, ToolDelete, map[string]any{"share_id": 1}), "delete share 1")
	})
}

// TestPasswordOnUserShareUpdateSendsNoUpdate: a password for a user share
// is refused after one read of the share; no PUT reaches Nextcloud, which
// would drop the password without a word.
func TestPasswordOnUserShareUpdateSendsNoUpdate(t *testing.T) {
	srv := nctest.Start(t)
	alice := connectAs(t, srv, "alice", nil)
	sh := decode[ShareResultOutput](t, alice.call(t, ToolCreate, map[string]any{"path": "/Photos", "share_with": "bob"})).Share
	srv.ResetLog()
	assertToolError(t, alice.call(t, ToolUpdate, map[string]any{"share_id": sh.ID, "password": "pw", "note": "n"}),
		fmt.Sprintf("share %d is a user share: only public links (share_type 3) have a password", sh.ID))
	for _, e := range srv.RequestLog() {
		assert.Equal(t, http.MethodGet, e.Method, "%s %s", e.Method, e.Path)
	}
	got := decode[ShareResultOutput](t, alice.call(t, ToolGet, map[string]any{"share_id": sh.ID})).Share
	assert.Empty(t, got.Note, "the refused update changed the share")
}
