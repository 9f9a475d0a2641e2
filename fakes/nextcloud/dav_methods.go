package nextcloud

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

// This file is sabre's CorePlugin for the methods a collection leaves to
// the core: the checks sabre makes before it asks a node, then the node
// interface (dav_node.go), and sabre's answer for nodes without it.

// dummyGetBody is DummyGetResponsePlugin's answer to GET on a collection.
const dummyGetBody = "This is the WebDAV interface. It can only be accessed by WebDAV clients such as the Nextcloud desktop sync client."

// get is CorePlugin::httpGet (and httpHead): DummyGetResponsePlugin's page
// for a collection, the content of a file.
func (d *davReq) get() *davError {
	node, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	if node.isCollection() {
		d.w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		d.w.WriteHeader(http.StatusOK)
		if d.r.Method != http.MethodHead {
			_, _ = d.w.Write([]byte(dummyGetBody))
		}
		return nil
	}
	if g, ok := node.(davGettable); ok {
		return g.get(d)
	}
	return errNotImplemented(d.r.Method)
}

// put is CorePlugin::httpPut where the owning collection does not handle
// PUT: nothing accepts new content, so an existing node refuses and a new
// one is Sabre\DAV\Collection::createFile's Forbidden.
func (d *davReq) put() *davError {
	if d.r.Header.Get("Content-Range") != "" {
		return errBadRequest("Content-Range on PUT requests are forbidden.")
	}
	node, err := d.resolve(d.segs)
	if err != nil && err.status != http.StatusNotFound {
		return err
	}
	if node != nil {
		if node.isCollection() {
			return errConflict("PUT is not allowed on non-files.")
		}
		return errForbidden("Permission denied to change data")
	}
	parentSegs, name := d.segs[:len(d.segs)-1], d.segs[len(d.segs)-1]
	parent, perr := d.resolve(parentSegs)
	if perr != nil {
		if perr.status == http.StatusNotFound {
			return errConflict("Files cannot be created in non-existent collections")
		}
		return perr
	}
	if !parent.isCollection() {
		return errConflict("Files can only be created as children of collections")
	}
	return errForbidden("Permission denied to create file (filename " + name + ")")
}

// mkcol is CorePlugin::httpMkcol and Server::createCollection; the parent
// creates the collection (davCollectionMaker).
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
		root, _ := d.resolve(nil)
		return d.methodNotAllowed(root, "The resource you tried to create already exists")
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
	if existing, err := d.resolve(d.segs); err == nil {
		return d.methodNotAllowed(existing, "The resource you tried to create already exists")
	} else if err.status != http.StatusNotFound {
		return err
	}
	maker, ok := parent.(davCollectionMaker)
	if !ok {
		return errForbidden("Permission denied to create directory")
	}
	if err := maker.mkcol(d, name, props); err != nil {
		return err
	}
	d.changed = true
	d.w.Header().Set("Content-Length", "0")
	d.w.WriteHeader(http.StatusCreated)
	return nil
}

func (d *davReq) methodNotAllowed(node davNode, msg string) *davError {
	return &davError{status: http.StatusMethodNotAllowed, exception: `Sabre\DAV\Exception\MethodNotAllowed`, message: msg,
		headers: map[string]string{"Allow": d.allowedMethods(node)}}
}

// delete is CorePlugin::httpDelete: 204, or 404 for a missing node.
func (d *davReq) delete() *davError {
	node, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	del, ok := node.(davDeletable)
	if !ok {
		return errForbidden("Permission denied to delete node")
	}
	if err := del.delete(d); err != nil {
		return err
	}
	d.changed = true
	d.w.Header().Set("Content-Length", "0")
	d.w.WriteHeader(http.StatusNoContent)
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

// copyMove is Server::getCopyAndMoveInfo's result.
type copyMove struct {
	destSegs, parentSegs []string
	parent               davNode // the destination's parent
	dest                 davNode // the existing destination; nil when none
	overwrite            bool
	srcPath, destPath    string // the segments joined with "/"
}

// copyMoveInfo is Server::getCopyAndMoveInfo plus the two checks
// CorePlugin::httpMove and httpCopy make before the tree is asked, in
// sabre's order: destination parent → overwrite → identical → subtree.
func (d *davReq) copyMoveInfo() (*copyMove, *davError) {
	dest := d.r.Header.Get("Destination")
	if dest == "" {
		return nil, errBadRequest("The destination header was not supplied")
	}
	destSegs, err := d.calculateURI(dest)
	if err != nil {
		return nil, err
	}
	cm := &copyMove{destSegs: destSegs, overwrite: true}
	switch strings.ToUpper(d.r.Header.Get("Overwrite")) {
	case "", "T":
	case "F":
		cm.overwrite = false
	default:
		return nil, errBadRequest("The HTTP Overwrite header should be either T or F")
	}
	if len(destSegs) > 0 {
		cm.parentSegs = destSegs[:len(destSegs)-1]
	}
	parent, perr := d.resolve(cm.parentSegs)
	if perr != nil {
		if perr.status == http.StatusNotFound {
			return nil, errConflict("The destination node is not found")
		}
		return nil, perr
	}
	if !parent.isCollection() {
		return nil, errUnsupportedMedia("The destination node is not a collection")
	}
	cm.parent = parent
	destNode, derr := d.resolve(destSegs)
	if derr != nil && derr.status != http.StatusNotFound {
		return nil, derr
	}
	if derr == nil {
		cm.dest = destNode
	}
	if cm.dest != nil && !cm.overwrite {
		return nil, errPrecondition("The destination node already exists, and the overwrite header is set to false", "Overwrite")
	}
	cm.srcPath, cm.destPath = strings.Join(d.segs, "/"), strings.Join(destSegs, "/")
	if cm.srcPath == cm.destPath {
		return nil, errForbidden("Source and destination uri are identical.")
	}
	if strings.HasPrefix(cm.destPath, cm.srcPath+"/") || (cm.srcPath == "" && cm.destPath != "") {
		return nil, errConflict("The destination may not be part of the same subtree as the source path.")
	}
	return cm, nil
}

// moveCopy is CorePlugin::httpMove/httpCopy: sabre's checks, then the
// source node moves or copies itself (davMovable); anything else is
// Sabre\DAV\Collection's Forbidden.
func (d *davReq) moveCopy(move bool) *davError {
	cm, err := d.copyMoveInfo()
	if err != nil {
		return err
	}
	src, serr := d.resolve(d.segs)
	if serr != nil {
		return serr
	}
	if len(cm.destSegs) == 0 {
		// The destination is the root, which cannot be replaced.
		return errForbidden("Permission denied to delete node")
	}
	m, ok := src.(davMovable)
	if !ok {
		return errForbidden("Permission denied to rename file")
	}
	return m.moveCopy(d, cm, move)
}
