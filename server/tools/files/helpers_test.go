package files_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolstest"
)

// The tests run the whole system over real HTTP on loopback: the server
// (basic or exchange mode), the fake IdP and the fake Nextcloud with its
// default seed (alice: Readme.md, Documents/report.md (a favourite),
// Documents/todo.txt, Photos/; bob: Documents/).

// modes are the token modes every tool is tested in.
var modes = []server.Mode{server.ModeBasic, server.ModeExchange}

// readWrite are the Files scopes.
var readWrite = []string{scopes.FilesRead, scopes.FilesWrite}

// start runs a stack in mode; mutate adjusts the server's configuration.
func start(t *testing.T, mode server.Mode, mutate ...func(*server.Config)) *devstack.Stack {
	t.Helper()
	return devstacktest.Start(t, devstack.Options{Mode: mode, MutateServer: func(c *server.Config) {
		for _, m := range mutate {
			m(c)
		}
	}})
}

// session connects an MCP client as alice: without a token in basic mode,
// with a token holding scs otherwise. opts may set a progress handler.
func session(t *testing.T, st *devstack.Stack, scs []string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	token := ""
	if st.Mode != server.ModeBasic {
		var err error
		token, err = st.Token(context.Background(), "alice", scs)
		require.NoError(t, err)
	}
	return connectToken(t, st.MCPURL, token, opts)
}

func connectToken(t *testing.T, url, token string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "files-test", Version: "0"}, opts)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: url, HTTPClient: &http.Client{Transport: bearer{token: token}},
	}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// bearer adds the token, like a client that holds one.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// call calls a tool; a protocol error fails the test.
func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, "%s: protocol error", name)
	return res
}

// decode and the tool-error assertion are server/tools/toolstest's
// (one copy for every module's tests), named short for this package.
func decode[T any](t *testing.T, res *mcp.CallToolResult) T { return toolstest.Decode[T](t, res) }

func toolError(t *testing.T, res *mcp.CallToolResult, want string) {
	t.Helper()
	toolstest.AssertToolError(t, res, want)
}

// direct sends a request to the fake Nextcloud as alice, past the server.
func direct(t *testing.T, st *devstack.Stack, method, path string, h http.Header) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "http://nextcloud.test"+path, http.NoBody)
	req.SetBasicAuth("alice", "alice-password")
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	before := len(st.Nextcloud.RequestLog())
	st.Nextcloud.ServeHTTP(rec, req)
	for i := before; i < len(st.Nextcloud.RequestLog()); i++ {
		directs[st] = append(directs[st], i)
	}
	return rec.Code, rec.Body.Bytes()
}

// directs are the indices of the fake's log entries that direct made, by
// stack (tests in this package do not run in parallel).
var directs = map[*devstack.Stack][]int{}

// resetLogs empties the fake's and the IdP's request logs.
func resetLogs(st *devstack.Stack) {
	st.Nextcloud.ResetLog()
	st.IdP.ResetLog()
	delete(directs, st)
}

// serverRequests is the fake's request log without what direct sent:
// the requests the server made.
func serverRequests(st *devstack.Stack) []fakenc.LogEntry {
	skip := map[int]bool{}
	for _, i := range directs[st] {
		skip[i] = true
	}
	var out []fakenc.LogEntry
	for i, e := range st.Nextcloud.RequestLog() {
		if !skip[i] {
			out = append(out, e)
		}
	}
	return out
}

// fileContent reads one of alice's files from the fake; false when absent.
func fileContent(t *testing.T, st *devstack.Stack, p string) ([]byte, bool) {
	t.Helper()
	status, body := direct(t, st, http.MethodGet, "/remote.php/dav/files/alice/"+p, nil)
	if status == http.StatusNotFound {
		return nil, false
	}
	require.Equal(t, http.StatusOK, status, "GET %s", p)
	return body, true
}

// seed adds files for alice.
func seed(t *testing.T, st *devstack.Stack, files map[string]string) {
	t.Helper()
	var s fakenc.Seed
	for p, c := range files {
		s.Files = append(s.Files, fakenc.SeedFile{Owner: "alice", Path: p, Content: c})
	}
	require.NoError(t, st.Nextcloud.SeedData(s))
}

// openUploads lists the upload folders created (MKCOL in the fake's log)
// that still exist.
func openUploads(t *testing.T, st *devstack.Stack) []string {
	t.Helper()
	var out []string
	for _, e := range st.Nextcloud.RequestLog() {
		if e.Method != "MKCOL" || !strings.Contains(e.Path, "/remote.php/dav/uploads/") {
			continue
		}
		status, _ := direct(t, st, "PROPFIND", e.Path, http.Header{"Depth": {"0"}})
		if status == http.StatusMultiStatus {
			out = append(out, e.Path)
		}
	}
	return out
}

// exchanges counts the token exchanges the IdP granted.
func exchanges(st *devstack.Stack) int {
	n := 0
	for _, e := range st.IdP.RequestLog() {
		if e.GrantType == idp.GrantTokenExchange {
			n++
		}
	}
	return n
}

// post sends one raw JSON-RPC request with token, as a client would.
func post(t *testing.T, st *devstack.Stack, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, st.MCPURL, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// fakeFault makes the fake answer 503 to the next PUTs on pattern (more
// than the client's retries).
func fakeFault(pattern string) fakenc.Fault {
	return fakenc.Fault{Pattern: pattern, Method: http.MethodPut, Status: http.StatusServiceUnavailable, Count: 20}
}
