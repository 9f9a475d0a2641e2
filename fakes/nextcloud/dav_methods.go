package nextcloud

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

// dummyGetBody is DummyGetResponsePlugin's answer to GET on a collection.
const dummyGetBody = "This is the WebDAV interface. It can only be accessed by WebDAV clients such as the Nextcloud desktop sync client."

func (d *davReq) setETag(etag string) {
	if etag != "" {
		// CopyEtagHeaderPlugin mirrors every ETag into OC-ETag.
		d.w.Header().Set("ETag", etag)
		d.w.Header().Set("OC-ETag", etag)
	}
}

var numberRe = regexp.MustCompile(`^\s*-?[0-9]+(\.[0-9]*)?\s*$`)

var rangeRe = regexp.MustCompile(`(?i)^bytes=([0-9]*)-([0-9]*)$`)

// get is CorePlugin::httpGet (and httpHead) plus FilesPlugin::httpGet.
func (d *davReq) get() *davError {
	res, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	head := d.r.Method == http.MethodHead
	if res.isCollection() {
		d.w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		d.w.WriteHeader(http.StatusOK)
		if !head {
			_, _ = d.w.Write([]byte(dummyGetBody))
		}
		return nil
	}
	node := res.e.node
	h := d.w.Header()
	h.Set("Content-Type", node.MimeType)
	lastMod := time.Unix(node.MTime, 0).UTC().Format(http.TimeFormat)
	h.Set("Last-Modified", lastMod)
	etag := d.etag(res)
	d.setETag(etag)
	name := url.PathEscape(node.Name)
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+name+`; filename="`+name+`"`)
	h.Set("X-Accel-Buffering", "no")
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

