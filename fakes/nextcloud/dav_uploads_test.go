package nextcloud_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

// Sources of the chunked upload behaviour these tests pin.
const (
	srcChunking   = "nextcloud/server apps/dav/lib/Upload/ChunkingPlugin.php (verifySize, performMove)"
	srcChunkingV2 = "nextcloud/server apps/dav/lib/Upload/ChunkingV2Plugin.php (beforePut chunk names, beforeGet)"
	srcUploadHome = "nextcloud/server apps/dav/lib/Upload/{RootCollection,UploadHome,UploadFolder,FutureFile}.php"
	srcCleanup    = "nextcloud/server apps/dav/lib/BackgroundJob/UploadCleanup.php (24 h)"
)

const uploadsBase = "/remote.php/dav/uploads/"

// payload is n deterministic pseudo-random bytes.
func payload(seed int64, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func sha1hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

// doBytes sends a binary body.
func doBytes(t testing.TB, s *nctest.Server, method, path string, body []byte, opts ...reqOpt) *resp {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	for _, o := range opts {
		o(req)
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(res.Body)
	require.NoError(t, err)
	return &resp{status: res.StatusCode, header: res.Header, body: buf.Bytes()}
}

// chunkedUpload drives one upload as a v2 client (rclone's
// backend/webdav/chunking.go, Nextcloud's own clients) does.
type chunkedUpload struct {
	t    testing.TB
	s    *nctest.Server
	user string
	id   string
	dest string // full Destination URL; "" for a v1 upload
}

func newUpload(t testing.TB, s *nctest.Server, user, id, target string) *chunkedUpload {
	u := &chunkedUpload{t: t, s: s, user: user, id: id}
	if target != "" {
		u.dest = s.URL + "/remote.php/dav/files/" + user + "/" + target
	}
	return u
}

func (u *chunkedUpload) path() string { return uploadsBase + u.user + "/" + u.id }

func (u *chunkedUpload) opts(extra ...reqOpt) []reqOpt {
	o := []reqOpt{asUser(u.user)}
	if u.dest != "" {
		o = append(o, hdr("Destination", u.dest))
	}
	return append(o, extra...)
}

func (u *chunkedUpload) mkcol() *resp {
	u.t.Helper()
	return do(u.t, u.s, "MKCOL", u.path(), "", u.opts()...)
}

func (u *chunkedUpload) put(name string, b []byte) *resp {
	u.t.Helper()
	return doBytes(u.t, u.s, http.MethodPut, u.path()+"/"+name, b, u.opts()...)
}

func (u *chunkedUpload) move(extra ...reqOpt) *resp {
	u.t.Helper()
	return do(u.t, u.s, "MOVE", u.path()+"/.file", "", u.opts(extra...)...)
}

func get(t testing.TB, s *nctest.Server, user, path string) *resp {
	t.Helper()
	return do(t, s, http.MethodGet, "/remote.php/dav/files/"+user+"/"+path, "", asUser(user))
}

func TestChunkedUploadV2(t *testing.T) {
	s := nctest.Start(t)
	content := payload(1, 3*1024*1024+517)
	parts := [][]byte{content[:1<<20], content[1<<20 : 2<<20], content[2<<20 : 3<<20], content[3<<20:]}
	up := newUpload(t, s, "alice", "rclone-chunked-upload-1", "Documents/big.bin")

	r := up.mkcol()
	require.Equal(t, http.StatusCreated, r.status, srcUploadHome+": %s", r)

	// Out of order on purpose: chunks are assembled by name, not arrival.
	for _, i := range []int{2, 0, 3, 1} {
		r = up.put(strconv.Itoa(i+1), parts[i])
		require.Equal(t, http.StatusCreated, r.status, srcChunkingV2+": chunk %d: %s", i+1, r)
	}

	r = do(t, s, "PROPFIND", up.path(), "", asUser("alice"), hdr("Depth", "1"))
	require.Equal(t, http.StatusMultiStatus, r.status, r.String())
	for _, name := range []string{".file", "1", "2", "3", "4"} {
		assert.Contains(t, string(r.body), "<d:href>"+up.path()+"/"+name+"</d:href>", "PROPFIND of the upload folder lists .file and every chunk")
	}
	assert.Contains(t, string(r.body), "<d:getcontentlength>"+strconv.Itoa(len(content))+"</d:getcontentlength>", ".file's size is the chunks' sum (FutureFile::getSize)")
	assert.Contains(t, string(r.body), "<d:getcontentlength>517</d:getcontentlength>", "the last chunk's size")

	sum := sha1hex(content)
	r = up.move(hdr("OC-Total-Length", strconv.Itoa(len(content))), hdr("OC-Checksum", "SHA1:"+sum), hdr("X-OC-MTime", "1700000000"))
	require.Equal(t, http.StatusCreated, r.status, srcChunking+": %s", r)
	assert.Equal(t, "accepted", r.header.Get("X-OC-MTime"))
	assert.NotEmpty(t, r.header.Get("OC-FileId"), "FilesPlugin sends OC-FileId on afterBind")
	assert.Equal(t, r.header.Get("ETag"), r.header.Get("OC-ETag"), "CopyEtagHeaderPlugin::afterMove")
	require.NotEmpty(t, r.header.Get("ETag"))
	fileID := r.header.Get("OC-FileId")

	g := get(t, s, "alice", "Documents/big.bin")
	require.Equal(t, http.StatusOK, g.status)
	assert.True(t, bytes.Equal(content, g.body), "the assembled file is the chunks in order")
	assert.Equal(t, "SHA1:"+sum, g.header.Get("OC-Checksum"), "the MOVE's OC-Checksum is stored (File::put)")
	assert.Equal(t, "Tue, 14 Nov 2023 22:13:20 GMT", g.header.Get("Last-Modified"), "X-OC-MTime applies to the target")

	r = do(t, s, "PROPFIND", up.path(), "", asUser("alice"), hdr("Depth", "0"))
	assert.Equal(t, http.StatusNotFound, r.status, "the upload folder is gone after the assembly")

	// A second upload to the same target replaces it and keeps its file id.
	up2 := newUpload(t, s, "alice", "rclone-chunked-upload-2", "Documents/big.bin")
	require.Equal(t, http.StatusCreated, up2.mkcol().status)
	require.Equal(t, http.StatusCreated, up2.put("1", []byte("small")).status)
	r = up2.move(hdr("OC-Total-Length", "5"))
	require.Equal(t, http.StatusNoContent, r.status, srcChunking+" performMove: 204 when the target existed: %s", r)
	assert.Equal(t, fileID, r.header.Get("OC-FileId"), "overwriting keeps the file id")
	g = get(t, s, "alice", "Documents/big.bin")
	assert.Equal(t, "small", string(g.body))
	assert.Empty(t, g.header.Get("OC-Checksum"), "an assembly without OC-Checksum clears the old one")
}

func TestChunkedUploadV1(t *testing.T) {
	s := nctest.Start(t)
	up := newUpload(t, s, "alice", "web-1234", "")
	require.Equal(t, http.StatusCreated, up.mkcol().status)
	// v1 names are free; AssemblyStream sorts them with strnatcmp.
	for _, c := range []struct{ name, data string }{{"part-10", "K"}, {"part-9", "J"}, {"part-1", "A"}, {"part-2", "B"}} {
		require.Equal(t, http.StatusCreated, up.put(c.name, []byte(c.data)).status)
	}
	r := up.put("part-2", []byte("b"))
	assert.Equal(t, http.StatusNoContent, r.status, "v1: replacing a chunk is File::put on an existing file")
	r = up.move(hdr("Destination", s.URL+"/remote.php/dav/files/alice/v1.txt"), hdr("OC-Total-Length", "4"))
	require.Equal(t, http.StatusCreated, r.status, r.String())
	assert.Equal(t, "AbJK", string(get(t, s, "alice", "v1.txt").body), "natural order: part-1, part-2, part-9, part-10")
}

func TestChunkedUploadErrors(t *testing.T) {
	type tc struct {
		name   string
		source string
		run    func(t *testing.T, s *nctest.Server)
	}
	errBody := func(exception, message string) string {
		return "<s:exception>" + exception + "</s:exception>\n  <s:message>" + message + "</s:message>"
	}
	assertNoFile := func(t *testing.T, s *nctest.Server, path string) {
		t.Helper()
		assert.Equal(t, http.StatusNotFound, get(t, s, "alice", path).status, "no partial target file")
	}
	cases := []tc{
		{"wrong OC-Total-Length", srcChunking + " verifySize", func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u1", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("12345")).status)
			r := up.move(hdr("OC-Total-Length", "6"))
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Contains(t, string(r.body), errBody(`Sabre\DAV\Exception\BadRequest`, "Chunks on server do not sum up to 6 but to 5 bytes"))
			assert.Equal(t, "application/xml; charset=utf-8", r.header.Get("Content-Type"))
			assertNoFile(t, s, "t.bin")
			assert.Equal(t, http.StatusMultiStatus, do(t, s, "PROPFIND", up.path(), "", asUser("alice"), hdr("Depth", "0")).status,
				"a BadRequest keeps the upload folder")
		}},
		{"missing chunk, then completed", srcChunking, func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u2", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("aaa")).status)
			require.Equal(t, http.StatusCreated, up.put("3", []byte("ccc")).status)
			r := up.move(hdr("OC-Total-Length", "9"))
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Contains(t, string(r.body), "Chunks on server do not sum up to 9 but to 6 bytes")
			assertNoFile(t, s, "t.bin")
			require.Equal(t, http.StatusCreated, up.put("2", []byte("bbb")).status)
			r = up.move(hdr("OC-Total-Length", "9"))
			require.Equal(t, http.StatusCreated, r.status, r.String())
			assert.Equal(t, "aaabbbccc", string(get(t, s, "alice", "t.bin").body))
		}},
		{"v2 chunk names must be 1…10000", srcChunkingV2, func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u3", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			for _, name := range []string{"0", "10001", "abc", "-1"} {
				r := up.put(name, []byte("x"))
				assert.Equal(t, http.StatusBadRequest, r.status, name)
				assert.Contains(t, string(r.body), errBody(`Sabre\DAV\Exception\BadRequest`, "Invalid chunk name, must be numeric between 1 and 10000"), name)
			}
			assert.Equal(t, http.StatusCreated, up.put("10000", []byte("x")).status)
		}},
		{"another user's upload is not reachable", srcUploadHome + " (the home is the session user's)", func(t *testing.T, s *nctest.Server) {
			bobs := newUpload(t, s, "bob", "bobs-upload", "b.bin")
			require.Equal(t, http.StatusCreated, bobs.mkcol().status)
			require.Equal(t, http.StatusCreated, bobs.put("1", []byte("bob")).status)
			p := bobs.path()
			assert.Equal(t, http.StatusNotFound, do(t, s, "PROPFIND", p, "", asUser("alice"), hdr("Depth", "1")).status)
			r := doBytes(t, s, http.MethodPut, p+"/2", []byte("alice"), asUser("alice"))
			assert.Equal(t, http.StatusConflict, r.status, r.String())
			r = do(t, s, "MOVE", p+"/.file", "", asUser("alice"), hdr("Destination", s.URL+"/remote.php/dav/files/alice/stolen"))
			assert.Equal(t, http.StatusNotFound, r.status)
			assert.Equal(t, http.StatusNotFound, do(t, s, http.MethodDelete, p, "", asUser("alice")).status)
			assertNoFile(t, s, "stolen")
			r = bobs.move(hdr("OC-Total-Length", "3"))
			require.Equal(t, http.StatusCreated, r.status, "bob's upload is untouched: %s", r)
			assert.Equal(t, "bob", string(get(t, s, "bob", "b.bin").body))
		}},
		{"unknown principal", srcUploadHome + " AbstractPrincipalCollection::getChild", func(t *testing.T, s *nctest.Server) {
			r := do(t, s, "MKCOL", uploadsBase+"nobody/x", "", asUser("alice"))
			assert.Equal(t, http.StatusConflict, r.status, "MKCOL: the parent is missing")
			r = do(t, s, "PROPFIND", uploadsBase+"nobody/", "", asUser("alice"), hdr("Depth", "0"))
			assert.Equal(t, http.StatusNotFound, r.status)
			assert.Contains(t, string(r.body), "Principal with name nobody not found")
		}},
		{"DELETE aborts", srcUploadHome + " UploadFolder::delete", func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u4", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("abc")).status)
			assert.Equal(t, http.StatusNoContent, do(t, s, http.MethodDelete, up.path(), "", asUser("alice")).status)
			assert.Equal(t, http.StatusConflict, up.put("2", []byte("x")).status, "no folder to put chunks in")
			assert.Equal(t, http.StatusNotFound, up.move().status)
			assertNoFile(t, s, "t.bin")
		}},
		{"If-Match on the assembly guards the destination", "NextcloudKit uploadChunkAsync ifMatch; " + srcServer + " checkPreconditions", func(t *testing.T, s *nctest.Server) {
			r := do(t, s, http.MethodPut, "/remote.php/dav/files/alice/t.txt", "old", asUser("alice"))
			require.Equal(t, http.StatusCreated, r.status)
			etag := r.header.Get("ETag")
			up := newUpload(t, s, "alice", "u5", "t.txt")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("new")).status)
			r = up.move(hdr("If-Match", `"stale"`))
			assert.Equal(t, http.StatusPreconditionFailed, r.status)
			assert.Contains(t, string(r.body), "An If-Match header was specified, but none of the specified ETags matched.")
			assert.Equal(t, etag, r.header.Get("ETag"), "the 412 names the destination's ETag")
			r = up.move(hdr("If-None-Match", "*"))
			assert.Equal(t, http.StatusPreconditionFailed, r.status, "the destination exists")
			assert.Equal(t, "old", string(get(t, s, "alice", "t.txt").body), "a failed precondition leaves the target alone")
			r = up.move(hdr("If-Match", etag))
			require.Equal(t, http.StatusNoContent, r.status, r.String())
			assert.Equal(t, "new", string(get(t, s, "alice", "t.txt").body))
		}},
		{"tagged If header on the destination", srcServer + " checkIfHeader", func(t *testing.T, s *nctest.Server) {
			r := do(t, s, http.MethodPut, "/remote.php/dav/files/alice/t.txt", "old", asUser("alice"))
			require.Equal(t, http.StatusCreated, r.status)
			etag := r.header.Get("ETag")
			up := newUpload(t, s, "alice", "u5b", "t.txt")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("new")).status)
			r = up.move(hdr("If", "<"+up.dest+`> (["stale"])`))
			assert.Equal(t, http.StatusPreconditionFailed, r.status, r.String())
			assert.Equal(t, "old", string(get(t, s, "alice", "t.txt").body))
			r = up.move(hdr("If", "<"+up.dest+"> (["+etag+"])"))
			assert.Equal(t, http.StatusNoContent, r.status, r.String())
			assert.Equal(t, "new", string(get(t, s, "alice", "t.txt").body))
		}},
		{"If-Match on a missing destination, If-None-Match * on a new one", srcServer + " checkPreconditions", func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u6", "fresh.txt")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("x")).status)
			r := up.move(hdr("If-Match", "*"))
			assert.Equal(t, http.StatusPreconditionFailed, r.status)
			assert.Contains(t, string(r.body), "An If-Match header was specified and the resource did not exist")
			assertNoFile(t, s, "fresh.txt")
			assert.Equal(t, http.StatusCreated, up.move(hdr("If-None-Match", "*")).status)
		}},
		{"destination is a folder", srcChunking + " beforeMove", func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u7", "Documents")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("x")).status)
			r := up.move()
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Contains(t, string(r.body), "The given destination files/alice/Documents is a directory.")
		}},
		{"destination parent missing", srcServer + " getCopyAndMoveInfo", func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u8", "nope/t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("x")).status)
			r := up.move()
			assert.Equal(t, http.StatusConflict, r.status)
			assert.Contains(t, string(r.body), "The destination node is not found")
			assert.Equal(t, http.StatusNotFound, get(t, s, "alice", "nope/t.bin").status)
		}},
		{"chunks cannot be read", srcChunkingV2 + " beforeGet", func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u9", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("x")).status)
			for _, p := range []string{"/1", "/.file"} {
				r := do(t, s, http.MethodGet, up.path()+p, "", asUser("alice"))
				assert.Equal(t, http.StatusMethodNotAllowed, r.status, p)
				assert.Contains(t, string(r.body), "Reading intermediate uploads is not allowed", p)
			}
			r := doBytes(t, s, http.MethodPut, up.path()+"/.file", []byte("x"), asUser("alice"))
			assert.Equal(t, http.StatusForbidden, r.status, "FutureFile::put")
			assert.Contains(t, string(r.body), "Permission denied to put into this file")
		}},
		{"upload homes are not listed", srcUploadHome + " getChildren", func(t *testing.T, s *nctest.Server) {
			for _, p := range []string{uploadsBase, uploadsBase + "alice/"} {
				r := do(t, s, "PROPFIND", p, "", asUser("alice"), hdr("Depth", "1"))
				assert.Equal(t, http.StatusMethodNotAllowed, r.status, p)
				assert.Contains(t, string(r.body), "Listing members of this collection is disabled", p)
				assert.Equal(t, http.StatusMultiStatus, do(t, s, "PROPFIND", p, "", asUser("alice"), hdr("Depth", "0")).status, p)
			}
		}},
		{"MKCOL twice, MKCOL inside an upload", srcUploadHome, func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u10", "")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			assert.Equal(t, http.StatusMethodNotAllowed, up.mkcol().status)
			r := do(t, s, "MKCOL", up.path()+"/sub", "", asUser("alice"))
			assert.Equal(t, http.StatusForbidden, r.status)
			assert.Contains(t, string(r.body), "Permission denied to create file (filename sub)")
		}},
		{"no permission on the destination: 403, the upload is deleted", srcChunking + " performMove (Forbidden deletes the FutureFile)", func(t *testing.T, s *nctest.Server) {
			form := hdr("Content-Type", "application/x-www-form-urlencoded")
			r := do(t, s, http.MethodPost, "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json",
				"path=/Documents&shareType=0&shareWith=bob&permissions=1", asUser("alice"), ocsHeader(), form)
			require.Equal(t, http.StatusOK, r.status, r.String())
			up := newUpload(t, s, "bob", "into-read-only", "Documents%20(2)/new.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("x")).status)
			r = up.move()
			assert.Equal(t, http.StatusForbidden, r.status, r.String())
			assert.Contains(t, string(r.body), "Permission denied to create file (filename new.bin)")
			assert.Equal(t, http.StatusNotFound, do(t, s, "PROPFIND", up.path(), "", asUser("bob"), hdr("Depth", "0")).status)
			assert.Equal(t, http.StatusNotFound, get(t, s, "alice", "Documents/new.bin").status)
		}},
		{"bad X-OC-MTime on the assembly", "nextcloud/server apps/dav/lib/Connector/Sabre/MtimeSanitizer.php", func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u11", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("x")).status)
			r := up.move(hdr("X-OC-MTime", "yesterday"))
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Contains(t, string(r.body), "X-OC-MTime header must be an integer (unix timestamp).")
			assertNoFile(t, s, "t.bin")
		}},
		{"DELETE of a chunk, of .file, of the upload home", srcUploadHome + " UploadFile/FutureFile/UploadHome::delete", func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "u12", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("aa")).status)
			require.Equal(t, http.StatusCreated, up.put("2", []byte("bb")).status)
			assert.Equal(t, http.StatusNoContent, do(t, s, http.MethodDelete, up.path()+"/2", "", asUser("alice")).status)
			r := up.move(hdr("OC-Total-Length", "2"))
			require.Equal(t, http.StatusCreated, r.status, "the deleted chunk is not assembled: %s", r)
			assert.Equal(t, "aa", string(get(t, s, "alice", "t.bin").body))

			other := newUpload(t, s, "alice", "u13", "")
			require.Equal(t, http.StatusCreated, other.mkcol().status)
			assert.Equal(t, http.StatusNoContent, do(t, s, http.MethodDelete, other.path()+"/.file", "", asUser("alice")).status)
			assert.Equal(t, http.StatusNotFound, do(t, s, "PROPFIND", other.path(), "", asUser("alice"), hdr("Depth", "0")).status,
				"deleting .file deletes the whole upload folder")

			a, b := newUpload(t, s, "alice", "u14", ""), newUpload(t, s, "alice", "u15", "")
			require.Equal(t, http.StatusCreated, a.mkcol().status)
			require.Equal(t, http.StatusCreated, b.mkcol().status)
			assert.Equal(t, http.StatusNoContent, do(t, s, http.MethodDelete, uploadsBase+"alice/", "", asUser("alice")).status)
			assert.Equal(t, http.StatusNotFound, do(t, s, "PROPFIND", a.path(), "", asUser("alice"), hdr("Depth", "0")).status)
			assert.Equal(t, http.StatusNotFound, do(t, s, "PROPFIND", b.path(), "", asUser("alice"), hdr("Depth", "0")).status)
		}},
		{"anonymous", srcSabreAuth, func(t *testing.T, s *nctest.Server) {
			assert.Equal(t, http.StatusUnauthorized, do(t, s, "MKCOL", uploadsBase+"alice/x", "").status)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Logf("source: %s", c.source)
			c.run(t, nctest.Start(t))
		})
	}
}

