// Package tokenstore keeps the Flow 2 grants (refresh tokens obtained by
// progressive consent) in an embedded SQLite database (modernc.org/sqlite,
// no cgo). Every secret is encrypted with AES-256-GCM under
// TOKEN_ENCRYPTION_KEY with a fresh random nonce per write and associated
// data that binds the ciphertext to its user, so a row copied onto another
// user fails to decrypt. The database file is created 0600 (a wider mode on
// an existing file is narrowed, or Open fails). An audit table records who
// was provisioned, refreshed, revoked or unprovisioned and why — never a
// secret.
package tokenstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

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

// Audit event names written by the store itself.
const (
	EventGrantStored   = "grant_stored"
	EventGrantRotated  = "refresh_token_rotated"
	EventGrantDeleted  = "grant_deleted"
	EventDecryptFailed = "grant_unreadable"
)

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
}

// Defaults of the audit table's bounds (Options).
const (
	DefaultAuditPerSubject = 200
	DefaultAuditRetention  = 365 * 24 * time.Hour
)

// Store is the encrypted grant store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	key  Key
	now  func() time.Time
	path string
	// auditPerSubject and auditRetention bound the audit table: rows are
	// written for events users can repeat at will (every refused tool
	// call of an unprovisioned user starts a consent), so they are
	// coalesced and capped.
	auditPerSubject int
	auditRetention  time.Duration
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
	subject            TEXT PRIMARY KEY,
	refresh_token      BLOB NOT NULL,
	scopes             TEXT NOT NULL DEFAULT '',
	client_id          TEXT NOT NULL DEFAULT '',
	refresh_expires_at INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	generation         INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS audit (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	time    INTEGER NOT NULL,
	subject TEXT NOT NULL,
	event   TEXT NOT NULL,
	detail  TEXT NOT NULL DEFAULT '',
	repeats INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS audit_subject_time ON audit(subject, time);
`

// keyCheck is encrypted into meta on first use so that Open can tell a
// wrong key up front instead of failing on every user later.
const keyCheck = "nextcloud-mcp-go tokenstore key check"

// Open opens (creating if needed) the database at path (TOKEN_STORAGE_DB).
// The directory is created 0700 if missing; the file is created 0600, and
// an existing file readable by group or others is narrowed to 0600.
func Open(ctx context.Context, path string, key Key, opts Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, errors.New("tokenstore: need a file path without ? or # (TOKEN_STORAGE_DB)")
	}
	if key == (Key{}) {
		return nil, errors.New("tokenstore: no encryption key (TOKEN_ENCRYPTION_KEY)")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := prepareFile(path, opts.Logger); err != nil {
		return nil, err
	}
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("tokenstore: opening %s: %w", path, err)
	}
	// One connection: SQLite serialises writers anyway, and it keeps the
	// WAL/SHM files owned by one handle.
	db.SetMaxOpenConns(1)
	if opts.AuditPerSubject <= 0 {
		opts.AuditPerSubject = DefaultAuditPerSubject
	}
	if opts.AuditRetention <= 0 {
		opts.AuditRetention = DefaultAuditRetention
	}
	s := &Store{db: db, key: key, now: opts.Now, path: path, auditPerSubject: opts.AuditPerSubject, auditRetention: opts.AuditRetention}
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	// The WAL and SHM files exist now; SQLite gives them the database's
	// mode, but make sure.
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := narrowMode(p, opts.Logger); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, errors.Join(err, db.Close())
		}
	}
	return s, nil
}

func prepareFile(path string, logger *slog.Logger) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("tokenstore: creating %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("tokenstore: creating %s: %w", path, err)
	}
	return narrowMode(path, logger)
}

// narrowMode makes path 0600 if group or others have any access.
func narrowMode(path string, logger *slog.Logger) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("tokenstore: %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("tokenstore: %s has mode %v and cannot be narrowed to 0600: %w", path, st.Mode().Perm(), err)
	}
	if logger != nil {
		logger.Warn("token database was readable by others; narrowed to 0600", "path", path, "was", st.Mode().Perm().String())
	}
	return nil
}

func (s *Store) init(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("tokenstore: creating schema: %w", err)
	}
	// Databases written before audit rows were coalesced lack the count.
	var hasRepeats int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('audit') WHERE name = 'repeats'`).Scan(&hasRepeats); err != nil {
		return fmt.Errorf("tokenstore: reading the audit schema: %w", err)
	}
	if hasRepeats == 0 {
		if _, err := s.db.ExecContext(ctx, `ALTER TABLE audit ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1`); err != nil {
			return fmt.Errorf("tokenstore: upgrading the audit table: %w", err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM audit WHERE time < ?`, ms(s.now().Add(-s.auditRetention))); err != nil {
		return fmt.Errorf("tokenstore: pruning the audit table: %w", err)
	}
	var check []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'key_check'`).Scan(&check)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		sealed, err := s.key.seal([]byte(keyCheck), aad("key_check", ""))
		if err != nil {
			return err
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO meta(name, value) VALUES('key_check', ?)`, sealed); err != nil {
			return fmt.Errorf("tokenstore: writing key check: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("tokenstore: reading key check: %w", err)
	}
	if pt, err := s.key.open(check, aad("key_check", "")); err != nil || string(pt) != keyCheck {
		return ErrWrongKey
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file.
func (s *Store) Path() string { return s.path }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// Save stores g, replacing any grant of the same subject, and audits it.
func (s *Store) Save(ctx context.Context, g Grant) error {
	if g.Subject == "" || g.RefreshToken == "" {
		return errors.New("tokenstore: a grant needs a subject and a refresh token")
	}
	sealed, err := s.key.seal([]byte(g.RefreshToken), aad("refresh_token", g.Subject))
	if err != nil {
		return err
	}
	now := ms(s.now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("tokenstore: %w", err)
	}
	defer rollback(tx)
	_, err = tx.ExecContext(ctx, `
		INSERT INTO grants(subject, refresh_token, scopes, client_id, refresh_expires_at, created_at, updated_at, generation)
		VALUES(?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT(subject) DO UPDATE SET
			refresh_token = excluded.refresh_token, scopes = excluded.scopes, client_id = excluded.client_id,
			refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at,
			generation = grants.generation + 1`,
		g.Subject, sealed, scopes.Format(g.Scopes), g.ClientID, ms(g.RefreshExpiresAt), now, now)
	if err != nil {
		return fmt.Errorf("tokenstore: saving grant: %w", err)
	}
	if err := s.audit(ctx, tx, now, g.Subject, EventGrantStored, fmt.Sprintf("client=%s scopes=%s", g.ClientID, scopes.Format(g.Scopes))); err != nil {
		return err
	}
	return tx.Commit()
}

// Get returns the grant of subject, decrypted, or ErrNotFound.
func (s *Store) Get(ctx context.Context, subject string) (*Grant, error) {
	var (
		g       = Grant{Subject: subject}
		sealed  []byte
		sc      string
		exp     int64
		created int64
		updated int64
	)
	err := s.db.QueryRowContext(ctx, `
		SELECT refresh_token, scopes, client_id, refresh_expires_at, created_at, updated_at, generation
		FROM grants WHERE subject = ?`, subject).Scan(&sealed, &sc, &g.ClientID, &exp, &created, &updated, &g.generation)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("tokenstore: reading grant: %w", err)
	}
	pt, err := s.key.open(sealed, aad("refresh_token", subject))
	if err != nil {
		_ = s.Audit(ctx, subject, EventDecryptFailed, "stored refresh token does not authenticate for this user")
		return nil, fmt.Errorf("tokenstore: the stored grant of %s cannot be decrypted (tampered, moved between users, or another key)", subject)
	}
	g.RefreshToken = string(pt)
	g.Scopes = scopes.Parse(sc)
	g.RefreshExpiresAt, g.CreatedAt, g.UpdatedAt = fromMS(exp), fromMS(created), fromMS(updated)
	return &g, nil
}

// Has reports whether a grant is stored for subject, without decrypting.
func (s *Store) Has(ctx context.Context, subject string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM grants WHERE subject = ?`, subject).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tokenstore: %w", err)
	}
	return true, nil
}

// Rotate replaces the refresh token of the grant g (as returned by Get)
// with next, keeping the rest. If the grant was deleted meanwhile it
// returns ErrNotFound, if it was replaced or rotated meanwhile ErrConflict:
// a rotation never resurrects a revoked grant nor overwrites a newer one.
func (s *Store) Rotate(ctx context.Context, g *Grant, next string, refreshExpiresAt time.Time) error {
	if next == "" {
		return errors.New("tokenstore: empty refresh token")
	}
	sealed, err := s.key.seal([]byte(next), aad("refresh_token", g.Subject))
	if err != nil {
		return err
	}
	now := ms(s.now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("tokenstore: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, `
		UPDATE grants SET refresh_token = ?, refresh_expires_at = ?, updated_at = ?, generation = generation + 1
		WHERE subject = ? AND generation = ?`, sealed, ms(refreshExpiresAt), now, g.Subject, g.generation)
	if err != nil {
		return fmt.Errorf("tokenstore: rotating: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if ok, _ := s.hasTx(ctx, tx, g.Subject); !ok {
			return ErrNotFound
		}
		return ErrConflict
	}
	if err := s.audit(ctx, tx, now, g.Subject, EventGrantRotated, ""); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("tokenstore: %w", err)
	}
	g.RefreshToken, g.RefreshExpiresAt, g.UpdatedAt = next, refreshExpiresAt, fromMS(now)
	g.generation++
	return nil
}

// rollback ends tx when Commit was not reached. Its error is dropped on
// purpose: after a Commit it is only sql.ErrTxDone, and otherwise the caller
// is already returning the error that abandoned the transaction (SQLite
// discards an unfinished transaction with the connection anyway).
func rollback(tx *sql.Tx) { _ = tx.Rollback() }

func (s *Store) hasTx(ctx context.Context, tx *sql.Tx, subject string) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM grants WHERE subject = ?`, subject).Scan(&one)
	return err == nil, err
}

// Delete removes the grant of subject and audits reason (free text: never
// put a secret in it). It reports whether there was one.
func (s *Store) Delete(ctx context.Context, subject, reason string) (bool, error) {
	now := ms(s.now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("tokenstore: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE subject = ?`, subject)
	if err != nil {
		return false, fmt.Errorf("tokenstore: deleting grant: %w", err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if err := s.audit(ctx, tx, now, subject, EventGrantDeleted, reason); err != nil {
			return false, err
		}
	}
	return n > 0, tx.Commit()
}

// Info describes the grant of subject without decrypting it, or returns
// ErrNotFound.
func (s *Store) Info(ctx context.Context, subject string) (*Info, error) {
	in := Info{Subject: subject}
	var (
		sc                    string
		exp, created, updated int64
	)
	err := s.db.QueryRowContext(ctx, `
		SELECT scopes, client_id, refresh_expires_at, created_at, updated_at FROM grants WHERE subject = ?`,
		subject).Scan(&sc, &in.ClientID, &exp, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("tokenstore: %w", err)
	}
	in.Scopes = scopes.Parse(sc)
	in.RefreshExpiresAt, in.CreatedAt, in.UpdatedAt = fromMS(exp), fromMS(created), fromMS(updated)
	return &in, nil
}

// List describes every stored grant (no secrets), ordered by subject.
func (s *Store) List(ctx context.Context) ([]Info, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT subject, scopes, client_id, refresh_expires_at, created_at, updated_at FROM grants ORDER BY subject`)
	if err != nil {
		return nil, fmt.Errorf("tokenstore: listing: %w", err)
	}
	defer closeRows(rows)
	var out []Info
	for rows.Next() {
		var (
			in                    Info
			sc                    string
			exp, created, updated int64
		)
		if err := rows.Scan(&in.Subject, &sc, &in.ClientID, &exp, &created, &updated); err != nil {
			return nil, fmt.Errorf("tokenstore: listing: %w", err)
		}
		in.Scopes = scopes.Parse(sc)
		in.RefreshExpiresAt, in.CreatedAt, in.UpdatedAt = fromMS(exp), fromMS(created), fromMS(updated)
		out = append(out, in)
	}
	return out, rows.Err()
}

// closeRows releases rows. Its error is dropped on purpose: the loops read
// every row and return rows.Err(), which reports what went wrong while
// reading; closing fully read rows has nothing to add.
func closeRows(rows *sql.Rows) { _ = rows.Close() }

// Audit records an event for subject. detail is free text for people:
// never put a token, code or secret in it (anything shaped like a JWT is
// redacted anyway, and detail is cut at 500 characters). The same event
// with the same detail right after itself only counts up the previous
// row; a subject keeps its newest AuditPerSubject rows, none older than
// AuditRetention.
func (s *Store) Audit(ctx context.Context, subject, event, detail string) error {
	return s.audit(ctx, s.db, ms(s.now()), subject, event, detail)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var jwtShape = regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

func (s *Store) audit(ctx context.Context, db execer, now int64, subject, event, detail string) error {
	detail = jwtShape.ReplaceAllString(detail, "[redacted]")
	if r := []rune(detail); len(r) > 500 {
		detail = string(r[:500]) + "…"
	}
	var (
		lastID                int64
		lastEvent, lastDetail string
	)
	err := db.QueryRowContext(ctx, `SELECT id, event, detail FROM audit WHERE subject = ? ORDER BY id DESC LIMIT 1`, subject).
		Scan(&lastID, &lastEvent, &lastDetail)
	switch {
	case err == nil && lastEvent == event && lastDetail == detail:
		if _, err := db.ExecContext(ctx, `UPDATE audit SET time = ?, repeats = repeats + 1 WHERE id = ?`, now, lastID); err != nil {
			return fmt.Errorf("tokenstore: writing audit event: %w", err)
		}
		return nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("tokenstore: reading audit: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO audit(time, subject, event, detail) VALUES(?, ?, ?, ?)`, now, subject, event, detail); err != nil {
		return fmt.Errorf("tokenstore: writing audit event: %w", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM audit WHERE subject = ? AND (time < ? OR id NOT IN (
			SELECT id FROM audit WHERE subject = ? ORDER BY id DESC LIMIT ?))`,
		subject, now-s.auditRetention.Milliseconds(), subject, s.auditPerSubject); err != nil {
		return fmt.Errorf("tokenstore: pruning audit: %w", err)
	}
	return nil
}

// AuditEvents returns the newest audit events first, for subject ("" for
// everyone), at most limit (default 100).
func (s *Store) AuditEvents(ctx context.Context, subject string, limit int) ([]AuditEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT id, time, subject, event, detail, repeats FROM audit`
	args := []any{}
	if subject != "" {
		q += ` WHERE subject = ?`
		args = append(args, subject)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("tokenstore: reading audit: %w", err)
	}
	defer closeRows(rows)
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Subject, &e.Event, &e.Detail, &e.Count); err != nil {
			return nil, fmt.Errorf("tokenstore: reading audit: %w", err)
		}
		e.Time = fromMS(t)
		out = append(out, e)
	}
	return out, rows.Err()
}
