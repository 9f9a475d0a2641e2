package consent

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"sync"
	"time"
)

// State errors: the callback cannot be matched to a Begin of this server.
var (
	// ErrUnknownState: the state was never issued by this server (or the
	// server restarted since; pending authorizations live in memory).
	ErrUnknownState = errors.New("consent: unknown state; start again with provision_nextcloud_access")
	// ErrStateExpired: the authorization took longer than the state's
	// lifetime.
	ErrStateExpired = errors.New("consent: the authorization link has expired; start again with provision_nextcloud_access")
	// ErrStateUsed: the state was already used (a replayed callback).
	ErrStateUsed = errors.New("consent: this authorization response was already used")
	// ErrTooManyPending: the bound on pending authorizations is reached.
	ErrTooManyPending = errors.New("consent: too many pending authorizations; try again in a few minutes")
)

// pending is one outstanding authorization request.
type pending struct {
	subject  string
	verifier string
	expires  time.Time
	used     bool
	// seq orders links by creation: expiry times can tie (a coarse or fake
	// clock), and eviction must drop the oldest link, not a random one.
	seq uint64
}

// states holds pending authorizations in memory: single-use, expiring,
// bounded in total and per subject (used states included). Used states are remembered until
// their expiry so a replay is reported as such.
type states struct {
	mu         sync.Mutex
	m          map[string]*pending
	max        int
	perSubject int
	seq        uint64
}

func newStates(max, perSubject int) *states {
	return &states{m: map[string]*pending{}, max: max, perSubject: perSubject}
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// add records a new pending authorization for subject and returns its
// state.
func (s *states) add(subject, verifier string, now time.Time, ttl time.Duration) (string, error) {
	state, err := randomToken()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	// A user asking again and again keeps only the newest few states.
	// Used states count too: they stay until they expire (so a replay is
	// reported as one), and a user who spends links as fast as they are
	// issued must not fill the global bound for everyone. Dropping a used
	// state only turns a later replay's "already used" into "unknown".
	var mine []string
	for k, p := range s.m {
		if p.subject == subject {
			mine = append(mine, k)
		}
	}
	if len(mine) >= s.perSubject {
		slices.SortFunc(mine, func(a, b string) int { return cmp.Compare(s.m[a].seq, s.m[b].seq) })
		for _, k := range mine[:len(mine)-s.perSubject+1] {
			delete(s.m, k)
		}
	}
	if len(s.m) >= s.max {
		return "", ErrTooManyPending
	}
	s.seq++
	s.m[state] = &pending{subject: subject, verifier: verifier, expires: now.Add(ttl), seq: s.seq}
	return state, nil
}

// take consumes state: it can be taken once, before it expires.
func (s *states) take(state string, now time.Time) (pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[state]
	switch {
	case !ok:
		return pending{}, ErrUnknownState
	case p.used:
		return pending{}, ErrStateUsed
	case !now.Before(p.expires):
		delete(s.m, state)
		return pending{}, ErrStateExpired
	}
	p.used = true
	out := *p
	p.verifier = "" // no longer needed
	return out, nil
}

func (s *states) sweep(now time.Time) {
	for k, p := range s.m {
		if !now.Before(p.expires) {
			delete(s.m, k)
		}
	}
}

func (s *states) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
