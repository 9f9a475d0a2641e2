package nccheck

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// davRoot returns the user's files collection and a fresh work folder
// (created once) below it.
func davRoot(ctx context.Context, t *grade.Target) (files, work string, err error) {
	type res struct{ files, work string }
	v, err := t.Memo("nc-dav", func() (any, error) {
		uid, a, _, err := currentUser(ctx, t)
		if err != nil {
			return nil, err
		}
		if uid == "" {
			return nil, fmt.Errorf("no uid from GET /ocs/v2.php/cloud/user (HTTP %d)", a.Status)
		}
		files := "/remote.php/dav/files/" + url.PathEscape(uid)
		work := files + "/conformance-" + random()
		m, err := do(ctx, t, "MKCOL", work, nil, nil, true)
		if err != nil {
			return nil, err
		}
		if m.Status != http.StatusCreated {
			return nil, fmt.Errorf("MKCOL %s: HTTP %d", work, m.Status)
		}
		return &res{files, work}, nil
	})
	if err != nil {
		return "", "", err
	}
	r := v.(*res)
	return r.files, r.work, nil
}

// step is one request of a status matrix.
type step struct {
	method, path string
	hdr          map[string]string
	body         []byte
	want         []int
}

func runSteps(ctx context.Context, t *grade.Target, steps []step) (string, *grade.Outcome) {
	var ev []string
	for _, s := range steps {
		a, err := do(ctx, t, s.method, s.path, s.hdr, s.body, true)
		if err != nil {
			o := grade.Errorf(s.method+" "+s.path, err)
			return "", &o
		}
		ok := false
		for _, w := range s.want {
			ok = ok || a.Status == w
		}
		name := s.method + " " + short(s.path)
		if !ok {
			o := grade.Failf("%s: HTTP %d, want %v (%.100s)", name, a.Status, s.want, strings.TrimSpace(string(a.Body)))
			return "", &o
		}
		ev = append(ev, fmt.Sprintf("%s→%d", name, a.Status))
	}
	return strings.Join(ev, ", "), nil
}

// short drops the DAV prefix and the uid from a path for evidence.
func short(p string) string {
	if i := strings.Index(p, "/conformance-"); i >= 0 {
		return "…" + p[i:]
	}
	return p
}

func needDAV(ctx context.Context, t *grade.Target) (string, string, *grade.Outcome) {
	if o, ok := needNC(t); !ok {
		return "", "", &o
	}
	files, work, err := davRoot(ctx, t)
	if err != nil {
		o := grade.Errorf("WebDAV work folder", err)
		return "", "", &o
	}
	return files, work, nil
}

// DAVMkcol: RFC 4918 §9.3.1 — MKCOL creates (201), refuses an existing
// resource (405) and a missing parent (409).
func DAVMkcol(ctx context.Context, t *grade.Target) grade.Outcome {
	_, work, o := needDAV(ctx, t)
	if o != nil {
		return *o
	}
	ev, o := runSteps(ctx, t, []step{
		{method: "MKCOL", path: work + "/d", want: []int{201}},
		{method: "MKCOL", path: work + "/d", want: []int{405}},
		{method: "MKCOL", path: work + "/missing/d", want: []int{409}},
	})
	if o != nil {
		return *o
	}
	return grade.Passf("%s", ev)
}

// DAVPut: RFC 9110 §9.3.4 / RFC 4918 §9.7.1 — PUT creates (201), replaces
// (204 or 200), and refuses a missing parent (409).
func DAVPut(ctx context.Context, t *grade.Target) grade.Outcome {
	_, work, o := needDAV(ctx, t)
	if o != nil {
		return *o
	}
	ev, o := runSteps(ctx, t, []step{
		{method: "PUT", path: work + "/a.txt", body: []byte("one"), want: []int{201}},
		{method: "PUT", path: work + "/a.txt", body: []byte("two"), want: []int{204, 200}},
		{method: "PUT", path: work + "/missing/b.txt", body: []byte("x"), want: []int{409}},
	})
	if o != nil {
		return *o
	}
	return grade.Passf("%s", ev)
}

