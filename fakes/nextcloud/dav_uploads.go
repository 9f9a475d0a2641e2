package nextcloud

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

// The uploads collection is Nextcloud's chunked upload
// (apps/dav/lib/Upload/: RootCollection, UploadHome, UploadFolder,
// FutureFile, UploadFile, ChunkingPlugin, ChunkingV2Plugin, and the
// UploadCleanup background job; the developer manual's "Chunked file
// upload"). It serves what a Nextcloud with local primary storage serves:
// ChunkingV2Plugin's prerequisites (a distributed cache and an object
// store with multipart uploads) fail there, so v2 requests fall back to
// v1's flow — chunks are files in the upload folder, and MOVE of .file
// concatenates them in natural name order. Stricter than that fallback, on
// purpose, a v2 upload (MKCOL with Destination) refuses chunk names outside
// 1…10000 with ChunkingV2Plugin's 400, as Nextcloud on S3 does, so a
// client that would break there breaks here too.
//
// Chunks are spooled to files on disk (never the state, never persisted:
// Nextcloud keeps them in a temporary folder and its distributed cache);
// only the assembled file lands in the store. Uploads are bounded per user
// (Config.MaxUploadsPerUser, Config.MaxUploadBytes) and expire after
// Config.UploadExpiry without a write, like UploadCleanup's 24 hours.

// upload is one upload folder: uploads/{uid}/{name}.
type upload struct {
	uid, name string
	// dest is the Destination header of the MKCOL: a chunking v2 upload.
	dest   string
	ctime  int64
	mtime  int64 // the last write to the folder or a chunk
	etag   string
	size   int64
	chunks map[string]*uploadChunk
}

type uploadChunk struct {
	name  string
	size  int64
	path  string // the spool file
	mtime int64
	etag  string
}

// uploadStore holds every open upload; guarded by Nextcloud.mu.
type uploadStore struct {
	parent string // Config.UploadDir
	dir    string // the spool directory, created on first use
	users  map[string]map[string]*upload
	seq    int64
}

func newUploadStore(parent string) *uploadStore {
	return &uploadStore{parent: parent, users: map[string]map[string]*upload{}}
}

// spool returns the spool directory, creating it on first use.
func (s *uploadStore) spool() (string, error) {
	if s.dir == "" {
		dir, err := os.MkdirTemp(s.parent, "fake-nextcloud-uploads-")
		if err != nil {
			return "", err
		}
		s.dir = dir
	}
	return s.dir, nil
}

func (s *uploadStore) get(uid, name string) *upload { return s.users[uid][name] }

// userBytes is the size of uid's open uploads.
func (s *uploadStore) userBytes(uid string) int64 {
	var total int64
	for _, u := range s.users[uid] {
		total += u.size
	}
	return total
}

func (s *uploadStore) remove(u *upload) {
	for _, c := range u.chunks {
		_ = os.Remove(c.path)
	}
	delete(s.users[u.uid], u.name)
	if len(s.users[u.uid]) == 0 {
		delete(s.users, u.uid)
	}
}

// clear removes every upload and the spool directory (Reset, Close).
func (s *uploadStore) clear() error {
	s.users = map[string]map[string]*upload{}
	if s.dir == "" {
		return nil
	}
	err := os.RemoveAll(s.dir)
	s.dir = ""
	return err
}

// newETag is an upload folder's or chunk's ETag: uniqid-like, like the
// store's.
func (s *uploadStore) newETag(seed string) string {
	s.seq++
	sum := sha1.Sum([]byte(seed + "/" + strconv.FormatInt(s.seq, 10)))
	return hex.EncodeToString(sum[:])[:13]
}

// expireLocked is UploadCleanup: an upload whose folder and chunks were
// all last written more than the expiry ago is removed.
func (n *Nextcloud) expireUploadsLocked() {
	limit := n.unix() - int64(n.cfg.UploadExpiry/time.Second)
	for _, ups := range n.uploads.users {
		for _, u := range ups {
			if u.mtime < limit {
				n.logger.Info("upload expired", "uid", u.uid, "upload", u.name)
				n.uploads.remove(u)
			}
		}
	}
}