func TestChunkedUploadExpiry(t *testing.T) {
	var mu sync.Mutex
	clock := time.Unix(1_800_000_000, 0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	s := nctest.Start(t, func(c *nextcloud.Config) { c.Now = now; c.UploadExpiry = time.Hour })
	t.Logf("source: %s", srcCleanup)

	up := newUpload(t, s, "alice", "slow", "t.bin")
	require.Equal(t, http.StatusCreated, up.mkcol().status)
	advance(50 * time.Minute)
	require.Equal(t, http.StatusCreated, up.put("1", []byte("a")).status, "within the expiry")
	advance(50 * time.Minute)
	assert.Equal(t, http.StatusCreated, up.put("2", []byte("b")).status, "a write renews the upload: 100 minutes old, 50 since the last chunk")

	abandoned := newUpload(t, s, "alice", "abandoned", "")
	require.Equal(t, http.StatusCreated, abandoned.mkcol().status)
	advance(time.Hour + time.Second)
	r := do(t, s, "PROPFIND", abandoned.path(), "", asUser("alice"), hdr("Depth", "0"))
	assert.Equal(t, http.StatusNotFound, r.status, "an abandoned upload is removed")
	assert.Equal(t, http.StatusNotFound, up.move().status, "so is one whose last chunk is older than the expiry")
}

func TestChunkedUploadBounds(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*nextcloud.Config)
		run    func(t *testing.T, s *nctest.Server)
	}{
		{"open uploads per user", func(c *nextcloud.Config) { c.MaxUploadsPerUser = 2 }, func(t *testing.T, s *nctest.Server) {
			require.Equal(t, http.StatusCreated, newUpload(t, s, "alice", "a", "").mkcol().status)
			require.Equal(t, http.StatusCreated, newUpload(t, s, "alice", "b", "").mkcol().status)
			r := newUpload(t, s, "alice", "c", "").mkcol()
			assert.Equal(t, http.StatusInsufficientStorage, r.status)
			assert.Contains(t, string(r.body), "Too many open uploads: at most 2 per user")
			assert.Equal(t, http.StatusCreated, newUpload(t, s, "bob", "c", "").mkcol().status, "the bound is per user")
			require.Equal(t, http.StatusNoContent, do(t, s, http.MethodDelete, uploadsBase+"alice/a", "", asUser("alice")).status)
			assert.Equal(t, http.StatusCreated, newUpload(t, s, "alice", "c", "").mkcol().status, "an aborted upload frees its place")
		}},
		{"bytes per user", func(c *nextcloud.Config) { c.MaxUploadBytes = 10 }, func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "a", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			require.Equal(t, http.StatusCreated, up.put("1", []byte("123456")).status)
			r := up.put("2", []byte("12345"))
			assert.Equal(t, http.StatusInsufficientStorage, r.status)
			assert.Contains(t, string(r.body), `<s:exception>Sabre\DAV\Exception\InsufficientStorage</s:exception>`)
			assert.Equal(t, http.StatusCreated, up.put("2", []byte("1234")).status, "exactly at the bound")
			assert.Equal(t, http.StatusCreated, up.put("1", []byte("12")).status, "replacing a chunk counts its new size only")
		}},
		{"a chunk over the body limit", func(c *nextcloud.Config) { c.MaxBodyBytes = 8 }, func(t *testing.T, s *nctest.Server) {
			up := newUpload(t, s, "alice", "a", "t.bin")
			require.Equal(t, http.StatusCreated, up.mkcol().status)
			assert.Equal(t, http.StatusRequestEntityTooLarge, up.put("1", []byte("123456789")).status)
			assert.Equal(t, http.StatusCreated, up.put("1", []byte("12345678")).status)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, nctest.Start(t, c.mutate)) })
	}
}

