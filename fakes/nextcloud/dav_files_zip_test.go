package nextcloud_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

const srcZip = "nextcloud/server apps/dav/lib/Connector/Sabre/ZipFolderPlugin.php handleDownload"

// zipEntries reads an archive: name → content ("" for directories).
func zipEntries(t *testing.T, body []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err, "the body is a zip archive")
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		_ = rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestZipFolderDownload(t *testing.T) {
	t.Logf("source: %s", srcZip)
	s := nctest.Start(t)
	require.Equal(t, http.StatusCreated, do(t, s, "MKCOL", "/remote.php/dav/files/alice/Documents/sub", "", asUser("alice")).status)
	require.Equal(t, http.StatusCreated, do(t, s, http.MethodPut, "/remote.php/dav/files/alice/Documents/sub/x.txt", "deep", asUser("alice")).status)
	report := string(get(t, s, "alice", "Documents/report.md").body)

	cases := []struct {
		name        string
		path        string
		opts        []reqOpt
		disposition string
		entries     []string
		check       func(t *testing.T, e map[string]string)
	}{
		{name: "Accept: application/zip", path: "Documents", opts: []reqOpt{hdr("Accept", "application/zip")},
			disposition: `attachment; filename="Documents.zip"`,
			entries:     []string{"Documents/", "Documents/report.md", "Documents/sub/", "Documents/sub/x.txt", "Documents/todo.txt"},
			check: func(t *testing.T, e map[string]string) {
				assert.Equal(t, report, e["Documents/report.md"])
				assert.Equal(t, "deep", e["Documents/sub/x.txt"])
			}},
		{name: "accept=zip query", path: "Documents?accept=zip", disposition: `attachment; filename="Documents.zip"`,
			entries: []string{"Documents/", "Documents/report.md", "Documents/sub/", "Documents/sub/x.txt", "Documents/todo.txt"}},
		{name: "files filter", path: "Documents?accept=zip&files=" + url.QueryEscape(`["sub/x.txt","todo.txt"]`),
			disposition: `attachment; filename="Documents.zip"`, entries: []string{"sub/x.txt", "todo.txt"}},
		{name: "X-NC-Files header", path: "Documents", opts: []reqOpt{hdr("Accept", "zip"), hdr("X-NC-Files", "sub")},
			disposition: `attachment; filename="Documents.zip"`, entries: []string{"sub/", "sub/x.txt"}},
		{name: "the home is download.zip", path: "?accept=zip", disposition: `attachment; filename="download.zip"`,
			check: func(t *testing.T, e map[string]string) {
				assert.Contains(t, e, "download/")
				assert.Contains(t, e, "files/Readme.md", "children are named below the home's own name")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, s, http.MethodGet, "/remote.php/dav/files/alice/"+c.path, "", append([]reqOpt{asUser("alice")}, c.opts...)...)
			require.Equal(t, http.StatusOK, r.status, r.String())
			assert.Equal(t, "application/zip", r.header.Get("Content-Type"))
			assert.Equal(t, c.disposition, r.header.Get("Content-Disposition"))
			e := zipEntries(t, r.body)
			if c.entries != nil {
				assert.Equal(t, c.entries, keys(e))
			}
			if c.check != nil {
				c.check(t, e)
			}
		})
	}

	t.Run("without zip in Accept, the dummy page", func(t *testing.T) {
		for _, accept := range []string{"", "application/zip, */*", "application/x-tar"} {
			r := do(t, s, http.MethodGet, "/remote.php/dav/files/alice/Documents", "", asUser("alice"), hdr("Accept", accept))
			assert.Equal(t, http.StatusOK, r.status)
			assert.Contains(t, string(r.body), "This is the WebDAV interface.", accept)
		}
	})
	t.Run("a non-string filter falls back to sabre", func(t *testing.T) {
		r := do(t, s, http.MethodGet, "/remote.php/dav/files/alice/Documents?accept=zip&files=[1]", "", asUser("alice"))
		assert.Contains(t, string(r.body), "This is the WebDAV interface.")
	})
	t.Run("a file is not zipped", func(t *testing.T) {
		r := do(t, s, http.MethodGet, "/remote.php/dav/files/alice/Documents/todo.txt", "", asUser("alice"), hdr("Accept", "application/zip"))
		assert.Equal(t, http.StatusOK, r.status)
		assert.NotEqual(t, "application/zip", r.header.Get("Content-Type"))
	})
	t.Run("HEAD is not zipped", func(t *testing.T) {
		r := do(t, s, http.MethodHead, "/remote.php/dav/files/alice/Documents", "", asUser("alice"), hdr("Accept", "application/zip"))
		assert.Equal(t, "text/html; charset=UTF-8", r.header.Get("Content-Type"))
	})
	t.Run("a missing filtered child", func(t *testing.T) {
		r := do(t, s, http.MethodGet, "/remote.php/dav/files/alice/Documents?accept=zip&files="+url.QueryEscape(`["nope"]`), "", asUser("alice"))
		assert.Equal(t, http.StatusNotFound, r.status)
	})
}
