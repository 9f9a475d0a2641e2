// Package nccheck grades the Nextcloud contract the MCP server relies on —
// OCS envelopes (v1 and v2), the Notes API's etag/412 behaviour, the share API and the
// WebDAV status matrix — against any Nextcloud base URL with a user's
// credentials, so the fake and a real Nextcloud can be compared. The
// checks create and remove their own objects (a note, a folder
// "conformance-<random>") and touch nothing else.
package nccheck

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

func needNC(t *grade.Target) (grade.Outcome, bool) {
	if t.Nextcloud == nil || t.Nextcloud.URL == "" {
		return grade.NAf("no Nextcloud in this target"), false
	}
	if t.Nextcloud.User == "" || t.Nextcloud.Password == "" {
		return grade.NAf("no Nextcloud credentials (set CONFORMANCE_NEXTCLOUD_USER and CONFORMANCE_NEXTCLOUD_PASSWORD)"), false
	}
	return grade.Outcome{}, true
}

type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a *answer) String() string {
	return fmt.Sprintf("HTTP %d", a.Status)
}

// do sends one request; auth=false sends no credentials.
func do(ctx context.Context, t *grade.Target, method, path string, hdr map[string]string, body []byte, auth bool) (*answer, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(t.Nextcloud.URL, "/")+path, r)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if auth {
		req.SetBasicAuth(t.Nextcloud.User, t.Nextcloud.Password)
	}
	resp, err := t.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read below; closing only releases the connection
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	return &answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

var ocsHeaders = map[string]string{"OCS-APIRequest": "true", "Accept": "application/json"}

type ocsEnvelope struct {
	OCS struct {
		Meta struct {
			Status     string `json:"status"`
			StatusCode int    `json:"statuscode"`
			Message    string `json:"message"`
		} `json:"meta"`
		Data json.RawMessage `json:"data"`
	} `json:"ocs"`
}

func decodeOCS(a *answer) (*ocsEnvelope, error) {
	var e ocsEnvelope
	if err := json.Unmarshal(a.Body, &e); err != nil {
		return nil, fmt.Errorf("HTTP %d, not an OCS JSON envelope: %.120s", a.Status, a.Body)
	}
	if e.OCS.Meta.Status == "" {
		return nil, fmt.Errorf("HTTP %d, no ocs.meta.status: %.120s", a.Status, a.Body)
	}
	return &e, nil
}

// currentUser returns the uid from OCS v2 (memoized).
func currentUser(ctx context.Context, t *grade.Target) (string, *answer, *ocsEnvelope, error) {
	type res struct {
		uid string
		a   *answer
		e   *ocsEnvelope
	}
	v, err := t.Memo("nc-user", func() (any, error) {
		a, err := do(ctx, t, http.MethodGet, "/ocs/v2.php/cloud/user?format=json", ocsHeaders, nil, true)
		if err != nil {
			return nil, err
		}
		e, err := decodeOCS(a)
		if err != nil {
			return &res{a: a}, nil
		}
		var d struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(e.OCS.Data, &d)
		return &res{uid: d.ID, a: a, e: e}, nil
	})
	if err != nil {
		return "", nil, nil, err
	}
	r := v.(*res)
	return r.uid, r.a, r.e, nil
}

// OCSv2: the v2 success envelope — HTTP 200, meta status "ok", statuscode
// 200, data.id = the uid.
func OCSv2(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	uid, a, e, err := currentUser(ctx, t)
	if err != nil {
		return grade.Errorf("GET /ocs/v2.php/cloud/user", err)
	}
	switch {
	case e == nil:
		return grade.Failf("GET /ocs/v2.php/cloud/user: HTTP %d, no OCS envelope: %.120s", a.Status, a.Body)
	case a.Status != http.StatusOK || e.OCS.Meta.Status != "ok" || e.OCS.Meta.StatusCode != 200:
		return grade.Failf("GET /ocs/v2.php/cloud/user: HTTP %d meta %s/%d, want 200 ok/200", a.Status, e.OCS.Meta.Status, e.OCS.Meta.StatusCode)
	case uid == "":
		return grade.Failf("GET /ocs/v2.php/cloud/user: data has no id")
	}
	return grade.Passf("GET /ocs/v2.php/cloud/user: HTTP 200, meta ok/200, data.id %q", uid)
}

// OCSv1: the v1 envelope — HTTP 200, statuscode 100.
func OCSv1(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	a, err := do(ctx, t, http.MethodGet, "/ocs/v1.php/cloud/user?format=json", ocsHeaders, nil, true)
	if err != nil {
		return grade.Errorf("GET /ocs/v1.php/cloud/user", err)
	}
	e, err := decodeOCS(a)
	if err != nil {
		return grade.Failf("%v", err)
	}
	if a.Status != http.StatusOK || e.OCS.Meta.Status != "ok" || e.OCS.Meta.StatusCode != 100 {
		return grade.Failf("GET /ocs/v1.php/cloud/user: HTTP %d meta %s/%d, want 200 ok/100", a.Status, e.OCS.Meta.Status, e.OCS.Meta.StatusCode)
	}
	return grade.Passf("GET /ocs/v1.php/cloud/user: HTTP 200, meta ok/100")
}