// TestChunkedUploadAssemblyFailure: a chunk that cannot be read (its spool
// file vanished) fails the assembly with a 500 and leaves no partial
// target; the upload stays for the client to abort or retry.
func TestChunkedUploadAssemblyFailure(t *testing.T) {
	dir := t.TempDir()
	s := nctest.Start(t, func(c *nextcloud.Config) { c.UploadDir = dir })
	up := newUpload(t, s, "alice", "broken", "t.bin")
	require.Equal(t, http.StatusCreated, up.mkcol().status)
	require.Equal(t, http.StatusCreated, up.put("1", []byte("aaa")).status)
	require.Equal(t, http.StatusCreated, up.put("2", []byte("bbb")).status)
	var chunks []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			chunks = append(chunks, p)
		}
		return err
	}))
	require.Len(t, chunks, 2)
	require.NoError(t, os.Remove(chunks[1]))
	r := up.move(hdr("OC-Total-Length", "6"))
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Contains(t, string(r.body), "<s:exception>Exception</s:exception>")
	assert.Equal(t, http.StatusNotFound, get(t, s, "alice", "t.bin").status, "no partial target file")
	assert.Equal(t, http.StatusMultiStatus, do(t, s, "PROPFIND", up.path(), "", asUser("alice"), hdr("Depth", "0")).status)
}

