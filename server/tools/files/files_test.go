package files_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/files"
)

// TestEveryToolInBothModes drives all eleven tools and the resource
// through the server in basic and exchange mode.
func TestEveryToolInBothModes(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			st := start(t, mode)
			cs := session(t, st, readWrite, nil)
			resetLogs(st)

			root := decode[files.ListDirectoryOutput](t, call(t, cs, files.ToolListDirectory, map[string]any{}))
			assert.True(t, root.Success)
			assert.Equal(t, "", root.Path)
			assert.Equal(t, root.TotalCount, root.FileCount+root.DirectoryCount)
			assert.GreaterOrEqual(t, root.DirectoryCount, 2)
			docs := decode[files.ListDirectoryOutput](t, call(t, cs, files.ToolListDirectory, map[string]any{"path": "Documents"}))
			require.Len(t, docs.Files, 2)
			assert.Equal(t, files.Totals{TotalCount: 2, FileCount: 2, TotalSize: docs.Files[0].Size + docs.Files[1].Size}, docs.Totals)
			report := docs.Files[0]
			assert.Equal(t, "report.md", report.Name)
			assert.True(t, report.Favorite)
			assert.Positive(t, report.FileID)
			assert.NotEmpty(t, report.LastModified)

			dir := decode[files.CreateDirectoryOutput](t, call(t, cs, files.ToolCreateDirectory, map[string]any{"path": "Work"}))
			assert.True(t, dir.Directory.IsDirectory)
			toolError(t, call(t, cs, files.ToolCreateDirectory, map[string]any{"path": "Work"}), `Path "Work" already exists`)

			w := decode[files.WriteFileOutput](t, call(t, cs, files.ToolWriteFile, map[string]any{"path": "Work/plan.md", "content": "# Plan\n", "content_type": "text/markdown"}))
			assert.True(t, w.Created)
			assert.Equal(t, int64(7), w.Bytes)
			r := decode[files.ReadFileOutput](t, call(t, cs, files.ToolReadFile, map[string]any{"path": "Work/plan.md"}))
			assert.Equal(t, files.EncodingText, r.Encoding)
			assert.Equal(t, "# Plan\n", r.Content)
			assert.Equal(t, w.File.ETag, r.ETag)

			w2 := decode[files.WriteFileOutput](t, call(t, cs, files.ToolWriteFile, map[string]any{"path": "Work/plan.md", "content": "# Plan v2\n", "if_match": r.ETag}))
			assert.False(t, w2.Created)
			toolError(t, call(t, cs, files.ToolWriteFile, map[string]any{"path": "Work/plan.md", "content": "lost", "if_match": r.ETag}),
				`file "Work/plan.md" changed since you read it`)
			got, _ := fileContent(t, st, "Work/plan.md")
			assert.Equal(t, "# Plan v2\n", string(got), "a stale write changed the file")
			toolError(t, call(t, cs, files.ToolWriteFile, map[string]any{"path": "Work/plan.md", "content": "x", "create_only": true}), "already exists")

			// Binary round trip, through the explicit encoding and upstream's
			// ";base64" content type.
			bin := []byte{0x89, 'P', 'N', 'G', 0, 0xff, 0xfe, 1, 2, 3}
			decode[files.WriteFileOutput](t, call(t, cs, files.ToolWriteFile, map[string]any{"path": "Work/pic.png", "content": base64.StdEncoding.EncodeToString(bin), "encoding": "base64"}))
			decode[files.WriteFileOutput](t, call(t, cs, files.ToolWriteFile, map[string]any{"path": "Work/pic2.png", "content": base64.StdEncoding.EncodeToString(bin), "content_type": "image/png;base64"}))
			for _, p := range []string{"Work/pic.png", "Work/pic2.png"} {
				rb := decode[files.ReadFileOutput](t, call(t, cs, files.ToolReadFile, map[string]any{"path": p}))
				assert.Equal(t, files.EncodingBase64, rb.Encoding)
				assert.Equal(t, "image/png", rb.ContentType)
				data, err := base64.StdEncoding.DecodeString(rb.Content)
				require.NoError(t, err)
				assert.Equal(t, bin, data, p)
			}

			cp := decode[files.TransferOutput](t, call(t, cs, files.ToolCopyResource, map[string]any{"source_path": "Work/plan.md", "destination_path": "Work/plan-copy.md"}))
			assert.False(t, cp.Overwritten)
			toolError(t, call(t, cs, files.ToolCopyResource, map[string]any{"source_path": "Readme.md", "destination_path": "Work/plan-copy.md"}),
				`destination "Work/plan-copy.md" already exists; pass overwrite=true to replace it`)
			mv := decode[files.TransferOutput](t, call(t, cs, files.ToolMoveResource, map[string]any{"source_path": "Work/plan-copy.md", "destination_path": "Work/plan.md", "overwrite": true}))
			assert.True(t, mv.Overwritten)
			assert.Equal(t, "Work/plan.md", mv.File.Path)
			toolError(t, call(t, cs, files.ToolMoveResource, map[string]any{"source_path": "Work/plan-copy.md", "destination_path": "x.md"}), `"Work/plan-copy.md" not found`)

			found := decode[files.SearchOutput](t, call(t, cs, files.ToolSearchFiles, map[string]any{"name_pattern": "plan*", "scope": "Work"}))
			assert.Equal(t, []string{"Work/plan.md"}, paths(found.Results))
			assert.Equal(t, "Work", found.Scope)
			byName := decode[files.SearchOutput](t, call(t, cs, files.ToolFindByName, map[string]any{"pattern": "todo"}))
			assert.Equal(t, []string{"Documents/todo.txt"}, paths(byName.Results))
			byType := decode[files.SearchOutput](t, call(t, cs, files.ToolFindByType, map[string]any{"mime_type": "image/", "scope": "Work"}))
			assert.ElementsMatch(t, []string{"Work/pic.png", "Work/pic2.png"}, paths(byType.Results))
			assert.Equal(t, 2, byType.FileCount)
			favs := decode[files.SearchOutput](t, call(t, cs, files.ToolListFavorites, map[string]any{"scope": "Documents"}))
			assert.Equal(t, []string{"Documents/report.md"}, paths(favs.Results))

			res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: files.FileURI("Work/plan.md")})
			require.NoError(t, err)
			assert.Equal(t, "# Plan v2\n", res.Contents[0].Text)
			_, err = cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: files.FileURI("Work/none.md")})
			assert.ErrorContains(t, err, "Resource not found")

			del := decode[files.DeleteOutput](t, call(t, cs, files.ToolDeleteResource, map[string]any{"path": "Work"}))
			assert.Equal(t, "Work", del.Path)
			_, ok := fileContent(t, st, "Work/plan.md")
			assert.False(t, ok)
			toolError(t, call(t, cs, files.ToolDeleteResource, map[string]any{"path": "Work"}), `Path "Work" not found`)

			for _, e := range serverRequests(st) {
				assert.Equal(t, "alice", e.UID, "%s %s", e.Method, e.Path)
				if mode == server.ModeExchange {
					assert.Equal(t, "bearer", e.AuthKind, "%s %s", e.Method, e.Path)
				} else {
					assert.Equal(t, "basic", e.AuthKind, "%s %s", e.Method, e.Path)
				}
			}
		})
	}
}

