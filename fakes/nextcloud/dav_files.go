package nextcloud

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

// filesDAV is the files collection: /remote.php/dav/files/{uid} is the
// user's view of the file store (view.go), and remote.php/webdav serves the
// same view at its own base (apps/dav/lib/Files/RootCollection.php,
// apps/dav/appinfo/v1/webdav.php). Its nodes are Nextcloud's
// OCA\DAV\Connector\Sabre\File and Directory with FilesPlugin's
// properties.
type filesDAV struct{}

func (filesDAV) name() string       { return "files" }
func (filesDAV) legacyBase() string { return "/remote.php/webdav" }

// resolve is Files\RootCollection: the user's own home, or another
// existing user's home as an empty collection.
func (filesDAV) resolve(d *davReq, rest []string) (davNode, *davError) {
	if len(rest) == 0 {
		return filesHomes{}, nil
	}
	uid := rest[0]
	if uid == d.auth.uid {
		return resolveFiles(d, uid, rest[1:])
	}
	if d.st().users[uid] == nil {
		return nil, errNotFound("Principal with name " + uid + " not found")
	}
	// Files\RootCollection: another user's home is an empty collection.
	if len(rest) > 1 {
		return nil, errNotFound("File not found: " + rest[1] + " in '" + uid + "'")
	}
	return foreignHome{uid: uid}, nil
}

func (filesDAV) resolveLegacy(d *davReq, segs []string) (davNode, *davError) {
	return resolveFiles(d, d.auth.uid, segs)
}

// resolveFiles walks a user's files view. Names Nextcloud reserves are
// refused even for lookups (View::verifyPath read-only: "Filename is a
// reserved word"); "." and ".." never name anything.
func resolveFiles(d *davReq, uid string, segs []string) (davNode, *davError) {
	for _, s := range segs {
		if vfs.IsForbiddenName(s) {
			return nil, errInvalidPath("Filename is a reserved word")
		}
		if s == "." || s == ".." {
			return nil, errNotFound("File with name /" + strings.Join(segs, "/") + " could not be located")
		}
	}
	e, _, err := d.st().resolve(uid, segs)
	if err != nil {
		return nil, errNotFound("File with name /" + strings.Join(segs, "/") + " could not be located")
	}
	return &fileNode{e: e}, nil
}

// serve handles a folder GET for a zip (ZipFolderPlugin, dav_files_zip.go)
// and PUT: Nextcloud's File::put with X-OC-MTime, OC-FileId and
// X-NC-WebDAV-AutoMkcol around sabre's CorePlugin::httpPut. The other
// methods go through the core and the node interfaces.
func (filesDAV) serve(d *davReq) (bool, *davError) {
	if wantsZip(d) {
		// ZipFolderPlugin runs on method:GET before CorePlugin.
		if node, err := d.resolve(d.segs); err == nil && node.isCollection() {
			if e, ok := entryOf(node); ok {
				return serveZip(d, e)
			}
		}
		return false, nil
	}
	if d.r.Method != http.MethodPut {
		return false, nil
	}
	return true, filesPut(d)
}

func (filesDAV) methods(*davReq, davNode) []string { return nil }

// filesHomes is /remote.php/dav/files/: it lists only the user's own home.
type filesHomes struct{}

func (filesHomes) davPath(*davReq) string { return "/files/" }
func (filesHomes) isCollection() bool     { return true }
func (filesHomes) children(d *davReq) []davNode {
	return []davNode{&fileNode{e: d.st().home(d.auth.uid)}}
}
func (filesHomes) prop(*davReq, davxml.Name, bool) (string, bool) { return "", false }

// foreignHome is another user's files/{uid}: an empty collection.
type foreignHome struct{ uid string }

func (h foreignHome) davPath(*davReq) string                       { return "/files/" + h.uid + "/" }
func (foreignHome) isCollection() bool                             { return true }
func (foreignHome) children(*davReq) []davNode                     { return nil }
func (foreignHome) prop(*davReq, davxml.Name, bool) (string, bool) { return "", false }

// fileNode is a file or folder of the user's view.
type fileNode struct{ e *entry }

// entryOf returns the view entry of a files node.
func entryOf(n davNode) (*entry, bool) {
	f, ok := n.(*fileNode)
	if !ok {
		return nil, false
	}
	return f.e, true
}

