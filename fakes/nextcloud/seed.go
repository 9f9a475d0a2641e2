package nextcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

// Seed is data to load: users (with app passwords and groups), files, and
// the apps' data. It is also the JSON body of POST /_fake/seed.
type Seed struct {
	Users []SeedUser `json:"users,omitempty"`
	Files []SeedFile `json:"files,omitempty"`
	// Notes are the Notes app's seed. They keep a field of their own
	// because they had one before apps had sections; Apps["notes"] takes
	// the same list.
	Notes []SeedNote `json:"notes,omitempty"`
	// Apps holds every other app's seed by app id ({"deck": …}), in the
	// shape that app documents; an id no app has is an error.
	Apps map[string]json.RawMessage `json:"apps,omitempty"`
}

// SeedUser is an account. LoginName defaults to UID; membership of group
// "admin" makes an administrator.
type SeedUser struct {
	UID          string   `json:"uid"`
	LoginName    string   `json:"login_name,omitempty"`
	DisplayName  string   `json:"display_name,omitempty"`
	Email        string   `json:"email,omitempty"`
	Password     string   `json:"password,omitempty"`
	AppPasswords []string `json:"app_passwords,omitempty"`
	Groups       []string `json:"groups,omitempty"`
}

// SeedFile is a file (or, with a trailing "/" in Path, a folder) in Owner's
// tree; missing parent folders are created.
type SeedFile struct {
	Owner    string `json:"owner"`
	Path     string `json:"path"`
	Content  string `json:"content,omitempty"`
	Favorite bool   `json:"favorite,omitempty"`
	// Modified is the mtime (unix seconds); now when zero.
	Modified int64 `json:"modified,omitempty"`
}

// DefaultAppPassword returns the app password the default seed gives uid:
// 72 characters of [A-Za-z0-9], the shape of a real Nextcloud app password
// ("<Uid>AppPassword" followed by zeros).
func DefaultAppPassword(uid string) string {
	base := strings.ToUpper(uid[:1]) + uid[1:] + "AppPassword"
	return base + strings.Repeat("0", 72-len(base))
}

// DefaultSeed is alice, bob and admin (password = uid + "-password", as the
// fake IdP), one app password each, groups "users" and "admin", a few files
// for alice, and each app's default data (a few notes for alice).
func DefaultSeed() Seed { return defaultSeedFor(apps) }

// coreSeed is the core's part of the default seed: users and files.
func coreSeed() Seed {
	s := Seed{}
	for _, u := range []struct{ uid, name string }{{"alice", "Alice Doe"}, {"bob", "Bob Roe"}, {"admin", "Administrator"}} {
		su := SeedUser{UID: u.uid, DisplayName: u.name, Email: u.uid + "@example.com", Password: u.uid + "-password",
			AppPasswords: []string{DefaultAppPassword(u.uid)}, Groups: []string{"users"}}
		if u.uid == "admin" {
			su.Groups = []string{"admin", "users"}
		}
		s.Users = append(s.Users, su)
	}
	s.Files = []SeedFile{
		{Owner: "alice", Path: "Readme.md", Content: "# Welcome\n\nThis is alice's fake Nextcloud.\n"},
		{Owner: "alice", Path: "Documents/report.md", Content: "# Quarterly report\n\nNumbers went up.\n", Favorite: true},
		{Owner: "alice", Path: "Documents/todo.txt", Content: "- water plants\n- call bob\n"},
		{Owner: "alice", Path: "Photos/"},
		{Owner: "bob", Path: "Documents/"},
	}
	return s
}

// applySeed adds s to the state: users, files, then each app's part.
// Existing users are left alone except that new app passwords and groups
// are added.
func (st *state) applySeed(s Seed) error {
	for id := range s.Apps {
		known := false
		for _, a := range st.appList {
			known = known || a.id() == id
		}
		if !known {
			return fmt.Errorf("seed: no app %q", id)
		}
	}
	for _, su := range s.Users {
		if u := st.users[su.UID]; u != nil {
			for _, ap := range su.AppPasswords {
				if !contains(u.AppPasswords, ap) {
					u.AppPasswords = append(u.AppPasswords, ap)
				}
			}
			for _, g := range su.Groups {
				if !u.inGroup(g) {
					u.Groups = append(u.Groups, g)
					st.groups[g] = true
				}
			}
			if su.Password != "" {
				u.Password = su.Password
			}
			continue
		}
		u := &user{UID: su.UID, LoginName: su.LoginName, DisplayName: su.DisplayName, Email: su.Email,
			Password: su.Password, AppPasswords: append([]string(nil), su.AppPasswords...),
			Groups: append([]string(nil), su.Groups...), Enabled: true}
		if err := st.addUser(u); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	for _, f := range s.Files {
		if err := st.seedFile(f); err != nil {
			return fmt.Errorf("seed file %s:%s: %w", f.Owner, f.Path, err)
		}
	}
	for _, a := range st.appList {
		err := a.seed(st, s, s.Apps[a.id()])
		if errors.Is(err, errNoSeed) {
			return fmt.Errorf("seed: app %q takes no seed data", a.id())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (st *state) seedFile(f SeedFile) error {
	if st.users[f.Owner] == nil {
		return fmt.Errorf("unknown owner %q", f.Owner)
	}
	dir := strings.HasSuffix(f.Path, "/")
	segs := splitPath(f.Path)
	if len(segs) == 0 {
		return fmt.Errorf("empty path")
	}
	for _, s := range segs {
		if err := vfs.ValidateName(s); err != nil {
			return err
		}
	}
	home := st.fs.EnsureHome(f.Owner)
	parent, err := st.fs.MkdirAll(home, segs[:len(segs)-1])
	if err != nil {
		return err
	}
	name := segs[len(segs)-1]
	var node *vfs.Node
	if dir {
		node, err = st.fs.MkdirAll(parent, []string{name})
	} else if existing := parent.Child(name); existing != nil {
		node = existing
		err = st.fs.WriteFile(existing, []byte(f.Content), f.Modified)
	} else {
		node, err = st.fs.CreateFile(parent, name, []byte(f.Content), f.Modified)
	}
	if err != nil {
		return err
	}
	if f.Favorite {
		st.setFavorite(f.Owner, node.ID, true)
	}
	return nil
}

// splitPath splits a slash path into its non-empty segments.
func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