// errInsufficientStorage is sabre's 507, Nextcloud's answer when an upload
// does not fit (ChunkingV2Plugin, quota); here also the fake's own bounds.
func errInsufficientStorage(msg string) *davError {
	return &davError{status: http.StatusInsufficientStorage, exception: `Sabre\DAV\Exception\InsufficientStorage`, message: msg}
}

func errMethodNotAllowed(msg string) *davError {
	return &davError{status: http.StatusMethodNotAllowed, exception: `Sabre\DAV\Exception\MethodNotAllowed`, message: msg}
}

// errListingDisabled is AbstractPrincipalCollection's answer when
// listing is off, as Nextcloud sets it unless debug is on
// (apps/dav/lib/RootCollection.php), and UploadHome::getChildren's.
var errListingDisabled = errMethodNotAllowed("Listing members of this collection is disabled")

// uploadsDAV is the uploads collection: /remote.php/dav/uploads/{uid}/…
type uploadsDAV struct{}

func (uploadsDAV) name() string { return "uploads" }

// resolve: uploads/ → the principal collection; uploads/{name} → the
// logged-in user's upload home, whatever principal name the path gives
// (UploadHome takes the uid from the session, so another user's uploads are
// never reachable: their upload ids are simply not found); then an upload
// folder, .file (FutureFile) or a chunk (UploadFile).
func (uploadsDAV) resolve(d *davReq, rest []string) (davNode, *davError) {
	if len(rest) == 0 {
		return uploadsRoot{}, nil
	}
	d.n.expireUploadsLocked()
	home := rest[0]
	if d.st().users[home] == nil {
		return nil, errNotFound("Principal with name " + home + " not found")
	}
	if len(rest) == 1 {
		return uploadHome{home: home}, nil
	}
	u := d.n.uploads.get(d.auth.uid, rest[1])
	if u == nil {
		return nil, errNotFound("File with name " + rest[1] + " could not be located")
	}
	f := &uploadFolder{home: home, u: u}
	switch {
	case len(rest) == 2:
		return f, nil
	case len(rest) > 3:
		return nil, errNotFound("File with name " + strings.Join(rest[2:], "/") + " could not be located")
	case rest[2] == ".file":
		return &futureFile{f: f}, nil
	}
	c := u.chunks[rest[2]]
	if c == nil {
		return nil, errNotFound("File with name " + rest[2] + " could not be located")
	}
	return &uploadChunkNode{f: f, c: c}, nil
}

// serve handles MOVE of .file (ChunkingPlugin::beforeMove). Chunk PUTs
// never come here: they stream before the state lock (uploadChunkPut).
func (uploadsDAV) serve(d *davReq) (bool, *davError) {
	if d.r.Method == "MOVE" && len(d.segs) == 4 && d.segs[3] == ".file" {
		return true, uploadAssemble(d)
	}
	return false, nil
}

func (uploadsDAV) methods(*davReq, davNode) []string { return nil }

// preconditionTarget: the assembly MOVE's If-Match and If-None-Match
// guard the destination, the file the upload replaces, not .file (as
// Nextcloud's clients use them: NextcloudKit's uploadChunkAsync sends the
// destination's ETag in If-Match on the assembly MOVE only).
func (uploadsDAV) preconditionTarget(d *davReq) ([]string, bool) {
	if d.r.Method != "MOVE" || len(d.segs) != 4 || d.segs[3] != ".file" {
		return nil, false
	}
	dest := d.r.Header.Get("Destination")
	if dest == "" {
		return nil, false
	}
	segs, err := d.calculateURI(dest)
	if err != nil {
		return nil, false
	}
	return segs, true
}

type uploadsRoot struct{}

func (uploadsRoot) davPath(*davReq) string                         { return "/uploads/" }
func (uploadsRoot) isCollection() bool                             { return true }
func (uploadsRoot) children(*davReq) []davNode                     { return nil }
func (uploadsRoot) listError() *davError                           { return errListingDisabled }
func (uploadsRoot) prop(*davReq, davxml.Name, bool) (string, bool) { return "", false }

