package sharing

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

func day(offset int) string { return time.Now().UTC().AddDate(0, 0, offset).Format(dateLayout) }

// TestInvalidCallsSendNothing: every argument Nextcloud would refuse (or,
// for a password on a user share, silently drop) that the call alone shows
// is a clear tool error before any Nextcloud client is obtained — no
// request, and in exchange mode no token exchange.
func TestInvalidCallsSendNothing(t *testing.T) {
	srv := nctest.Start(t)
	const secret = "hunter2-do-not-log"
	cases := []struct {
		name string
		tool string
		args map[string]any
		want string
	}{
		// share types
		{"share type 2 (internal user-group)", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "share_type": 2}, "share_type 2 is not supported: use 0 (user), 1 (group) or 3 (public link)"},
		{"share type 4 (email)", ToolCreate, map[string]any{"path": "/Documents", "share_with": "x@example.org", "share_type": 4}, "share_type 4 is not supported"},
		{"share type 6 (federated)", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob@other", "share_type": 6}, "share_type 6 is not supported"},
		{"negative share type", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "share_type": -1}, "share_type -1 is not supported"},
		// share_with
		{"user share without share_with", ToolCreate, map[string]any{"path": "/Documents"}, "share_with is required for a user share (share_type 0): give the user id"},
		{"group share without share_with", ToolCreate, map[string]any{"path": "/Documents", "share_type": 1}, "share_with is required for a group share (share_type 1): give the group id"},
		{"blank share_with", ToolCreate, map[string]any{"path": "/Documents", "share_with": "  "}, "share_with is required for a user share"},
		{"link with share_with", ToolCreate, map[string]any{"path": "/Documents", "share_type": 3, "share_with": "bob"}, "share_with must be left out for a public link"},
		{"share_with with a newline", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob\nadmin"}, "share_with must not contain control characters"},
		{"share_with too long", ToolCreate, map[string]any{"path": "/Documents", "share_with": strings.Repeat("b", 256)}, "share_with is 256 bytes long; at most 255"},
		// permissions
		{"permissions 0", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "permissions": 0}, "permissions 0 is not a valid bitmask"},
		{"permissions 32", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "permissions": 32}, "permissions 32 is not a valid bitmask"},
		{"permissions -1", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "permissions": -1}, "permissions -1 is not a valid bitmask"},
		{"user share without read", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "permissions": 2}, "permissions 2 lacks read (1): user and group shares must include it"},
		{"group share without read", ToolCreate, map[string]any{"path": "/Documents", "share_with": "users", "share_type": 1, "permissions": 16}, "permissions 16 lacks read (1)"},
		{"link with share only", ToolCreate, map[string]any{"path": "/Documents", "share_type": 3, "permissions": 16}, "permissions 16 has neither read (1) nor create (4)"},
		{"link with update but no read", ToolCreate, map[string]any{"path": "/Documents", "share_type": 3, "permissions": 6}, "permissions 6 has update or delete without read (1)"},
		{"link with delete but no read", ToolCreate, map[string]any{"path": "/Documents", "share_type": 3, "permissions": 12}, "permissions 12 has update or delete without read (1)"},
		{"update permissions 64", ToolUpdate, map[string]any{"share_id": 1, "permissions": 64}, "permissions 64 is not a valid bitmask"},
		{"update permissions without read or create", ToolUpdate, map[string]any{"share_id": 1, "permissions": 2}, "permissions 2 has neither read (1) nor create (4)"},
		// dates
		{"date in the past", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "expire_date": "2001-01-01"}, "expire_date 2001-01-01 is not in the future"},
		{"date today", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "expire_date": day(0)}, "is not in the future"},
		{"date yesterday on update", ToolUpdate, map[string]any{"share_id": 1, "expire_date": day(-1)}, "is not in the future"},
		{"date with a time", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "expire_date": day(3) + "T00:00:00Z"}, "is not a date in the form YYYY-MM-DD"},
		{"date in another format", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "expire_date": "31/12/2099"}, "is not a date in the form YYYY-MM-DD"},
		{"impossible date", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "expire_date": "2099-02-30"}, "is not a date in the form YYYY-MM-DD"},
		// passwords
		{"password on a user share", ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "password": secret}, "password is only for public links (share_type 3); a user share cannot have one"},
		{"password on a group share", ToolCreate, map[string]any{"path": "/Documents", "share_with": "users", "share_type": 1, "password": secret}, "a group share cannot have one"},
		{"password with control characters", ToolCreate, map[string]any{"path": "/Documents", "share_type": 3, "password": "a\x00b"}, "password must not contain control characters"},
		// paths
		{"empty path", ToolCreate, map[string]any{"path": "", "share_with": "bob"}, "the path is empty"},
		{"root", ToolCreate, map[string]any{"path": "/", "share_with": "bob"}, "that is your root folder, which cannot be shared"},
		{"traversal", ToolCreate, map[string]any{"path": "/Documents/../../etc", "share_with": "bob"}, `".." segments are not allowed`},
		{"NUL", ToolCreate, map[string]any{"path": "/Docu\x00ments", "share_with": "bob"}, "control characters (NUL included) are not allowed"},
		{"encoded slash", ToolCreate, map[string]any{"path": "/Documents%2F..%2Fx", "share_with": "bob"}, "percent-encoded"},
		{"absolute URL", ToolCreate, map[string]any{"path": "https://cloud.example.org/remote.php/dav/files/alice/x", "share_with": "bob"}, "not a URL"},
		{"traversal in list", ToolList, map[string]any{"path": "../bob"}, `".." segments are not allowed`},
		// ids and updates
		{"get id 0", ToolGet, map[string]any{"share_id": 0}, "share_id must be a positive integer, got 0"},
		{"delete negative id", ToolDelete, map[string]any{"share_id": -4}, "share_id must be a positive integer, got -4"},
		{"update nothing", ToolUpdate, map[string]any{"share_id": 1}, "nothing to update: give at least one of permissions, expire_date, password or note"},
		{"note too long", ToolUpdate, map[string]any{"share_id": 1, "note": strings.Repeat("n", MaxNoteBytes+1)}, "note is 4097 bytes long"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &safeBuffer{}
			s := connectAs(t, srv, "alice", logs)
			srv.ResetLog()
			got := assertToolError(t, s.call(t, tc.tool, tc.args), tc.want)
			assert.Empty(t, srv.RequestLog(), "an invalid call reached Nextcloud")
			assert.Zero(t, s.clients.Load(), "an invalid call obtained a Nextcloud client (a token exchange in exchange mode)")
			assert.NotContains(t, got, secret, "the password is in the tool error")
			assert.NotContains(t, logs.String(), secret, "the password is in the log")
		})
	}
}