func (f *fileNode) davPath(d *davReq) string {
	p := f.e.path
	if d.legacy == nil {
		p = "/files/" + f.e.uid + f.e.path
	}
	if f.e.node.Dir {
		p += "/"
	}
	return p
}

func (f *fileNode) isCollection() bool { return f.e.node.Dir }

func (f *fileNode) children(d *davReq) []davNode {
	if !f.e.node.Dir {
		return nil
	}
	var out []davNode
	for _, c := range d.st().children(f.e) {
		out = append(out, &fileNode{e: c})
	}
	return out
}

func (f *fileNode) deadProps() map[string]string { return f.e.node.Props }

func (f *fileNode) fileETag(d *davReq) string {
	if f.e.node.Dir {
		return ""
	}
	return f.etag(d)
}

func (f *fileNode) lastModified() int64 { return f.e.node.MTime }

// etag is the quoted ETag the viewer sees.
func (f *fileNode) etag(d *davReq) string { return `"` + d.st().etagFor(f.e) + `"` }

// prop is FilesPlugin::handleGetProperties and the Node's properties; the
// folder counts are only computed when asked for, as in FilesPlugin.
func (f *fileNode) prop(d *davReq, n davxml.Name, explicit bool) (string, bool) {
	st := d.st()
	e := f.e
	node := e.node
	text := func(s string) (string, bool) { return davxml.EscapeText(s), true }
	switch n {
	case nDAV("getlastmodified"):
		return text(httpDate(node.MTime))
	case nDAV("getetag"):
		return text(f.etag(d))
	case nDAV("getcontentlength"):
		if !node.Dir {
			return text(strconv.Itoa(len(node.Content)))
		}
	case nDAV("getcontenttype"):
		if !node.Dir {
			return text(node.MimeType)
		}
	case nDAV("displayname"):
		return text(e.name)
	case nDAV("creationdate"):
		return text(time.Unix(node.CTime, 0).UTC().Format("2006-01-02T15:04:05+00:00"))
	case nDAV("quota-used-bytes"):
		if node.Dir {
			return text(strconv.FormatInt(node.Size(), 10))
		}
	case nDAV("quota-available-bytes"):
		if node.Dir {
			return text("-3")
		}
	case nOC("id"):
		return text(st.fileID(node.ID))
	case nOC("fileid"):
		return text(strconv.FormatInt(node.ID, 10))
	case nOC("permissions"):
		return text(davPermissions(e))
	case nOC("size"):
		return text(strconv.FormatInt(node.Size(), 10))
	case nOC("favorite"):
		if st.isFavorite(d.auth.uid, node.ID) {
			return text("1")
		}
		return text("0")
	case nOC("owner-id"):
		return text(node.Owner)
	case nOC("owner-display-name"):
		if u := st.users[node.Owner]; u != nil {
			return text(u.DisplayName)
		}
		return text(node.Owner)
	case nOC("checksums"):
		// FilesPlugin answers it only for a file with a stored checksum;
		// ChecksumList writes one oc:checksum per comma-separated entry of
		// the column (a client's "SHA1:… MD5:…" is one entry).
		if !node.Dir && node.Checksum != "" {
			var b strings.Builder
			for _, c := range strings.Split(node.Checksum, ",") {
				b.WriteString("<oc:checksum>" + davxml.EscapeText(c) + "</oc:checksum>")
			}
			return b.String(), true
		}
	case nOC("tags"):
		return "", true
	case nOC("data-fingerprint"):
		return "", true
	case nNC("has-preview"):
		return text("false")
	case nNC("mount-type"):
		if e.mount != nil {
			return text(e.mount.mountType())
		}
		return "", true
	case nNC("is-mount-root"):
		if e.mountRoot {
			return text("true")
		}
		return text("false")
	case nNC("is-federated"):
		return "", true
	case nNC("hidden"):
		return text("false")
	case nNC("creation_time"):
		return text(strconv.FormatInt(node.CTime, 10))
	case nNC("upload_time"):
		if !node.Dir {
			return text(strconv.FormatInt(node.UTime, 10))
		}
	case nNC("last_activity"):
		return text(strconv.FormatInt(node.MTime, 10))
	case nNC("share-attributes"):
		return text("[]")
	case nNC("note"):
		if e.mount != nil && e.mount.note() != "" {
			return text(e.mount.note())
		}
	case nNC("contained-file-count"), nNC("contained-folder-count"):
		if node.Dir && explicit {
			files, folders := 0, 0
			for _, c := range st.children(e) {
				if c.node.Dir {
					folders++
				} else {
					files++
				}
			}
			if n.Local == "contained-file-count" {
				return text(strconv.Itoa(files))
			}
			return text(strconv.Itoa(folders))
		}
	case davxml.Name{Space: davxml.NSOCS, Local: "share-permissions"}:
		return text(strconv.Itoa(sharePermissions(e)))
	case davxml.Name{Space: davxml.NSOCM, Local: "share-permissions"}:
		return text(ocmPermissions(sharePermissions(e)))
	}
	return "", false
}

