package sharing_test

// The Sharing tools through the whole system — the MCP server over
// streamable HTTP, the fake IdP and the fake Nextcloud, each on its own
// loopback listener (server/devstack) — in basic mode and in exchange
// mode (RFC 8693 token exchange for every Nextcloud call).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/files"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/sharing"
)

var bothScopes = []string{scopes.SharingRead, scopes.SharingWrite}

// The file alice writes into the folder she shares with bob.
const (
	sharedFileName    = "for-bob.md"
	sharedFileContent = "# For bob\nwritten by alice before she shared the folder\n"
)

// bearer adds a fixed Authorization header, like a client that holds a
// token ("" adds none: basic mode).
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// user is an MCP session on st acting for one user.
type user struct {
	name string
	cs   *mcp.ClientSession
}

// sessionFor opens a session on st for name: in basic mode without a
// token (the server acts as devstack.BasicUser), otherwise with a token
// holding sc.
func sessionFor(t *testing.T, st *devstack.Stack, name string, sc []string) user {
	t.Helper()
	var tok string
	if st.Mode != server.ModeBasic {
		var err error
		tok, err = st.Token(context.Background(), name, sc)
		require.NoError(t, err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "sharing-test", Version: "0"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: st.MCPURL, HTTPClient: &http.Client{Transport: bearer{tok}, Timeout: 30 * time.Second}}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return user{name: name, cs: cs}
}

// call calls a tool and decodes its structured output into out; a
// protocol error or a tool error fails the test.
func (u user) call(t *testing.T, tool string, args map[string]any, out any) {
	t.Helper()
	res := u.try(t, tool, args)
	require.False(t, res.IsError, "%s as %s: tool error: %s", tool, u.name, text(res))
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, out))
}

// try calls a tool; only a protocol error fails the test.
func (u user) try(t *testing.T, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := u.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	require.NoError(t, err, "%s as %s", tool, u.name)
	return res
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func exchanges(st *devstack.Stack) int {
	n := 0
	for _, e := range st.IdP.RequestLog() {
		if e.GrantType == idp.GrantTokenExchange {
			n++
		}
	}
	return n
}

// TestToolsInBothModes runs every tool as alice in basic and in exchange
// mode, and checks how the calls reached Nextcloud.
func TestToolsInBothModes(t *testing.T) {
	for _, mode := range []server.Mode{server.ModeBasic, server.ModeExchange} {
		t.Run(string(mode), func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: mode})
			alice := sessionFor(t, st, "alice", bothScopes)
			st.Nextcloud.ResetLog()
			expire := time.Now().UTC().AddDate(0, 0, 14).Format("2006-01-02")

			var created sharing.ShareResultOutput
			alice.call(t, sharing.ToolCreate, map[string]any{"path": "Documents/", "share_with": "bob", "permissions": 3, "note": "review", "expire_date": expire}, &created)
			sh := created.Share
			assert.True(t, created.Success)
			assert.Positive(t, sh.ID)
			assert.Equal(t, "user", sh.ShareTypeName)
			assert.Equal(t, "/Documents", sh.Path, "the path is normalised")
			assert.Equal(t, []string{"read", "update"}, sh.PermissionNames)
			assert.Equal(t, expire+" 00:00:00", sh.Expiration)
			assert.Equal(t, "bob", sh.ShareWith)
			assert.Equal(t, "alice", sh.UIDOwner)

			var got sharing.ShareResultOutput
			alice.call(t, sharing.ToolGet, map[string]any{"share_id": sh.ID}, &got)
			assert.Equal(t, sh, got.Share)

			var list sharing.ListSharesOutput
			alice.call(t, sharing.ToolList, map[string]any{"path": "/Documents"}, &list)
			assert.Equal(t, 1, list.Count)
			assert.Equal(t, "/Documents", list.Path)
			if assert.Len(t, list.Shares, 1) {
				assert.Equal(t, sh.ID, list.Shares[0].ID)
			}

			var upd sharing.ShareResultOutput
			alice.call(t, sharing.ToolUpdate, map[string]any{"share_id": sh.ID, "permissions": 1, "note": "", "expire_date": ""}, &upd)
			assert.Equal(t, 1, upd.Share.Permissions)
			assert.Empty(t, upd.Share.Note)
			assert.Empty(t, upd.Share.Expiration)

			var link sharing.ShareResultOutput
			alice.call(t, sharing.ToolCreate, map[string]any{"path": "/Readme.md", "share_type": 3, "password": "link-secret-1"}, &link)
			assert.Equal(t, "link", link.Share.ShareTypeName)
			assert.True(t, link.Share.HasPassword)
			assert.Empty(t, link.Share.ShareWith)
			assert.Equal(t, st.NextcloudURL+"/index.php/s/"+link.Share.Token, link.Share.URL)

			alice.call(t, sharing.ToolList, map[string]any{}, &list)
			assert.Equal(t, 2, list.Count)
			assert.False(t, list.SharedWithMe)

			var del sharing.DeleteShareOutput
			alice.call(t, sharing.ToolDelete, map[string]any{"share_id": link.Share.ID}, &del)
			assert.Equal(t, link.Share.ID, del.ShareID)
			res := alice.try(t, sharing.ToolGet, map[string]any{"share_id": link.Share.ID})
			assert.True(t, res.IsError)
			assert.Contains(t, text(res), fmt.Sprintf("share %d does not exist", link.Share.ID))

			// How the calls reached Nextcloud: as alice, with the mode's
			// credentials. (That a password never travels in a URL is
			// internal/nextcloud/sharing's TestLinkShareHidesPasswordHash.)
			log := st.Nextcloud.RequestLog()
			require.NotEmpty(t, log)
			wantAuth := map[server.Mode]string{server.ModeBasic: "basic", server.ModeExchange: "bearer"}[mode]
			for _, e := range log {
				assert.Equal(t, wantAuth, e.AuthKind, "%s %s", e.Method, e.Path)
				assert.Equal(t, "alice", e.UID, "%s %s", e.Method, e.Path)
			}
			if mode == server.ModeExchange {
				assert.Positive(t, exchanges(st), "exchange mode exchanged no token")
			}
		})
	}
}

