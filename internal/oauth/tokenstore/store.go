// Package tokenstore keeps what progressive consent must remember
// (docs/architecture.md §1.2, §1.4): the Flow 2 grants (refresh tokens,
// encrypted), the audit table, and the pending authorization states. It
// has two implementations of one interface, Store: an embedded SQLite
// file (modernc.org/sqlite, no cgo; the default, for one process) and
// PostgreSQL (github.com/jackc/pgx/v5; for several replicas sharing one
// database), chosen by the form of the storage setting (Open).
//
// Every secret is encrypted with AES-256-GCM under TOKEN_ENCRYPTION_KEY with
// a fresh random nonce per write and associated data that binds the
// ciphertext to its purpose and owner, so a row copied onto another user
// fails to decrypt. The audit table records who was provisioned,
// refreshed, revoked or unprovisioned and why — never a secret. The
// schema is versioned; migrations run at Open, under a lock, so several
// replicas may start at once.
//
// Grants are also the unit of coordination between replicas: Refresh runs
// a refresh grant while holding the grant's lock and stores the rotated
// token before releasing it, Hold keeps a grant from being deleted while
// background work uses it, and Revoke waits for both.
package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// ErrNotFound: no grant is stored for the subject (never provisioned,
// revoked, or deleted after the IdP refused it).
var ErrNotFound = errors.New("tokenstore: no grant stored for this user")

// ErrWrongKey: the database was written with another TOKEN_ENCRYPTION_KEY.
var ErrWrongKey = errors.New("tokenstore: TOKEN_ENCRYPTION_KEY does not match the key this database was written with")

// ErrConflict: the grant changed (re-provisioned or rotated) since it was
// read; the caller should read it again.
var ErrConflict = errors.New("tokenstore: grant changed since it was read")

// ErrUnreadable: the stored grant does not decrypt for its user (tampered,
// copied from another user's row, or written under another key).
var ErrUnreadable = errors.New("tokenstore: the stored grant cannot be decrypted")

// ErrBusy: the grant is locked by someone else (a refresh, a revocation or
// background work on this or another replica) for longer than the store
// waits. Nothing was changed; try again.
var ErrBusy = errors.New("tokenstore: the grant is in use (a refresh, revocation or background job holds it); try again shortly")

// ErrRefreshInterrupted: an earlier refresh of this grant started and
// never finished (its process died, or the rotated token could not be
// stored). The IdP may have rotated the refresh token, so presenting it
// again could look like reuse; the grant must not be refreshed again.
var ErrRefreshInterrupted = errors.New("tokenstore: an earlier refresh of this grant was interrupted; the stored refresh token may be spent")

// State errors of TakeState.
var (
	ErrStateUnknown   = errors.New("tokenstore: unknown state")
	ErrStateExpired   = errors.New("tokenstore: state expired")
	ErrStateUsed      = errors.New("tokenstore: state already used")
	ErrTooManyPending = errors.New("tokenstore: too many pending authorizations")
)

// Audit event names written by the store itself.
const (
	EventGrantStored   = "grant_stored"
	EventGrantRotated  = "refresh_token_rotated"
	EventGrantDeleted  = "grant_deleted"
	EventDecryptFailed = "grant_unreadable"
)