// filesProtectedProps are the live properties FilesPlugin adds to sabre's
// protected ones (getetag is taken off again): PROPPATCH answers 403.
var filesProtectedProps = map[davxml.Name]bool{
	nOC("id"): true, nOC("fileid"): true, nOC("permissions"): true, {Space: davxml.NSOCS, Local: "share-permissions"}: true,
	{Space: davxml.NSOCM, Local: "share-permissions"}: true, nNC("share-attributes"): true, nOC("size"): true,
	nOC("downloadURL"): true, nOC("owner-id"): true, nOC("owner-display-name"): true, nOC("checksums"): true,
	nOC("data-fingerprint"): true, nNC("has-preview"): true, nNC("mount-type"): true, nNC("is-federated"): true, nNC("note"): true,
}

// checkPatch: the protected properties and displayname are refused,
// lastmodified must be a unix time or an HTTP date (FilesPlugin's
// handleUpdateProperties).
func (f *fileNode) checkPatch(_ *davReq, op davxml.PropOp) int {
	switch {
	case filesProtectedProps[op.Name], op.Name == nDAV("displayname"):
		return http.StatusForbidden
	case op.Name == nDAV("lastmodified") && !op.Remove:
		if _, perr := strconv.ParseInt(strings.TrimSpace(op.Text), 10, 64); perr != nil {
			if _, terr := http.ParseTime(strings.TrimSpace(op.Text)); terr != nil {
				return http.StatusBadRequest
			}
		}
	}
	return 0
}

// applyPatch: the favourite is a tag, lastmodified touches, the rest are
// stored as dead properties.
func (f *fileNode) applyPatch(d *davReq, op davxml.PropOp) {
	st := d.st()
	node := f.e.node
	switch {
	case op.Name == nOC("favorite"):
		v := strings.TrimSpace(op.Text)
		st.setFavorite(d.auth.uid, node.ID, !op.Remove && (v == "1" || strings.EqualFold(v, "true")))
	case op.Name == nDAV("lastmodified") && !op.Remove:
		t, perr := strconv.ParseInt(strings.TrimSpace(op.Text), 10, 64)
		if perr != nil {
			pt, _ := http.ParseTime(strings.TrimSpace(op.Text))
			t = pt.Unix()
		}
		st.fs.Touch(node, t)
	case op.Remove:
		st.fs.SetProp(node, op.Name.Clark(), nil)
	default:
		v := op.Value
		st.fs.SetProp(node, op.Name.Clark(), &v)
	}
}

func (d *davReq) setETag(etag string) {
	if etag != "" {
		// CopyEtagHeaderPlugin mirrors every ETag into OC-ETag.
		d.w.Header().Set("ETag", etag)
		d.w.Header().Set("OC-ETag", etag)
	}
}

var numberRe = regexp.MustCompile(`^\s*-?[0-9]+(\.[0-9]*)?\s*$`)

var rangeRe = regexp.MustCompile(`(?i)^bytes=([0-9]*)-([0-9]*)$`)