// uploadHome is uploads/{name}: the logged-in user's upload folders.
type uploadHome struct{ home string }

func (h uploadHome) davPath(*davReq) string                       { return "/uploads/" + h.home + "/" }
func (uploadHome) isCollection() bool                             { return true }
func (uploadHome) children(*davReq) []davNode                     { return nil }
func (uploadHome) listError() *davError                           { return errListingDisabled }
func (uploadHome) prop(*davReq, davxml.Name, bool) (string, bool) { return "", false }

// mkcol starts an upload (UploadHome::createDirectory); the Destination
// header makes it a chunking v2 upload (ChunkingV2Plugin::afterMkcol).
func (h uploadHome) mkcol(d *davReq, name string, _ []davxml.PropOp) *davError {
	if verr := vfs.ValidateName(name); verr != nil {
		return errInvalidPath(verr.Error())
	}
	s := d.n.uploads
	uid := d.auth.uid
	if max := d.n.cfg.MaxUploadsPerUser; len(s.users[uid]) >= max {
		return errInsufficientStorage(fmt.Sprintf("Too many open uploads: at most %d per user; finish or DELETE one (the fake's bound)", max))
	}
	now := d.n.unix()
	u := &upload{uid: uid, name: name, dest: d.r.Header.Get("Destination"), ctime: now, mtime: now,
		etag: s.newETag(uid + "/" + name), chunks: map[string]*uploadChunk{}}
	if s.users[uid] == nil {
		s.users[uid] = map[string]*upload{}
	}
	s.users[uid][name] = u
	return nil
}

// delete is UploadHome::delete: every upload of the user goes.
func (uploadHome) delete(d *davReq) *davError {
	for _, u := range d.n.uploads.users[d.auth.uid] {
		d.n.uploads.remove(u)
	}
	return nil
}

// uploadFolder is uploads/{uid}/{name} (UploadFolder).
type uploadFolder struct {
	home string
	u    *upload
}

func (f *uploadFolder) davPath(*davReq) string { return "/uploads/" + f.home + "/" + f.u.name + "/" }
func (f *uploadFolder) isCollection() bool     { return true }

// children is UploadFolder::getChildren: .file first, then the chunks
// (the folder listing's name order).
func (f *uploadFolder) children(*davReq) []davNode {
	out := []davNode{&futureFile{f: f}}
	for _, c := range sortedChunks(f.u, func(a, b string) bool { return a < b }) {
		out = append(out, &uploadChunkNode{f: f, c: c})
	}
	return out
}

func (f *uploadFolder) prop(_ *davReq, n davxml.Name, _ bool) (string, bool) {
	if n == nDAV("getlastmodified") {
		return davxml.EscapeText(httpDate(f.u.mtime)), true
	}
	return "", false
}

// mkcol is UploadFolder::createDirectory.
func (f *uploadFolder) mkcol(_ *davReq, name string, _ []davxml.PropOp) *davError {
	return errForbidden("Permission denied to create file (filename " + name + ")")
}

// delete aborts the upload (UploadFolder::delete, and
// ChunkingV2Plugin::beforeDelete's cancelChunkedWrite).
func (f *uploadFolder) delete(d *davReq) *davError {
	d.n.uploads.remove(f.u)
	return nil
}

// futureFile is .file (FutureFile): the assembled file to be.
type futureFile struct{ f *uploadFolder }

func (ff *futureFile) davPath(d *davReq) string { return ff.f.davPath(d) + ".file" }
func (ff *futureFile) isCollection() bool       { return false }
func (ff *futureFile) children(*davReq) []davNode {
	return nil
}

func (ff *futureFile) prop(_ *davReq, n davxml.Name, _ bool) (string, bool) {
	u := ff.f.u
	switch n {
	case nDAV("getcontentlength"):
		return strconv.FormatInt(u.size, 10), true
	case nDAV("getcontenttype"):
		return "application/octet-stream", true
	case nDAV("getetag"):
		return davxml.EscapeText(`"` + u.etag + `"`), true
	case nDAV("getlastmodified"):
		return davxml.EscapeText(httpDate(u.mtime)), true
	}
	return "", false
}

