package nextcloud

import (
	"archive/zip"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// wantsZip is ZipFolderPlugin::handleDownload's test: a GET (not HEAD) whose
// Accept header is exactly application/zip or zip (sabre's
// getHeaderAsArray does not split a header on commas), or whose accept
// query parameter lists one of them. The tar variant (application/x-tar)
// is not served: such a request gets the DummyGetResponsePlugin page.
func wantsZip(d *davReq) bool {
	if d.r.Method != http.MethodGet {
		return false
	}
	accept := d.r.Header.Values("Accept")
	if p := d.r.URL.Query().Get("accept"); p != "" {
		accept = nil
		for _, a := range strings.Split(p, ",") {
			accept = append(accept, strings.ToLower(strings.TrimSpace(a)))
		}
	}
	for _, a := range accept {
		if a = strings.TrimSpace(a); a == "application/zip" || a == "zip" {
			return true
		}
	}
	return false
}

// zipFilter is the files filter: the X-NC-Files headers or the files query
// parameter (a JSON list of names, or one JSON value); ok is false when a
// filter entry is not a string, where Nextcloud falls back to sabre's GET.
func zipFilter(d *davReq) (files []string, ok bool) {
	files = d.r.Header.Values("X-NC-Files")
	p := d.r.URL.Query().Get("files")
	if p == "" {
		return files, true
	}
	var v any
	if err := json.Unmarshal([]byte(p), &v); err != nil {
		return nil, false
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	files = nil
	for _, x := range list {
		s, isString := x.(string)
		if !isString {
			return nil, false
		}
		files = append(files, s)
	}
	return files, true
}

// serveZip is ZipFolderPlugin::handleDownload for a folder of the files
// view: the folder streams as a zip archive (stored, not deflated, as
// Nextcloud's ZipStreamer does) straight into the response. A full folder
// download has the folder itself as the top directory ("download" for the
// home); with a filter, the named children are at the top. It reports
// false when Nextcloud would leave the GET to sabre.
//
// Differences from Nextcloud: the archive is written under the state lock
// (so it is consistent, and other requests wait while it streams); a
// filter naming a missing child is a 404 before anything is sent, where
// Nextcloud fails after the headers went out; no missing_files.json.
func serveZip(d *davReq, e *entry) (bool, *davError) {
	files, ok := zipFilter(d)
	if !ok {
		return false, nil
	}
	st := d.st()
	name := e.name
	if e.isHome() {
		name = "download"
	}
	type item struct {
		e    *entry
		path string
	}
	var top []item
	full := len(files) == 0
	if full {
		// The children are named relative to the folder's parent, so a
		// folder's come below its name; the home's parent is the user's
		// directory, so its children come below "files/" while the empty
		// top directory is "download/" (Nextcloud's quirk, kept).
		prefix := e.name
		if e.isHome() {
			prefix = "files"
		}
		for _, c := range st.children(e) {
			top = append(top, item{c, prefix + "/" + c.name})
		}
	} else {
		for _, f := range files {
			segs := splitPath(f)
			c, _, err := st.resolve(d.auth.uid, append(splitPath(e.path), segs...))
			if err != nil || len(segs) == 0 {
				return true, errNotFound("File with name " + f + " could not be located")
			}
			top = append(top, item{c, strings.Join(segs, "/")})
		}
	}
	h := d.w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(name, `"`, `\"`)+`.zip"`)
	h.Set("X-Accel-Buffering", "no")
	d.w.WriteHeader(http.StatusOK)
	zw := zip.NewWriter(d.w)
	if full {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: name + "/", Method: zip.Store, Modified: time.Unix(e.node.MTime, 0).UTC()}); err != nil {
			d.n.logger.Debug("zip download aborted", "err", err)
			return true, nil
		}
	}
	var add func(it item) error
	add = func(it item) error {
		node := it.e.node
		hdr := &zip.FileHeader{Name: it.path, Method: zip.Store, Modified: time.Unix(node.MTime, 0).UTC()}
		if node.Dir {
			hdr.Name += "/"
			if _, err := zw.CreateHeader(hdr); err != nil {
				return err
			}
			for _, c := range st.children(it.e) {
				if err := add(item{c, it.path + "/" + c.name}); err != nil {
					return err
				}
			}
			return nil
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		_, err = w.Write(node.Content)
		return err
	}
	for _, it := range top {
		if err := add(it); err != nil {
			// The client went away mid-stream; nothing more can be said.
			d.n.logger.Debug("zip download aborted", "err", err)
			return true, nil
		}
	}
	if err := zw.Close(); err != nil {
		d.n.logger.Debug("zip download aborted", "err", err)
	}
	return true, nil
}
