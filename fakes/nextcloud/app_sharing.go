package nextcloud

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

// Share types (OCP\Share\IShare) the fake supports.
const (
	shareTypeUser  = 0
	shareTypeGroup = 1
	shareTypeLink  = 3
)

// sharingApp is files_sharing: user, group and public link shares
// (oc_share) with the share API on OCS, received shares mounted at the
// root of the recipients' trees (MountProvider), and SharesPlugin's
// oc:share-types on DAV.
type sharingApp struct{ baseApp }

const sharingID = "files_sharing"

func (sharingApp) id() string { return sharingID }

func (sharingApp) newState() appState { return &sharingState{shares: map[int64]*share{}, next: 1} }

func (sharingApp) dav() *davPlugin { return &davPlugin{prop: shareTypesProp} }

// mounts are the shares uid received, at the root of their tree.
func (sharingApp) mounts(st *state, uid string) []*entry { return sharesOf(st).receivedMounts(uid) }

// sharingState is oc_share and its id sequence.
type sharingState struct {
	shares map[int64]*share
	next   int64
}

// sharingSnapshot is the files_sharing section of state.json.
type sharingSnapshot struct {
	Shares    []*share `json:"shares"`
	NextShare int64    `json:"next_share"`
}

func (ss *sharingState) snapshot() (json.RawMessage, error) {
	return json.Marshal(sharingSnapshot{Shares: ss.sorted(), NextShare: ss.next})
}

func (ss *sharingState) restore(raw json.RawMessage) error {
	var doc sharingSnapshot
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	for _, sh := range doc.Shares {
		ss.shares[sh.ID] = sh
	}
	ss.next = max(doc.NextShare, 1)
	return nil
}

// nodesDeleted: a share of a deleted node is gone.
func (ss *sharingState) nodesDeleted(ids map[int64]bool) {
	for id, sh := range ss.shares {
		if ids[sh.NodeID] {
			delete(ss.shares, id)
		}
	}
}

// userDeleted: the shares the user made or received (as a user) are gone.
func (ss *sharingState) userDeleted(uid string) {
	for id, sh := range ss.shares {
		if sh.SharedBy == uid || sh.FileOwner == uid || (sh.Type == shareTypeUser && sh.ShareWith == uid) {
			delete(ss.shares, id)
		}
	}
}

