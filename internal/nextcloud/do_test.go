package nextcloud_test

// (*nextcloud.Client).Do as the HTTP client of github.com/emersion/go-webdav,
// against the shared fake Nextcloud: the seam the calendar and contacts
// modules' CalDAV and CardDAV clients will use.

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-webdav"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// newGoWebDAV returns go-webdav's own client on alice's files, with the
// Nextcloud client as its HTTP client.
func newGoWebDAV(t *testing.T, srv *nctest.Server, nc *nextcloud.Client) *webdav.Client {
	t.Helper()
	root, _, err := nc.DAVPath(context.Background(), "")
	require.NoError(t, err)
	wc, err := webdav.NewClient(nc, nc.BaseURL()+root)
	require.NoError(t, err)
	return wc
}

func TestFakeGoWebDAVThroughDo(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	appPW, _ := srv.AppPassword("alice")
	nc := aliceClient(t, srv).WithCredentials(nextcloud.BearerFor("sub-alice", appPW))
	wc := newGoWebDAV(t, srv, nc)

	t.Run("ReadDir", func(t *testing.T) {
		infos, err := wc.ReadDir(ctx, "Documents", false)
		require.NoError(t, err)
		var names []string
		for _, fi := range infos {
			names = append(names, fi.Path)
		}
		assert.Contains(t, names, "/remote.php/dav/files/alice/Documents/report.md")
		assert.Contains(t, names, "/remote.php/dav/files/alice/Documents/todo.txt")
	})
	t.Run("Stat", func(t *testing.T) {
		fi, err := wc.Stat(ctx, "Readme.md")
		require.NoError(t, err)
		assert.False(t, fi.IsDir)
		assert.Positive(t, fi.Size)
		assert.NotEmpty(t, fi.ETag)
	})
	t.Run("Create then Open", func(t *testing.T) {
		w, err := wc.Create(ctx, "Documents/new file.txt")
		require.NoError(t, err)
		_, err = io.WriteString(w, "written through go-webdav")
		require.NoError(t, err)
		require.NoError(t, w.Close())
		r, err := wc.Open(ctx, "Documents/new file.txt")
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		assert.Equal(t, "written through go-webdav", string(b))
	})
	t.Run("a missing file is a *nextcloud.Error with sabre's message", func(t *testing.T) {
		_, err := wc.Open(ctx, "nope.txt")
		var e *nextcloud.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, http.StatusNotFound, e.Status)
		assert.True(t, nextcloud.IsNotFound(err))
		assert.Contains(t, e.Message, "nope.txt")
		assert.Equal(t, nextcloud.AuthBearer, e.AuthKind)
		_, err = wc.Stat(ctx, "nope.txt")
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "PROPFIND", e.Method)
		assert.Contains(t, e.Message, "nope.txt")
	})
	t.Run("Mkdir, Move, RemoveAll", func(t *testing.T) {
		require.NoError(t, wc.Mkdir(ctx, "Moved"))
		require.NoError(t, wc.Move(ctx, "Documents/todo.txt", "Moved/todo.txt", nil))
		_, err := wc.Stat(ctx, "Moved/todo.txt")
		require.NoError(t, err)
		require.NoError(t, wc.RemoveAll(ctx, "Moved"))
		_, err = wc.Stat(ctx, "Moved")
		assert.True(t, nextcloud.IsNotFound(err), "err = %v", err)
	})
	t.Run("the client's credentials on every request", func(t *testing.T) {
		for _, e := range srv.RequestLog() {
			assert.Equal(t, "bearer", e.AuthKind, "%s %s", e.Method, e.Path)
			assert.Equal(t, "alice", e.UID, "%s %s", e.Method, e.Path)
		}
	})
}

