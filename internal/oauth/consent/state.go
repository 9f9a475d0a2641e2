package consent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
)

// State errors: the callback cannot be matched to a Begin of this server.
var (
	// ErrUnknownState: the state was never issued by this server (or it
	// was evicted: a user keeps only the newest few links).
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
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// addState records a new pending authorization for subject in the store
// (shared by every replica, so the callback may land on any of them) and
// returns its state. A user keeps the newest maxPerSubject states, used
// ones included: they stay until they expire (so a replay is reported as
// one), and a user who spends links as fast as they are issued must not
// fill the global bound for everyone.
func (f *Flow) addState(ctx context.Context, subject, verifier string, now time.Time) (string, error) {
	state, err := randomToken()
	if err != nil {
		return "", err
	}
	err = f.cfg.Store.AddState(ctx, state, tokenstore.PendingState{Subject: subject, Verifier: verifier, ExpiresAt: now.Add(f.cfg.StateTTL)},
		now, maxPerSubject, f.cfg.MaxPending)
	if errors.Is(err, tokenstore.ErrTooManyPending) {
		return "", ErrTooManyPending
	}
	return state, err
}

// takeState consumes state: of any number of callbacks with it, on any
// replica, exactly one gets it, before it expires.
func (f *Flow) takeState(ctx context.Context, state string, now time.Time) (pending, error) {
	p, err := f.cfg.Store.TakeState(ctx, state, now)
	switch {
	case errors.Is(err, tokenstore.ErrStateUnknown):
		return pending{}, ErrUnknownState
	case errors.Is(err, tokenstore.ErrStateUsed):
		return pending{}, ErrStateUsed
	case errors.Is(err, tokenstore.ErrStateExpired):
		return pending{}, ErrStateExpired
	case err != nil:
		return pending{}, err
	}
	return pending{subject: p.Subject, verifier: p.Verifier}, nil
}