// recipientChecks are what bob, the recipient of alice's user share of
// /Documents, checks with his own token. Each is one step; the Files
// module's reads (bob lists and reads the shared folder) join here.
var recipientChecks = []struct {
	name  string
	check func(t *testing.T, bob user, share sharing.ShareOutput)
}{
	{"bob sees the share in shared_with_me", func(t *testing.T, bob user, share sharing.ShareOutput) {
		var list sharing.ListSharesOutput
		bob.call(t, sharing.ToolList, map[string]any{"shared_with_me": true}, &list)
		assert.True(t, list.SharedWithMe)
		require.Len(t, list.Shares, 1)
		got := list.Shares[0]
		assert.Equal(t, share.ID, got.ID)
		assert.Equal(t, "alice", got.UIDOwner)
		assert.Equal(t, "bob", got.ShareWith)
		// bob has a Documents folder of his own: the mount is "Documents (2)".
		assert.Equal(t, "/Documents (2)", got.Path)
		assert.Equal(t, "/Documents (2)", got.FileTarget)
		assert.True(t, got.CanDelete, "a recipient may delete (leave) a user share")
		assert.False(t, got.CanEdit, "a recipient may not change it")
		assert.Equal(t, share.Permissions|8, got.ItemPermissions, "the mount point can be removed")
	}},
	{"bob reads it by id", func(t *testing.T, bob user, share sharing.ShareOutput) {
		var got sharing.ShareResultOutput
		bob.call(t, sharing.ToolGet, map[string]any{"share_id": share.ID}, &got)
		assert.Equal(t, "/Documents (2)", got.Share.Path)
	}},
	{"bob's own list stays empty", func(t *testing.T, bob user, _ sharing.ShareOutput) {
		var list sharing.ListSharesOutput
		bob.call(t, sharing.ToolList, map[string]any{}, &list)
		assert.Empty(t, list.Shares)
		assert.NotNil(t, list.Shares)
	}},
	{"bob lists the shared folder through the files tools", func(t *testing.T, bob user, _ sharing.ShareOutput) {
		var dir files.ListDirectoryOutput
		bob.call(t, files.ToolListDirectory, map[string]any{"path": "Documents (2)"}, &dir)
		var names []string
		for _, e := range dir.Files {
			names = append(names, e.Name)
		}
		assert.Contains(t, names, sharedFileName, "bob's listing of the mount should hold alice's file")
	}},
	{"bob reads alice's file through the files tools", func(t *testing.T, bob user, _ sharing.ShareOutput) {
		var got files.ReadFileOutput
		bob.call(t, files.ToolReadFile, map[string]any{"path": "Documents (2)/" + sharedFileName}, &got)
		assert.Equal(t, "text", got.Encoding)
		assert.Equal(t, sharedFileContent, got.Content)
	}},
	{"bob cannot change it", func(t *testing.T, bob user, share sharing.ShareOutput) {
		res := bob.try(t, sharing.ToolUpdate, map[string]any{"share_id": share.ID, "permissions": 31})
		assert.True(t, res.IsError)
		assert.Contains(t, text(res), "You are not allowed to edit incoming shares")
	}},
}