func TestFakeDoRetriesSafeMethods(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	nc := aliceClient(t, srv)
	wc := newGoWebDAV(t, srv, nc)
	srv.ResetLog()
	srv.InjectFault(fakenc.Fault{Pattern: "/remote.php/dav/files/alice/Readme.md", Method: "PROPFIND", Status: 503, Count: 2})
	_, err := wc.Stat(ctx, "Readme.md")
	require.NoError(t, err, "a PROPFIND with a rewindable body survives two 503s")
	assert.Equal(t, 3, countRequests(srv, "PROPFIND", "/Readme.md"))

	srv.InjectFault(fakenc.Fault{Pattern: "/remote.php/dav/files/alice/Photos", Method: "MKCOL", Status: 503})
	err = wc.Mkdir(ctx, "Photos")
	assert.ErrorIs(t, err, nextcloud.ErrUnavailable)
	assert.Equal(t, 1, countRequests(srv, "MKCOL", "/Photos"), "MKCOL is not retried")
}

func TestDoRefusesForeignURLs(t *testing.T) {
	srv := nctest.Start(t)
	base, err := nextcloud.New(srv.URL+"/nc", nextcloud.Basic("alice", "alice-password"))
	require.NoError(t, err)
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct{ name, url string }{
		{"another host", "http://example.invalid/nc/remote.php/dav/files/alice/"},
		{"another port", "http://127.0.0.1:1/nc/remote.php/dav/files/alice/"},
		{"another scheme", "https://" + host + "/nc/remote.php/dav/files/alice/"},
		{"outside the base path", srv.URL + "/other/remote.php/dav/"},
		{"a prefix that is not a path segment", srv.URL + "/ncx/remote.php/dav/"},
		{"dot segments out of the base", srv.URL + "/nc/../other"},
		{"encoded dot segments", srv.URL + "/nc/%2e%2e/other"},
		{"user info", "http://bob:pw@" + host + "/nc/remote.php/dav/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &closeRecorder{Reader: strings.NewReader("x")}
			req, err := http.NewRequest("PUT", tt.url, body)
			require.NoError(t, err)
			res, err := base.Do(req)
			require.ErrorIs(t, err, nextcloud.ErrForeignURL)
			assert.Nil(t, res)
			assert.NotContains(t, err.Error(), "pw", "the refusal must not repeat user info")
			assert.True(t, body.closed, "Do closes the request body, also when refusing")
		})
	}
	assert.Empty(t, srv.RequestLog(), "nothing may reach any server")
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestDoTurnsFailuresIntoErrors(t *testing.T) {
	srv := nctest.Start(t)
	nc := aliceClient(t, srv)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/remote.php/dav/files/alice/missing.txt", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic bWFsbG9yeTpzZWNyZXQ=") // replaced by the client's credentials
	_, err = nc.Do(req)
	var e *nextcloud.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusNotFound, e.Status)
	assert.Equal(t, "GET", e.Method)
	assert.Equal(t, "/remote.php/dav/files/alice/missing.txt", e.Path)
	assert.Contains(t, e.Message, "missing.txt")
	assert.Equal(t, "alice", srv.RequestLog()[0].UID, "the client's credentials replace the request's")

	// 2xx passes through, body streamed.
	req, err = http.NewRequest(http.MethodGet, srv.URL+"/remote.php/dav/files/alice/Readme.md", nil)
	require.NoError(t, err)
	res, err := nc.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	assert.NotEmpty(t, b)
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

func TestFakeDoSizeLimit(t *testing.T) {
	srv := nctest.Start(t)
	require.NoError(t, srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: "alice", Path: "big.txt", Content: strings.Repeat("x", 4096)}}}))
	nc := aliceClient(t, srv, nextcloud.WithMaxResponseBytes(1024))
	wc := newGoWebDAV(t, srv, nc)
	r, err := wc.Open(context.Background(), "big.txt")
	require.NoError(t, err)
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(r)
	assert.Len(t, b, 1024, "the limit's worth is delivered")
	require.ErrorIs(t, err, nextcloud.ErrResponseTooLarge)
	assert.ErrorContains(t, err, "response body exceeds the 1 KiB limit")
}

func TestDoClosesTheBodyOnFailure(t *testing.T) {
	srv := nctest.Start(t)
	nc := aliceClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body := &closeRecorder{Reader: strings.NewReader("x")}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/remote.php/dav/files/alice/x.txt", body)
	require.NoError(t, err)
	_, err = nc.Do(req)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, body.closed, "like http.Client.Do, Do closes the body on errors")
	assert.Empty(t, srv.RequestLog(), "a canceled request is not sent")
}