// TestChunkedUploadSpoolRemoved: Close removes the spooled chunks.
func TestChunkedUploadSpoolRemoved(t *testing.T) {
	dir := t.TempDir()
	s := nctest.Start(t, func(c *nextcloud.Config) { c.UploadDir = dir })
	up := newUpload(t, s, "alice", "a", "t.bin")
	require.Equal(t, http.StatusCreated, up.mkcol().status)
	require.Equal(t, http.StatusCreated, up.put("1", []byte("abc")).status)
	require.Equal(t, 1, countFiles(t, dir), "the chunk is spooled to disk")
	require.NoError(t, s.Reset())
	assert.Equal(t, 0, countFiles(t, dir), "Reset drops open uploads")
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	require.NoError(t, walkFiles(dir, func() { n++ }))
	return n
}

func TestCapabilitiesNoBulkUpload(t *testing.T) {
	s := nctest.Start(t)
	r := do(t, s, http.MethodGet, "/ocs/v2.php/cloud/capabilities?format=json", "", asUser("alice"), ocsHeader())
	require.Equal(t, http.StatusOK, r.status)
	dav, ok := jsonAt(t, r.body, "ocs.data.capabilities.dav").(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "1.0", dav["chunking"], "chunking is served (uploads collection)")
	assert.NotContains(t, dav, "bulkupload", "POST /remote.php/dav/bulk is not served, so it is not advertised")
	assert.False(t, strings.Contains(string(r.body), "bulkupload"))
}