// get is ChunkingV2Plugin::beforeGet.
func (ff *futureFile) get(*davReq) *davError {
	return errMethodNotAllowed("Reading intermediate uploads is not allowed")
}

// delete is FutureFile::delete: it removes the whole upload folder.
func (ff *futureFile) delete(d *davReq) *davError {
	d.n.uploads.remove(ff.f.u)
	return nil
}

// uploadChunkNode is a chunk (UploadFile).
type uploadChunkNode struct {
	f *uploadFolder
	c *uploadChunk
}

func (cn *uploadChunkNode) davPath(d *davReq) string   { return cn.f.davPath(d) + cn.c.name }
func (cn *uploadChunkNode) isCollection() bool         { return false }
func (cn *uploadChunkNode) children(*davReq) []davNode { return nil }

func (cn *uploadChunkNode) prop(_ *davReq, n davxml.Name, _ bool) (string, bool) {
	switch n {
	case nDAV("getcontentlength"):
		return strconv.FormatInt(cn.c.size, 10), true
	case nDAV("getcontenttype"):
		return davxml.EscapeText(vfs.MimeType(cn.c.name)), true
	case nDAV("getetag"):
		return davxml.EscapeText(`"` + cn.c.etag + `"`), true
	case nDAV("getlastmodified"):
		return davxml.EscapeText(httpDate(cn.c.mtime)), true
	}
	return "", false
}

func (cn *uploadChunkNode) get(*davReq) *davError {
	return errMethodNotAllowed("Reading intermediate uploads is not allowed")
}

func (cn *uploadChunkNode) delete(d *davReq) *davError {
	u := cn.f.u
	_ = os.Remove(cn.c.path)
	delete(u.chunks, cn.c.name)
	u.size -= cn.c.size
	u.mtime = d.n.unix()
	u.etag = d.n.uploads.newETag(u.uid + "/" + u.name)
	return nil
}

// isUploadChunkPut reports whether the request is a PUT of a chunk.
func (d *davReq) isUploadChunkPut() bool {
	return d.r.Method == http.MethodPut && d.legacy == nil && len(d.segs) == 4 && d.segs[0] == "uploads" &&
		d.n.dav.collection("uploads") != nil
}