// put is CorePlugin::httpPut: 204 for an existing file, 201 for a new one,
// 409 when the parent is missing or the target is a collection.
func (d *davReq) put() *davError {
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
		if res.isCollection() {
			return errConflict("PUT is not allowed on non-files.")
		}
		e := res.e
		if e.perms&permUpdate == 0 {
			return errForbidden("Permission denied to write to " + e.node.Name)
		}
		if ferr := st.fs.WriteFile(e.node, d.body, mtime); ferr != nil {
			return errConflict(ferr.Error())
		}
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
		if parent, perr = d.autoMkcol(parentSegs); perr != nil {
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
	if parent.kind != resEntry {
		return errForbidden("Permission denied to create file (filename " + name + ")")
	}
	if verr := vfs.ValidateName(name); verr != nil {
		return errInvalidPath(verr.Error())
	}
	if parent.e.perms&permCreate == 0 {
		return errForbidden("Permission denied to create file (filename " + name + ")")
	}
	node, ferr := st.fs.CreateFile(parent.e.node, name, d.body, mtime)
	if ferr != nil {
		return errConflict(ferr.Error())
	}
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

// autoMkcol creates the missing parents of a PUT (X-NC-WebDAV-AutoMkcol).
func (d *davReq) autoMkcol(segs []string) (*davRes, *davError) {
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
		if perr != nil || parent.kind != resEntry {
			return nil, errConflict("Files cannot be created in non-existent collections")
		}
		if verr := vfs.ValidateName(segs[i-1]); verr != nil {
			return nil, errInvalidPath(verr.Error())
		}
		if parent.e.perms&permCreate == 0 {
			return nil, errForbidden("Permission denied to create directory " + segs[i-1])
		}
		if _, ferr := st.fs.Mkdir(parent.e.node, segs[i-1]); ferr != nil {
			return nil, errConflict(ferr.Error())
		}
		d.changed = true
	}
	return d.resolve(segs)
}

// mkcol is CorePlugin::httpMkcol and Server::createCollection.
func (d *davReq) mkcol() *davError {
	var props []davxml.PropOp
	if len(d.body) > 0 {
		ct, _, _ := mime.ParseMediaType(d.r.Header.Get("Content-Type"))
		if ct != "application/xml" && ct != "text/xml" {
			return errUnsupportedMedia("The request body for the MKCOL request must have an xml Content-Type")
		}
		m, err := davxml.ParseMkcol(d.body)
		if err != nil {
			return errBadRequest(err.Error())
		}
		if len(m.ResourceType) != 1 || m.ResourceType[0] != (davxml.Name{Space: davxml.NSDAV, Local: "collection"}) {
			return &davError{status: http.StatusForbidden, exception: `Sabre\DAV\Exception\InvalidResourceType`,
				message: "The {DAV:}resourcetype you specified is not supported here."}
		}
		props = m.Props
	}
	if len(d.segs) == 0 {
		return d.methodNotAllowed("The resource you tried to create already exists")
	}
	parentSegs, name := d.segs[:len(d.segs)-1], d.segs[len(d.segs)-1]
	parent, perr := d.resolve(parentSegs)
	if perr != nil {
		if perr.status == http.StatusNotFound {
			return errConflict("Parent node does not exist")
		}
		return perr
	}
	if !parent.isCollection() {
		return errConflict("Parent node is not a collection")
	}
	if _, err := d.resolve(d.segs); err == nil {
		return d.methodNotAllowed("The resource you tried to create already exists")
	} else if err.status != http.StatusNotFound {
		return err
	}
	if parent.kind != resEntry {
		return errForbidden("Permission denied to create directory")
	}
	if verr := vfs.ValidateName(name); verr != nil {
		return errInvalidPath(verr.Error())
	}
	if parent.e.perms&permCreate == 0 {
		return errForbidden("Permission denied to create directory " + name)
	}
	node, err := d.st().fs.Mkdir(parent.e.node, name)
	if err != nil {
		return errConflict(err.Error())
	}
	for _, p := range props {
		v := p.Value
		d.st().fs.SetProp(node, p.Name.Clark(), &v)
	}
	d.changed = true
	d.fileIDHeader(node)
	d.w.Header().Set("Content-Length", "0")
	d.w.WriteHeader(http.StatusCreated)
	return nil
}

func (d *davReq) methodNotAllowed(msg string) *davError {
	return &davError{status: http.StatusMethodNotAllowed, exception: `Sabre\DAV\Exception\MethodNotAllowed`, message: msg,
		headers: map[string]string{"Allow": d.allowedMethods(&davRes{})}}
}

// delete is CorePlugin::httpDelete: 204, or 404 for a missing resource.
func (d *davReq) delete() *davError {
	res, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	if res.kind != resEntry {
		return errForbidden("Permission denied to delete node")
	}
	if derr := d.removeEntry(res.e); derr != nil {
		return derr
	}
	d.changed = true
	d.w.Header().Set("Content-Length", "0")
	d.w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeEntry deletes e; a share mount point is unshared from the viewer.
func (d *davReq) removeEntry(e *entry) *davError {
	st := d.st()
	switch {
	case e.isHome():
		return errForbidden("Permission denied to delete your home folder")
	case e.mountRoot:
		sh := e.share
		if sh.Type == shareTypeGroup {
			if sh.Left == nil {
				sh.Left = map[string]bool{}
			}
			sh.Left[e.uid] = true
		} else {
			delete(st.shares, sh.ID)
		}
		return nil
	case e.perms&permDelete == 0:
		return errForbidden(e.name + " cannot be deleted")
	}
	if err := st.deleteNode(e.node); err != nil {
		return errForbidden(err.Error())
	}
	return nil
}

// calculateURI is Server::calculateUri for the Destination header.
func (d *davReq) calculateURI(dest string) ([]string, *davError) {
	p := dest
	if strings.Contains(dest, "://") {
		u, err := url.Parse(dest)
		if err != nil {
			return nil, errForbidden("Requested uri (" + dest + ") is out of base uri (" + d.base + "/)")
		}
		p = u.EscapedPath()
	} else if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = strings.ReplaceAll(p, "//", "/")
	switch {
	case strings.HasPrefix(p, d.base+"/"):
		return davSegments(strings.TrimPrefix(p, d.base+"/")), nil
	case p == d.base:
		return nil, nil
	}
	return nil, errForbidden("Requested uri (" + p + ") is out of base uri (" + d.base + "/)")
}

// moveCopy is CorePlugin::httpMove/httpCopy with Server::getCopyAndMoveInfo
// (destination parent → overwrite → identical → subtree, in that order) and
// FilesPlugin::checkMove/checkCopy.
func (d *davReq) moveCopy(move bool) *davError {
	st := d.st()
	dest := d.r.Header.Get("Destination")
	if dest == "" {
		return errBadRequest("The destination header was not supplied")
	}
	destSegs, err := d.calculateURI(dest)
	if err != nil {
		return err
	}
	overwrite := true
	switch strings.ToUpper(d.r.Header.Get("Overwrite")) {
	case "", "T":
	case "F":
		overwrite = false
	default:
		return errBadRequest("The HTTP Overwrite header should be either T or F")
	}
	var parentSegs []string
	if len(destSegs) > 0 {
		parentSegs = destSegs[:len(destSegs)-1]
	}
	parent, perr := d.resolve(parentSegs)
	if perr != nil {
		if perr.status == http.StatusNotFound {
			return errConflict("The destination node is not found")
		}
		return perr
	}
	if !parent.isCollection() {
		return errUnsupportedMedia("The destination node is not a collection")
	}
	destRes, derr := d.resolve(destSegs)
	if derr != nil && derr.status != http.StatusNotFound {
		return derr
	}
	destExists := derr == nil
	if destExists && !overwrite {
		return errPrecondition("The destination node already exists, and the overwrite header is set to false", "Overwrite")
	}
	srcPath, destPath := strings.Join(d.segs, "/"), strings.Join(destSegs, "/")
	if srcPath == destPath {
		return errForbidden("Source and destination uri are identical.")
	}
	if strings.HasPrefix(destPath, srcPath+"/") || (srcPath == "" && destPath != "") {
		return errConflict("The destination may not be part of the same subtree as the source path.")
	}
	// beforeMove/beforeCopy: FilesPlugin checks the source exists and the
	// target name is valid.
	src, serr := d.resolve(d.segs)
	if serr != nil {
		return serr
	}
	if len(destSegs) == 0 {
		return errForbidden("Permission denied to delete node")
	}
	name := destSegs[len(destSegs)-1]
	if verr := vfs.ValidateName(name); verr != nil {
		return errInvalidPath(verr.Error())
	}
	for _, s := range parentSegs {
		if vfs.ValidateName(s) != nil {
			return errInvalidPath("Invalid target path")
		}
	}
	if src.kind != resEntry || src.e.isHome() {
		return errForbidden("Permission denied to rename file")
	}
	if parent.kind != resEntry {
		if src.e.node.Dir {
			return errForbidden("Permission denied to create directory")
		}
		return errForbidden("Permission denied to create file (filename " + name + ")")
	}
	se := src.e
	if move {
		sameDir := strings.Join(d.segs[:len(d.segs)-1], "/") == strings.Join(parentSegs, "/")
		if sameDir && se.perms&permUpdate == 0 && !se.mountRoot {
			return errForbidden(srcPath + " cannot be renamed")
		}
		if !sameDir && se.perms&permDelete == 0 && !se.mountRoot {
			return errForbidden(srcPath + " cannot be deleted")
		}
		if strings.HasPrefix(srcPath, destPath+"/") {
			return errForbidden(srcPath + " cannot be moved to it's parent")
		}
	}
	pe := parent.e
	if destExists {
		if destRes.kind != resEntry || destRes.e.perms&permUpdate == 0 {
			return errForbidden("No permissions to copy object.")
		}
	} else if pe.perms&permCreate == 0 {
		return errForbidden("No permissions to copy object.")
	}
	if move && se.mountRoot && (!pe.isHome() || destExists) {
		// Mount points live at the root of the recipient's tree here.
		return errForbidden("A share can only be renamed at the root of your files")
	}
	if destExists {
		if rerr := d.removeEntry(destRes.e); rerr != nil {
			return rerr
		}
	}
	var result *vfs.Node
	switch {
	case move && se.mountRoot:
		se.share.Targets[se.uid] = name
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
	if destExists {
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
