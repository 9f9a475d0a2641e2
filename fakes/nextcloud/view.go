package nextcloud

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

// Nextcloud permission bits (OCP\Constants).
const (
	permRead   = 1
	permUpdate = 2
	permCreate = 4
	permDelete = 8
	permShare  = 16
	permAll    = 31
)

// entry is a node as one user sees it: in their own tree, or inside a
// mount (another user's node an app mounts at the root of the viewer's
// tree under a target name, like a received share).
type entry struct {
	node      *vfs.Node
	perms     int    // effective permissions for the viewer
	mount     mount  // the mount the entry lies in; nil for own nodes
	mountRoot bool   // entry is the mount point itself
	name      string // name in the viewer's tree
	path      string // viewer-relative path: "" for the home, else "/a/b"
	uid       string // viewer
}

// mount is what an app mounts into users' trees (Nextcloud's
// IMountProvider; files_sharing's MountProvider mounts received shares).
// The view asks the apps for the mounts of a user (app.mounts).
type mount interface {
	// mountType is nc:mount-type ("shared").
	mountType() string
	// note is nc:note, the sharer's note ("" for none).
	note() string
	// reshareable: the viewer may share it on (ocs:share-permissions).
	reshareable() bool
	// unmount removes the mount from uid's tree (DELETE of the mount point).
	unmount(st *state, uid string)
	// rename gives the mount point in uid's tree a new name (MOVE of the
	// mount point within the root).
	rename(st *state, uid, name string)
}

func (e *entry) isHome() bool { return e.path == "" }

// filePerms is the permission set a node really offers: files cannot carry
// create or delete-children semantics (Nextcloud strips them from file
// shares).
func (e *entry) filePerms() int {
	if e.node.Dir {
		return e.perms
	}
	return e.perms &^ permCreate
}

var (
	errNoEntry  = errors.New("no such file")
	errNotAFold = errors.New("not a folder")
)

// home returns uid's home entry.
func (st *state) home(uid string) *entry {
	h := st.fs.Home(uid)
	if h == nil {
		return nil
	}
	return &entry{node: h, perms: permAll, name: "", path: "", uid: uid}
}

// resolve walks segs from uid's home through own folders and, at the root,
// received shares. It returns the entry, or errNoEntry/errNotAFold with the
// number of segments that resolved.
func (st *state) resolve(uid string, segs []string) (*entry, int, error) {
	cur := st.home(uid)
	if cur == nil {
		return nil, 0, errNoEntry
	}
	for i, s := range segs {
		next, err := st.child(cur, s)
		if err != nil {
			return nil, i, err
		}
		cur = next
	}
	return cur, len(segs), nil
}

// child returns the entry called name inside dir.
func (st *state) child(dir *entry, name string) (*entry, error) {
	if !dir.node.Dir {
		return nil, errNotAFold
	}
	if c := dir.node.Child(name); c != nil {
		return &entry{node: c, perms: dir.perms, mount: dir.mount, name: name, path: dir.path + "/" + name, uid: dir.uid}, nil
	}
	if dir.isHome() {
		for _, m := range st.mounts(dir.uid) {
			if m.name == name {
				return m, nil
			}
		}
	}
	return nil, errNoEntry
}

// children lists dir in name order: own children and, for the home, the
// mount points of received shares.
func (st *state) children(dir *entry) []*entry {
	var out []*entry
	for _, c := range dir.node.Children() {
		out = append(out, &entry{node: c, perms: dir.perms, mount: dir.mount, name: c.Name, path: dir.path + "/" + c.Name, uid: dir.uid})
	}
	if dir.isHome() {
		out = append(out, st.mounts(dir.uid)...)
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	}
	return out
}

// mounts returns the mount points the apps put at the root of uid's tree.
func (st *state) mounts(uid string) []*entry {
	var out []*entry
	for _, a := range st.appList {
		out = append(out, a.mounts(st, uid)...)
	}
	return out
}

