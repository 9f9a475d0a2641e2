package nextcloud

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

// user is an account. UID is what paths and shares use; LoginName is what
// HTTP Basic takes (they differ for LDAP or user_oidc accounts).
type user struct {
	UID          string   `json:"uid"`
	LoginName    string   `json:"login_name"`
	DisplayName  string   `json:"display_name"`
	Email        string   `json:"email"`
	Password     string   `json:"password"`
	AppPasswords []string `json:"app_passwords"`
	Groups       []string `json:"groups"`
	Backend      string   `json:"backend"`
	Enabled      bool     `json:"enabled"`
	LastLogin    int64    `json:"last_login"`
	FirstLogin   int64    `json:"first_login"`
}

func (u *user) inGroup(g string) bool {
	for _, x := range u.Groups {
		if x == g {
			return true
		}
	}
	return false
}

func (u *user) isAdmin() bool { return u.inGroup("admin") }

// state is everything the fake stores; one lock guards it. The core keeps
// the accounts, the file store and the favourites; every app keeps its own
// part in apps (stateOf).
type state struct {
	InstanceID string
	fs         *vfs.FS
	users      map[string]*user
	groups     map[string]bool
	favorites  map[string]map[int64]bool
	now        func() time.Time

	appList []app               // the apps served, in registry order
	apps    map[string]appState // by app id; apps without state are absent
}

func newState(instanceID string, now func() time.Time, list []app) *state {
	st := &state{
		InstanceID: instanceID, fs: vfs.New(instanceID, now), users: map[string]*user{}, groups: map[string]bool{},
		favorites: map[string]map[int64]bool{}, now: now,
		appList: list, apps: map[string]appState{},
	}
	for _, a := range list {
		if s := a.newState(); s != nil {
			st.apps[a.id()] = s
		}
	}
	return st
}

// appStates are the apps' states in registry order.
func (st *state) appStates() []appState {
	var out []appState
	for _, a := range st.appList {
		if s := st.apps[a.id()]; s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (st *state) unix() int64 { return st.now().Unix() }

// userByLogin finds the account Basic auth names.
func (st *state) userByLogin(login string) *user {
	for _, u := range st.users {
		if u.LoginName == login {
			return u
		}
	}
	// Nextcloud's database backend also finds accounts by uid, case-insensitively.
	for _, u := range st.users {
		if strings.EqualFold(u.UID, login) {
			return u
		}
	}
	return nil
}

// checkBasic verifies a login name and password or app password. App
// passwords are bound to the login name they were created for
// (Session::logClientIn refuses a token under another name).
func (st *state) checkBasic(login, password string) (*user, bool, bool) {
	u := st.userByLogin(login)
	if u == nil || !u.Enabled {
		return nil, false, false
	}
	if secretEqual(u.Password, password) {
		return u, true, false
	}
	for _, ap := range u.AppPasswords {
		if secretEqual(ap, password) {
			return u, true, true
		}
	}
	return nil, false, false
}

// appPasswordOwner is tryTokenLogin: an app password presented as a bearer
// token.
func (st *state) appPasswordOwner(token string) *user {
	for _, u := range st.users {
		if !u.Enabled {
			continue
		}
		for _, ap := range u.AppPasswords {
			if secretEqual(ap, token) {
				return u
			}
		}
	}
	return nil
}

func secretEqual(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// validUID is Nextcloud's rule for user ids (Manager::validateUserId).
var validUID = regexp.MustCompile(`^[a-zA-Z0-9 _.@\-']+$`)

func (st *state) addUser(u *user) error {
	if !validUID.MatchString(u.UID) || strings.TrimSpace(u.UID) != u.UID || u.UID == "." || u.UID == ".." {
		return fmt.Errorf("invalid user id %q", u.UID)
	}
	if st.users[u.UID] != nil {
		return fmt.Errorf("user %q already exists", u.UID)
	}
	if u.LoginName == "" {
		u.LoginName = u.UID
	}
	if u.DisplayName == "" {
		u.DisplayName = u.UID
	}
	if u.Backend == "" {
		u.Backend = "Database"
	}
	st.users[u.UID] = u
	for _, g := range u.Groups {
		st.groups[g] = true
	}
	st.fs.EnsureHome(u.UID)
	return nil
}

func (st *state) groupMembers(g string) []string {
	var out []string
	for _, u := range st.users {
		if u.inGroup(g) {
			out = append(out, u.UID)
		}
	}
	sort.Strings(out)
	return out
}

func (st *state) sortedGroups() []string {
	out := make([]string, 0, len(st.groups))
	for g := range st.groups {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

func (st *state) sortedUIDs() []string {
	out := make([]string, 0, len(st.users))
	for uid := range st.users {
		out = append(out, uid)
	}
	sort.Strings(out)
	return out
}

func (st *state) isFavorite(uid string, id int64) bool { return st.favorites[uid][id] }

func (st *state) setFavorite(uid string, id int64, fav bool) {
	m := st.favorites[uid]
	if m == nil {
		m = map[int64]bool{}
		st.favorites[uid] = m
	}
	if fav {
		m[id] = true
	} else {
		delete(m, id)
	}
}

// hashedUID is user_oidc's LocalIdService::getId with unique uids on and
// provider id 1.
func hashedUID(sub string) string {
	sum := sha256.Sum256([]byte("1_0_" + sub))
	return hex.EncodeToString(sum[:])
}
