package nextcloud

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
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
			w.Write([]byte("\x89PNG..."))
		case r.Method == http.MethodDelete && r.URL.Path == dir:
			w.WriteHeader(204)
		default:
			writeXML(w, 404, fixture(t, "dav_404.xml"))
		}
	})
}

func TestNoteAttachmentDir(t *testing.T) {
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
		if got := NoteAttachmentDir(tt.notesPath, tt.category, 7); got != tt.want {
			t.Errorf("NoteAttachmentDir(%q,%q) = %q, want %q", tt.notesPath, tt.category, got, tt.want)
		}
	}
}

func TestNoteAttachment(t *testing.T) {
	rec := davServer(t)
	c := newTestClient(t, rec)
	note := &Note{ID: 76, Category: "sub dir"}
	f, err := c.NoteAttachment(context.Background(), note, "photo 1.png")
	if err != nil {
		t.Fatal(err)
	}
	if string(f.Data) != "\x89PNG..." || f.ContentType != "image/png" || f.ETag != "5e2f0c9d8a7b6" ||
		f.Path != "Notes/sub dir/.attachments.76/photo 1.png" || !f.LastModified.Equal(time.Date(2024, 8, 21, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("file = %+v", f)
	}
	var get seen
	for _, r := range rec.requests() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/remote.php/") {
			get = r
		}
	}
	if get.Header.Get("OCS-APIRequest") != "" {
		t.Error("DAV requests are not app routes")
	}

	_, err = c.NoteAttachment(context.Background(), note, "missing.png")
	if !IsNotFound(err) || err.Error() != `Attachment "missing.png" of note 76 not found` {
		t.Fatalf("err = %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "could not be located") {
		t.Fatalf("sabre message not read: %+v", e)
	}
}

func TestNoteAttachmentRejectsBadNames(t *testing.T) {
	rec := davServer(t)
	c := newTestClient(t, rec)
	for _, name := range []string{"", ".", "..", "../secret", "a/b", `a\b`, "x\x00y", strings.Repeat("a", 256)} {
		_, err := c.NoteAttachment(context.Background(), &Note{ID: 76}, name)
		if !errors.Is(err, ErrInvalidPath) {
			t.Errorf("%q: err = %v", name, err)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Fatalf("%d requests sent for invalid names", n)
	}
}

func TestNoteAttachmentsList(t *testing.T) {
	rec := davServer(t)
	c := newTestClient(t, rec)
	files, err := c.NoteAttachments(context.Background(), &Note{ID: 76, Category: "sub dir"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("files = %+v (the folder itself must be skipped)", files)
	}
	p := files[0]
	if p.Name != "photo 1.png" || p.Path != "Notes/sub dir/.attachments.76/photo 1.png" || p.Size != 3072 ||
		p.ContentType != "image/png" || p.ETag != "5e2f0c9d8a7b6" || p.FileID != 81 || !p.Favorite || p.IsDir ||
		!p.LastModified.Equal(time.Date(2024, 8, 21, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("photo = %+v", p)
	}
	if files[1].Name != "readme.txt" || files[1].Favorite {
		t.Fatalf("readme = %+v", files[1])
	}
	// A note without an attachment folder has none.
	files, err = c.NoteAttachments(context.Background(), &Note{ID: 99})
	if err != nil || len(files) != 0 {
		t.Fatalf("files=%v err=%v", files, err)
	}
}

func TestParseMultistatusIgnores404Propstat(t *testing.T) {
	infos, err := parseMultistatus(fixture(t, "dav_attachments_207.xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := infos[0]
	if !dir.IsDir || dir.Size != 3172 || dir.ContentType != "" || dir.FileID != 80 {
		t.Fatalf("dir = %+v", dir)
	}
	if _, err := parseMultistatus([]byte("<d:multistatus")); err == nil {
		t.Fatal("broken XML accepted")
	}
}

func TestDeleteNoteAttachments(t *testing.T) {
	rec := davServer(t)
	c := newTestClient(t, rec)
	if err := c.DeleteNoteAttachments(context.Background(), &Note{ID: 76, Category: "sub dir"}); err != nil {
		t.Fatal(err)
	}
	// Missing folder: fine.
	if err := c.DeleteNoteAttachments(context.Background(), &Note{ID: 5}); err != nil {
		t.Fatal(err)
	}
}

func TestDAVPathValidation(t *testing.T) {
	rec := davServer(t)
	c := newTestClient(t, rec)
	for _, p := range []string{"../etc", "a/../../b", "a/./b", "x\x7f"} {
		if _, err := c.DownloadFile(context.Background(), p); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("%q: err = %v", p, err)
		}
	}
	if err := c.DeleteFile(context.Background(), "/"); !errors.Is(err, ErrInvalidPath) {
		t.Fatalf("deleting the root: %v", err)
	}
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
	if !IsUnauthorized(err) || IsBearerRejectedOnAppRoute(err) {
		t.Fatalf("err = %v", err)
	}
	if want := `Nextcloud rejected the Basic credentials (HTTP 401) while trying to list "Documents"; check the user name and app password: Username or password was incorrect`; err.Error() != want {
		t.Fatalf("message = %q", err)
	}
}
