package nextcloud

import (
	"crypto/rand"
	"math"
	"net/http"
	"strconv"
	"strings"
)

func (n *Nextcloud) versionParts() (int, int, int) {
	parts := strings.SplitN(n.cfg.Version, ".", 3)
	get := func(i int) int {
		if i < len(parts) {
			v, _ := strconv.Atoi(parts[i])
			return v
		}
		return 0
	}
	return get(0), get(1), get(2)
}

// ocsCapabilities is CapabilitiesController::getCapabilities: public
// capabilities for anonymous callers, all of them for a logged-in user, and
// an ETag of md5(json_encode($result)). The core's blocks come first, then
// the apps' public blocks, then (logged in) their other blocks, each in
// registry order.
func (n *Nextcloud) ocsCapabilities(c *ocsCtx) ocsResult {
	major, minor, micro := n.versionParts()
	caps := obj{
		{"core", obj{{"pollinterval", 60}, {"webdav-root", "remote.php/webdav"}, {"reference-api", true}, {"mod-rewrite-working", false}}},
		{"bruteforce", obj{{"delay", 0}, {"allow-listed", false}}},
	}
	var private obj
	n.mu.Lock()
	for _, a := range n.apps {
		for _, cp := range a.capabilities(n.st, c.auth.uid) {
			switch {
			case cp.public:
				caps = append(caps, kv{cp.name, cp.value})
			case c.auth.loggedIn():
				private = append(private, kv{cp.name, cp.value})
			}
		}
	}
	n.mu.Unlock()
	caps = append(caps, private...)
	result := obj{
		{"version", obj{{"major", major}, {"minor", minor}, {"micro", micro}, {"string", n.cfg.Version}, {"edition", ""}, {"extendedSupport", false}}},
		{"capabilities", caps},
	}
	res := ocsOK(result)
	res.etag = md5hex(phpJSON(result))
	return res
}

// userDetails is UsersController::getUserData.
func (n *Nextcloud) userDetails(u *user, includeScopes bool) obj {
	var used int64
	n.mu.Lock()
	if home := n.st.fs.Home(u.UID); home != nil {
		used = home.Size()
	}
	n.mu.Unlock()
	const free = int64(10 << 30)
	total := used + free
	relative := 0.0
	if total > 0 {
		relative = math.Round(float64(used)/float64(total)*10000) / 100
	}
	groups := make([]any, 0, len(u.Groups))
	for _, g := range u.Groups {
		groups = append(groups, g)
	}
	d := obj{
		{"enabled", u.Enabled},
		{"storageLocation", "/var/www/html/data/" + u.UID},
		{"id", u.UID},
		{"firstLoginTimestamp", u.FirstLogin},
		{"lastLoginTimestamp", u.LastLogin},
		{"lastLogin", u.LastLogin * 1000},
		{"backend", u.Backend},
		{"subadmin", []any{}},
		{"quota", obj{{"free", free}, {"used", used}, {"total", total}, {"relative", relative}, {"quota", -3}}},
		{"manager", ""},
		{"email", nilIfEmpty(u.Email)},
		{"additional_mail", []any{}},
		{"displayname", u.DisplayName},
		{"display-name", u.DisplayName},
		{"phone", ""},
		{"address", ""},
		{"website", ""},
		{"twitter", ""},
		{"fediverse", ""},
		{"organisation", ""},
		{"role", ""},
		{"headline", ""},
		{"biography", ""},
		{"profile_enabled", "1"},
		{"pronouns", ""},
		{"groups", groups},
		{"language", "en"},
		{"locale", ""},
		{"notify_email", nil},
		{"backendCapabilities", obj{{"setDisplayName", u.Backend == "Database"}, {"setPassword", u.Backend == "Database"}}},
	}
	if includeScopes {
		d = append(d, kv{"avatarScope", "v2-federated"}, kv{"emailScope", "v2-federated"}, kv{"displaynameScope", "v2-federated"},
			kv{"phoneScope", "v2-local"}, kv{"addressScope", "v2-local"}, kv{"websiteScope", "v2-local"}, kv{"twitterScope", "v2-local"})
	}
	return d
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (n *Nextcloud) lookupUser(uid string) *user {
	n.mu.Lock()
	defer n.mu.Unlock()
	if u := n.st.users[uid]; u != nil {
		cp := *u
		return &cp
	}
	return nil
}

// ocsCurrentUser is GET /cloud/user.
func (n *Nextcloud) ocsCurrentUser(c *ocsCtx) ocsResult {
	u := n.lookupUser(c.auth.uid)
	if u == nil {
		return ocsErr(ocsUnauthorised, "")
	}
	return ocsOK(n.userDetails(u, true))
}

// ocsGetUser is GET /cloud/users/{userid}: yourself, or anyone for an
// admin; otherwise 998 with an empty message (getUserData returns null).
func (n *Nextcloud) ocsGetUser(c *ocsCtx) ocsResult {
	uid := c.vars["userid"]
	self := uid == c.auth.uid
	if !self && !n.isAdmin(c.auth.uid) {
		return ocsErr(ocsNotFound, "")
	}
	u := n.lookupUser(uid)
	if u == nil {
		return ocsErr(http.StatusNotFound, "User does not exist")
	}
	return ocsOK(n.userDetails(u, self))
}

// ocsListUsers is GET /cloud/users (search, limit, offset).
func (n *Nextcloud) ocsListUsers(c *ocsCtx) ocsResult {
	search, _ := c.p.str("search")
	n.mu.Lock()
	var uids []any
	for _, uid := range n.st.sortedUIDs() {
		u := n.st.users[uid]
		if search == "" || strings.Contains(strings.ToLower(uid), strings.ToLower(search)) ||
			strings.Contains(strings.ToLower(u.DisplayName), strings.ToLower(search)) ||
			strings.Contains(strings.ToLower(u.Email), strings.ToLower(search)) {
			uids = append(uids, uid)
		}
	}
	n.mu.Unlock()
	uids = page(uids, c.p)
	return ocsOK(obj{{"users", uids}})
}

func page(items []any, p params) []any {
	if items == nil {
		items = []any{}
	}
	offset, _ := p.int("offset")
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(items)) {
		offset = int64(len(items))
	}
	items = items[offset:]
	if limit, ok := p.int("limit"); ok && limit > 0 && limit < int64(len(items)) {
		items = items[:limit]
	}
	return items
}

