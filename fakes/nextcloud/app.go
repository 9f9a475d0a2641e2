package nextcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// app is one Nextcloud app the fake serves. The core (auth, dialects, OCS
// envelope, routing, locking, persistence, control API, the DAV server)
// never names an app: it iterates the registry (apps.go) and asks each app
// for its part. Apps embed baseApp and implement only the hooks they use.
//
// Hooks that take a *state run under the state lock; route handlers take
// the lock themselves (Nextcloud.withState). README.md, "Adding an app",
// walks through a new app.
type app interface {
	// id is the app id (appinfo/info.xml): the key of the app's state, of
	// its state.json section and of its section in Seed.Apps.
	id() string
	// newState is the app's empty state in a fresh or loading instance;
	// nil when the app keeps none.
	newState() appState
	// indexRoutes are the app's index.php routes (appinfo/routes.php
	// "routes"), served below /index.php/apps/<id>/ and /apps/<id>/.
	indexRoutes() []appRoute
	// ocsRoutes are the app's OCS routes (appinfo/routes.php "ocs"); the
	// pattern includes /apps/<id>/.
	ocsRoutes() []ocsRoute
	// dav is the app's DAV plugin; nil for none.
	dav() *davPlugin
	// capabilities are the app's blocks of /cloud/capabilities for uid
	// ("" when anonymous: only public blocks are served then).
	capabilities(st *state, uid string) []capability
	// navigation are the app's entries of /core/navigation/apps.
	navigation() []navEntry
	// defaultSeed adds the app's part of the default seed.
	defaultSeed(s *Seed)
	// seed applies the app's part of s after the users and files: raw is
	// its section Seed.Apps[id], nil when absent (decode it with
	// decodeSeed). An app that takes no seed data returns errNoSeed for a
	// section.
	seed(st *state, s Seed, raw json.RawMessage) error
	// mounts are the nodes the app mounts at the root of uid's tree
	// (IMountProvider).
	mounts(st *state, uid string) []*entry
}

// appState is an app's part of the state. Its methods run under the state
// lock.
type appState interface {
	// snapshot is the app's section of state.json.
	snapshot() (json.RawMessage, error)
	// restore loads a section snapshot wrote into a fresh state.
	restore(raw json.RawMessage) error
	// nodesDeleted: these file ids left the store (deleted, or their owner
	// was); forget what refers to them.
	nodesDeleted(ids map[int64]bool)
	// userDeleted: the account is gone; forget its data.
	userDeleted(uid string)
}

// capability is one top-level block of the capabilities
// (ICapability::getCapabilities; IPublicCapability when public).
type capability struct {
	name   string
	value  any
	public bool
}

// navEntry is an app's entry in the navigation (appinfo/info.xml
// <navigation>).
type navEntry struct {
	id, name string
	order    int
}

// baseApp gives an app the empty default of every hook but id.
type baseApp struct{}

func (baseApp) newState() appState                       { return nil }
func (baseApp) indexRoutes() []appRoute                  { return nil }
func (baseApp) ocsRoutes() []ocsRoute                    { return nil }
func (baseApp) dav() *davPlugin                          { return nil }
func (baseApp) capabilities(*state, string) []capability { return nil }
func (baseApp) navigation() []navEntry                   { return nil }
func (baseApp) defaultSeed(*Seed)                        {}
func (baseApp) seed(_ *state, _ Seed, raw json.RawMessage) error {
	if raw != nil {
		return errNoSeed
	}
	return nil
}
func (baseApp) mounts(*state, string) []*entry { return nil }

// errNoSeed is an app's answer to seed data it does not take.
var errNoSeed = errors.New("the app takes no seed data")

// decodeSeed decodes an app's seed section strictly, as the control API
// decodes the rest of the seed: unknown fields are errors.
func decodeSeed(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// stateOf returns the state of app id in st; it panics when the app keeps
// none of type S, which is a programming error.
func stateOf[S appState](st *state, id string) S {
	s, ok := st.apps[id].(S)
	if !ok {
		panic(fmt.Sprintf("nextcloud: app %q has no state of type %T", id, s))
	}
	return s
}

// checkApps refuses an app list with an empty or duplicate id.
func checkApps(list []app) error {
	seen := map[string]bool{}
	for _, a := range list {
		if a.id() == "" || seen[a.id()] {
			return fmt.Errorf("nextcloud: app id %q is empty or registered twice", a.id())
		}
		seen[a.id()] = true
	}
	return nil
}

// defaultSeedFor is the default seed of a fake serving list: the core's
// users and files, then each app's part.
func defaultSeedFor(list []app) Seed {
	s := coreSeed()
	for _, a := range list {
		a.defaultSeed(&s)
	}
	return s
}

// navigationOf is every app's navigation entries by order (stable).
func navigationOf(list []app) []navEntry {
	var out []navEntry
	for _, a := range list {
		out = append(out, a.navigation()...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}