func walkFiles(dir string, fn func()) error {
	return filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			fn()
		}
		return err
	})
}

// TestChunkedUploadAbortDuringPut: a chunk still streaming when its upload
// is aborted is discarded, not attached to a folder that is gone.
func TestChunkedUploadAbortDuringPut(t *testing.T) {
	s := nctest.Start(t)
	up := newUpload(t, s, "alice", "racing", "t.bin")
	require.Equal(t, http.StatusCreated, up.mkcol().status)
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPut, s.URL+up.path()+"/1", pr)
	require.NoError(t, err)
	req.SetBasicAuth("alice", "alice-password")
	done := make(chan *http.Response, 1)
	go func() {
		res, err := client.Do(req)
		if err != nil {
			done <- nil
			return
		}
		_ = res.Body.Close()
		done <- res
	}()
	// The write returns once the server reads the body: it is streaming.
	_, err = pw.Write([]byte("first half"))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodDelete, up.path(), "", asUser("alice")).status)
	_, err = pw.Write([]byte("second half"))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	res := <-done
	require.NotNil(t, res)
	assert.Equal(t, http.StatusConflict, res.StatusCode, "the upload folder went away while the chunk streamed")
	assert.Equal(t, http.StatusNotFound, do(t, s, "PROPFIND", up.path(), "", asUser("alice"), hdr("Depth", "0")).status)
}

