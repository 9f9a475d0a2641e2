package notesearch

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Index holds, per user key, a snapshot of that user's notes with their
// tokens prepared, so searches need no Nextcloud call. It is safe for
// concurrent use: a sync job replaces snapshots while tool calls search.
//
// The key is whatever identifies the user to the server (the token subject
// in OAuth modes, "" in basic mode). Remove a user's snapshot when they
// lose access (revocation, unprovisioning): the index answers searches
// without asking Nextcloud.
type Index struct {
	mu    sync.RWMutex
	users map[string]*snapshot
}

type snapshot struct {
	notes    []indexed
	syncedAt time.Time
}

type indexed struct {
	hit     Hit
	title   []string // sorted, unique tokens
	content []string
}

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{users: map[string]*snapshot{}} }

// Replace stores notes as key's snapshot, taken at syncedAt. The slice is
// not retained.
func (x *Index) Replace(key string, notes []Note, syncedAt time.Time) {
	snap := &snapshot{notes: make([]indexed, len(notes)), syncedAt: syncedAt}
	for i := range notes {
		n := &notes[i]
		snap.notes[i] = indexed{hit: hitOf(n), title: tokenSet(n.Title), content: tokenSet(n.Content)}
	}
	x.mu.Lock()
	x.users[key] = snap
	x.mu.Unlock()
}

// Remove forgets key's snapshot.
func (x *Index) Remove(key string) {
	x.mu.Lock()
	delete(x.users, key)
	x.mu.Unlock()
}

// SyncedAt reports when key's snapshot was taken and its size; ok=false
// when key is not indexed.
func (x *Index) SyncedAt(key string) (at time.Time, notes int, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.users[key]
	if !ok {
		return time.Time{}, 0, false
	}
	return s.syncedAt, len(s.notes), true
}

// Search ranks key's snapshot against query like Rank and sets
// Results.SyncedAt. indexed=false means key has no snapshot and the caller
// must search live.
func (x *Index) Search(key, query string, limit int) (res Results, indexed bool) {
	x.mu.RLock()
	s, ok := x.users[key]
	x.mu.RUnlock()
	if !ok {
		return Results{}, false
	}
	res = x.rank(s, query, limit)
	res.SyncedAt = s.syncedAt
	return res, true
}

// rank needs no lock: snapshots are immutable once stored.
func (x *Index) rank(s *snapshot, query string, limit int) Results {
	q := QueryTokens(query)
	if len(q) == 0 {
		return unranked(len(s.notes), func(i int) Hit { return s.notes[i].hit }, limit)
	}
	var hits []Hit
	for i := range s.notes {
		n := &s.notes[i]
		tm, cm := 0, 0
		for _, qt := range q {
			if has(n.title, qt) {
				tm++
			}
			if has(n.content, qt) {
				cm++
			}
		}
		if sc, ok := score(tm, cm, len(q)); ok {
			h := n.hit
			h.Score = new(float64) // allocated only for hits
			*h.Score = sc
			hits = append(hits, h)
		}
	}
	return finish(hits, limit)
}

func has(sorted []string, tok string) bool {
	_, found := slices.BinarySearch(sorted, tok)
	return found
}

// tokenSet returns the sorted unique normalised tokens of text.
func tokenSet(text string) []string {
	var toks []string
	eachToken(strings.ToLower(text), func(t string) { toks = append(toks, t) })
	slices.Sort(toks)
	return slices.Compact(toks)
}
