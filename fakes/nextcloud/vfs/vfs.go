// Package vfs is the fake Nextcloud's file store: one tree per user, with
// file ids that only ever grow (shared by every user, like Nextcloud's
// filecache ids) and an ETag per node that changes on every write to the node
// and, for folders, on every change anywhere below them. Notes, WebDAV and
// sharing in the parent package are views over this one store, so a note
// written through the Notes API is the same file (same id, same ETag) WebDAV
// sees.
//
// The store is not safe for concurrent use: the caller serialises access (the
// fake holds one lock per request). It knows nothing about permissions or
// shares; those belong to the views.
package vfs

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors returned by tree operations.
var (
	ErrNotFound = errors.New("vfs: not found")
	ErrExists   = errors.New("vfs: already exists")
	ErrNotDir   = errors.New("vfs: not a folder")
	ErrIsDir    = errors.New("vfs: is a folder")
	ErrIsHome   = errors.New("vfs: a home folder cannot be changed this way")
	ErrCycle    = errors.New("vfs: destination is inside the source")
)

// Node is a file or folder. Fields are read freely by the views; changes go
// through FS methods so ETags and parents stay consistent.
type Node struct {
	ID       int64
	Name     string
	Dir      bool
	Owner    string
	Content  []byte
	MTime    int64 // unix seconds, like Nextcloud's filecache
	CTime    int64 // creation time (nc:creation_time)
	UTime    int64 // upload time (nc:upload_time)
	ETag     string
	MimeType string
	// Checksum is the filecache's checksum column: what a client sent in
	// OC-Checksum ("SHA1:… MD5:…"), "" when none. Any write clears it (as
	// Nextcloud's scanner does when the data changes); the DAV layer sets
	// it after a PUT that carried the header.
	Checksum string
	// Props holds dead WebDAV properties: Clark name ({ns}local) to the
	// property's inner XML, already serialised self-contained by the DAV layer.
	Props map[string]string

	parent   *Node
	children map[string]*Node
}

// Parent returns the folder holding n, nil for a home folder.
func (n *Node) Parent() *Node { return n.parent }

// IsHome reports whether n is a user's root folder.
func (n *Node) IsHome() bool { return n.parent == nil }

// Child returns the child called name, or nil.
func (n *Node) Child(name string) *Node {
	if n.children == nil {
		return nil
	}
	return n.children[name]
}

