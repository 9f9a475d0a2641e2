package notes

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// davServer answers the calls an attachment read makes: the user (uid
// "alice l", to exercise escaping), Notes settings, and WebDAV below
// "Notes/sub dir/.attachments.76/".
func davServer(t *testing.T) *recorder {
	return newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		const dir = "/remote.php/dav/files/alice l/Notes/sub dir/.attachments.76"
		switch {
		case r.URL.Path == "/ocs/v2.php/cloud/user":
			writeJSON(w, 200, []byte(`{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":{"id":"alice l","displayname":"Alice"}}}`))
		case r.URL.Path == "/index.php/apps/notes/api/v1/settings":
			writeJSON(w, 200, []byte(`{"notesPath":"/Notes/","fileSuffix":".md","noteMode":"rich"}`))
		case r.Method == "PROPFIND" && r.URL.Path == dir+"/":
			if r.Header.Get("Depth") != "1" {
				writeXML(w, 400, nil)
				return
			}
			writeXML(w, 207, fixture(t, "dav_attachments_207.xml"))
		case r.Method == http.MethodGet && r.URL.Path == dir+"/photo 1.png":
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("ETag", `"5e2f0c9d8a7b6"`)
			w.Header().Set("Last-Modified", "Wed, 21 Aug 2024 10:00:00 GMT")
			_, _ = w.Write([]byte("\x89PNG..."))
		case r.Method == http.MethodDelete && r.URL.Path == dir:
			w.WriteHeader(204)
		default:
			writeXML(w, 404, fixture(t, "dav_404.xml"))
		}
	})
}

func TestAttachmentDir(t *testing.T) {
	tests := []struct {
		notesPath, category string
		want                string
	}{
		{"Notes", "", "Notes/.attachments.7"},
		{"/Notes/", "work/2024", "Notes/work/2024/.attachments.7"},
		{"", "x", "Notes/x/.attachments.7"},
		{"My Notes", "/a/", "My Notes/a/.attachments.7"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, AttachmentDir(tt.notesPath, tt.category, 7))
		})
	}
}

func TestAttachment(t *testing.T) {
	rec := davServer(t)
	c := New(newTestClient(t, rec))
	note := &Note{ID: 76, Category: "sub dir"}
	f, err := c.Attachment(context.Background(), note, "photo 1.png")
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG...", string(f.Data))
	assert.Equal(t, "image/png", f.ContentType)
	assert.Equal(t, "5e2f0c9d8a7b6", f.ETag)
	assert.Equal(t, "Notes/sub dir/.attachments.76/photo 1.png", f.Path)
	assert.True(t, f.LastModified.Equal(time.Date(2024, 8, 21, 10, 0, 0, 0, time.UTC)), "LastModified = %v", f.LastModified)
	var get seen
	for _, r := range rec.Requests() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/remote.php/") {
			get = r
		}
	}
	assert.Empty(t, get.Header.Get("OCS-APIRequest"), "DAV requests are not app routes")

	_, err = c.Attachment(context.Background(), note, "missing.png")
	require.True(t, nextcloud.IsNotFound(err), "err = %v", err)
	assert.EqualError(t, err, `Attachment "missing.png" of note 76 not found`)
	var e *nextcloud.Error
	require.ErrorAs(t, err, &e)
	assert.Contains(t, e.Message, "could not be located", "sabre message not read")
}

func TestAttachmentRejectsBadNames(t *testing.T) {
	rec := davServer(t)
	c := New(newTestClient(t, rec))
	for _, name := range []string{"", ".", "..", "../secret", "a/b", `a\b`, "x\x00y", strings.Repeat("a", 256)} {
		_, err := c.Attachment(context.Background(), &Note{ID: 76}, name)
		assert.ErrorIs(t, err, nextcloud.ErrInvalidPath, "%q", name)
	}
	assert.Empty(t, rec.Requests(), "requests sent for invalid names")
}

func TestAttachments(t *testing.T) {
	rec := davServer(t)
	c := New(newTestClient(t, rec))
	files, err := c.Attachments(context.Background(), &Note{ID: 76, Category: "sub dir"})
	require.NoError(t, err)
	require.Len(t, files, 2, "the folder itself must be skipped: %+v", files)
	p := files[0]
	assert.Equal(t, nextcloud.FileInfo{Name: "photo 1.png", Path: "Notes/sub dir/.attachments.76/photo 1.png", Size: 3072,
		ContentType: "image/png", ETag: "5e2f0c9d8a7b6", FileID: 81, Favorite: true,
		LastModified: p.LastModified}, p)
	assert.True(t, p.LastModified.Equal(time.Date(2024, 8, 21, 10, 0, 0, 0, time.UTC)))
	assert.Equal(t, "readme.txt", files[1].Name)
	assert.False(t, files[1].Favorite)

	// A note without an attachment folder has none.
	files, err = c.Attachments(context.Background(), &Note{ID: 99})
	require.NoError(t, err)
	assert.Empty(t, files)
}

func TestDeleteAttachments(t *testing.T) {
	rec := davServer(t)
	c := New(newTestClient(t, rec))
	require.NoError(t, c.DeleteAttachments(context.Background(), &Note{ID: 76, Category: "sub dir"}))
	// Missing folder: fine.
	require.NoError(t, c.DeleteAttachments(context.Background(), &Note{ID: 5}))
}