// get is FilesPlugin::httpGet and CorePlugin::httpGet's range handling for
// a file.
func (f *fileNode) get(d *davReq) *davError {
	head := d.r.Method == http.MethodHead
	node := f.e.node
	h := d.w.Header()
	h.Set("Content-Type", node.MimeType)
	lastMod := time.Unix(node.MTime, 0).UTC().Format(http.TimeFormat)
	h.Set("Last-Modified", lastMod)
	etag := f.etag(d)
	d.setETag(etag)
	name := url.PathEscape(node.Name)
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+name+`; filename="`+name+`"`)
	h.Set("X-Accel-Buffering", "no")
	if node.Checksum != "" {
		// FilesPlugin::httpGet.
		h.Set("OC-Checksum", node.Checksum)
	}
	size := int64(len(node.Content))
	start, end := int64(0), size-1
	partial := false
	if m := rangeRe.FindStringSubmatch(d.r.Header.Get("Range")); m != nil && (m[1] != "" || m[2] != "") && size > 0 {
		ignore := false
		if ifRange := d.r.Header.Get("If-Range"); ifRange != "" {
			if t, perr := http.ParseTime(ifRange); perr == nil {
				ignore = time.Unix(node.MTime, 0).After(t)
			} else {
				ignore = ifRange != etag
			}
		}
		if !ignore {
			if m[1] != "" {
				start, _ = strconv.ParseInt(m[1], 10, 64)
				if m[2] != "" {
					end, _ = strconv.ParseInt(m[2], 10, 64)
				}
				if start >= size {
					return &davError{status: http.StatusRequestedRangeNotSatisfiable, exception: `Sabre\DAV\Exception\RequestedRangeNotSatisfiable`,
						message: "The start offset (" + m[1] + ") exceeded the size of the entity (" + strconv.FormatInt(size, 10) + ")"}
				}
				if end < start {
					return &davError{status: http.StatusRequestedRangeNotSatisfiable, exception: `Sabre\DAV\Exception\RequestedRangeNotSatisfiable`,
						message: "The end offset (" + m[2] + ") is lower than the start offset (" + m[1] + ")"}
				}
				if end >= size {
					end = size - 1
				}
			} else {
				n, _ := strconv.ParseInt(m[2], 10, 64)
				start = size - n
				if start < 0 {
					start = 0
				}
			}
			partial = true
		}
	}
	if partial {
		h.Set("Content-Length", strconv.FormatInt(end-start+1, 10))
		h.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
		d.w.WriteHeader(http.StatusPartialContent)
		if !head {
			_, _ = d.w.Write(node.Content[start : end+1])
		}
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	d.w.WriteHeader(http.StatusOK)
	if !head {
		_, _ = d.w.Write(node.Content)
	}
	return nil
}

// mtimeHeader is X-OC-MTime through MtimeSanitizer.
func (d *davReq) mtimeHeader() (int64, bool, *davError) {
	v := d.r.Header.Get("X-OC-MTime")
	if v == "" {
		return 0, false, nil
	}
	if !numberRe.MatchString(v) {
		return 0, false, errBadRequest("X-OC-MTime header must be an integer (unix timestamp).")
	}
	f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return int64(f), true, nil
}

func (d *davReq) fileIDHeader(node *vfs.Node) {
	d.w.Header().Set("OC-FileId", d.st().fileID(node.ID))
}