// Children returns the children sorted by name (byte order), so listings are
// deterministic.
func (n *Node) Children() []*Node {
	out := make([]*Node, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Path returns n's path relative to its owner's home: "" for the home, else
// "/a/b".
func (n *Node) Path() string {
	if n.parent == nil {
		return ""
	}
	return n.parent.Path() + "/" + n.Name
}

// Size is the byte size of a file, or the recursive size of a folder (oc:size).
func (n *Node) Size() int64 {
	if !n.Dir {
		return int64(len(n.Content))
	}
	var total int64
	for _, c := range n.children {
		total += c.Size()
	}
	return total
}

// IsAncestorOf reports whether n is a strict ancestor of m.
func (n *Node) IsAncestorOf(m *Node) bool {
	for p := m.parent; p != nil; p = p.parent {
		if p == n {
			return true
		}
	}
	return false
}

// Walk calls fn for n and every node below it, depth first, children in name
// order. fn returning false stops the descent below that node.
func Walk(n *Node, fn func(*Node) bool) {
	if !fn(n) {
		return
	}
	for _, c := range n.Children() {
		Walk(c, fn)
	}
}

// FS is the whole store.
type FS struct {
	nextID   int64
	etagSeq  int64
	instance string
	now      func() time.Time
	homes    map[string]*Node
	byID     map[int64]*Node
}

// New returns an empty store. instanceID seeds ETags so two fakes never hand
// out the same tag; now supplies the clock (time.Now when nil).
func New(instanceID string, now func() time.Time) *FS {
	if now == nil {
		now = time.Now
	}
	return &FS{nextID: 1, instance: instanceID, now: now, homes: map[string]*Node{}, byID: map[int64]*Node{}}
}

// Now returns the store clock in unix seconds.
func (fs *FS) Now() int64 { return fs.now().Unix() }

func (fs *FS) newETag() string {
	fs.etagSeq++
	sum := sha1.Sum([]byte(fs.instance + "/" + strconv.FormatInt(fs.etagSeq, 10)))
	// Nextcloud ETags are uniqid()-like: 13 lower-case hex characters.
	return hex.EncodeToString(sum[:])[:13]
}

func (fs *FS) newNode(owner, name string, dir bool, mtime int64) *Node {
	n := &Node{ID: fs.nextID, Name: name, Dir: dir, Owner: owner, MTime: mtime, CTime: 0, UTime: mtime, ETag: fs.newETag()}
	fs.nextID++
	if dir {
		n.MimeType = "httpd/unix-directory"
		n.children = map[string]*Node{}
	} else {
		n.MimeType = MimeType(name)
	}
	fs.byID[n.ID] = n
	return n
}

// Home returns uid's home folder, or nil.
func (fs *FS) Home(uid string) *Node { return fs.homes[uid] }

// EnsureHome returns uid's home folder, creating it if needed.
func (fs *FS) EnsureHome(uid string) *Node {
	if h := fs.homes[uid]; h != nil {
		return h
	}
	h := fs.newNode(uid, "", true, fs.Now())
	fs.homes[uid] = h
	return h
}

// Homes returns the uids that have a home, sorted.
func (fs *FS) Homes() []string {
	out := make([]string, 0, len(fs.homes))
	for uid := range fs.homes {
		out = append(out, uid)
	}
	sort.Strings(out)
	return out
}

// ByID returns the node with the given file id, or nil.
func (fs *FS) ByID(id int64) *Node { return fs.byID[id] }

// Lookup walks segments from the home of uid. It returns the node, or
// ErrNotFound with the number of segments that did resolve.
func (fs *FS) Lookup(uid string, segments []string) (*Node, int, error) {
	n := fs.homes[uid]
	if n == nil {
		return nil, 0, ErrNotFound
	}
	return LookupFrom(n, segments)
}

// LookupFrom walks segments below n.
func LookupFrom(n *Node, segments []string) (*Node, int, error) {
	for i, s := range segments {
		if !n.Dir {
			return nil, i, ErrNotDir
		}
		c := n.children[s]
		if c == nil {
			return nil, i, ErrNotFound
		}
		n = c
	}
	return n, len(segments), nil
}

// touched renews the ETag of n and of every ancestor and moves their
// modification times forward, the way Nextcloud's propagator does after a
// write (a folder's mtime never goes backwards).
func (fs *FS) touched(n *Node, mtime int64) {
	n.MTime = mtime
	for p := n; p != nil; p = p.parent {
		p.ETag = fs.newETag()
		if mtime > p.MTime {
			p.MTime = mtime
		}
	}
}

// Touch sets n's modification time (Notes "modified", PROPPATCH lastmodified,
// X-OC-MTime); like Nextcloud's touch it renews the ETags.
func (fs *FS) Touch(n *Node, mtime int64) {
	n.MTime = mtime
	for p := n; p != nil; p = p.parent {
		p.ETag = fs.newETag()
	}
}

// CreateFile adds a file called name to parent.
func (fs *FS) CreateFile(parent *Node, name string, content []byte, mtime int64) (*Node, error) {
	return fs.CreateFileNoCopy(parent, name, append([]byte(nil), content...), mtime)
}

// CreateFileNoCopy is CreateFile taking ownership of content instead of
// copying it (an assembled chunked upload is not held twice).
func (fs *FS) CreateFileNoCopy(parent *Node, name string, content []byte, mtime int64) (*Node, error) {
	if !parent.Dir {
		return nil, ErrNotDir
	}
	if parent.children[name] != nil {
		return nil, ErrExists
	}
	if mtime == 0 {
		mtime = fs.Now()
	}
	n := fs.newNode(parent.Owner, name, false, mtime)
	n.Content = content
	fs.attach(parent, n)
	fs.touched(n, mtime)
	return n, nil
}

func (fs *FS) attach(parent, n *Node) {
	n.CTime = fs.Now()
	n.parent = parent
	parent.children[n.Name] = n
}

// WriteFile replaces a file's content.
func (fs *FS) WriteFile(n *Node, content []byte, mtime int64) error {
	if n.Dir {
		return ErrIsDir
	}
	return fs.WriteFileNoCopy(n, append([]byte(nil), content...), mtime)
}

// WriteFileNoCopy is WriteFile taking ownership of content.
func (fs *FS) WriteFileNoCopy(n *Node, content []byte, mtime int64) error {
	if n.Dir {
		return ErrIsDir
	}
	if mtime == 0 {
		mtime = fs.Now()
	}
	n.Content = content
	n.Checksum = ""
	n.UTime = fs.Now()
	fs.touched(n, mtime)
	return nil
}

// Mkdir adds a folder called name to parent.
func (fs *FS) Mkdir(parent *Node, name string) (*Node, error) {
	if !parent.Dir {
		return nil, ErrNotDir
	}
	if parent.children[name] != nil {
		return nil, ErrExists
	}
	now := fs.Now()
	n := fs.newNode(parent.Owner, name, true, now)
	n.CTime = now
	n.parent = parent
	parent.children[name] = n
	fs.touched(n, now)
	return n, nil
}

// MkdirAll creates every missing folder of segments below parent and returns
// the last one.
func (fs *FS) MkdirAll(parent *Node, segments []string) (*Node, error) {
	n := parent
	for _, s := range segments {
		c := n.Child(s)
		if c == nil {
			var err error
			if c, err = fs.Mkdir(n, s); err != nil {
				return nil, err
			}
		} else if !c.Dir {
			return nil, ErrNotDir
		}
		n = c
	}
	return n, nil
}

// Delete removes n and everything below it.
func (fs *FS) Delete(n *Node) error {
	if n.parent == nil {
		return ErrIsHome
	}
	p := n.parent
	delete(p.children, n.Name)
	n.parent = nil
	Walk(n, func(m *Node) bool { delete(fs.byID, m.ID); return true })
	fs.touched(p, fs.Now())
	return nil
}

// Move renames n and/or puts it into newParent (possibly another user's tree;
// the subtree then belongs to newParent's owner). The destination name must be
// free. File ids and the node's own ETag survive a move, as in Nextcloud.
func (fs *FS) Move(n, newParent *Node, newName string) error {
	if n.parent == nil {
		return ErrIsHome
	}
	if !newParent.Dir {
		return ErrNotDir
	}
	if n == newParent || n.IsAncestorOf(newParent) {
		return ErrCycle
	}
	if c := newParent.children[newName]; c != nil && c != n {
		return ErrExists
	}
	old := n.parent
	delete(old.children, n.Name)
	n.Name = newName
	if !n.Dir {
		n.MimeType = MimeType(newName)
	}
	n.parent = newParent
	newParent.children[newName] = n
	if n.Owner != newParent.Owner {
		owner := newParent.Owner
		Walk(n, func(m *Node) bool { m.Owner = owner; return true })
	}
	now := fs.Now()
	fs.touched(old, now)
	fs.touched(newParent, now)
	return nil
}

// Copy copies n as newName into newParent. A shallow copy of a folder copies
// the folder alone (WebDAV COPY with Depth: 0). Dead properties are copied;
// copies get new ids.
func (fs *FS) Copy(n, newParent *Node, newName string, deep bool) (*Node, error) {
	if !newParent.Dir {
		return nil, ErrNotDir
	}
	if n == newParent || n.IsAncestorOf(newParent) {
		return nil, ErrCycle
	}
	if newParent.children[newName] != nil {
		return nil, ErrExists
	}
	c := fs.copyInto(n, newParent, newName, deep)
	fs.touched(c, fs.Now())
	return c, nil
}

func (fs *FS) copyInto(n, parent *Node, name string, deep bool) *Node {
	now := fs.Now()
	c := fs.newNode(parent.Owner, name, n.Dir, n.MTime)
	c.CTime = now
	c.Content = append([]byte(nil), n.Content...)
	c.Checksum = n.Checksum
	if n.Props != nil {
		c.Props = make(map[string]string, len(n.Props))
		for k, v := range n.Props {
			c.Props[k] = v
		}
	}
	c.parent = parent
	parent.children[name] = c
	if n.Dir && deep {
		for _, child := range n.Children() {
			fs.copyInto(child, c, child.Name, true)
		}
	}
	return c
}

// SetProp stores (value != nil) or removes a dead property.
func (fs *FS) SetProp(n *Node, clark string, value *string) {
	if value == nil {
		delete(n.Props, clark)
		return
	}
	if n.Props == nil {
		n.Props = map[string]string{}
	}
	n.Props[clark] = *value
}

// MimeType guesses a file's MIME type from its name, with the mapping
// Nextcloud's mimetypemapping.json uses for the common cases.
func MimeType(name string) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = strings.ToLower(name[i+1:])
	}
	switch ext {
	case "md", "markdown":
		return "text/markdown"
	case "txt", "text", "log":
		return "text/plain"
	case "html", "htm":
		return "text/html"
	case "css":
		return "text/css"
	case "csv":
		return "text/csv"
	case "json":
		return "application/json"
	case "xml":
		return "application/xml"
	case "js":
		return "application/javascript"
	case "pdf":
		return "application/pdf"
	case "zip":
		return "application/zip"
	case "png":
		return "image/png"
	case "jpg", "jpeg":
		return "image/jpeg"
	case "gif":
		return "image/gif"
	case "svg":
		return "image/svg+xml"
	case "webp":
		return "image/webp"
	case "ics":
		return "text/calendar"
	case "vcf":
		return "text/vcard"
	case "odt":
		return "application/vnd.oasis.opendocument.text"
	case "docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case "mp3":
		return "audio/mpeg"
	case "mp4":
		return "video/mp4"
	}
	return "application/octet-stream"
}

