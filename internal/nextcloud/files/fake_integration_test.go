package files_test

// The files client against the fake Nextcloud (fakes/nextcloud), which
// implements Nextcloud's WebDAV, SEARCH and chunked upload independently
// of this client.

import (
	"bytes"
	"context"
	"errors"

	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/files"
)

func alice(t *testing.T, srv *nctest.Server) *files.Client {
	t.Helper()
	c, err := nextcloud.New(srv.URL, nextcloud.Basic("alice", "alice-password"), nextcloud.WithRetry(3, time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	return files.New(c)
}

// content reads a file of alice's straight from the fake.
func content(t *testing.T, srv *nctest.Server, p string) (string, bool) {
	t.Helper()
	status, body := direct(t, srv, http.MethodGet, "/remote.php/dav/files/alice/"+p, nil)
	if status == http.StatusNotFound {
		return "", false
	}
	require.Equal(t, http.StatusOK, status, "GET %s", p)
	return string(body), true
}

// direct sends a request to the fake as alice, past the client.
func direct(t *testing.T, srv *nctest.Server, method, path string, h http.Header) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "http://nextcloud.test"+path, http.NoBody)
	req.SetBasicAuth("alice", "alice-password")
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// openUploads lists the upload folders the client created (MKCOL in the
// request log) that still exist: Nextcloud does not list uploads/{uid}/,
// so each is asked for by name.
func openUploads(t *testing.T, srv *nctest.Server) []string {
	t.Helper()
	var out []string
	for _, e := range srv.RequestLog() {
		if e.Method != "MKCOL" || !strings.Contains(e.Path, "/remote.php/dav/uploads/alice/") {
			continue
		}
		status, body := direct(t, srv, "PROPFIND", e.Path, http.Header{"Depth": {"0"}})
		require.Contains(t, []int{http.StatusMultiStatus, http.StatusNotFound}, status, "%s", body)
		if status == http.StatusMultiStatus {
			out = append(out, e.Path)
		}
	}
	return out
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{name: "root", in: "", want: ""},
		{name: "slashes dropped", in: "//Documents//report.md/", want: "Documents/report.md"},
		{name: "unicode and spaces", in: "Фото/my file (1).png", want: "Фото/my file (1).png"},
		{name: "percent that is no separator", in: "100%25 done.txt", want: "100%25 done.txt"},
		{name: "dotdot", in: "Documents/../../bob", err: `".." segments are not allowed`},
		{name: "dotdot alone", in: "..", err: `".." segments are not allowed`},
		{name: "dot segments dropped", in: "./Documents/./report.md", want: "Documents/report.md"},
		{name: "a colon in a name", in: "Meeting: notes.md", want: "Meeting: notes.md"},
		{name: "a scheme-like name after a slash", in: "Documents/http:x", want: "Documents/http:x"},
		{name: "encoded slash", in: "Documents%2F..%2Fbob", err: "percent-encoded"},
		{name: "encoded dots", in: "%2e%2e/bob", err: "percent-encoded"},
		{name: "encoded backslash", in: "a%5Cb", err: "percent-encoded"},
		{name: "encoded NUL", in: "a%00b", err: "percent-encoded"},
		{name: "NUL", in: "a\x00b", err: "control characters"},
		{name: "newline", in: "a\nb", err: "control characters"},
		{name: "backslash", in: `Documents\..\bob`, err: "backslashes"},
		{name: "absolute URL", in: "https://evil.example/remote.php/dav/files/bob/x", err: "not a URL"},
		{name: "scheme without slashes", in: "file:secret", err: "not a URL"},
		{name: "htaccess", in: "Documents/.htaccess", err: "Nextcloud reserves"},
		{name: "htaccess any case", in: ".HTACCESS", err: "Nextcloud reserves"},
		{name: "invalid UTF-8", in: "a\xffb", err: "UTF-8"},
		{name: "too long", in: strings.Repeat("a/", 2100), err: "bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := files.Clean(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCleanNew(t *testing.T) {
	tests := []struct {
		name, in, err string
	}{
		{name: "ordinary", in: "Documents/new.md"},
		{name: "a colon after a slash", in: "Documents/a:b.txt"},
		{name: "root", in: "/", err: "root of your files"},
		{name: "part", in: "upload.part", err: `".part"`},
		{name: "filepart any case", in: "x.FilePart", err: `".filepart"`},
		{name: "only dots", in: "Documents/...", err: "only of dots or spaces"},
		{name: "only spaces", in: "Documents/   ", err: "only of dots or spaces"},
		{name: "long name", in: strings.Repeat("n", 251), err: "at most 250"},
		{name: "dotdot still refused", in: "../x", err: `".."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := files.CleanNew(tt.in)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			assert.ErrorContains(t, err, tt.err)
		})
	}
}

// TestFakeRefusedPathsSendNothing: every operation refuses a bad path
// before any request (not even the uid lookup) reaches Nextcloud.
func TestFakeRefusedPathsSendNothing(t *testing.T) {
	srv := nctest.Start(t)
	c := alice(t, srv)
	ctx := context.Background()
	for _, bad := range []string{"../bob/Documents", "a%2F..%2F..%2Fbob", `..\bob`, "http://127.0.0.1:1/x", "x\x00y", ".htaccess"} {
		t.Run(bad, func(t *testing.T) {
			srv.ResetLog()
			_, err := c.Stat(ctx, bad)
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			_, err = c.List(ctx, bad)
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			_, err = c.Read(ctx, bad, 1<<20)
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			_, err = c.Write(ctx, bad, []byte("x"), files.WriteOptions{})
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			_, err = c.Mkdir(ctx, bad)
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			assert.ErrorIs(t, c.Delete(ctx, bad), nextcloud.ErrInvalidPath)
			_, err = c.Move(ctx, "Readme.md", bad, false)
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			_, err = c.Copy(ctx, bad, "x", false)
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			_, err = c.Search(ctx, files.Query{Scope: bad})
			assert.ErrorIs(t, err, nextcloud.ErrInvalidPath)
			assert.Empty(t, srv.RequestLog(), "a refused path reached Nextcloud")
		})
	}
}

func TestFakeListStatRead(t *testing.T) {
	srv := nctest.Start(t)
	c := alice(t, srv)
	ctx := context.Background()

	root, err := c.List(ctx, "")
	require.NoError(t, err)
	var names []string
	for _, fi := range root.Children {
		names = append(names, fi.Name)
	}
	assert.Subset(t, names, []string{"Documents", "Photos", "Readme.md"})
	assert.Equal(t, len(root.Children), root.Files+root.Folders)
	assert.True(t, root.Children[0].IsDir, "folders first")

	docs, err := c.List(ctx, "/Documents/")
	require.NoError(t, err)
	assert.Equal(t, "Documents", docs.Folder.Path)
	require.Equal(t, 2, docs.Files)
	assert.Equal(t, 0, docs.Folders)
	report := docs.Children[0]
	assert.Equal(t, "report.md", report.Name)
	assert.Equal(t, "Documents/report.md", report.Path)
	assert.True(t, report.Favorite)
	assert.Positive(t, report.FileID)
	assert.NotEmpty(t, report.ETag)
	assert.False(t, report.LastModified.IsZero())
	assert.Equal(t, int64(len("# Quarterly report\n\nNumbers went up.\n")), report.Size)
	assert.Equal(t, report.Size+docs.Children[1].Size, docs.Size)

	f, err := c.Read(ctx, "Documents/report.md", 1<<20)
	require.NoError(t, err)
	assert.Equal(t, "# Quarterly report\n\nNumbers went up.\n", string(f.Data))
	assert.Equal(t, report.ETag, f.Info.ETag)
	assert.Equal(t, report.FileID, f.Info.FileID)

	_, err = c.Read(ctx, "Documents", 1<<20)
	assert.ErrorContains(t, err, `Path "Documents" is a folder, not a file`)
	_, err = c.List(ctx, "Readme.md")
	assert.ErrorContains(t, err, `Path "Readme.md" is a file, not a folder`)
	_, err = c.Read(ctx, "nope.txt", 1<<20)
	assert.True(t, nextcloud.IsNotFound(err))
	assert.ErrorContains(t, err, `Path "nope.txt" not found`)
	// bob's files are out of reach: the name is looked up in alice's tree.
	_, err = c.List(ctx, "bob/Documents")
	assert.ErrorContains(t, err, `Folder "bob/Documents" not found`)
}

// TestFakeReadLimit: a file above the limit is refused before its
// download, at the limit read.
func TestFakeReadLimit(t *testing.T) {
	srv := nctest.Start(t)
	require.NoError(t, srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: "alice", Path: "big.txt", Content: strings.Repeat("x", 1000)}}}))
	c := alice(t, srv)
	ctx := context.Background()

	_, err := c.Read(ctx, "big.txt", 999)
	var tl *files.TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, `file "big.txt" is 1000 bytes, more than the read limit of 999 bytes`, err.Error())
	for _, e := range srv.RequestLog() {
		assert.False(t, e.Method == http.MethodGet && strings.HasPrefix(e.Path, "/remote.php/dav/files/"), "a file known to be too large was downloaded")
	}
	f, err := c.Read(ctx, "big.txt", 1000)
	require.NoError(t, err)
	assert.Len(t, f.Data, 1000)
}

// TestFakeReadLimitFileGrew: a file that grew past the limit between the
// PROPFIND and the GET is refused by the GET's Content-Length, before its
// body is read.
func TestFakeReadLimitFileGrew(t *testing.T) {
	cfg := fakenc.DefaultConfig()
	fake, err := fakenc.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = fake.Close() })
	grow := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/grows.txt") {
			assert.NoError(t, fake.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: "alice", Path: "grows.txt", Content: strings.Repeat("g", 5000)}}}))
		}
		fake.ServeHTTP(w, r)
	}
	hs := httptest.NewServer(http.HandlerFunc(grow))
	t.Cleanup(hs.Close)
	require.NoError(t, fake.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: "alice", Path: "grows.txt", Content: "small"}}}))
	c := alice(t, &nctest.Server{Nextcloud: fake, URL: hs.URL, HTTP: hs})
	_, err = c.Read(context.Background(), "grows.txt", 1000)
	assert.EqualError(t, err, `file "grows.txt" is 4.9 KiB, more than the read limit of 1000 bytes`)
}

func TestFakeWriteConditions(t *testing.T) {
	srv := nctest.Start(t)
	c := alice(t, srv)
	ctx := context.Background()

	res, err := c.Write(ctx, "Documents/new.md", []byte("one"), files.WriteOptions{CreateOnly: true, ContentType: "text/markdown"})
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.Equal(t, 0, res.Chunks)
	assert.Equal(t, "Documents/new.md", res.Info.Path)
	assert.Equal(t, int64(3), res.Info.Size)
	first := res.Info.ETag

	_, err = c.Write(ctx, "Documents/new.md", []byte("clobber"), files.WriteOptions{CreateOnly: true})
	var exists *files.ExistsError
	assert.ErrorAs(t, err, &exists)
	got, _ := content(t, srv, "Documents/new.md")
	assert.Equal(t, "one", got, "create-only overwrote the file")

	res, err = c.Write(ctx, "Documents/new.md", []byte("two"), files.WriteOptions{IfMatch: first})
	require.NoError(t, err)
	assert.False(t, res.Created)
	assert.NotEqual(t, first, res.Info.ETag)

	_, err = c.Write(ctx, "Documents/new.md", []byte("stale"), files.WriteOptions{IfMatch: first})
	var stale *files.StaleError
	require.ErrorAs(t, err, &stale)
	assert.Contains(t, err.Error(), `file "Documents/new.md" changed since you read it`)
	got, _ = content(t, srv, "Documents/new.md")
	assert.Equal(t, "two", got, "a stale write changed the file")

	_, err = c.Write(ctx, "Missing/x.md", []byte("x"), files.WriteOptions{})
	assert.ErrorContains(t, err, `the folder "Missing" does not exist`)
	_, err = c.Write(ctx, "Documents/new.md", []byte("x"), files.WriteOptions{IfMatch: "e", CreateOnly: true})
	assert.ErrorContains(t, err, "exclude each other")
}

func TestFakeFoldersMoveCopyDelete(t *testing.T) {
	srv := nctest.Start(t)
	c := alice(t, srv)
	ctx := context.Background()

	dir, err := c.Mkdir(ctx, "Projects")
	require.NoError(t, err)
	assert.True(t, dir.IsDir)
	_, err = c.Mkdir(ctx, "Projects")
	assert.EqualError(t, err, `Path "Projects" already exists`)
	_, err = c.Mkdir(ctx, "No/Such/Parent")
	assert.ErrorContains(t, err, `its parent folder "No/Such" does not exist`)

	cp, err := c.Copy(ctx, "Readme.md", "Projects/Readme.md", false)
	require.NoError(t, err)
	assert.False(t, cp.Overwritten)
	_, err = c.Copy(ctx, "Documents/todo.txt", "Projects/Readme.md", false)
	assert.EqualError(t, err, `cannot copy "Documents/todo.txt": destination "Projects/Readme.md" already exists; pass overwrite=true to replace it`)
	got, _ := content(t, srv, "Projects/Readme.md")
	assert.Contains(t, got, "Welcome", "a refused copy changed the destination")
	cp, err = c.Copy(ctx, "Documents/todo.txt", "Projects/Readme.md", true)
	require.NoError(t, err)
	assert.True(t, cp.Overwritten)

	mv, err := c.Move(ctx, "Projects/Readme.md", "Projects/todo-copy.txt", false)
	require.NoError(t, err)
	assert.Equal(t, "Projects/todo-copy.txt", mv.Info.Path)
	_, err = c.Move(ctx, "Projects/todo-copy.txt", "Readme.md", false)
	assert.ErrorContains(t, err, `destination "Readme.md" already exists`)
	_, err = c.Move(ctx, "Projects/gone.txt", "x.txt", false)
	assert.EqualError(t, err, `cannot move "Projects/gone.txt": source path "Projects/gone.txt" not found`)
	_, err = c.Move(ctx, "Readme.md", "No/Folder/x.md", false)
	assert.ErrorContains(t, err, `the destination folder "No/Folder" does not exist`)

	require.NoError(t, c.Delete(ctx, "Projects"))
	_, ok := content(t, srv, "Projects/todo-copy.txt")
	assert.False(t, ok)
	assert.ErrorContains(t, c.Delete(ctx, "Projects"), `Path "Projects" not found`)
	assert.ErrorContains(t, c.Delete(ctx, "/"), "refusing to delete the root")
}

func TestFakeSearch(t *testing.T) {
	srv := nctest.Start(t)
	require.NoError(t, srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{
		{Owner: "alice", Path: "Photos/cat.png", Content: "PNG", Favorite: true},
		{Owner: "alice", Path: "Photos/dog.jpg", Content: "JPG"},
		{Owner: "bob", Path: "Documents/bob-report.md", Content: "bob's"},
	}}))
	c := alice(t, srv)
	ctx := context.Background()
	paths := func(r *files.SearchResult) []string {
		var out []string
		for _, fi := range r.Results {
			out = append(out, fi.Path)
		}
		return out
	}
	tests := []struct {
		name          string
		q             files.Query
		want          []string
		wantTruncated bool
	}{
		{name: "name pattern", q: files.Query{NamePattern: "%report%"}, want: []string{"Documents/report.md"}},
		{name: "mime prefix", q: files.Query{MIMEType: "image/"}, want: []string{"Photos/cat.png", "Photos/dog.jpg"}},
		{name: "exact mime", q: files.Query{MIMEType: "image/png"}, want: []string{"Photos/cat.png"}},
		{name: "favourites", q: files.Query{Favorites: true}, want: []string{"Documents/report.md", "Notes/Personal/Shopping list.md", "Photos/cat.png"}},
		{name: "favourites in scope", q: files.Query{Favorites: true, Scope: "Photos"}, want: []string{"Photos/cat.png"}},
		{name: "two conditions", q: files.Query{MIMEType: "image/", NamePattern: "d%"}, want: []string{"Photos/dog.jpg"}},
		{name: "everything in scope", q: files.Query{Scope: "Documents"}, want: []string{"Documents/report.md", "Documents/todo.txt"}},
		{name: "limit", q: files.Query{MIMEType: "image/", Limit: 1}, wantTruncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Search(ctx, tt.q)
			require.NoError(t, err)
			if tt.want != nil {
				assert.ElementsMatch(t, tt.want, paths(r))
			} else {
				assert.Len(t, r.Results, 1)
			}
			assert.Equal(t, tt.wantTruncated, r.Truncated)
		})
	}
	_, err := c.Search(ctx, files.Query{Scope: "Nope"})
	assert.ErrorContains(t, err, `Folder "Nope" not found`)
	_, err = c.Search(ctx, files.Query{Limit: 501})
	assert.ErrorContains(t, err, "limit must be between 1 and 500")
}

// TestFakeChunkedUpload: content above the chunk size goes up with
// chunked upload v2 — MKCOL with Destination, numbered chunks of the chunk
// size, MOVE of .file with OC-Total-Length — and arrives whole.
func TestFakeChunkedUpload(t *testing.T) {
	srv := nctest.Start(t)
	c := alice(t, srv)
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), (12<<20)/16+3) // 12 MiB + 48 bytes: three chunks of 5 MiB
	var progress [][2]int64
	res, err := c.Write(ctx, "Documents/big.bin", data, files.WriteOptions{ChunkSize: files.MinChunkSize,
		Progress: func(sent, total int64) { progress = append(progress, [2]int64{sent, total}) }})
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.Equal(t, 3, res.Chunks)
	assert.Equal(t, int64(len(data)), res.Info.Size)
	total := int64(len(data))
	assert.Equal(t, [][2]int64{{5 << 20, total}, {10 << 20, total}, {total, total}}, progress)

	var methods []string
	for _, e := range srv.RequestLog() {
		if strings.Contains(e.Path, "/uploads/") {
			methods = append(methods, e.Method+" "+e.Path[strings.LastIndex(e.Path, "/")+1:])
			assert.Less(t, e.Status, 300, "%s %s", e.Method, e.Path)
		}
	}
	require.Len(t, methods, 5, "%v", methods)
	assert.True(t, strings.HasPrefix(methods[0], "MKCOL nextcloud-mcp-"))
	assert.Equal(t, []string{"PUT 1", "PUT 2", "PUT 3", "MOVE .file"}, methods[1:])

	got, ok := content(t, srv, "Documents/big.bin")
	require.True(t, ok)
	assert.True(t, bytes.Equal(data, []byte(got)), "the assembled file differs")
	assert.Empty(t, openUploads(t, srv), "the upload folder was left behind")
}

// TestFakeChunkedUploadFailures: a chunked upload that fails — a stale
// If-Match on the assembly, a create-only target that exists, a chunk
// Nextcloud keeps refusing — leaves the target as it was and no upload
// folder behind.
func TestFakeChunkedUploadFailures(t *testing.T) {
	data := bytes.Repeat([]byte{0xAB}, 6<<20)
	tests := []struct {
		name    string
		prepare func(t *testing.T, srv *nctest.Server) files.WriteOptions
		wantErr error
		wantMsg string
	}{
		{name: "stale if-match on the assembly", wantErr: &files.StaleError{}, wantMsg: "changed since you read it",
			prepare: func(*testing.T, *nctest.Server) files.WriteOptions { return files.WriteOptions{IfMatch: "an-old-etag"} }},
		{name: "create-only onto an existing file", wantErr: &files.ExistsError{}, wantMsg: "already exists",
			prepare: func(*testing.T, *nctest.Server) files.WriteOptions { return files.WriteOptions{CreateOnly: true} }},
		{name: "a chunk refused", wantMsg: "HTTP 500",
			prepare: func(_ *testing.T, srv *nctest.Server) files.WriteOptions {
				srv.InjectFault(fakenc.Fault{Pattern: "/remote.php/dav/uploads/alice/*/2", Method: http.MethodPut, Status: http.StatusInternalServerError, Count: 10})
				return files.WriteOptions{}
			}},
		{name: "the caller gives up", wantMsg: "canceled",
			prepare: func(_ *testing.T, srv *nctest.Server) files.WriteOptions {
				srv.InjectFault(fakenc.Fault{Pattern: "/remote.php/dav/uploads/alice/*/2", Method: http.MethodPut, Delay: 2 * time.Second})
				return files.WriteOptions{}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := nctest.Start(t)
			c := alice(t, srv)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := tt.prepare(t, srv)
			o.ChunkSize = files.MinChunkSize
			if tt.name == "the caller gives up" {
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			_, err := c.Write(ctx, "Readme.md", data, o)
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.IsType(t, tt.wantErr, errorsAs(err, tt.wantErr))
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
			got, _ := content(t, srv, "Readme.md")
			assert.Equal(t, "# Welcome\n\nThis is alice's fake Nextcloud.\n", got, "the target changed")
			srv.ClearFaults()
			assert.Empty(t, openUploads(t, srv), "the upload folder was left behind")
			deleted := false
			for _, e := range srv.RequestLog() {
				deleted = deleted || e.Method == http.MethodDelete && strings.Contains(e.Path, "/uploads/alice/nextcloud-mcp-")
			}
			assert.True(t, deleted, "the upload folder was not deleted")
		})
	}
}

// errorsAs returns the error of target's type in err's chain, or nil.
func errorsAs(err, target error) error {
	switch target.(type) {
	case *files.StaleError:
		var s *files.StaleError
		if errors.As(err, &s) {
			return s
		}
	case *files.ExistsError:
		var e *files.ExistsError
		if errors.As(err, &e) {
			return e
		}
	}
	return nil
}