// TestValidArgumentsPass: the rules above refuse nothing Nextcloud takes.
func TestValidArgumentsPass(t *testing.T) {
	perms := func(p int) *int { return &p }
	empty := ""
	future := day(30)
	for name, in := range map[string]interface{ Validate() error }{
		"user share, defaults":          CreateShareInput{Path: "Documents", ShareWith: "bob"},
		"user share, all permissions":   CreateShareInput{Path: "/Documents/", ShareWith: "bob", Permissions: perms(31)},
		"group share with expiry, note": CreateShareInput{Path: "/Photos", ShareWith: "users", ShareType: 1, ExpireDate: day(1), Note: "hi"},
		"link, read":                    CreateShareInput{Path: "/Photos", ShareType: 3},
		"link, file drop":               CreateShareInput{Path: "/Photos", ShareType: 3, Permissions: perms(4)},
		"link, file drop and share":     CreateShareInput{Path: "/Photos", ShareType: 3, Permissions: perms(20)},
		"link, public upload":           CreateShareInput{Path: "/Photos", ShareType: 3, Permissions: perms(15), Password: "s3cret"},
		"name with a colon":             CreateShareInput{Path: "/Meeting: notes.md", ShareWith: "bob"},
		"list all":                      ListSharesInput{},
		"list shared with me, one path": ListSharesInput{Path: "Documents", SharedWithMe: true},
		"update permissions":            UpdateShareInput{ShareID: 1, Permissions: perms(1)},
		"update removes expiry":         UpdateShareInput{ShareID: 1, ExpireDate: &empty},
		"update removes password, note": UpdateShareInput{ShareID: 1, Password: &empty, Note: &empty},
		"update expiry":                 UpdateShareInput{ShareID: 1, ExpireDate: &future},
		"get":                           ShareIDInput{ShareID: 7},
	} {
		assert.NoError(t, in.Validate(), name)
	}
}