// ocsAddUser is POST /cloud/users (userid, password, displayName, email,
// groups[]).
func (n *Nextcloud) ocsAddUser(c *ocsCtx) ocsResult {
	uid, _ := c.p.str("userid")
	password, _ := c.p.str("password")
	email, _ := c.p.str("email")
	display, _ := c.p.str("displayName")
	var groups []string
	if gs, ok := c.p["groups"].([]any); ok {
		for _, g := range gs {
			if s, ok := g.(string); ok && s != "" {
				groups = append(groups, s)
			}
		}
	}
	var res ocsResult
	n.withState(func(st *state) bool {
		if st.users[uid] != nil {
			res = ocsErr(102, "User already exists")
			return false
		}
		for _, g := range groups {
			if !st.groups[g] {
				res = ocsErr(104, "Group "+g+" does not exist")
				return false
			}
		}
		if password == "" && email == "" {
			res = ocsErr(108, "To send a password link to the user an email address is required.")
			return false
		}
		u := &user{UID: uid, DisplayName: display, Email: email, Password: password, Groups: groups, Enabled: true}
		if err := st.addUser(u); err != nil {
			res = ocsErr(101, "Invalid account ID")
			return false
		}
		res = ocsOK(obj{{"id", uid}})
		return true
	})
	return res
}

// ocsDeleteUser is DELETE /cloud/users/{userid}.
func (n *Nextcloud) ocsDeleteUser(c *ocsCtx) ocsResult {
	uid := c.vars["userid"]
	var res ocsResult
	n.withState(func(st *state) bool {
		u := st.users[uid]
		if u == nil {
			res = ocsErr(http.StatusNotFound, "User does not exist")
			return false
		}
		if uid == c.auth.uid {
			res = ocsErr(101, "")
			return false
		}
		st.deleteUser(uid)
		res = ocsOK([]any{})
		return true
	})
	return res
}