// etagFor is the ETag the viewer sees: a home with received shares mixes
// in the shared nodes' ETags, so a change inside a share changes the
// recipient's root ETag too (Nextcloud propagates to recipients).
func (st *state) etagFor(e *entry) string {
	if !e.isHome() {
		return e.node.ETag
	}
	ms := st.mounts(e.uid)
	if len(ms) == 0 {
		return e.node.ETag
	}
	var b strings.Builder
	b.WriteString(e.node.ETag)
	for _, m := range ms {
		b.WriteString("/" + m.node.ETag)
	}
	return md5hex([]byte(b.String()))[:13]
}

// entryForNode finds how uid sees node: in their own tree, or through a
// received share. nil when uid cannot see it.
func (st *state) entryForNode(uid string, node *vfs.Node) *entry {
	if node.Owner == uid {
		e := &entry{node: node, perms: permAll, name: node.Name, path: node.Path(), uid: uid}
		return e
	}
	for _, m := range st.mounts(uid) {
		if m.node == node {
			return m
		}
		if m.node.IsAncestorOf(node) {
			rel := strings.TrimPrefix(node.Path(), m.node.Path())
			return &entry{node: node, perms: m.perms, mount: m.mount, name: node.Name, path: m.path + rel, uid: uid}
		}
	}
	return nil
}

// davPermissions renders oc:permissions like Node::getDavPermissions:
// S shared (received), R shareable, M mounted, G readable, D deletable,
// NV renameable and movable, W writable (files), CK creatable (folders).
func davPermissions(e *entry) string {
	p := e.filePerms()
	var b strings.Builder
	if e.mount != nil {
		b.WriteString("S")
	}
	if p&permShare != 0 {
		b.WriteString("R")
	}
	if e.mount != nil {
		b.WriteString("M")
	}
	if p&permRead != 0 {
		b.WriteString("G")
	}
	if p&permDelete != 0 || e.mountRoot {
		b.WriteString("D")
	}
	if p&permUpdate != 0 || e.mountRoot {
		b.WriteString("NV")
	}
	if e.node.Dir {
		if p&permCreate != 0 {
			b.WriteString("CK")
		}
	} else if p&permUpdate != 0 {
		b.WriteString("W")
	}
	return b.String()
}

// sharePermissions is ocs:share-permissions (Node::getSharePermissions):
// what the viewer could grant; files never offer create or delete.
func sharePermissions(e *entry) int {
	p := e.perms
	if !e.node.Dir {
		p &^= permCreate | permDelete
	}
	if e.mount != nil && !e.mount.reshareable() {
		return 0
	}
	return p
}

func ocmPermissions(p int) string {
	var out []string
	if p&permShare != 0 {
		out = append(out, `"share"`)
	}
	if p&permRead != 0 {
		out = append(out, `"read"`)
	}
	if p&(permCreate|permUpdate) != 0 {
		out = append(out, `"write"`)
	}
	return "[" + strings.Join(out, ",") + "]"
}

// fileID renders oc:id / OC-FileId: the id zero-padded to 8 digits and the
// instance id.
func (st *state) fileID(id int64) string { return fmt.Sprintf("%08d%s", id, st.InstanceID) }

// deleteNode removes node with its subtree and everything that refers to it
// (favourites, and what apps keep: nodesDeleted).
func (st *state) deleteNode(node *vfs.Node) error {
	ids := map[int64]bool{}
	vfs.Walk(node, func(m *vfs.Node) bool { ids[m.ID] = true; return true })
	if err := st.fs.Delete(node); err != nil {
		return err
	}
	st.forgetIDs(ids)
	return nil
}

func (st *state) forgetIDs(ids map[int64]bool) {
	for _, favs := range st.favorites {
		for id := range favs {
			if ids[id] {
				delete(favs, id)
			}
		}
	}
	for _, s := range st.appStates() {
		s.nodesDeleted(ids)
	}
}

// deleteUser removes an account with its files, its favourites and what
// the apps keep for it (userDeleted: e.g. the shares it made or received).
func (st *state) deleteUser(uid string) {
	if h := st.fs.Home(uid); h != nil {
		ids := map[int64]bool{}
		vfs.Walk(h, func(m *vfs.Node) bool { ids[m.ID] = true; return true })
		st.fs.DeleteHome(uid)
		st.forgetIDs(ids)
	}
	delete(st.users, uid)
	delete(st.favorites, uid)
	for _, s := range st.appStates() {
		s.userDeleted(uid)
	}
}