// TestRecipientSeesShare: alice writes a file into /Documents and shares
// the folder with bob through nc_share_create; bob, with his own token,
// finds it among the shares shared with him and lists and reads alice's
// file through the files tools, under the mount's name in his tree.
func TestRecipientSeesShare(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	withFiles := append([]string{scopes.FilesRead, scopes.FilesWrite}, bothScopes...)
	alice, bob := sessionFor(t, st, "alice", withFiles), sessionFor(t, st, "bob", withFiles)
	var written files.WriteFileOutput
	alice.call(t, files.ToolWriteFile, map[string]any{"path": "Documents/" + sharedFileName, "content": sharedFileContent}, &written)
	var created sharing.ShareResultOutput
	alice.call(t, sharing.ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "permissions": 3}, &created)
	for _, c := range recipientChecks {
		t.Run(c.name, func(t *testing.T) { c.check(t, bob, created.Share) })
	}
	// Every Nextcloud call carried the caller's own exchanged token; bob's
	// file reads went to his own tree with his.
	bobRead := false
	for _, e := range st.Nextcloud.RequestLog() {
		if e.Method == http.MethodGet && strings.HasPrefix(e.Path, "/remote.php/dav/files/bob/") {
			bobRead = true
			assert.Equal(t, "bob", e.UID, "%s %s", e.Method, e.Path)
		}
		if strings.Contains(e.Path, "files_sharing") || strings.HasPrefix(e.Path, "/remote.php/dav/") {
			assert.Equal(t, "bearer", e.AuthKind)
			if assert.NotNil(t, e.Token, "%s %s", e.Method, e.Path) {
				assert.Equal(t, e.UID, e.Token.Sub)
			}
		}
	}
	assert.True(t, bobRead, "bob's read of the shared file should reach Nextcloud as a GET in his own tree")
}

var scopeParam = regexp.MustCompile(`scope="([^"]*)"`)