func (ss *sharingState) sorted() []*share {
	out := make([]*share, 0, len(ss.shares))
	for _, sh := range ss.shares {
		out = append(out, sh)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// sharesTx is the state as a sharing request sees it while it holds the
// state lock: the core state and the app's part.
type sharesTx struct {
	*state
	ss *sharingState
}

func sharesOf(st *state) sharesTx {
	return sharesTx{state: st, ss: stateOf[*sharingState](st, sharingID)}
}

// receivedMounts returns the mount points of the shares uid received.
func (st sharesTx) receivedMounts(uid string) []*entry {
	var out []*entry
	for _, sh := range st.ss.sorted() {
		if !sh.receivedBy(st, uid) {
			continue
		}
		node := st.fs.ByID(sh.NodeID)
		if node == nil {
			continue
		}
		target := st.shareTarget(sh, uid)
		out = append(out, &entry{node: node, perms: sh.effectivePerms(node), mount: sh, mountRoot: true,
			name: target, path: "/" + target, uid: uid})
	}
	return out
}

// shareTypesProp is SharesPlugin's oc:share-types on files: the types of
// the shares the viewer made of the node.
func shareTypesProp(d *davReq, node davNode, n davxml.Name) (string, bool) {
	e, ok := entryOf(node)
	if !ok || n != nOC("share-types") {
		return "", false
	}
	var b strings.Builder
	seen := map[int]bool{}
	for _, sh := range sharesOf(d.st()).ss.sorted() {
		if sh.NodeID == e.node.ID && sh.SharedBy == d.auth.uid && !seen[sh.Type] {
			seen[sh.Type] = true
			b.WriteString("<oc:share-type>" + strconv.Itoa(sh.Type) + "</oc:share-type>")
		}
	}
	return b.String(), true
}

// capabilities is files_sharing's Capabilities (public).
func (sharingApp) capabilities(*state, string) []capability {
	return []capability{{name: "files_sharing", public: true, value: obj{
		{"api_enabled", true},
		{"public", obj{{"enabled", true}, {"password", obj{{"enforced", false}, {"askForOptionalPassword", false}}},
			{"expire_date", obj{{"enabled", false}}}, {"multiple_links", true}, {"expire_date_internal", obj{{"enabled", false}}},
			{"expire_date_remote", obj{{"enabled", false}}}, {"send_mail", false}, {"upload", true}, {"upload_files_drop", true}}},
		{"resharing", true},
		{"user", obj{{"send_mail", false}, {"expire_date", obj{{"enabled", true}}}}},
		{"group_sharing", true},
		{"group", obj{{"enabled", true}, {"expire_date", obj{{"enabled", true}}}}},
		{"default_permissions", 31},
		{"federation", obj{{"outgoing", false}, {"incoming", false}, {"expire_date", obj{{"enabled", false}}}, {"expire_date_supported", obj{{"enabled", false}}}}},
		{"sharee", obj{{"query_lookup_default", false}, {"always_show_unique", true}}},
	}}}
}

// ocsRoutes are files_sharing's share API.
func (sharingApp) ocsRoutes() []ocsRoute {
	return []ocsRoute{
		{method: "GET", pattern: "/apps/files_sharing/api/v1/shares", h: ocsListShares},
		{method: "POST", pattern: "/apps/files_sharing/api/v1/shares", h: ocsCreateShare},
		{method: "GET", pattern: "/apps/files_sharing/api/v1/shares/{id}", h: ocsGetShare},
		{method: "PUT", pattern: "/apps/files_sharing/api/v1/shares/{id}", h: ocsUpdateShare},
		{method: "DELETE", pattern: "/apps/files_sharing/api/v1/shares/{id}", h: ocsDeleteShare},
	}
}

// share is an oc_share row.
type share struct {
	ID          int64  `json:"id"`
	Type        int    `json:"type"`
	SharedBy    string `json:"shared_by"`  // uid_owner in the API
	FileOwner   string `json:"file_owner"` // uid_file_owner
	ShareWith   string `json:"share_with,omitempty"`
	NodeID      int64  `json:"node_id"`
	Permissions int    `json:"permissions"`
	Token       string `json:"token,omitempty"`
	Password    string `json:"password,omitempty"`
	Expiration  string `json:"expiration,omitempty"` // YYYY-MM-DD
	Note        string `json:"note,omitempty"`
	Label       string `json:"label,omitempty"`
	STime       int64  `json:"stime"`
	HideDL      bool   `json:"hide_download,omitempty"`
	MailSend    bool   `json:"mail_send,omitempty"`
	// Targets is the mount name per recipient (file_target without "/").
	Targets map[string]string `json:"targets,omitempty"`
	// Left are group members who removed the share from their tree.
	Left map[string]bool `json:"left,omitempty"`
}

func (sh *share) expired(now time.Time) bool {
	if sh.Expiration == "" {
		return false
	}
	t, err := time.Parse("2006-01-02", sh.Expiration)
	return err == nil && !now.Before(t.AddDate(0, 0, 1))
}

// receivedBy reports whether uid gets sh mounted in their tree.
func (sh *share) receivedBy(st sharesTx, uid string) bool {
	if sh.FileOwner == uid || sh.SharedBy == uid || sh.expired(st.now()) {
		return false
	}
	switch sh.Type {
	case shareTypeUser:
		return sh.ShareWith == uid
	case shareTypeGroup:
		u := st.users[uid]
		return u != nil && u.inGroup(sh.ShareWith) && !sh.Left[uid]
	}
	return false
}

func (sh *share) mountType() string { return "shared" }
func (sh *share) note() string      { return sh.Note }
func (sh *share) reshareable() bool { return sh.Permissions&permShare != 0 }

// unmount is a recipient deleting the mount point: a user share is gone, a
// group member leaves the group share.
func (sh *share) unmount(st *state, uid string) {
	if sh.Type == shareTypeGroup {
		if sh.Left == nil {
			sh.Left = map[string]bool{}
		}
		sh.Left[uid] = true
		return
	}
	delete(sharesOf(st).ss.shares, sh.ID)
}

// rename is file_target: the recipient's name of the mount point.
func (sh *share) rename(_ *state, uid, name string) {
	if sh.Targets == nil {
		sh.Targets = map[string]string{}
	}
	sh.Targets[uid] = name
}

// effectivePerms are the share's permissions as the node allows them.
func (sh *share) effectivePerms(node *vfs.Node) int {
	p := sh.Permissions
	if !node.Dir {
		p &^= permCreate | permDelete
	}
	return p
}

// shareTarget is the name the share is mounted under for uid, chosen once
// like Nextcloud's file_target: the node's name, with " (2)", " (3)" … when
// the recipient's root already has that name.
func (st sharesTx) shareTarget(sh *share, uid string) string {
	if t, ok := sh.Targets[uid]; ok {
		return t
	}
	node := st.fs.ByID(sh.NodeID)
	if node == nil {
		return ""
	}
	taken := map[string]bool{}
	if h := st.fs.Home(uid); h != nil {
		for _, c := range h.Children() {
			taken[c.Name] = true
		}
	}
	for _, other := range st.ss.shares {
		if other != sh {
			if t, ok := other.Targets[uid]; ok {
				taken[t] = true
			}
		}
	}
	name := node.Name
	base, ext := name, ""
	if !node.Dir {
		if i := strings.LastIndexByte(name, '.'); i > 0 {
			base, ext = name[:i], name[i:]
		}
	}
	for i := 2; taken[name]; i++ {
		name = base + " (" + strconv.Itoa(i) + ")" + ext
	}
	if sh.Targets == nil {
		sh.Targets = map[string]string{}
	}
	sh.Targets[uid] = name
	return name
}

func randomToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// baseURL is the scheme and host the client used, for link URLs.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// formatShare is ShareAPIController::formatShare for the viewer uid
// (nextcloud/server apps/files_sharing/lib/Controller/ShareAPIController.php).
func (st sharesTx) formatShare(sh *share, uid string, r *http.Request) obj {
	node := st.fs.ByID(sh.NodeID)
	displayName := func(u string) string {
		if x := st.users[u]; x != nil {
			return x.DisplayName
		}
		return u
	}
	var expiration any
	if sh.Expiration != "" {
		expiration = sh.Expiration + " 00:00:00"
	}
	canEdit, canDelete, canLeave := st.shareRights(sh, uid)
	o := obj{
		{"id", strconv.FormatInt(sh.ID, 10)},
		{"share_type", sh.Type},
		{"uid_owner", sh.SharedBy},
		{"displayname_owner", displayName(sh.SharedBy)},
		{"permissions", sh.Permissions},
		{"can_edit", canEdit},
		{"can_delete", canDelete},
		{"stime", sh.STime},
		{"parent", nil},
		{"expiration", expiration},
		{"token", nilIfEmpty(sh.Token)},
		{"uid_file_owner", sh.FileOwner},
		{"note", sh.Note},
		{"label", sh.Label},
		{"displayname_file_owner", displayName(sh.FileOwner)},
	}
	if node != nil {
		e := st.entryForNode(uid, node)
		path, perms, mountType := node.Path(), 0, ""
		if e != nil {
			path = e.path
			if e.mount != nil {
				mountType = e.mount.mountType()
			}
		}
		switch {
		case sh.FileOwner == uid && e != nil:
			// The owner sees the node's own permissions.
			perms = e.filePerms()
		default:
			// Anyone else sees the share's permissions, with DELETE when
			// they may delete or leave the share and UPDATE when they may
			// edit it: the mount point can be removed even where the
			// share's bits say otherwise.
			perms = sh.Permissions
			if canDelete || canLeave {
				perms |= permDelete
			}
			if canEdit {
				perms |= permUpdate
			}
		}
		itemType := "file"
		if node.Dir {
			itemType = "folder"
		}
		target := "/" + node.Name
		if t, ok := sh.Targets[uid]; ok {
			target = "/" + t
		} else if t, ok := sh.Targets[sh.ShareWith]; ok && sh.Type == shareTypeUser {
			// A user share is one oc_share row whose file_target is the
			// recipient's mount name (DefaultShareProvider::moveShare
			// updates that row), so the sharer sees it too.
			target = "/" + t
		}
		o = append(o,
			kv{"path", path},
			kv{"item_type", itemType},
			kv{"item_permissions", perms},
			kv{"is-mount-root", e != nil && e.mountRoot},
			kv{"mount-type", mountType},
			kv{"mimetype", node.MimeType},
			kv{"has_preview", false},
			kv{"storage_id", "home::" + sh.FileOwner},
			kv{"storage", 1},
			kv{"item_source", node.ID},
			kv{"file_source", node.ID},
			kv{"file_parent", parentID(node)},
			kv{"file_target", target},
			kv{"item_size", node.Size()},
			kv{"item_mtime", node.MTime},
		)
	}
	switch sh.Type {
	case shareTypeUser:
		o = append(o, kv{"share_with", sh.ShareWith}, kv{"share_with_displayname", displayName(sh.ShareWith)},
			kv{"share_with_displayname_unique", st.emailOr(sh.ShareWith)})
	case shareTypeGroup:
		o = append(o, kv{"share_with", sh.ShareWith}, kv{"share_with_displayname", sh.ShareWith})
	case shareTypeLink:
		var pw any
		if sh.Password != "" {
			pw = "$2y$10$" + md5hex([]byte(sh.Password))
		}
		o = append(o, kv{"password", pw}, kv{"send_password_by_talk", false}, kv{"share_with", pw},
			kv{"share_with_displayname", "(Shared link)"}, kv{"url", baseURL(r) + "/index.php/s/" + sh.Token})
	}
	mail := 0
	if sh.MailSend {
		mail = 1
	}
	hide := 0
	if sh.HideDL {
		hide = 1
	}
	o = append(o, kv{"mail_send", mail}, kv{"hide_download", hide}, kv{"attributes", nil})
	return o
}

// shareRights are ShareAPIController's canEditShare, canDeleteShare and
// canDeleteShareFromSelf for uid: the sharer and the file owner may edit
// and delete a share; a user share's recipient may delete it (unshare
// from self); a group member may only leave a group share. A share with
// no permissions offers nothing.
func (st sharesTx) shareRights(sh *share, uid string) (canEdit, canDelete, canLeave bool) {
	if sh.Permissions == 0 {
		return false, false, false
	}
	sharer := sh.SharedBy == uid || sh.FileOwner == uid
	canEdit = sharer
	canDelete = sharer || (sh.Type == shareTypeUser && sh.ShareWith == uid)
	if sh.Type == shareTypeGroup && !sharer {
		u := st.users[uid]
		canLeave = u != nil && u.inGroup(sh.ShareWith)
	}
	return canEdit, canDelete, canLeave
}

func parentID(n *vfs.Node) any {
	if p := n.Parent(); p != nil {
		return p.ID
	}
	return nil
}

func (st sharesTx) emailOr(uid string) string {
	if u := st.users[uid]; u != nil && u.Email != "" {
		return u.Email
	}
	return uid
}

// canAccessShare: the sharer, the file owner or a recipient.
func (st sharesTx) canAccessShare(sh *share, uid string) bool {
	if sh.SharedBy == uid || sh.FileOwner == uid {
		return true
	}
	switch sh.Type {
	case shareTypeUser:
		return sh.ShareWith == uid
	case shareTypeGroup:
		u := st.users[uid]
		return u != nil && u.inGroup(sh.ShareWith)
	}
	return false
}

func shareByID(c *ocsCtx, st sharesTx) (*share, *ocsResult) {
	id, err := strconv.ParseInt(c.vars["id"], 10, 64)
	sh := st.ss.shares[id]
	if err != nil || sh == nil || !st.canAccessShare(sh, c.auth.uid) {
		r := ocsErr(http.StatusNotFound, "Wrong share ID, share does not exist")
		return nil, &r
	}
	return sh, nil
}

// ocsListShares is GET /shares (shared_with_me, reshares, subfiles, path).
func ocsListShares(c *ocsCtx) ocsResult {
	n := c.n
	withMe, _ := c.p.str("shared_with_me")
	reshares, _ := c.p.str("reshares")
	subfiles, _ := c.p.str("subfiles")
	path, _ := c.p.str("path")
	uid := c.auth.uid
	n.mu.Lock()
	defer n.mu.Unlock()
	st := sharesOf(n.st)
	var target *entry
	if path != "" {
		e, _, err := st.resolve(uid, splitPath(path))
		if err != nil {
			return ocsErr(http.StatusNotFound, "Wrong path, file/folder does not exist")
		}
		target = e
	}
	out := []any{}
	for _, sh := range st.ss.sorted() {
		node := st.fs.ByID(sh.NodeID)
		if node == nil {
			continue
		}
		if withMe == "true" {
			if !sh.receivedBy(st, uid) {
				continue
			}
		} else {
			mine := sh.SharedBy == uid || (reshares == "true" && sh.FileOwner == uid)
			if !mine {
				continue
			}
		}
		if target != nil {
			if subfiles == "true" {
				if node.Parent() != target.node {
					continue
				}
			} else if node != target.node {
				continue
			}
		}
		out = append(out, st.formatShare(sh, uid, c.r))
	}
	return ocsOK(out)
}

// ocsGetShare is GET /shares/{id}: a one-element list.
func ocsGetShare(c *ocsCtx) ocsResult {
	n := c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	st := sharesOf(n.st)
	sh, fail := shareByID(c, st)
	if fail != nil {
		return *fail
	}
	return ocsOK([]any{st.formatShare(sh, c.auth.uid, c.r)})
}

func parseExpireDate(s string, now time.Time) (string, *ocsResult) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		// DateTime accepts more (e.g. full timestamps); the date part counts.
		if t2, err2 := time.Parse(time.RFC3339, strings.TrimSpace(s)); err2 == nil {
			t = t2
		} else {
			r := ocsErr(http.StatusNotFound, "Invalid date. Format must be YYYY-MM-DD")
			return "", &r
		}
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if !today.Before(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)) {
		r := ocsErr(http.StatusNotFound, "Expiration date is in the past")
		return "", &r
	}
	return t.Format("2006-01-02"), nil
}

