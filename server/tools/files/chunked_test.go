package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/files"
)

// TestChunkedUpload50MB writes a 50 MB binary file through the tool: it
// goes up in five chunks of FILES_CHUNK_SIZE (10 MiB) with chunked upload
// v2, the client that asked for progress gets one notification per chunk,
// and the stored file is byte for byte what was sent. MCP_MAX_BODY_BYTES
// is raised for the ~67 MB JSON-RPC body that carries the base64 content.
func TestChunkedUpload50MB(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			st := start(t, mode, func(c *server.Config) { c.MaxBodyBytes = 96 << 20 })
			var mu sync.Mutex
			var got []*mcp.ProgressNotificationParams
			cs := session(t, st, readWrite, &mcp.ClientOptions{
				ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, req.Params)
				}})
			data := make([]byte, 50_000_000)
			rng := rand.NewChaCha8([32]byte{1})
			_, _ = rng.Read(data)
			params := &mcp.CallToolParams{Name: files.ToolWriteFile, Arguments: map[string]any{
				"path": "Documents/big.bin", "content": base64.StdEncoding.EncodeToString(data), "encoding": "base64", "create_only": true}}
			params.SetProgressToken("upload-1")

			begin := time.Now()
			res, err := cs.CallTool(context.Background(), params)
			elapsed := time.Since(begin)
			require.NoError(t, err)
			out := decode[files.WriteFileOutput](t, res)
			t.Logf("%s: 50 MB chunked upload took %s", mode, elapsed.Round(time.Millisecond))

			assert.True(t, out.Created)
			assert.Equal(t, 5, out.Chunks)
			assert.Equal(t, int64(len(data)), out.Bytes)
			assert.Equal(t, int64(len(data)), out.File.Size)
			stored, ok := fileContent(t, st, "Documents/big.bin")
			require.True(t, ok)
			assert.Equal(t, sha256.Sum256(data), sha256.Sum256(stored), "the stored file differs")

			var methods []string
			for _, e := range serverRequests(st) {
				if strings.Contains(e.Path, "/remote.php/dav/uploads/") {
					methods = append(methods, e.Method+" "+e.Path[strings.LastIndex(e.Path, "/")+1:])
				}
			}
			require.Len(t, methods, 7, "%v", methods)
			assert.Equal(t, []string{"PUT 1", "PUT 2", "PUT 3", "PUT 4", "PUT 5", "MOVE .file"}, methods[1:])
			assert.Empty(t, openUploads(t, st))

			// Notifications may still be in flight when the result arrives.
			require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 5 }, 5*time.Second, 10*time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			for i, p := range got {
				assert.Equal(t, "upload-1", p.ProgressToken)
				assert.Equal(t, float64(len(data)), p.Total)
				assert.Equal(t, float64(min((i+1)*(10<<20), len(data))), p.Progress, "notification %d", i)
			}
			assert.Contains(t, got[4].Message, "uploaded 47.7 MiB of 47.7 MiB")
		})
	}
}

// TestNoProgressWithoutToken: a write that asked for no progress gets no
// notification, chunked or not.
func TestNoProgressWithoutToken(t *testing.T) {
	st := start(t, server.ModeBasic, func(c *server.Config) { c.MaxBodyBytes = 16 << 20; c.FilesChunkSize = 5 << 20 })
	var mu sync.Mutex
	n := 0
	cs := session(t, st, nil, &mcp.ClientOptions{ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) {
		mu.Lock()
		n++
		mu.Unlock()
	}})
	data := bytes.Repeat([]byte("z"), 6<<20)
	out := decode[files.WriteFileOutput](t, call(t, cs, files.ToolWriteFile, map[string]any{"path": "z.txt", "content": string(data)}))
	assert.Equal(t, 2, out.Chunks)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, n)
}

// TestFailedChunkedUpload: a chunked write whose assembly Nextcloud
// refuses (the file changed since the etag the caller read), or whose
// chunk keeps failing, is a clear tool error; the target keeps its content
// and the upload folder is deleted.
func TestFailedChunkedUpload(t *testing.T) {
	st := start(t, server.ModeBasic, func(c *server.Config) { c.MaxBodyBytes = 32 << 20; c.FilesChunkSize = 5 << 20 })
	cs := session(t, st, nil, nil)
	original, _ := fileContent(t, st, "Readme.md")
	read := decode[files.ReadFileOutput](t, call(t, cs, files.ToolReadFile, map[string]any{"path": "Readme.md"}))
	// Someone else changes the file after it was read.
	seed(t, st, map[string]string{"Readme.md": "changed elsewhere"})
	changed, _ := fileContent(t, st, "Readme.md")
	require.NotEqual(t, original, changed)
	big := strings.Repeat("y", 11<<20)

	tests := []struct {
		name  string
		args  map[string]any
		fault func()
		want  string
	}{
		{name: "stale etag on the assembly", args: map[string]any{"path": "Readme.md", "content": big, "if_match": read.ETag},
			want: `file "Readme.md" changed since you read it`},
		{name: "create-only onto an existing file", args: map[string]any{"path": "Readme.md", "content": big, "create_only": true},
			want: `file "Readme.md" already exists and create_only was set`},
		{name: "a chunk keeps failing", args: map[string]any{"path": "Readme.md", "content": big},
			fault: func() {
				st.Nextcloud.InjectFault(fakeFault("/remote.php/dav/uploads/alice/*/2"))
			},
			want: "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resetLogs(st)
			if tt.fault != nil {
				tt.fault()
				defer st.Nextcloud.ClearFaults()
			}
			toolError(t, call(t, cs, files.ToolWriteFile, tt.args), tt.want)
			now, _ := fileContent(t, st, "Readme.md")
			assert.Equal(t, changed, now, "the target changed")
			st.Nextcloud.ClearFaults()
			assert.Empty(t, openUploads(t, st), "the upload folder was left behind")
			deleted := false
			for _, e := range serverRequests(st) {
				deleted = deleted || e.Method == http.MethodDelete && strings.Contains(e.Path, "/remote.php/dav/uploads/alice/nextcloud-mcp-")
			}
			assert.True(t, deleted, "the server did not delete its upload folder")
		})
	}
}

// TestBodyLimit: a write larger than MCP_MAX_BODY_BYTES is refused before
// any tool runs; nothing reaches Nextcloud.
func TestBodyLimit(t *testing.T) {
	st := start(t, server.ModeBasic, func(c *server.Config) { c.MaxBodyBytes = 1 << 20 })
	cs := session(t, st, nil, nil)
	resetLogs(st)
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: files.ToolWriteFile,
		Arguments: map[string]any{"path": "big.txt", "content": strings.Repeat("x", 1<<20)}})
	require.Error(t, err)
	assert.Empty(t, serverRequests(st))
}