// TestChunkedUploadParallelChunks: chunks may arrive concurrently (they
// stream outside the state lock); the assembly still follows their names.
func TestChunkedUploadParallelChunks(t *testing.T) {
	s := nctest.Start(t)
	up := newUpload(t, s, "alice", "parallel", "parallel.bin")
	require.Equal(t, http.StatusCreated, up.mkcol().status)
	content := payload(7, 16*64*1024+3)
	const n = 16
	size := len(content) / n
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			end := (i + 1) * size
			if i == n-1 {
				end = len(content)
			}
			// No require in a goroutine: record the outcome, assert below.
			req, err := http.NewRequest(http.MethodPut, s.URL+up.path()+"/"+strconv.Itoa(i+1), bytes.NewReader(content[i*size:end]))
			if err != nil {
				return
			}
			req.SetBasicAuth("alice", "alice-password")
			req.Header.Set("Destination", up.dest)
			res, err := client.Do(req)
			if err != nil {
				return
			}
			_ = res.Body.Close()
			statuses[i] = res.StatusCode
		}(i)
	}
	wg.Wait()
	for i, st := range statuses {
		assert.Equal(t, http.StatusCreated, st, "chunk %d", i+1)
	}
	r := up.move(hdr("OC-Total-Length", strconv.Itoa(len(content))))
	require.Equal(t, http.StatusCreated, r.status, r.String())
	g := get(t, s, "alice", "parallel.bin")
	assert.Equal(t, sha1hex(content), sha1hex(g.body), "chunk 10 follows chunk 9, not chunk 1")
}
