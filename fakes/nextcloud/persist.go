package nextcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

const stateFile = "state.json"

// persister keeps the state in DataDir/state.json, rewritten atomically
// after every change.
type persister struct{ dir string }

func newPersister(dir string) (*persister, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("nextcloud: data dir: %w", err)
	}
	return &persister{dir: dir}, nil
}

// stateVersion is the state.json format. Version 1 kept the Notes app's
// rows at the top level; since version 2 every app has a section of its
// own under "apps". A version 1 file is refused with an error that says
// so rather than migrated: state files are test data.
const stateVersion = 2

type persisted struct {
	Version    int                `json:"version"`
	InstanceID string             `json:"instance_id"`
	FS         vfs.Snapshot       `json:"fs"`
	Users      []*user            `json:"users"`
	Groups     []string           `json:"groups"`
	Favorites  map[string][]int64 `json:"favorites"`
	// Apps are the apps' sections by app id (appState.snapshot).
	Apps map[string]json.RawMessage `json:"apps"`
}

func (p *persister) save(st *state) error {
	doc := persisted{Version: stateVersion, InstanceID: st.InstanceID, FS: st.fs.Snapshot(), Groups: st.sortedGroups(),
		Favorites: map[string][]int64{}, Apps: map[string]json.RawMessage{}}
	for _, uid := range st.sortedUIDs() {
		doc.Users = append(doc.Users, st.users[uid])
	}
	for uid, favs := range st.favorites {
		ids := make([]int64, 0, len(favs))
		for id := range favs {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		doc.Favorites[uid] = ids
	}
	for id, s := range st.apps {
		raw, err := s.snapshot()
		if err != nil {
			return fmt.Errorf("nextcloud: app %s: %w", id, err)
		}
		doc.Apps[id] = raw
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(p.dir, ".state-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		return errors.Join(err, tmp.Close(), os.Remove(tmp.Name()))
	}
	if err := tmp.Close(); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return os.Rename(tmp.Name(), filepath.Join(p.dir, stateFile))
}

// load returns the saved state, or nil when there is none yet.
func (p *persister) load(now func() time.Time, list []app) (*state, error) {
	b, err := os.ReadFile(filepath.Join(p.dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc persisted
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("nextcloud: %s is corrupt: %w", stateFile, err)
	}
	if doc.Version != stateVersion {
		return nil, fmt.Errorf("nextcloud: %s has format version %d, this fake reads version %d (apps keep sections of their own since 2); remove it to start again from the seed",
			filepath.Join(p.dir, stateFile), doc.Version, stateVersion)
	}
	st := newState(doc.InstanceID, now, list)
	if err := st.fs.Restore(doc.FS); err != nil {
		return nil, err
	}
	for _, u := range doc.Users {
		st.users[u.UID] = u
		for _, g := range u.Groups {
			st.groups[g] = true
		}
	}
	for _, g := range doc.Groups {
		st.groups[g] = true
	}
	for uid, ids := range doc.Favorites {
		for _, id := range ids {
			st.setFavorite(uid, id, true)
		}
	}
	for id, raw := range doc.Apps {
		s := st.apps[id]
		if s == nil {
			return nil, fmt.Errorf("nextcloud: %s has a section for app %q, which this fake does not serve or which keeps no state", stateFile, id)
		}
		if err := s.restore(raw); err != nil {
			return nil, fmt.Errorf("nextcloud: %s: app %s: %w", stateFile, id, err)
		}
	}
	return st, nil
}
