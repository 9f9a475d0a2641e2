package nextcloud

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMultistatusIgnores404Propstat(t *testing.T) {
	infos, err := ParseMultistatus(bytes.NewReader(fixture(t, "dav_attachments_207.xml")))
	require.NoError(t, err)
	dir := infos[0]
	assert.True(t, dir.IsDir)
	assert.Equal(t, int64(3172), dir.Size)
	assert.Empty(t, dir.ContentType)
	assert.Equal(t, int64(80), dir.FileID)
	_, err = ParseMultistatus(strings.NewReader("<d:multistatus"))
	assert.Error(t, err, "broken XML accepted")
}

func TestDAVPathValidation(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
	})
	c := newTestClient(t, rec)
	for _, p := range []string{"../etc", "a/../../b", "a/./b", "x\x7f", `a\b`} {
		_, err := c.DownloadFile(context.Background(), p)
		assert.ErrorIs(t, err, ErrInvalidPath, "%q", p)
	}
	assert.ErrorIs(t, c.DeleteFile(context.Background(), "/"), ErrInvalidPath, "deleting the root")
	assert.Empty(t, rec.Requests(), "invalid paths are refused before any request")

	escaped, canonical, err := c.DAVPath(context.Background(), "/a b//c%/")
	require.NoError(t, err)
	assert.Equal(t, "/remote.php/dav/files/alice/a%20b/c%25", escaped)
	assert.Equal(t, "a b/c%", canonical)
}

func TestSendRefusesBadPaths(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	c := newTestClient(t, rec)
	for _, p := range []string{"", "relative", "/a/../b", "/a/%2e%2e/b", "/a?x=1", "/a#f"} {
		_, err := c.Send(context.Background(), &Request{Method: http.MethodGet, Path: p})
		assert.ErrorIs(t, err, ErrInvalidPath, "%q", p)
	}
	assert.Empty(t, rec.Requests())
}

func TestDAVErrors(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ocs/") {
			writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="Nextcloud", charset="UTF-8"`)
		writeXML(w, 401, []byte(`<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:exception>Sabre\DAV\Exception\NotAuthenticated</s:exception><s:message>Username or password was incorrect</s:message></d:error>`))
	})
	c := newTestClient(t, rec)
	_, err := c.ListFolder(context.Background(), "Documents")
	require.True(t, IsUnauthorized(err), "err = %v", err)
	assert.False(t, IsBearerRejectedOnAppRoute(err))
	assert.EqualError(t, err, `Nextcloud rejected the Basic credentials (HTTP 401) while trying to list "Documents"; check the user name and app password: Username or password was incorrect`)
}

// TestListFolderBelowSubPath checks that hrefs of a Nextcloud installed in
// a sub-folder ("/nextcloud/remote.php/...") are recognised as the user's.
func TestListFolderBelowSubPath(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/nextcloud/ocs/v2.php/cloud/user":
			writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
		case "/nextcloud/remote.php/dav/files/alice/Docs/":
			writeXML(w, 207, []byte(`<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>/nextcloud/remote.php/dav/files/alice/Docs/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
<d:response><d:href>/nextcloud/remote.php/dav/files/alice/Docs/a%20b.txt</d:href><d:propstat><d:prop><d:getcontentlength>5</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
<d:response><d:href>/elsewhere/x</d:href><d:propstat><d:prop><d:getcontentlength>1</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`))
		default:
			w.WriteHeader(404)
		}
	})
	c, err := New(rec.URL+"/nextcloud", Basic(testUser, testPassword))
	require.NoError(t, err)
	files, err := c.ListFolder(context.Background(), "Docs")
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, FileInfo{Path: "Docs/a b.txt", Name: "a b.txt", Size: 5}, files[0])
}

func TestWebDAVMethods(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ocs/v2.php/cloud/user":
			writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
		case r.Method == "MKCOL":
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodGet && r.Header.Get("If-None-Match") == `"e1"`:
			w.WriteHeader(http.StatusNotModified)
		case r.Method == "MOVE":
			writeXML(w, 412, []byte(`<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:exception>Sabre\DAV\Exception\PreconditionFailed</s:exception><s:message>The destination node already exists, and the overwrite header is set to false</s:message></d:error>`))
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
	c := newTestClient(t, rec)
	ctx := context.Background()
	p, _, err := c.DAVPath(ctx, "New folder")
	require.NoError(t, err)
	tests := []struct {
		name       string
		r          *Request
		wantStatus int
		wantErr    string
	}{
		{name: "MKCOL created", r: &Request{Method: "MKCOL", Path: p}, wantStatus: 201},
		{name: "conditional GET not modified", r: &Request{Method: http.MethodGet, Path: p, Header: http.Header{"If-None-Match": {`"e1"`}}}, wantStatus: 304},
		{name: "MOVE refused keeps sabre's message", r: &Request{Op: "move the folder", Resource: "Folder \"New folder\"", Method: "MOVE", Path: p,
			Header: http.Header{"Destination": {c.BaseURL() + p + "2"}, "Overwrite": {"F"}}},
			wantErr: "Folder \"New folder\" changed concurrently (HTTP 412); fetch it again"},
		{name: "405", r: &Request{Op: "lock it", Method: "LOCK", Path: p},
			wantErr: "Nextcloud could not lock it: HTTP 405 Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.WebDAV(ctx, tt.r)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.Status)
			require.NoError(t, resp.Body.Close())
		})
	}
	var e *Error
	_, err = c.WebDAV(ctx, tests[2].r)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "The destination node already exists, and the overwrite header is set to false", e.Message)
}

func TestOpenFileStreams(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 10_000) // 100 kB
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ocs/") {
			writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `W/"big"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		_, _ = w.Write(payload)
	})
	c := newTestClient(t, rec, WithMaxResponseBytes(200_000))
	f, err := c.OpenFile(context.Background(), "big.bin")
	require.NoError(t, err)
	assert.Equal(t, "big", f.ETag)
	assert.Equal(t, int64(len(payload)), f.Size)
	got, err := io.ReadAll(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, payload, got)

	_, err = c.DownloadFile(context.Background(), "big.bin", ResponseLimit(50_000))
	assert.ErrorIs(t, err, ErrResponseTooLarge)
	assert.ErrorContains(t, err, `could not download "big.bin" (HTTP 200): response body exceeds the 50000 bytes limit`)
}