// TestReadScope: a sharing:read token lists and gets shares but does not
// see or reach the writing tools — refused at call time with a 403
// step-up challenge before Nextcloud or the IdP is asked — and a token
// with the scopes the challenge names writes.
func TestReadScope(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	ctx := context.Background()
	var created sharing.ShareResultOutput
	sessionFor(t, st, "alice", bothScopes).call(t, sharing.ToolCreate, map[string]any{"path": "/Photos", "share_type": 3}, &created)

	reader := sessionFor(t, st, "alice", []string{scopes.SharingRead})
	lt, err := reader.cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, tl := range lt.Tools {
		names = append(names, tl.Name)
	}
	assert.ElementsMatch(t, []string{sharing.ToolGet, sharing.ToolList}, names, "sharing:read lists the reading tools only")
	var list sharing.ListSharesOutput
	reader.call(t, sharing.ToolList, map[string]any{}, &list)
	assert.Equal(t, 1, list.Count)
	var got sharing.ShareResultOutput
	reader.call(t, sharing.ToolGet, map[string]any{"share_id": created.Share.ID}, &got)
	assert.Equal(t, created.Share.ID, got.Share.ID)

	readTok, err := st.Token(ctx, "alice", []string{scopes.SharingRead})
	require.NoError(t, err)
	writes := map[string]map[string]any{
		sharing.ToolCreate: {"path": "/Documents", "share_with": "bob"},
		sharing.ToolUpdate: {"share_id": created.Share.ID, "note": "x"},
		sharing.ToolDelete: {"share_id": created.Share.ID},
	}
	var challenge string
	for tool, args := range writes {
		t.Run(tool, func(t *testing.T) {
			st.Nextcloud.ResetLog()
			st.IdP.ResetLog()
			body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": map[string]any{"name": tool, "arguments": args}})
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodPost, st.MCPURL, strings.NewReader(string(body)))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", "Bearer "+readTok)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			wa := resp.Header.Get("WWW-Authenticate")
			assert.Equal(t, `Bearer error="insufficient_scope", error_description="tools/call `+tool+` requires scope sharing:write", scope="sharing:read sharing:write", resource_metadata="`+
				st.BaseURL+`/.well-known/oauth-protected-resource/mcp"`, wa)
			challenge = wa
			assert.Empty(t, st.Nextcloud.RequestLog(), "a refused call reached Nextcloud")
			assert.Zero(t, exchanges(st), "a refused call cost a token exchange")
			// Through a real client the refusal is a clear error.
			_, err = reader.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
			assert.ErrorContains(t, err, "insufficient_scope")
		})
	}

	// Step-up: the scopes the challenge names are enough to write.
	m := scopeParam.FindStringSubmatch(challenge)
	require.Len(t, m, 2, challenge)
	writer := sessionFor(t, st, "alice", strings.Fields(m[1]))
	var del sharing.DeleteShareOutput
	writer.call(t, sharing.ToolDelete, map[string]any{"share_id": created.Share.ID}, &del)
	reader.call(t, sharing.ToolList, map[string]any{}, &list)
	assert.Zero(t, list.Count, "the stepped-up delete took effect")
}

// TestInvalidCallCostsNoExchange: in exchange mode an invalid call is
// refused before the server asks the IdP for a Nextcloud token.
func TestInvalidCallCostsNoExchange(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	alice := sessionFor(t, st, "alice", bothScopes)
	st.Nextcloud.ResetLog()
	st.IdP.ResetLog()
	res := alice.try(t, sharing.ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "password": "pw-for-a-user-share"})
	assert.True(t, res.IsError)
	assert.Contains(t, text(res), "password is only for public links")
	assert.Empty(t, st.Nextcloud.RequestLog())
	assert.Zero(t, exchanges(st))
}

// TestWriteIntoReadOnlyShare: bob, given alice's /Documents read-only,
// cannot create or replace files in it through the files tools: each
// write is a tool error in plain words and alice's file is unchanged.
func TestWriteIntoReadOnlyShare(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	withFiles := append([]string{scopes.FilesRead, scopes.FilesWrite}, bothScopes...)
	alice, bob := sessionFor(t, st, "alice", withFiles), sessionFor(t, st, "bob", withFiles)
	var written files.WriteFileOutput
	alice.call(t, files.ToolWriteFile, map[string]any{"path": "Documents/" + sharedFileName, "content": sharedFileContent}, &written)
	var created sharing.ShareResultOutput
	alice.call(t, sharing.ToolCreate, map[string]any{"path": "/Documents", "share_with": "bob", "permissions": 1}, &created)

	for name, args := range map[string]map[string]any{
		"replace alice's file": {"path": "Documents (2)/" + sharedFileName, "content": "overwritten by bob"},
		"create a new file":    {"path": "Documents (2)/from-bob.md", "content": "new"},
	} {
		t.Run(name, func(t *testing.T) {
			res := bob.try(t, files.ToolWriteFile, args)
			require.True(t, res.IsError, "a write into a read-only share must fail: %v", res.StructuredContent)
			msg := text(res)
			assert.Contains(t, msg, "Documents (2)/", "the error names the path")
			assert.NotContains(t, strings.ToLower(msg), "panic")
		})
	}
	var got files.ReadFileOutput
	alice.call(t, files.ToolReadFile, map[string]any{"path": "Documents/" + sharedFileName}, &got)
	assert.Equal(t, sharedFileContent, got.Content, "alice's file is unchanged")
	var dir files.ListDirectoryOutput
	alice.call(t, files.ToolListDirectory, map[string]any{"path": "Documents"}, &dir)
	for _, e := range dir.Files {
		assert.NotEqual(t, "from-bob.md", e.Name, "nothing was created in alice's folder")
	}
}