// filesPut is CorePlugin::httpPut with File::put: 204 for an existing file,
// 201 for a new one, 409 when the parent is missing or the target is a
// collection. The store takes the request's body buffer as the content
// (no second copy of a large file).
func filesPut(d *davReq) *davError {
	if d.r.Header.Get("Content-Range") != "" {
		return errBadRequest("Content-Range on PUT requests are forbidden.")
	}
	mtime, haveMtime, merr := d.mtimeHeader()
	if merr != nil {
		return merr
	}
	st := d.st()
	res, err := d.resolve(d.segs)
	if err != nil && err.status != http.StatusNotFound {
		return err
	}
	if res != nil {
		e, isFile := entryOf(res)
		if res.isCollection() || !isFile {
			return errConflict("PUT is not allowed on non-files.")
		}
		if e.perms&permUpdate == 0 {
			return errForbidden("Permission denied to write to " + e.node.Name)
		}
		if ferr := st.fs.WriteFileNoCopy(e.node, d.body, mtime); ferr != nil {
			return errConflict(ferr.Error())
		}
		d.storeChecksum(e.node)
		d.changed = true
		if haveMtime {
			d.w.Header().Set("X-OC-MTime", "accepted")
		}
		d.setETag(`"` + e.node.ETag + `"`)
		d.fileIDHeader(e.node)
		d.w.Header().Set("Content-Length", "0")
		d.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if len(d.segs) == 0 {
		return errConflict("PUT is not allowed on non-files.")
	}
	parentSegs, name := d.segs[:len(d.segs)-1], d.segs[len(d.segs)-1]
	parent, perr := d.resolve(parentSegs)
	if perr != nil && perr.status == http.StatusNotFound && d.r.Header.Get("X-NC-WebDAV-AutoMkcol") == "1" {
		if parent, perr = autoMkcol(d, parentSegs); perr != nil {
			return perr
		}
	}
	if perr != nil {
		if perr.status == http.StatusNotFound {
			return errConflict("Files cannot be created in non-existent collections")
		}
		return perr
	}
	if !parent.isCollection() {
		return errConflict("Files can only be created as children of collections")
	}
	pe, ok := entryOf(parent)
	if !ok {
		return errForbidden("Permission denied to create file (filename " + name + ")")
	}
	if verr := vfs.ValidateName(name); verr != nil {
		return errInvalidPath(verr.Error())
	}
	if pe.perms&permCreate == 0 {
		return errForbidden("Permission denied to create file (filename " + name + ")")
	}
	node, ferr := st.fs.CreateFileNoCopy(pe.node, name, d.body, mtime)
	if ferr != nil {
		return errConflict(ferr.Error())
	}
	d.storeChecksum(node)
	d.changed = true
	if haveMtime {
		d.w.Header().Set("X-OC-MTime", "accepted")
	}
	d.setETag(`"` + node.ETag + `"`)
	d.fileIDHeader(node)
	d.w.Header().Set("Content-Length", "0")
	d.w.WriteHeader(http.StatusCreated)
	return nil
}

// storeChecksum is the end of File::put: the OC-Checksum header, trimmed,
// is stored verbatim (Nextcloud does not verify it); without the header the
// write has already cleared the old one (vfs.WriteFile).
func (d *davReq) storeChecksum(node *vfs.Node) {
	if v, ok := d.r.Header["Oc-Checksum"]; ok && len(v) > 0 {
		node.Checksum = strings.TrimSpace(v[0])
	}
}

// autoMkcol creates the missing parents of a PUT (X-NC-WebDAV-AutoMkcol).
func autoMkcol(d *davReq, segs []string) (davNode, *davError) {
	st := d.st()
	for i := 1; i <= len(segs); i++ {
		res, err := d.resolve(segs[:i])
		if err == nil {
			if !res.isCollection() {
				return nil, errConflict("Files can only be created as children of collections")
			}
			continue
		}
		if err.status != http.StatusNotFound {
			return nil, err
		}
		parent, perr := d.resolve(segs[:i-1])
		if perr != nil {
			return nil, errConflict("Files cannot be created in non-existent collections")
		}
		pe, ok := entryOf(parent)
		if !ok {
			return nil, errConflict("Files cannot be created in non-existent collections")
		}
		if verr := vfs.ValidateName(segs[i-1]); verr != nil {
			return nil, errInvalidPath(verr.Error())
		}
		if pe.perms&permCreate == 0 {
			return nil, errForbidden("Permission denied to create directory " + segs[i-1])
		}
		if _, ferr := st.fs.Mkdir(pe.node, segs[i-1]); ferr != nil {
			return nil, errConflict(ferr.Error())
		}
		d.changed = true
	}
	return d.resolve(segs)
}

// mkcol is Directory::createDirectory with the extended MKCOL's
// properties stored as dead properties.
func (f *fileNode) mkcol(d *davReq, name string, props []davxml.PropOp) *davError {
	if verr := vfs.ValidateName(name); verr != nil {
		return errInvalidPath(verr.Error())
	}
	if f.e.perms&permCreate == 0 {
		return errForbidden("Permission denied to create directory " + name)
	}
	node, err := d.st().fs.Mkdir(f.e.node, name)
	if err != nil {
		return errConflict(err.Error())
	}
	for _, p := range props {
		v := p.Value
		d.st().fs.SetProp(node, p.Name.Clark(), &v)
	}
	d.fileIDHeader(node)
	return nil
}

func (f *fileNode) delete(d *davReq) *davError { return removeEntry(d, f.e) }

// removeEntry deletes e; a mount point is unmounted from the viewer's tree
// instead (a received share is left).
func removeEntry(d *davReq, e *entry) *davError {
	st := d.st()
	switch {
	case e.isHome():
		return errForbidden("Permission denied to delete your home folder")
	case e.mountRoot:
		e.mount.unmount(st, e.uid)
		return nil
	case e.perms&permDelete == 0:
		return errForbidden(e.name + " cannot be deleted")
	}
	if err := st.deleteNode(e.node); err != nil {
		return errForbidden(err.Error())
	}
	return nil
}

// moveCopy is FilesPlugin::checkMove/checkCopy (valid target names, the
// source's permissions) and then View::rename/copy; a mount point is
// renamed, not moved.
func (f *fileNode) moveCopy(d *davReq, cm *copyMove, move bool) *davError {
	st := d.st()
	name := cm.destSegs[len(cm.destSegs)-1]
	if verr := vfs.ValidateName(name); verr != nil {
		return errInvalidPath(verr.Error())
	}
	for _, s := range cm.parentSegs {
		if vfs.ValidateName(s) != nil {
			return errInvalidPath("Invalid target path")
		}
	}
	se := f.e
	if se.isHome() {
		return errForbidden("Permission denied to rename file")
	}
	pe, ok := entryOf(cm.parent)
	if !ok {
		if se.node.Dir {
			return errForbidden("Permission denied to create directory")
		}
		return errForbidden("Permission denied to create file (filename " + name + ")")
	}
	if move {
		sameDir := strings.Join(d.segs[:len(d.segs)-1], "/") == strings.Join(cm.parentSegs, "/")
		if sameDir && se.perms&permUpdate == 0 && !se.mountRoot {
			return errForbidden(cm.srcPath + " cannot be renamed")
		}
		if !sameDir && se.perms&permDelete == 0 && !se.mountRoot {
			return errForbidden(cm.srcPath + " cannot be deleted")
		}
		if strings.HasPrefix(cm.srcPath, cm.destPath+"/") {
			return errForbidden(cm.srcPath + " cannot be moved to it's parent")
		}
	}
	var de *entry
	if cm.dest != nil {
		var isEntry bool
		if de, isEntry = entryOf(cm.dest); !isEntry || de.perms&permUpdate == 0 {
			return errForbidden("No permissions to copy object.")
		}
	} else if pe.perms&permCreate == 0 {
		return errForbidden("No permissions to copy object.")
	}
	if move && se.mountRoot && (!pe.isHome() || de != nil) {
		// Mount points live at the root of the recipient's tree here.
		return errForbidden("A share can only be renamed at the root of your files")
	}
	if de != nil {
		if rerr := removeEntry(d, de); rerr != nil {
			return rerr
		}
	}
	var result *vfs.Node
	switch {
	case move && se.mountRoot:
		se.mount.rename(st, se.uid, name)
		result = se.node
	case move:
		if merr := st.fs.Move(se.node, pe.node, name); merr != nil {
			return moveError(merr)
		}
		result = se.node
	default:
		deep := d.r.Header.Get("Depth") != "0"
		c, cerr := st.fs.Copy(se.node, pe.node, name, deep)
		if cerr != nil {
			return moveError(cerr)
		}
		result = c
	}
	d.changed = true
	d.fileIDHeader(result)
	if move && !result.Dir {
		d.setETag(`"` + result.ETag + `"`)
	}
	d.w.Header().Set("Content-Length", "0")
	if de != nil {
		d.w.WriteHeader(http.StatusNoContent)
	} else {
		d.w.WriteHeader(http.StatusCreated)
	}
	return nil
}

func moveError(err error) *davError {
	switch {
	case errors.Is(err, vfs.ErrCycle):
		return errConflict("The destination may not be part of the same subtree as the source path.")
	case errors.Is(err, vfs.ErrIsHome):
		return errForbidden("Permission denied to rename file")
	}
	return errConflict(err.Error())
}

// filesReport is FilesReportPlugin: oc:filter-files lists the favourites
// below the request path.
func filesReport(d *davReq, root *davxml.Element) (bool, *davError) {
	if root.Name != nOC("filter-files") {
		return false, nil
	}
	res, err := d.resolve(d.segs)
	if err != nil {
		return true, err
	}
	ff := davxml.ParseFilterFiles(root)
	if root.Child(nOC("filter-rules")) == nil {
		return true, errBadRequest("Missing filter-rule block in request")
	}
	if len(ff.SystemTag) > 0 {
		return true, errPrecondition("Cannot filter by non-existing tag", "")
	}
	var responses []davxml.Response
	if e, ok := entryOf(res); ok && ff.Favorite {
		pf := &davxml.Propfind{Props: ff.Props, AllProp: len(ff.Props) == 0}
		var walk func(e *entry)
		walk = func(e *entry) {
			for _, c := range d.st().children(e) {
				if d.st().isFavorite(d.auth.uid, c.node.ID) {
					r := &fileNode{e: c}
					responses = append(responses, davxml.Response{Href: d.href(r), Propstats: d.propstats(r, pf, false)})
				}
				if c.node.Dir {
					walk(c)
				}
			}
		}
		walk(e)
	}
	d.writeMultistatus(responses)
	return true, nil
}