// Store is the storage of progressive consent. Implementations are safe for
// concurrent use, and the PostgreSQL one for use by several processes on
// one database. Every method takes a context that bounds its I/O.
type Store interface {
	// Save stores g, replacing any grant of the same subject, and audits it.
	Save(ctx context.Context, g Grant) error
	// Get returns the grant of subject, decrypted, or ErrNotFound.
	Get(ctx context.Context, subject string) (*Grant, error)
	// Has reports whether a grant is stored for subject, without decrypting.
	Has(ctx context.Context, subject string) (bool, error)
	// Rotate replaces the refresh token of g (as returned by Get) with
	// next; ErrNotFound if the grant was deleted meanwhile, ErrConflict if
	// it was replaced or rotated meanwhile.
	Rotate(ctx context.Context, g *Grant, next string, refreshExpiresAt time.Time) error
	// Delete removes the grant of subject and audits reason (never a
	// secret). It reports whether there was one. It waits for Hold and
	// Refresh of that grant to end (ErrBusy when that takes too long).
	Delete(ctx context.Context, subject, reason string) (bool, error)
	// Info describes the grant of subject without decrypting it, or
	// returns ErrNotFound.
	Info(ctx context.Context, subject string) (*Info, error)
	// List describes every stored grant (no secrets), ordered by subject.
	List(ctx context.Context) ([]Info, error)

	// Refresh runs fn, the refresh grant, for subject's grant while
	// holding the grant's refresh lock: no other Refresh of that grant, in
	// this process or another on the same database, runs at the same time.
	// Before fn runs, the attempt is recorded; what fn returns is stored
	// in the same transaction that holds the lock (a rotated token, or the
	// grant's deletion when the IdP refused it), and the record of the
	// attempt is cleared with it; what fn returns is stored even when fn
	// also returns an error. An attempt whose record survives (its
	// process died between asking the IdP and storing the answer) makes
	// every later Refresh fail with ErrRefreshInterrupted without calling
	// fn. Errors: ErrNotFound, ErrBusy, ErrRefreshInterrupted, a
	// decryption failure, fn's error, or a storage error.
	Refresh(ctx context.Context, subject string, fn RefreshFunc) error
	// Hold keeps subject's grant from being deleted until release is
	// called (background work holds it while it uses tokens of the
	// grant); any number of holders and one Refresh may run together.
	// ErrNotFound when there is no grant. release must be called; it is
	// idempotent.
	Hold(ctx context.Context, subject string) (release func(), err error)
	// Revoke locks subject's grant against every other use (it waits for
	// holders and a running refresh), calls fn with the grant (to revoke
	// it at the IdP), then deletes it and audits reason, fn's outcome
	// whatever it was. A grant that cannot be decrypted is passed as nil.
	// It reports whether a grant was deleted.
	Revoke(ctx context.Context, subject, reason string, fn func(ctx context.Context, g *Grant) error) (bool, error)

	// Audit records an event for subject. detail is free text for people:
	// never put a token, code or secret in it (anything shaped like a JWT
	// is redacted anyway, and detail is cut at 500 characters). The same
	// event with the same detail right after itself only counts up the
	// previous row; a subject keeps its newest AuditPerSubject rows, none
	// older than AuditRetention.
	Audit(ctx context.Context, subject, event, detail string) error
	// AuditEvents returns the newest audit events first, for subject (""
	// for everyone), at most limit (default 100).
	AuditEvents(ctx context.Context, subject string, limit int) ([]AuditEvent, error)

	// AddState records a pending authorization under state (the random
	// value of the authorization request; only its hash is stored, the
	// PKCE verifier encrypted). A subject keeps its newest perSubject
	// states, used ones included; with max unexpired states in all,
	// AddState fails with ErrTooManyPending.
	AddState(ctx context.Context, state string, p PendingState, now time.Time, perSubject, max int) error
	// TakeState consumes state: one atomic statement marks it used, so of
	// any number of concurrent takers, in any process, exactly one gets
	// it. Errors: ErrStateUnknown, ErrStateUsed (remembered until the
	// state expires), ErrStateExpired.
	TakeState(ctx context.Context, state string, now time.Time) (PendingState, error)
	// PendingStates counts the states stored (used ones included).
	PendingStates(ctx context.Context) (int, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Backend is "sqlite" or "postgres".
	Backend() string
	// Close releases the database.
	Close() error
}

// RefreshFunc runs a refresh grant for g (Store.Refresh).
type RefreshFunc func(ctx context.Context, g *Grant) (RefreshResult, error)

// RefreshResult is what the IdP answered to a refresh grant.
type RefreshResult struct {
	// RefreshToken is the rotated refresh token ("" or g's own: the IdP
	// did not rotate), RefreshExpiresAt its expiry (zero: not said).
	RefreshToken     string
	RefreshExpiresAt time.Time
	// Refused, when set, says why the IdP refused the grant
	// (invalid_grant); the grant is deleted with this reason.
	Refused string
}

// PendingState is one outstanding authorization request of Flow 2.
type PendingState struct {
	Subject   string
	Verifier  string
	ExpiresAt time.Time
}

// Grant is one user's stored Flow 2 grant. String, GoString and LogValue
// never show the refresh token.
type Grant struct {
	Subject      string
	RefreshToken string
	Scopes       []string
	// ClientID is the client the refresh token was issued to.
	ClientID string
	// RefreshExpiresAt is when the IdP said the refresh token expires
	// (zero: not said).
	RefreshExpiresAt time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time

	generation int64
}

// String describes g without its secret.
func (g *Grant) String() string {
	if g == nil {
		return "<nil grant>"
	}
	return fmt.Sprintf("grant for %s (client %s, scopes %s)", g.Subject, g.ClientID, scopes.Format(g.Scopes))
}

// GoString is String.
func (g *Grant) GoString() string { return g.String() }

// LogValue keeps the refresh token out of slog output.
func (g *Grant) LogValue() slog.Value { return slog.StringValue(g.String()) }

// Info is what List reports about a grant: no secret.
type Info struct {
	Subject          string
	Scopes           []string
	ClientID         string
	RefreshExpiresAt time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// AuditEvent is one audit row.
type AuditEvent struct {
	ID      int64
	Time    time.Time
	Subject string
	Event   string
	Detail  string
	// Count is how many times the event happened in a row (Time is the
	// last).
	Count int
}

// Options configure Open.
type Options struct {
	// Logger reports a database file whose mode had to be narrowed.
	Logger *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
	// AuditPerSubject bounds one user's audit rows
	// (DefaultAuditPerSubject when zero), AuditRetention their age
	// (DefaultAuditRetention when zero).
	AuditPerSubject int
	AuditRetention  time.Duration
	// MaxConns bounds the PostgreSQL connections of this process
	// (DefaultMaxConns when zero); SQLite uses one.
	MaxConns int
	// StatementTimeout bounds every statement (DefaultStatementTimeout
	// when zero; PostgreSQL's statement_timeout, SQLite's context).
	StatementTimeout time.Duration
	// LockTimeout bounds how long Refresh, Hold, Delete and Revoke wait
	// for a grant's lock (DefaultLockTimeout when zero).
	LockTimeout time.Duration
	// Replica names this process in the record of a running refresh
	// (diagnostics only; default the host name and process id).
	Replica string
}

// Defaults of Options.
const (
	DefaultAuditPerSubject  = 200
	DefaultAuditRetention   = 365 * 24 * time.Hour
	DefaultMaxConns         = 10
	DefaultStatementTimeout = 10 * time.Second
	DefaultLockTimeout      = 45 * time.Second
)

// Open opens (creating and migrating if needed) the store at target: a
// postgres:// or postgresql:// URL selects PostgreSQL (TOKEN_STORAGE_URL),
// anything else is an SQLite file path (TOKEN_STORAGE_DB).
func Open(ctx context.Context, target string, key Key, opts Options) (Store, error) {
	if IsPostgresURL(target) {
		return openPostgres(ctx, target, key, opts)
	}
	return openSQLite(ctx, target, key, opts)
}

// IsPostgresURL reports whether target names a PostgreSQL database.
func IsPostgresURL(target string) bool {
	t := strings.ToLower(target)
	return strings.HasPrefix(t, "postgres://") || strings.HasPrefix(t, "postgresql://")
}