// uploadChunkPut is a chunk PUT (UploadFolder::createFile, File::put,
// ChunkingV2Plugin::beforePut). The body streams to a spool file outside
// the state lock: checks and bounds under the lock, the copy without it,
// then the chunk is recorded under the lock if its upload still exists.
func (d *davReq) uploadChunkPut() *davError {
	n := d.n
	name := d.segs[3]
	n.mu.Lock()
	u, limit, spool, err := d.prepareChunkPut(name)
	n.mu.Unlock()
	if err != nil {
		return err
	}
	f, ferr := os.CreateTemp(spool, "chunk-")
	if ferr != nil {
		n.logger.Error("spooling a chunk failed", "err", ferr)
		return &davError{status: http.StatusInternalServerError, exception: "Exception", message: "Internal Server Error"}
	}
	written, cerr := io.Copy(f, io.LimitReader(d.r.Body, limit+1))
	if closeErr := f.Close(); cerr == nil {
		cerr = closeErr
	}
	discard := func() { _ = os.Remove(f.Name()) }
	var mbe *http.MaxBytesError
	switch {
	case errors.As(cerr, &mbe):
		discard()
		writeTooLarge(d.w)
		return nil
	case cerr != nil:
		discard()
		return errBadRequest("Expected filesize of " + d.r.Header.Get("Content-Length") + " bytes but read (from Nextcloud client) and wrote (to Nextcloud storage) " + strconv.FormatInt(written, 10) + " bytes. Could either be a network problem on the sending side or a problem writing to the storage on the server side.")
	case written > limit:
		discard()
		return errInsufficientStorage(d.uploadBytesMessage())
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.uploads.get(u.uid, u.name) != u {
		discard()
		return errConflict("Files cannot be created in non-existent collections")
	}
	old := u.chunks[name]
	var oldSize int64
	if old != nil {
		oldSize = old.size
	}
	if n.uploads.userBytes(u.uid)-oldSize+written > n.cfg.MaxUploadBytes {
		discard()
		return errInsufficientStorage(d.uploadBytesMessage())
	}
	if old != nil {
		_ = os.Remove(old.path)
	}
	now := n.unix()
	c := &uploadChunk{name: name, size: written, path: f.Name(), mtime: now, etag: n.uploads.newETag(u.uid + "/" + u.name + "/" + name)}
	u.chunks[name] = c
	u.size += written - oldSize
	u.mtime = now
	u.etag = n.uploads.newETag(u.uid + "/" + u.name)
	d.setETag(`"` + c.etag + `"`)
	d.w.Header().Set("Content-Length", "0")
	// ChunkingV2Plugin::beforePut always answers 201; v1's File::put 204
	// for a chunk it replaced.
	if old != nil && !d.chunkV2(u) {
		d.w.WriteHeader(http.StatusNoContent)
	} else {
		d.w.WriteHeader(http.StatusCreated)
	}
	return nil
}

func (d *davReq) uploadBytesMessage() string {
	return fmt.Sprintf("Insufficient space in uploads/%s: open uploads may hold at most %d bytes per user (the fake's bound)",
		d.auth.uid, d.n.cfg.MaxUploadBytes)
}

// chunkV2 reports whether ChunkingV2Plugin handles a request for u: the
// upload was started with a Destination and the request carries one.
func (d *davReq) chunkV2(u *upload) bool {
	return u.dest != "" && d.r.Header.Get("Destination") != ""
}

// prepareChunkPut checks a chunk PUT under the lock: the path, the
// preconditions, the name and the bounds. limit is how many bytes the
// chunk may have.
func (d *davReq) prepareChunkPut(name string) (*upload, int64, string, *davError) {
	if d.r.Header.Get("Content-Range") != "" {
		return nil, 0, "", errBadRequest("Content-Range on PUT requests are forbidden.")
	}
	if err := d.checkPreconditions(); err != nil {
		return nil, 0, "", err
	}
	folder, err := d.resolve(d.segs[:3])
	if err != nil {
		if err.status == http.StatusNotFound {
			return nil, 0, "", errConflict("Files cannot be created in non-existent collections")
		}
		return nil, 0, "", err
	}
	u := folder.(*uploadFolder).u
	if name == ".file" {
		return nil, 0, "", errForbidden("Permission denied to put into this file")
	}
	if d.chunkV2(u) {
		if id, perr := strconv.Atoi(name); perr != nil || id < 1 || id > 10000 {
			return nil, 0, "", errBadRequest("Invalid chunk name, must be numeric between 1 and 10000")
		}
	}
	if verr := vfs.ValidateName(name); verr != nil {
		return nil, 0, "", errInvalidPath(verr.Error())
	}
	var oldSize int64
	if c := u.chunks[name]; c != nil {
		oldSize = c.size
	}
	limit := d.n.cfg.MaxUploadBytes - d.n.uploads.userBytes(u.uid) + oldSize
	if limit < 0 || (d.r.ContentLength > 0 && d.r.ContentLength > limit) {
		return nil, 0, "", errInsufficientStorage(d.uploadBytesMessage())
	}
	spool, serr := d.n.uploads.spool()
	if serr != nil {
		d.n.logger.Error("creating the upload spool failed", "err", serr)
		return nil, 0, "", &davError{status: http.StatusInternalServerError, exception: "Exception", message: "Internal Server Error"}
	}
	return u, limit, spool, nil
}

// sortedChunks returns u's chunks ordered by less on their names.
func sortedChunks(u *upload, less func(a, b string) bool) []*uploadChunk {
	out := make([]*uploadChunk, 0, len(u.chunks))
	for _, c := range u.chunks {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i].name, out[j].name) })
	return out
}

