package notes

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// notesServer is a small in-memory Nextcloud for the tool tests: OCS user
// and capabilities, Notes API v1 and WebDAV under Notes/, in the wire
// formats of nextcloud-wire.md §2, §4 and §5. The shared fake
// (fakes/nextcloud) is exercised by the integration tests; this one lets
// each test inject faults and inspect requests precisely.
type notesServer struct {
	*httptest.Server
	mu       sync.Mutex
	uid      string
	notes    map[int64]*wireNote
	files    map[string][]byte // "Notes/<cat>/.attachments.<id>/<name>"
	nextID   int64
	requests []string // "METHOD path"
	// beforeWrite runs (under no lock) before a PUT is applied, to
	// simulate a concurrent edit.
	beforeWrite func(id int64)
	// fail answers every request whose "METHOD path" has this prefix with
	// the given status and body.
	failPrefix string
	failStatus int
	failBody   string
}

type wireNote struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Modified int64  `json:"modified"`
	Category string `json:"category"`
	Favorite bool   `json:"favorite"`
	ReadOnly bool   `json:"readonly"`
	Content  string `json:"content"`
	ETag     string `json:"etag"`
}

func (n *wireNote) touch() {
	sum := md5.Sum([]byte(fmt.Sprint(n.ID, n.Title, n.Modified, n.Category, n.Favorite, n.Content)))
	n.ETag = hex.EncodeToString(sum[:])
}

func newNotesServer(t *testing.T) *notesServer { return newNotesServerB(t) }

func newNotesServerB(t testing.TB) *notesServer {
	t.Helper()
	s := &notesServer{uid: "alice", notes: map[int64]*wireNote{}, files: map[string][]byte{}, nextID: 100}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *notesServer) add(title, content, category string, modified int64) *wireNote {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	n := &wireNote{ID: s.nextID, Title: title, Content: content, Category: category, Modified: modified}
	n.touch()
	s.notes[n.ID] = n
	return n
}

func (s *notesServer) note(id int64) (wireNote, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notes[id]
	if !ok {
		return wireNote{}, false
	}
	return *n, true
}

func (s *notesServer) requestLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *notesServer) setFail(prefix string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPrefix, s.failStatus, s.failBody = prefix, status, body
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func ocsOK(w http.ResponseWriter, data any) {
	writeJSON(w, 200, map[string]any{"ocs": map[string]any{"meta": map[string]any{"status": "ok", "statuscode": 200, "message": "OK"}, "data": data}})
}

func (s *notesServer) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	s.mu.Lock()
	s.requests = append(s.requests, key)
	failPrefix, failStatus, failBody := s.failPrefix, s.failStatus, s.failBody
	s.mu.Unlock()
	if failPrefix != "" && strings.HasPrefix(key, failPrefix) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(failStatus)
		io.WriteString(w, failBody)
		return
	}
	const api = "/index.php/apps/notes/api/v1"
	davRoot := "/remote.php/dav/files/" + s.uid + "/"
	switch {
	case r.URL.Path == "/ocs/v2.php/cloud/user":
		ocsOK(w, map[string]any{"id": s.uid, "displayname": "Alice"})
	case r.URL.Path == "/ocs/v2.php/cloud/capabilities":
		ocsOK(w, map[string]any{"version": map[string]any{"major": 32, "minor": 0, "micro": 14, "string": "32.0.14", "edition": "", "extendedSupport": false},
			"capabilities": map[string]any{"notes": map[string]any{"api_version": []string{"0.2", "1.3", "1.4"}, "version": "4.12.0", "notes_path": "Notes"}}})
	case r.URL.Path == api+"/settings":
		writeJSON(w, 200, map[string]string{"notesPath": "Notes", "fileSuffix": ".md", "noteMode": "rich"})
	case r.URL.Path == api+"/notes" && r.Method == http.MethodGet:
		s.list(w)
	case r.URL.Path == api+"/notes" && r.Method == http.MethodPost:
		var in wireNote
		json.NewDecoder(r.Body).Decode(&in)
		n := s.add(in.Title, in.Content, in.Category, time.Now().Unix())
		writeJSON(w, 200, n)
	case strings.HasPrefix(r.URL.Path, api+"/notes/"):
		id, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, api+"/notes/"), 10, 64)
		if err != nil {
			writeJSON(w, 404, map[string]string{"errorType": "Exception"})
			return
		}
		s.noteRoute(w, r, id)
	case strings.HasPrefix(r.URL.Path, davRoot):
		s.dav(w, r, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, davRoot), "/"))
	default:
		writeJSON(w, 404, map[string]string{"message": "no route"})
	}
}

func (s *notesServer) list(w http.ResponseWriter) {
	s.mu.Lock()
	out := make([]wireNote, 0, len(s.notes))
	for _, n := range s.notes {
		out = append(out, *n)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, 200, out)
}

func (s *notesServer) noteRoute(w http.ResponseWriter, r *http.Request, id int64) {
	if r.Method == http.MethodPut && s.beforeWrite != nil {
		s.beforeWrite(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notes[id]
	if !ok {
		writeJSON(w, 404, map[string]string{"errorType": "Exception"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("ETag", `"`+n.ETag+`"`)
		writeJSON(w, 200, n)
	case http.MethodPut:
		if im := r.Header.Get("If-Match"); im != "" && im != `"`+n.ETag+`"` {
			writeJSON(w, 412, n)
			return
		}
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		if v, ok := in["title"].(string); ok {
			n.Title = v
		}
		if v, ok := in["content"].(string); ok {
			n.Content = v
		}
		if v, ok := in["category"].(string); ok {
			n.Category = v
		}
		n.Modified++
		n.touch()
		writeJSON(w, 200, n)
	case http.MethodDelete:
		delete(s.notes, id)
		writeJSON(w, 200, []any{})
	}
}

func (s *notesServer) dav(w http.ResponseWriter, r *http.Request, p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	notFound := func() {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(404)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:exception>Sabre\DAV\Exception\NotFound</s:exception><s:message>File with name %s could not be located</s:message></d:error>`, html.EscapeString(p))
	}
	switch r.Method {
	case http.MethodGet:
		data, ok := s.files[p]
		if !ok {
			notFound()
			return
		}
		ct := "application/octet-stream"
		switch {
		case strings.HasSuffix(p, ".png"):
			ct = "image/png"
		case strings.HasSuffix(p, ".txt"):
			ct = "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Write(data)
	case "PROPFIND":
		var names []string
		for f := range s.files {
			if rest, ok := strings.CutPrefix(f, p+"/"); ok && !strings.Contains(rest, "/") {
				names = append(names, rest)
			}
		}
		if len(names) == 0 {
			notFound()
			return
		}
		sort.Strings(names)
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(207)
		fmt.Fprint(w, `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">`)
		fmt.Fprintf(w, `<d:response><d:href>/remote.php/dav/files/%s/%s/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`, s.uid, p)
		for _, n := range names {
			fmt.Fprintf(w, `<d:response><d:href>/remote.php/dav/files/%s/%s/%s</d:href><d:propstat><d:prop><d:resourcetype/><d:getcontentlength>%d</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`,
				s.uid, p, html.EscapeString(n), len(s.files[p+"/"+n]))
		}
		fmt.Fprint(w, `</d:multistatus>`)
	case http.MethodDelete:
		found := false
		for f := range s.files {
			if f == p || strings.HasPrefix(f, p+"/") {
				delete(s.files, f)
				found = true
			}
		}
		if !found {
			notFound()
			return
		}
		w.WriteHeader(204)
	default:
		w.WriteHeader(405)
	}
}