const propfindBody = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>`

// DAVPropfind: RFC 4918 §9.1 — PROPFIND answers 207 multistatus; a
// missing resource is 404.
func DAVPropfind(ctx context.Context, t *grade.Target) grade.Outcome {
	_, work, o := needDAV(ctx, t)
	if o != nil {
		return *o
	}
	hdr := map[string]string{"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
	a, err := do(ctx, t, "PROPFIND", work, hdr, []byte(propfindBody), true)
	if err != nil {
		return grade.Errorf("PROPFIND", err)
	}
	if a.Status != http.StatusMultiStatus || !strings.Contains(string(a.Body), "multistatus") {
		return grade.Failf("PROPFIND Depth 1 on a folder: HTTP %d, want 207 multistatus", a.Status)
	}
	m, err := do(ctx, t, "PROPFIND", work+"/nope", map[string]string{"Depth": "0"}, []byte(propfindBody), true)
	if err != nil {
		return grade.Errorf("PROPFIND", err)
	}
	if m.Status != http.StatusNotFound {
		return grade.Failf("PROPFIND on a missing resource: HTTP %d, want 404", m.Status)
	}
	return grade.Passf("PROPFIND Depth 1 → 207 (%s); missing → 404", a.Header.Get("Content-Type"))
}

// DAVPreconditions: RFC 9110 §13.1 — a stale If-Match and If-None-Match: *
// on an existing resource are 412; GET with a matching If-None-Match is
// 304.
func DAVPreconditions(ctx context.Context, t *grade.Target) grade.Outcome {
	_, work, o := needDAV(ctx, t)
	if o != nil {
		return *o
	}
	p := work + "/etag.txt"
	put, err := do(ctx, t, http.MethodPut, p, nil, []byte("v1"), true)
	if err != nil {
		return grade.Errorf("PUT", err)
	}
	if put.Status != http.StatusCreated {
		return grade.Failf("PUT %s: HTTP %d", short(p), put.Status)
	}
	g, err := do(ctx, t, http.MethodGet, p, nil, nil, true)
	if err != nil {
		return grade.Errorf("GET", err)
	}
	etag := g.Header.Get("ETag")
	if g.Status != http.StatusOK || etag == "" {
		return grade.Failf("GET %s: HTTP %d ETag %q", short(p), g.Status, etag)
	}
	ev, o := runSteps(ctx, t, []step{
		{method: "PUT", path: p, hdr: map[string]string{"If-Match": `"conformance-stale"`}, body: []byte("v2"), want: []int{412}},
		{method: "PUT", path: p, hdr: map[string]string{"If-None-Match": "*"}, body: []byte("v2"), want: []int{412}},
		{method: "GET", path: p, hdr: map[string]string{"If-None-Match": etag}, want: []int{304}},
		{method: "PUT", path: p, hdr: map[string]string{"If-Match": etag}, body: []byte("v2"), want: []int{204, 200}},
	})
	if o != nil {
		return *o
	}
	return grade.Passf("stale If-Match, If-None-Match:*, matching If-None-Match, current If-Match: %s", ev)
}

// DAVMoveDelete: RFC 4918 §9.9.4 and §9.6 — MOVE onto an existing
// destination with Overwrite: F is 412, to a new one 201; DELETE is 204,
// and 404 when missing. Removes the work folder last.
func DAVMoveDelete(ctx context.Context, t *grade.Target) grade.Outcome {
	_, work, o := needDAV(ctx, t)
	if o != nil {
		return *o
	}
	base := strings.TrimSuffix(t.Nextcloud.URL, "/")
	for _, f := range []string{"/m1.txt", "/m2.txt"} {
		if a, err := do(ctx, t, http.MethodPut, work+f, nil, []byte(f), true); err != nil || a.Status != http.StatusCreated {
			return grade.Failf("PUT %s failed: %v %v", f, err, a)
		}
	}
	ev, o := runSteps(ctx, t, []step{
		{method: "MOVE", path: work + "/m1.txt", hdr: map[string]string{"Destination": base + work + "/m2.txt", "Overwrite": "F"}, want: []int{412}},
		{method: "MOVE", path: work + "/m1.txt", hdr: map[string]string{"Destination": base + work + "/m3.txt"}, want: []int{201}},
		{method: "DELETE", path: work + "/m3.txt", want: []int{204}},
		{method: "DELETE", path: work + "/m3.txt", want: []int{404}},
		{method: "DELETE", path: work, want: []int{204}},
	})
	if o != nil {
		return *o
	}
	return grade.Passf("%s", ev)
}