// OCSUnauthorised: without credentials both versions answer HTTP 401 with
// OCS statuscode 997.
func OCSUnauthorised(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	var ev []string
	for _, v := range []string{"v1", "v2"} {
		p := "/ocs/" + v + ".php/cloud/user?format=json"
		a, err := do(ctx, t, http.MethodGet, p, ocsHeaders, nil, false)
		if err != nil {
			return grade.Errorf("GET "+p, err)
		}
		e, err := decodeOCS(a)
		if err != nil {
			return grade.Failf("%s without credentials: %v", p, err)
		}
		if a.Status != http.StatusUnauthorized || e.OCS.Meta.StatusCode != 997 || e.OCS.Meta.Status != "failure" {
			return grade.Failf("%s without credentials: HTTP %d meta %s/%d, want 401 failure/997", p, a.Status, e.OCS.Meta.Status, e.OCS.Meta.StatusCode)
		}
		ev = append(ev, fmt.Sprintf("%s 401/997", v))
	}
	return grade.Passf("without credentials: %s", strings.Join(ev, ", "))
}

// OCSNotFound: an unknown OCS route is statuscode 998 — HTTP 404 on v2,
// HTTP 200 on v1.
func OCSNotFound(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	want := map[string]int{"v1": http.StatusOK, "v2": http.StatusNotFound}
	var ev []string
	for _, v := range []string{"v1", "v2"} {
		p := "/ocs/" + v + ".php/conformance/no-such-route?format=json"
		a, err := do(ctx, t, http.MethodGet, p, ocsHeaders, nil, true)
		if err != nil {
			return grade.Errorf("GET "+p, err)
		}
		e, err := decodeOCS(a)
		if err != nil {
			return grade.Failf("unknown %s route: %v", v, err)
		}
		if a.Status != want[v] || e.OCS.Meta.StatusCode != 998 {
			return grade.Failf("unknown %s route: HTTP %d statuscode %d, want HTTP %d statuscode 998", v, a.Status, e.OCS.Meta.StatusCode, want[v])
		}
		ev = append(ev, fmt.Sprintf("%s HTTP %d/998", v, a.Status))
	}
	return grade.Passf("unknown route: %s", strings.Join(ev, ", "))
}

const notesAPI = "/index.php/apps/notes/api/v1/notes"

type note struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Content string `json:"content"`
	ETag    string `json:"etag"`
}

func decodeNote(a *answer) (*note, error) {
	var n note
	if err := json.Unmarshal(a.Body, &n); err != nil || n.ID == 0 {
		return nil, fmt.Errorf("HTTP %d, not a note: %.120s", a.Status, a.Body)
	}
	return &n, nil
}

func random() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var jsonHeaders = map[string]string{"Content-Type": "application/json", "Accept": "application/json"}

// created returns the note the Notes checks work on (created once).
func created(ctx context.Context, t *grade.Target) (*note, error) {
	v, err := t.Memo("nc-note", func() (any, error) {
		body, _ := json.Marshal(map[string]any{"title": "conformance " + random(), "content": "first", "category": ""})
		a, err := do(ctx, t, http.MethodPost, notesAPI, jsonHeaders, body, true)
		if err != nil {
			return nil, err
		}
		if a.Status != http.StatusOK {
			return nil, fmt.Errorf("POST %s: HTTP %d: %.120s", notesAPI, a.Status, a.Body)
		}
		return decodeNote(a)
	})
	if err != nil {
		return nil, err
	}
	return v.(*note), nil
}

func notePath(n *note) string { return fmt.Sprintf("%s/%d", notesAPI, n.ID) }

// NotesETag: a note carries an etag; GET answers it quoted in ETag.
func NotesETag(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	n, err := created(ctx, t)
	if err != nil {
		return grade.Errorf("creating a note", err)
	}
	if n.ETag == "" {
		return grade.Failf("the created note %d has no etag", n.ID)
	}
	a, err := do(ctx, t, http.MethodGet, notePath(n), jsonHeaders, nil, true)
	if err != nil {
		return grade.Errorf("GET note", err)
	}
	if a.Status != http.StatusOK {
		return grade.Failf("GET %s: HTTP %d", notePath(n), a.Status)
	}
	if got, want := a.Header.Get("ETag"), `"`+n.ETag+`"`; got != want {
		return grade.Failf("GET %s: ETag header %q, want %q (the note's etag, quoted)", notePath(n), got, want)
	}
	return grade.Passf("POST → 200 note %d etag %s; GET → ETag %q", n.ID, n.ETag, a.Header.Get("ETag"))
}