// ocsCreateShare is POST /shares, with ShareAPIController::createShare's
// checks in its order, then the share manager's.
func ocsCreateShare(c *ocsCtx) ocsResult {
	n := c.n
	uid := c.auth.uid
	path, havePath := c.p.str("path")
	var res ocsResult
	n.withState(func(locked *state) bool {
		st := sharesOf(locked)
		if !havePath {
			res = ocsErr(http.StatusNotFound, "Please specify a file or folder path")
			return false
		}
		e, _, err := st.resolve(uid, splitPath(path))
		if err != nil {
			res = ocsErr(http.StatusNotFound, "Wrong path, file/folder does not exist")
			return false
		}
		shareType := int64(-1)
		if v, ok := c.p.int("shareType"); ok {
			shareType = v
		}
		permsParam, havePerms := c.p.int("permissions")
		var perms int
		if shareType == shareTypeLink {
			perms = permRead
			if havePerms {
				perms = int(permsParam)
			}
			if pu, ok := c.p.str("publicUpload"); ok && (pu == "true" || pu == "false") {
				if pu == "true" {
					if !e.node.Dir {
						res = ocsErr(http.StatusBadRequest, "Public upload is only possible for publicly shared folders")
						return false
					}
					perms = permRead | permCreate | permUpdate | permDelete
				} else {
					perms = permRead
				}
			}
			if perms&permRead == 0 && perms&permCreate == 0 {
				res = ocsErr(http.StatusBadRequest, "Share must at least have READ or CREATE permissions")
				return false
			}
			if perms&permRead == 0 && perms&(permUpdate|permDelete) != 0 {
				res = ocsErr(http.StatusBadRequest, "Share must have READ permission if UPDATE or DELETE permission is set")
				return false
			}
		} else {
			perms = permAll
			if havePerms {
				perms = int(permsParam)
			}
			perms |= permRead
		}
		if !e.node.Dir {
			perms &^= permDelete | permCreate
		}
		sh := &share{Type: int(shareType), SharedBy: uid, FileOwner: e.node.Owner, NodeID: e.node.ID, STime: st.unix()}
		if ed, ok := c.p.str("expireDate"); ok && ed != "" {
			exp, fail := parseExpireDate(ed, st.now())
			if fail != nil {
				res = *fail
				return false
			}
			sh.Expiration = exp
		}
		shareWith, haveWith := c.p.str("shareWith")
		switch shareType {
		case shareTypeUser:
			if !haveWith || st.users[shareWith] == nil {
				res = ocsErr(http.StatusNotFound, "Please specify a valid account to share with")
				return false
			}
			sh.ShareWith = shareWith
		case shareTypeGroup:
			if !haveWith || !st.groups[shareWith] {
				res = ocsErr(http.StatusNotFound, "Please specify a valid group")
				return false
			}
			sh.ShareWith = shareWith
		case shareTypeLink:
			if pw, ok := c.p.str("password"); ok && pw != "" {
				sh.Password = pw
			}
			if label, ok := c.p.str("label"); ok && label != "" {
				if len(label) > 255 {
					res = ocsErr(http.StatusBadRequest, "Maximum label length is 255")
					return false
				}
				sh.Label = label
			}
			sh.Token = randomToken(15)
		default:
			res = ocsErr(http.StatusBadRequest, "Unknown share type")
			return false
		}
		sh.Permissions = perms
		if note, ok := c.p.str("note"); ok {
			sh.Note = note
		}
		if fail := st.shareManagerChecks(sh, e); fail != nil {
			res = *fail
			return false
		}
		sh.ID = st.ss.next
		st.ss.next++
		st.ss.shares[sh.ID] = sh
		// Fix the recipients' mount names now, as Nextcloud stores
		// file_target at creation.
		for _, u := range st.sortedUIDs() {
			if sh.receivedBy(st, u) {
				st.shareTarget(sh, u)
			}
		}
		res = ocsOK(st.formatShare(sh, uid, c.r))
		return true
	})
	return res
}