// ocsUserGroups is GET /cloud/users/{userid}/groups: own groups, or any
// user's for an admin.
func (n *Nextcloud) ocsUserGroups(c *ocsCtx) ocsResult {
	uid := c.vars["userid"]
	if uid != c.auth.uid && !n.isAdmin(c.auth.uid) {
		return ocsErr(http.StatusForbidden, "")
	}
	u := n.lookupUser(uid)
	if u == nil {
		return ocsErr(http.StatusNotFound, "User does not exist")
	}
	groups := []any{}
	for _, g := range u.Groups {
		groups = append(groups, g)
	}
	return ocsOK(obj{{"groups", groups}})
}

// ocsListGroups is GET /cloud/groups.
func (n *Nextcloud) ocsListGroups(c *ocsCtx) ocsResult {
	search, _ := c.p.str("search")
	n.mu.Lock()
	var gs []any
	for _, g := range n.st.sortedGroups() {
		if search == "" || strings.Contains(strings.ToLower(g), strings.ToLower(search)) {
			gs = append(gs, g)
		}
	}
	n.mu.Unlock()
	return ocsOK(obj{{"groups", page(gs, c.p)}})
}

// ocsAddGroup is POST /cloud/groups (groupid).
func (n *Nextcloud) ocsAddGroup(c *ocsCtx) ocsResult {
	gid, _ := c.p.str("groupid")
	var res ocsResult
	n.withState(func(st *state) bool {
		switch {
		case strings.TrimSpace(gid) == "":
			res = ocsErr(101, "Invalid group name")
			return false
		case st.groups[gid]:
			res = ocsErr(102, "group exists")
			return false
		}
		st.groups[gid] = true
		res = ocsOK([]any{})
		return true
	})
	return res
}

// ocsGroupMembers is GET /cloud/groups/{groupid}.
func (n *Nextcloud) ocsGroupMembers(c *ocsCtx) ocsResult {
	gid := c.vars["groupid"]
	n.mu.Lock()
	exists := n.st.groups[gid]
	members := n.st.groupMembers(gid)
	n.mu.Unlock()
	if !exists {
		return ocsErr(http.StatusNotFound, "The requested group could not be found")
	}
	users := []any{}
	for _, m := range members {
		users = append(users, m)
	}
	return ocsOK(obj{{"users", users}})
}

// ocsNavigationApps is GET /core/navigation/apps: the enabled apps' entries
// (NavigationManager), which the MCP client uses to decide what to offer.
func (n *Nextcloud) ocsNavigationApps(c *ocsCtx) ocsResult {
	out := []any{}
	for _, e := range navigationOf(n.apps) {
		out = append(out, obj{{"id", e.id}, {"order", e.order}, {"href", "/index.php/apps/" + e.id + "/"}, {"icon", "/apps/" + e.id + "/img/app.svg"},
			{"type", "link"}, {"name", e.name}, {"app", e.id}, {"default", false}, {"active", false}, {"classes", ""}, {"unread", 0}})
	}
	return ocsOK(out)
}

// ocsGetAppPassword is GET /core/getapppassword: a new app password for a
// session that did not log in with one.
func (n *Nextcloud) ocsGetAppPassword(c *ocsCtx) ocsResult {
	if c.auth.appPassword {
		return ocsErr(http.StatusForbidden, "You cannot request an new apppassword with an apppassword")
	}
	ap := randomAppPassword()
	n.withState(func(st *state) bool {
		if u := st.users[c.auth.uid]; u != nil {
			u.AppPasswords = append(u.AppPasswords, ap)
			return true
		}
		return false
	})
	return ocsOK(obj{{"apppassword", ap}})
}

// ocsDeleteAppPassword is DELETE /core/apppassword: revokes the app password
// this request authenticated with.
func (n *Nextcloud) ocsDeleteAppPassword(c *ocsCtx) ocsResult {
	if !c.auth.appPassword {
		return ocsErr(http.StatusForbidden, "no app password in use")
	}
	secret := presentedSecret(c.r)
	n.withState(func(st *state) bool {
		u := st.users[c.auth.uid]
		if u == nil {
			return false
		}
		kept := u.AppPasswords[:0]
		for _, ap := range u.AppPasswords {
			if !secretEqual(ap, secret) {
				kept = append(kept, ap)
			}
		}
		u.AppPasswords = kept
		return true
	})
	return ocsOK([]any{})
}

func randomAppPassword() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 72)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