func paths(es []files.Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Path)
	}
	return out
}

// TestTraversalSendsNothing: paths that could leave the user's tree are
// tool errors that reach no Nextcloud and cost no token exchange.
func TestTraversalSendsNothing(t *testing.T) {
	st := start(t, server.ModeExchange)
	cs := session(t, st, readWrite, nil)
	bad := []struct {
		name, path, want string
	}{
		{name: "dotdot", path: "../bob/Documents", want: `".." segments are not allowed`},
		{name: "dotdot inside", path: "Documents/../../bob", want: `".." segments are not allowed`},
		{name: "encoded slash", path: "Documents%2F..%2F..%2Fbob", want: "percent-encoded"},
		{name: "encoded dots", path: "%2E%2E/bob", want: "percent-encoded"},
		{name: "absolute URL", path: "http://127.0.0.1:1/remote.php/dav/files/bob/", want: "not a URL"},
		{name: "NUL", path: "Readme.md\x00.txt", want: "control characters"},
		{name: "backslash", path: `..\bob`, want: "backslashes"},
		{name: "htaccess", path: "Documents/.htaccess", want: "Nextcloud reserves"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			st.Nextcloud.ResetLog()
			st.IdP.ResetLog()
			calls := map[string]map[string]any{
				files.ToolListDirectory:   {"path": tt.path},
				files.ToolReadFile:        {"path": tt.path},
				files.ToolWriteFile:       {"path": tt.path, "content": "x"},
				files.ToolCreateDirectory: {"path": tt.path},
				files.ToolDeleteResource:  {"path": tt.path},
				files.ToolMoveResource:    {"source_path": tt.path, "destination_path": "x.md"},
				files.ToolCopyResource:    {"source_path": "Readme.md", "destination_path": tt.path},
				files.ToolSearchFiles:     {"scope": tt.path},
				files.ToolFindByName:      {"pattern": "a", "scope": tt.path},
				files.ToolFindByType:      {"mime_type": "text/plain", "scope": tt.path},
				files.ToolListFavorites:   {"scope": tt.path},
			}
			for name, args := range calls {
				toolError(t, call(t, cs, name, args), tt.want)
			}
			assert.Empty(t, st.Nextcloud.RequestLog(), "a refused path reached Nextcloud")
			assert.Zero(t, exchanges(st), "a refused path cost a token exchange")
		})
	}
}