// NotesPrecondition: PUT with a stale If-Match is 412 with the current note
// as the body, and changes nothing (RFC 9110 §13.1.1).
func NotesPrecondition(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	n, err := created(ctx, t)
	if err != nil {
		return grade.Errorf("creating a note", err)
	}
	body, _ := json.Marshal(map[string]any{"content": "overwritten"})
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json", "If-Match": `"0123456789abcdef0123456789abcdef"`}
	a, err := do(ctx, t, http.MethodPut, notePath(n), hdr, body, true)
	if err != nil {
		return grade.Errorf("PUT", err)
	}
	if a.Status != http.StatusPreconditionFailed {
		return grade.Failf("PUT with a stale If-Match: HTTP %d, want 412", a.Status)
	}
	cur, err := decodeNote(a)
	if err != nil {
		return grade.Failf("412 body is not the current note: %v", err)
	}
	if cur.ID != n.ID || cur.Content != "first" || cur.ETag != n.ETag {
		return grade.Failf("412 body: note %d content %q etag %s, want the unchanged note %d", cur.ID, cur.Content, cur.ETag, n.ID)
	}
	g, err := do(ctx, t, http.MethodGet, notePath(n), jsonHeaders, nil, true)
	if err != nil {
		return grade.Errorf("GET", err)
	}
	if after, err := decodeNote(g); err != nil || after.Content != "first" {
		return grade.Failf("the note changed despite the 412: %v %s", err, g.Body)
	}
	return grade.Passf("PUT with a stale If-Match → 412 with the current note (etag %s); note unchanged", cur.ETag)
}

// NotesConditional: PUT with the current If-Match succeeds and changes the
// etag; GET with If-None-Match of the new etag is 304.
func NotesConditional(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	n, err := created(ctx, t)
	if err != nil {
		return grade.Errorf("creating a note", err)
	}
	g, err := do(ctx, t, http.MethodGet, notePath(n), jsonHeaders, nil, true)
	if err != nil {
		return grade.Errorf("GET", err)
	}
	cur, err := decodeNote(g)
	if err != nil {
		return grade.Failf("%v", err)
	}
	body, _ := json.Marshal(map[string]any{"content": "second"})
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json", "If-Match": `"` + cur.ETag + `"`}
	a, err := do(ctx, t, http.MethodPut, notePath(n), hdr, body, true)
	if err != nil {
		return grade.Errorf("PUT", err)
	}
	if a.Status != http.StatusOK {
		return grade.Failf("PUT with the current If-Match: HTTP %d: %.120s", a.Status, a.Body)
	}
	upd, err := decodeNote(a)
	if err != nil {
		return grade.Failf("%v", err)
	}
	if upd.Content != "second" || upd.ETag == "" || upd.ETag == cur.ETag {
		return grade.Failf("after the update: content %q etag %s (was %s): want the new content and a new etag", upd.Content, upd.ETag, cur.ETag)
	}
	c, err := do(ctx, t, http.MethodGet, notePath(n), map[string]string{"Accept": "application/json", "If-None-Match": `"` + upd.ETag + `"`}, nil, true)
	if err != nil {
		return grade.Errorf("conditional GET", err)
	}
	if c.Status != http.StatusNotModified {
		return grade.Failf("GET with If-None-Match of the current etag: HTTP %d, want 304", c.Status)
	}
	return grade.Passf("PUT with If-Match current → 200, etag %s → %s; GET If-None-Match → 304", cur.ETag, upd.ETag)
}

// NotesDelete: DELETE answers 200 and the note is gone (404).
func NotesDelete(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	n, err := created(ctx, t)
	if err != nil {
		return grade.Errorf("creating a note", err)
	}
	a, err := do(ctx, t, http.MethodDelete, notePath(n), jsonHeaders, nil, true)
	if err != nil {
		return grade.Errorf("DELETE", err)
	}
	if a.Status != http.StatusOK {
		return grade.Failf("DELETE %s: HTTP %d, want 200", notePath(n), a.Status)
	}
	g, err := do(ctx, t, http.MethodGet, notePath(n), jsonHeaders, nil, true)
	if err != nil {
		return grade.Errorf("GET", err)
	}
	if g.Status != http.StatusNotFound {
		return grade.Failf("GET after DELETE: HTTP %d, want 404", g.Status)
	}
	missing, err := do(ctx, t, http.MethodDelete, notePath(n), jsonHeaders, nil, true)
	if err != nil {
		return grade.Errorf("DELETE again", err)
	}
	if missing.Status != http.StatusNotFound {
		return grade.Failf("DELETE of a deleted note: HTTP %d, want 404", missing.Status)
	}
	return grade.Passf("DELETE → 200 %s; GET → 404; DELETE again → 404", strings.TrimSpace(string(a.Body)))
}