// shareManagerChecks are Share20\Manager::generalCreateChecks and the
// per-type checks; InvalidArgumentException and GenericShareException
// surface as 403 unless they carry a code (HintException: 404).
func (st sharesTx) shareManagerChecks(sh *share, e *entry) *ocsResult {
	fail := func(code int, msg string) *ocsResult { r := ocsErr(code, msg); return &r }
	if e.isHome() {
		return fail(http.StatusForbidden, "You cannot share your root folder")
	}
	if e.perms&permShare == 0 {
		return fail(http.StatusNotFound, "You are not allowed to share "+e.node.Name)
	}
	if sh.Permissions < 0 || sh.Permissions > permAll {
		return fail(http.StatusForbidden, "Valid permissions are required for sharing")
	}
	if sh.Permissions&^e.perms != 0 {
		return fail(http.StatusNotFound, "Cannot increase permissions of "+e.path)
	}
	if sh.Type != shareTypeLink && sh.Permissions&permRead == 0 {
		return fail(http.StatusForbidden, "Shares need at least read permissions")
	}
	switch sh.Type {
	case shareTypeUser:
		if sh.ShareWith == sh.SharedBy {
			return fail(http.StatusForbidden, "You cannot share with yourself")
		}
		if sh.ShareWith == sh.FileOwner {
			return fail(http.StatusForbidden, "You cannot share with the owner of the file")
		}
		for _, other := range st.ss.shares {
			if other.NodeID == sh.NodeID && other.Type == shareTypeUser && other.ShareWith == sh.ShareWith {
				name := sh.ShareWith
				if u := st.users[sh.ShareWith]; u != nil {
					name = u.DisplayName
				}
				return fail(http.StatusForbidden, "Sharing "+e.node.Name+" failed, because this item is already shared with the account "+name)
			}
		}
	case shareTypeGroup:
		for _, other := range st.ss.shares {
			if other.NodeID == sh.NodeID && other.Type == shareTypeGroup && other.ShareWith == sh.ShareWith {
				return fail(http.StatusForbidden, "Path is already shared with this group")
			}
		}
	}
	return nil
}