// naturalLess is PHP's strnatcmp(a, b) < 0, the order AssemblyStream
// concatenates chunks in: runs of digits compare as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(ta) != len(tb) {
				return len(ta) < len(tb)
			}
			if ta != tb {
				return ta < tb
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// uploadAssemble is MOVE of .file: sabre's copy/move checks
// (Server::getCopyAndMoveInfo), then ChunkingPlugin::beforeMove — the
// destination must not be a folder, OC-Total-Length must equal the
// chunks' sum — and the write File::put does for the destination
// (X-OC-MTime, OC-Checksum, permissions). The file is built in full before
// the store is touched, so a failure leaves no partial target; the upload
// folder goes after a success or a permission failure (performMove deletes
// the FutureFile on Forbidden), and stays after a 400 so the client may
// add what is missing.
func uploadAssemble(d *davReq) *davError {
	src, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	ff := src.(*futureFile)
	u := ff.f.u
	cm, err := d.copyMoveInfo()
	if err != nil {
		return err
	}
	destRel := strings.Join(cm.destSegs, "/")
	if cm.dest != nil && cm.dest.isCollection() {
		return errBadRequest("The given destination " + destRel + " is a directory.")
	}
	if v, ok := d.r.Header["Oc-Total-Length"]; ok && len(v) > 0 {
		// ChunkingPlugin::verifySize compares the strings.
		if actual := strconv.FormatInt(u.size, 10); v[0] != actual {
			return errBadRequest("Chunks on server do not sum up to " + v[0] + " but to " + actual + " bytes")
		}
	}
	mtime, haveMtime, merr := d.mtimeHeader()
	if merr != nil {
		return merr
	}
	name := cm.destSegs[len(cm.destSegs)-1]
	if verr := vfs.ValidateName(name); verr != nil {
		return errInvalidPath(verr.Error())
	}
	pe, ok := entryOf(cm.parent)
	if !ok {
		d.n.uploads.remove(u)
		return errForbidden("Permission denied to create file (filename " + name + ")")
	}
	var de *entry
	if cm.dest != nil {
		de, ok = entryOf(cm.dest)
		if !ok || de.perms&permUpdate == 0 {
			d.n.uploads.remove(u)
			return errForbidden("Permission denied to write to " + name)
		}
	} else if pe.perms&permCreate == 0 {
		d.n.uploads.remove(u)
		return errForbidden("Permission denied to create file (filename " + name + ")")
	}
	content, rerr := readChunks(u)
	if rerr != nil {
		d.n.logger.Error("assembling an upload failed", "uid", u.uid, "upload", u.name, "err", rerr)
		return &davError{status: http.StatusInternalServerError, exception: "Exception", message: "Internal Server Error"}
	}
	st := d.st()
	var node *vfs.Node
	if de != nil {
		node = de.node
		if werr := st.fs.WriteFileNoCopy(node, content, mtime); werr != nil {
			return errConflict(werr.Error())
		}
	} else {
		var cerr error
		if node, cerr = st.fs.CreateFileNoCopy(pe.node, name, content, mtime); cerr != nil {
			return errConflict(cerr.Error())
		}
	}
	d.storeChecksum(node)
	d.n.uploads.remove(u)
	d.changed = true
	h := d.w.Header()
	if haveMtime {
		h.Set("X-OC-MTime", "accepted")
	}
	// CopyEtagHeaderPlugin::afterMove and FilesPlugin's OC-FileId on
	// afterBind.
	d.setETag(`"` + node.ETag + `"`)
	d.fileIDHeader(node)
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Content-Length", "0")
	if de != nil {
		d.w.WriteHeader(http.StatusNoContent)
	} else {
		d.w.WriteHeader(http.StatusCreated)
	}
	return nil
}

// readChunks reads u's chunks in AssemblyStream's order into one buffer of
// exactly the upload's size.
func readChunks(u *upload) ([]byte, error) {
	buf := make([]byte, u.size)
	off := int64(0)
	for _, c := range sortedChunks(u, naturalLess) {
		f, err := os.Open(filepath.Clean(c.path))
		if err != nil {
			return nil, err
		}
		_, err = io.ReadFull(f, buf[off:off+c.size])
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("chunk %s: %w", c.name, err)
		}
		off += c.size
	}
	return buf, nil
}