// InvalidNameError is a name Nextcloud's FilenameValidator refuses; Message
// is the validator's text.
type InvalidNameError struct{ Message string }

func (e *InvalidNameError) Error() string { return e.Message }

// ValidateName applies Nextcloud's FilenameValidator::validateFilename with
// the default configuration (forbidden name .htaccess, forbidden extensions
// .filepart and .part, forbidden characters / and \, no control characters,
// at most 250 bytes) to a name about to be created.
func ValidateName(name string) error {
	trimmed := strings.TrimSpace(name)
	if trimmed == "" {
		return &InvalidNameError{"Empty filename is not allowed"}
	}
	if trimmed == "." || trimmed == ".." {
		return &InvalidNameError{"Dot files are not allowed"}
	}
	if len(name) > 250 {
		return &InvalidNameError{"Filename is too long"}
	}
	if IsForbiddenName(name) {
		return &InvalidNameError{`"` + name + `" is a forbidden file or folder name.`}
	}
	lower := strings.ToLower(name)
	for _, ext := range []string{".filepart", ".part"} {
		if strings.HasSuffix(lower, ext) {
			return &InvalidNameError{`"` + ext + `" is a forbidden file type.`}
		}
	}
	if !utf8.ValidString(name) {
		return &InvalidNameError{"Filename contains at least one invalid character"}
	}
	for _, r := range name {
		if r < 32 || r == 0x7f {
			return &InvalidNameError{"Filename contains at least one invalid character"}
		}
	}
	for _, c := range []string{"\\", "/"} {
		if strings.Contains(name, c) {
			return &InvalidNameError{`"` + c + `" is not allowed inside a file or folder name.`}
		}
	}
	return nil
}

// IsForbiddenName is FilenameValidator::isForbidden: the reserved names that
// even a lookup refuses ("Filename is a reserved word").
func IsForbiddenName(name string) bool {
	return strings.ToLower(name) == ".htaccess"
}

// DeleteHome removes uid's home with everything in it.
func (fs *FS) DeleteHome(uid string) {
	h := fs.homes[uid]
	if h == nil {
		return
	}
	Walk(h, func(m *Node) bool { delete(fs.byID, m.ID); return true })
	delete(fs.homes, uid)
}