// ocsUpdateShare is PUT /shares/{id}.
func ocsUpdateShare(c *ocsCtx) ocsResult {
	n := c.n
	uid := c.auth.uid
	var res ocsResult
	n.withState(func(locked *state) bool {
		st := sharesOf(locked)
		sh, fail := shareByID(c, st)
		if fail != nil {
			res = *fail
			return false
		}
		if sh.SharedBy != uid && sh.FileOwner != uid {
			res = ocsErr(http.StatusForbidden, "You are not allowed to edit incoming shares")
			return false
		}
		perms, havePerms := c.p.int("permissions")
		password, havePassword := c.p.str("password")
		expire, haveExpire := c.p.str("expireDate")
		note, haveNote := c.p.str("note")
		label, haveLabel := c.p.str("label")
		publicUpload, havePublicUpload := c.p.str("publicUpload")
		hide, haveHide := c.p.str("hideDownload")
		if !havePerms && !havePassword && !haveExpire && !haveNote && !haveLabel && !havePublicUpload && !haveHide {
			res = ocsErr(http.StatusBadRequest, "Wrong or no update parameter given")
			return false
		}
		node := st.fs.ByID(sh.NodeID)
		if node == nil {
			res = ocsErr(http.StatusNotFound, "Wrong share ID, share does not exist")
			return false
		}
		updated := *sh
		if havePublicUpload && sh.Type == shareTypeLink {
			switch publicUpload {
			case "true":
				if !node.Dir {
					res = ocsErr(http.StatusBadRequest, "Public upload is only possible for publicly shared folders")
					return false
				}
				updated.Permissions = permRead | permCreate | permUpdate | permDelete
			case "false":
				updated.Permissions = permRead
			}
		}
		if havePerms {
			p := int(perms)
			if !node.Dir {
				p &^= permDelete | permCreate
			}
			updated.Permissions = p
		}
		if haveExpire {
			if expire == "" {
				updated.Expiration = ""
			} else {
				exp, fail := parseExpireDate(expire, st.now())
				if fail != nil {
					r := ocsErr(http.StatusBadRequest, "Invalid date. Format must be YYYY-MM-DD")
					if fail.message == "Expiration date is in the past" {
						r = *fail
					}
					res = r
					return false
				}
				updated.Expiration = exp
			}
		}
		if havePassword && sh.Type == shareTypeLink {
			updated.Password = password
		}
		if haveNote {
			updated.Note = note
		}
		if haveLabel && sh.Type == shareTypeLink {
			updated.Label = label
		}
		if haveHide {
			updated.HideDL = hide == "true"
		}
		e := st.entryForNode(uid, node)
		if e == nil {
			e = &entry{node: node, perms: permAll, path: node.Path(), uid: uid}
		}
		if updated.Permissions < 0 || updated.Permissions > permAll {
			res = ocsErr(http.StatusBadRequest, "Valid permissions are required for sharing")
			return false
		}
		if updated.Type != shareTypeLink && updated.Permissions&permRead == 0 {
			res = ocsErr(http.StatusBadRequest, "Shares need at least read permissions")
			return false
		}
		if updated.Permissions&^e.perms != 0 {
			res = ocsErr(http.StatusNotFound, "Cannot increase permissions of "+e.path)
			return false
		}
		*sh = updated
		res = ocsOK(st.formatShare(sh, uid, c.r))
		return true
	})
	return res
}

// ocsDeleteShare is DELETE /shares/{id}: the sharer deletes it, a
// recipient removes it from their own tree (deleteFromSelf).
func ocsDeleteShare(c *ocsCtx) ocsResult {
	n := c.n
	uid := c.auth.uid
	var res ocsResult
	n.withState(func(locked *state) bool {
		st := sharesOf(locked)
		sh, fail := shareByID(c, st)
		if fail != nil {
			res = *fail
			return false
		}
		switch {
		case sh.SharedBy == uid || sh.FileOwner == uid:
			delete(st.ss.shares, sh.ID)
		case sh.Type == shareTypeUser && sh.ShareWith == uid:
			delete(st.ss.shares, sh.ID)
		case sh.Type == shareTypeGroup:
			if sh.Left == nil {
				sh.Left = map[string]bool{}
			}
			sh.Left[uid] = true
		default:
			res = ocsErr(http.StatusForbidden, "Could not delete share")
			return false
		}
		res = ocsOK([]any{})
		return true
	})
	return res
}