// TestBadInput: every kind of bad argument is a clear tool error.
func TestBadInput(t *testing.T) {
	st := start(t, server.ModeBasic)
	cs := session(t, st, nil, nil)
	long := strings.Repeat("n", 251)
	tests := []struct {
		name string
		tool string
		args map[string]any
		want string
	}{
		{name: "forbidden name", tool: files.ToolWriteFile, args: map[string]any{"path": ".htaccess", "content": "x"}, want: "Nextcloud reserves"},
		{name: "part file", tool: files.ToolWriteFile, args: map[string]any{"path": "a.part", "content": "x"}, want: `forbids the file type ".part"`},
		{name: "part folder", tool: files.ToolCreateDirectory, args: map[string]any{"path": "b.filepart"}, want: `".filepart"`},
		{name: "name too long", tool: files.ToolWriteFile, args: map[string]any{"path": long, "content": "x"}, want: "at most 250"},
		{name: "binary as text", tool: files.ToolWriteFile, args: map[string]any{"path": "a.bin", "content": "a\x00b"}, want: "send it base64-encoded"},
		{name: "bad base64", tool: files.ToolWriteFile, args: map[string]any{"path": "a.bin", "content": "%%%", "encoding": "base64"}, want: "not valid base64"},
		{name: "bad encoding", tool: files.ToolWriteFile, args: map[string]any{"path": "a.bin", "content": "x", "encoding": "hex"}, want: `encoding must be "text" or "base64"`},
		{name: "encodings disagree", tool: files.ToolWriteFile, args: map[string]any{"path": "a.bin", "content": "x", "encoding": "text", "content_type": "image/png;base64"}, want: "choose one"},
		{name: "bad content type", tool: files.ToolWriteFile, args: map[string]any{"path": "a.txt", "content": "x", "content_type": "not a type"}, want: "not a media type"},
		{name: "if_match star", tool: files.ToolWriteFile, args: map[string]any{"path": "a.txt", "content": "x", "if_match": "*"}, want: "single etag"},
		{name: "if_match and create_only", tool: files.ToolWriteFile, args: map[string]any{"path": "a.txt", "content": "x", "if_match": "e", "create_only": true}, want: "exclude each other"},
		{name: "root read", tool: files.ToolReadFile, args: map[string]any{"path": "/"}, want: "must name a file or folder"},
		{name: "root delete", tool: files.ToolDeleteResource, args: map[string]any{"path": ""}, want: "must name a file or folder"},
		{name: "root as destination", tool: files.ToolMoveResource, args: map[string]any{"source_path": "Readme.md", "destination_path": "/"}, want: "root of your files"},
		{name: "huge pattern", tool: files.ToolFindByName, args: map[string]any{"pattern": strings.Repeat("a", 513)}, want: "at most 512"},
		{name: "empty pattern", tool: files.ToolFindByName, args: map[string]any{"pattern": " "}, want: "must not be empty"},
		{name: "limit too high", tool: files.ToolListFavorites, args: map[string]any{"limit": 501}, want: "limit must be between 1 and 500"},
		{name: "negative limit", tool: files.ToolSearchFiles, args: map[string]any{"limit": -1}, want: "limit must be between"},
		{name: "bad mime", tool: files.ToolFindByType, args: map[string]any{"mime_type": "pdf"}, want: "must be a media type"},
		{name: "mime wildcard", tool: files.ToolFindByType, args: map[string]any{"mime_type": "image/*"}, want: "must be a media type"},
		{name: "missing file", tool: files.ToolReadFile, args: map[string]any{"path": "nope.txt"}, want: `Path "nope.txt" not found`},
		{name: "missing folder", tool: files.ToolListDirectory, args: map[string]any{"path": "Nope"}, want: `Folder "Nope" not found`},
		{name: "list a file", tool: files.ToolListDirectory, args: map[string]any{"path": "Readme.md"}, want: "is a file, not a folder"},
		{name: "read a folder", tool: files.ToolReadFile, args: map[string]any{"path": "Documents"}, want: "is a folder, not a file"},
		{name: "missing parent", tool: files.ToolWriteFile, args: map[string]any{"path": "No/Such/x.md", "content": "x"}, want: `the folder "No/Such" does not exist`},
		{name: "if_match on a missing file", tool: files.ToolWriteFile, args: map[string]any{"path": "nope.md", "content": "x", "if_match": "abc"}, want: "changed since you read it"},
		{name: "another user's folder by name", tool: files.ToolListDirectory, args: map[string]any{"path": "bob/Documents"}, want: `Folder "bob/Documents" not found`},
		{name: "another user's folder by dotdot", tool: files.ToolListDirectory, args: map[string]any{"path": "../bob"}, want: `".." segments are not allowed`},
		{name: "copy onto itself", tool: files.ToolCopyResource, args: map[string]any{"source_path": "Readme.md", "destination_path": "/Readme.md"}, want: "are both"},
		{name: "missing search scope", tool: files.ToolSearchFiles, args: map[string]any{"scope": "Nope"}, want: `Folder "Nope" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toolError(t, call(t, cs, tt.tool, tt.args), tt.want)
		})
	}
	// Nothing was written by any of them.
	_, ok := fileContent(t, st, "a.bin")
	assert.False(t, ok)
}

// TestReadSizeLimit: FILES_MAX_READ_BYTES bounds reads, with an error that
// names it; the resource honours it too.
func TestReadSizeLimit(t *testing.T) {
	st := start(t, server.ModeBasic, func(c *server.Config) { c.FilesMaxReadBytes = 1000 })
	seed(t, st, map[string]string{"big.txt": strings.Repeat("b", 1001), "fits.txt": strings.Repeat("f", 1000)})
	cs := session(t, st, nil, nil)
	toolError(t, call(t, cs, files.ToolReadFile, map[string]any{"path": "big.txt"}),
		`file "big.txt" is 1001 bytes, more than the read limit of 1000 bytes; the limit is the server setting FILES_MAX_READ_BYTES`)
	r := decode[files.ReadFileOutput](t, call(t, cs, files.ToolReadFile, map[string]any{"path": "fits.txt"}))
	assert.Len(t, r.Content, 1000)
	_, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: files.FileURI("big.txt")})
	assert.ErrorContains(t, err, "FILES_MAX_READ_BYTES")
}

// TestTextOrBase64: read_file returns text only for textual types that are
// valid UTF-8; binary declared as text and invalid UTF-8 come back base64.
func TestTextOrBase64(t *testing.T) {
	st := start(t, server.ModeBasic)
	seed(t, st, map[string]string{"notes.txt": "héllo", "latin1.txt": "caf\xe9", "nul.txt": "a\x00b", "data.json": `{"a":1}`, "blob.bin": "plain but octet-stream"})
	cs := session(t, st, nil, nil)
	tests := []struct {
		path, wantEncoding string
	}{
		{"notes.txt", files.EncodingText},
		{"data.json", files.EncodingText},
		{"latin1.txt", files.EncodingBase64},
		{"nul.txt", files.EncodingBase64},
		{"blob.bin", files.EncodingBase64},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := decode[files.ReadFileOutput](t, call(t, cs, files.ToolReadFile, map[string]any{"path": tt.path}))
			assert.Equal(t, tt.wantEncoding, r.Encoding)
			want, _ := fileContent(t, st, tt.path)
			got := []byte(r.Content)
			if r.Encoding == files.EncodingBase64 {
				var err error
				got, err = base64.StdEncoding.DecodeString(r.Content)
				require.NoError(t, err)
			}
			assert.Equal(t, want, got, "nothing is lost")
		})
	}
}

// TestScopes: a files:read token lists only the read tools; a write tool
// is refused with a 403 step-up challenge before anything reaches
// Nextcloud; a token stepped up to files:write works.
func TestScopes(t *testing.T) {
	st := start(t, server.ModeExchange)
	ctx := context.Background()
	readTok, err := st.Token(ctx, "alice", []string{scopes.FilesRead})
	require.NoError(t, err)
	cs := connectToken(t, st.MCPURL, readTok, nil)
	lt, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var listed []string
	for _, tl := range lt.Tools {
		if strings.HasPrefix(tl.Name, "nc_webdav_") {
			listed = append(listed, tl.Name)
		}
	}
	assert.ElementsMatch(t, []string{files.ToolListDirectory, files.ToolReadFile, files.ToolSearchFiles, files.ToolFindByName,
		files.ToolFindByType, files.ToolListFavorites}, listed)
	decode[files.ListDirectoryOutput](t, call(t, cs, files.ToolListDirectory, map[string]any{}))

	writes := []string{files.ToolWriteFile, files.ToolCreateDirectory, files.ToolDeleteResource, files.ToolMoveResource, files.ToolCopyResource}
	for i, name := range writes {
		t.Run(name, func(t *testing.T) {
			st.Nextcloud.ResetLog()
			st.IdP.ResetLog()
			body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{"path":"Readme.md","content":"x","source_path":"Readme.md","destination_path":"y.md"}}}`, 10+i, name)
			resp := post(t, st, readTok, body)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			challenge := resp.Header.Get("WWW-Authenticate")
			assert.Contains(t, challenge, `error="insufficient_scope"`)
			assert.Contains(t, challenge, "requires scope files:write")
			assert.Empty(t, st.Nextcloud.RequestLog(), "a refused call reached Nextcloud")
			assert.Zero(t, exchanges(st), "a refused call cost a token exchange")
		})
	}
	got, _ := fileContent(t, st, "Readme.md")
	assert.Contains(t, string(got), "Welcome", "a refused write changed the file")

	// Step up: a token with files:write as well.
	cs2 := session(t, st, readWrite, nil)
	w := decode[files.WriteFileOutput](t, call(t, cs2, files.ToolWriteFile, map[string]any{"path": "stepped-up.md", "content": "ok"}))
	assert.True(t, w.Created)
	// The resource needs files:read: a token without it cannot read it.
	other, err := st.Token(ctx, "alice", []string{scopes.NotesRead})
	require.NoError(t, err)
	resp := post(t, st, other, `{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"`+files.FileURI("Readme.md")+`"}}`)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "files:read")
}

// TestFileURI: names are percent-encoded, slashes kept, and the URI
// resolves to the same file.
func TestFileURI(t *testing.T) {
	st := start(t, server.ModeBasic)
	seed(t, st, map[string]string{"My Docs/a b%.txt": "spaced"})
	cs := session(t, st, nil, nil)
	uri := files.FileURI("My Docs/a b%.txt")
	assert.Equal(t, "nc://Files/My%20Docs/a%20b%25.txt", uri)
	res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri})
	require.NoError(t, err)
	assert.Equal(t, "spaced", res.Contents[0].Text)
	st.Nextcloud.ResetLog()
	for _, bad := range []string{"nc://Files/..%2Fbob", "nc://Files/../bob/x", "nc://Files/a%2Fb"} {
		_, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: bad})
		assert.Error(t, err, bad)
	}
	assert.Empty(t, st.Nextcloud.RequestLog(), "a bad file URI reached Nextcloud")
}
