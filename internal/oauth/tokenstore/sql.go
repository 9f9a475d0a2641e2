package tokenstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// sqlStore is Store over database/sql, for both engines. The differences
// are in dialect: placeholders, and how a grant is locked — PostgreSQL
// locks the grant's row in the transaction that later writes it, SQLite
// (one process) an in-process lock table (locks).
type sqlStore struct {
	db      *sql.DB
	key     Key
	now     func() time.Time
	path    string
	backend string
	pg      bool
	replica string
	// auditPerSubject and auditRetention bound the audit table: rows are
	// written for events users can repeat at will (every refused tool
	// call of an unprovisioned user starts a consent), so they are
	// coalesced and capped.
	auditPerSubject int
	auditRetention  time.Duration
	stmtTimeout     time.Duration
	lockTimeout     time.Duration
	// locks are SQLite's grant locks (nil for PostgreSQL, whose locks are
	// row locks).
	locks *lockTable
}

func (s *sqlStore) Backend() string { return s.backend }

// Close closes the database.
func (s *sqlStore) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *sqlStore) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return s.wrap("reaching the database", err)
	}
	return nil
}

// bound limits one operation's statements to the statement timeout.
func (s *sqlStore) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.stmtTimeout)
}

// q rewrites ? placeholders for PostgreSQL ($1, $2, …). The queries of
// this package hold no ? in literals.
func (s *sqlStore) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wrap names what failed; errors of the engine never hold a secret (the
// arguments are not in them), and timeouts read as such.
func (s *sqlStore) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrBusy) || errors.Is(err, ErrConflict) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("tokenstore: %s: the %s database did not answer in time: %w", what, s.backend, err)
	}
	return fmt.Errorf("tokenstore: %s: %w", what, err)
}

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

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rollback ends tx when Commit was not reached. Its error is dropped on
// purpose: after a Commit it is only sql.ErrTxDone, and otherwise the
// caller is already returning the error that abandoned the transaction
// (both engines discard an unfinished transaction with the connection).
func rollback(tx *sql.Tx) { _ = tx.Rollback() }

// closeRows releases rows. Its error is dropped on purpose: the loops read
// every row and return rows.Err(), which reports what went wrong while
// reading; closing fully read rows has nothing to add.
func closeRows(rows *sql.Rows) { _ = rows.Close() }

// Save stores g, replacing any grant of the same subject, and audits it.
func (s *sqlStore) Save(ctx context.Context, g Grant) error {
	if g.Subject == "" || g.RefreshToken == "" {
		return errors.New("tokenstore: a grant needs a subject and a refresh token")
	}
	sealed, err := s.key.seal([]byte(g.RefreshToken), aad("refresh_token", g.Subject))
	if err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := ms(s.now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("saving grant", err)
	}
	defer rollback(tx)
	_, err = tx.ExecContext(ctx, s.q(`
		INSERT INTO grants(subject, refresh_token, scopes, client_id, refresh_expires_at, created_at, updated_at, generation)
		VALUES(?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT(subject) DO UPDATE SET
			refresh_token = excluded.refresh_token, scopes = excluded.scopes, client_id = excluded.client_id,
			refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at,
			generation = grants.generation + 1`),
		g.Subject, sealed, scopes.Format(g.Scopes), g.ClientID, ms(g.RefreshExpiresAt), now, now)
	if err != nil {
		return s.wrap("saving grant", err)
	}
	if err := s.audit(ctx, tx, now, g.Subject, EventGrantStored, fmt.Sprintf("client=%s scopes=%s", g.ClientID, scopes.Format(g.Scopes))); err != nil {
		return err
	}
	return s.wrap("saving grant", tx.Commit())
}

// Get returns the grant of subject, decrypted, or ErrNotFound.
func (s *sqlStore) Get(ctx context.Context, subject string) (*Grant, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.get(ctx, s.db, subject)
}

func (s *sqlStore) get(ctx context.Context, q querier, subject string) (*Grant, error) {
	var (
		g       = Grant{Subject: subject}
		sealed  []byte
		sc      string
		exp     int64
		created int64
		updated int64
	)
	err := q.QueryRowContext(ctx, s.q(`
		SELECT refresh_token, scopes, client_id, refresh_expires_at, created_at, updated_at, generation
		FROM grants WHERE subject = ?`), subject).Scan(&sealed, &sc, &g.ClientID, &exp, &created, &updated, &g.generation)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, s.wrap("reading grant", err)
	}
	pt, err := s.key.open(sealed, aad("refresh_token", subject))
	if err != nil {
		_ = s.Audit(ctx, subject, EventDecryptFailed, "stored refresh token does not authenticate for this user")
		return nil, fmt.Errorf("%w (the grant of %s: tampered, moved between users, or another key)", ErrUnreadable, subject)
	}
	g.RefreshToken = string(pt)
	g.Scopes = scopes.Parse(sc)
	g.RefreshExpiresAt, g.CreatedAt, g.UpdatedAt = fromMS(exp), fromMS(created), fromMS(updated)
	return &g, nil
}

// Has reports whether a grant is stored for subject, without decrypting.
func (s *sqlStore) Has(ctx context.Context, subject string) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.has(ctx, s.db, subject)
}

func (s *sqlStore) has(ctx context.Context, q querier, subject string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, s.q(`SELECT 1 FROM grants WHERE subject = ?`), subject).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.wrap("looking up grant", err)
	}
	return true, nil
}

// Rotate replaces the refresh token of the grant g (as returned by Get)
// with next, keeping the rest. If the grant was deleted meanwhile it
// returns ErrNotFound, if it was replaced or rotated meanwhile ErrConflict:
// a rotation never resurrects a revoked grant nor overwrites a newer one.
func (s *sqlStore) Rotate(ctx context.Context, g *Grant, next string, refreshExpiresAt time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("rotating", err)
	}
	defer rollback(tx)
	if err := s.rotate(ctx, tx, g, next, refreshExpiresAt); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("rotating", err)
	}
	g.RefreshToken, g.RefreshExpiresAt = next, refreshExpiresAt
	g.generation++
	return nil
}

// rotate writes the rotation in tx; the caller commits and then updates g.
func (s *sqlStore) rotate(ctx context.Context, tx *sql.Tx, g *Grant, next string, refreshExpiresAt time.Time) error {
	if next == "" {
		return errors.New("tokenstore: empty refresh token")
	}
	sealed, err := s.key.seal([]byte(next), aad("refresh_token", g.Subject))
	if err != nil {
		return err
	}
	now := ms(s.now())
	res, err := tx.ExecContext(ctx, s.q(`
		UPDATE grants SET refresh_token = ?, refresh_expires_at = ?, updated_at = ?, generation = generation + 1
		WHERE subject = ? AND generation = ?`), sealed, ms(refreshExpiresAt), now, g.Subject, g.generation)
	if err != nil {
		return s.wrap("rotating", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if ok, _ := s.has(ctx, tx, g.Subject); !ok {
			return ErrNotFound
		}
		return ErrConflict
	}
	g.UpdatedAt = fromMS(now)
	return s.audit(ctx, tx, now, g.Subject, EventGrantRotated, "")
}

// Delete removes the grant of subject and audits reason (free text: never
// put a secret in it). It reports whether there was one.
func (s *sqlStore) Delete(ctx context.Context, subject, reason string) (bool, error) {
	l, err := s.lock(ctx, subject, lockDelete)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer l.end()
	var deleted bool
	err = l.write(ctx, func(tx *sql.Tx) error {
		var err error
		deleted, err = s.deleteTx(ctx, tx, subject, reason)
		return err
	})
	return deleted, err
}

func (s *sqlStore) deleteTx(ctx context.Context, tx *sql.Tx, subject, reason string) (bool, error) {
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM grants WHERE subject = ?`), subject)
	if err != nil {
		return false, s.wrap("deleting grant", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM refresh_attempts WHERE subject = ?`), subject); err != nil {
		return false, s.wrap("deleting grant", err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if err := s.audit(ctx, tx, ms(s.now()), subject, EventGrantDeleted, reason); err != nil {
			return false, err
		}
	}
	return n > 0, nil
}

// Info describes the grant of subject without decrypting it, or returns
// ErrNotFound.
func (s *sqlStore) Info(ctx context.Context, subject string) (*Info, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	in := Info{Subject: subject}
	var (
		sc                    string
		exp, created, updated int64
	)
	err := s.db.QueryRowContext(ctx, s.q(`
		SELECT scopes, client_id, refresh_expires_at, created_at, updated_at FROM grants WHERE subject = ?`),
		subject).Scan(&sc, &in.ClientID, &exp, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, s.wrap("reading grant", err)
	}
	in.Scopes = scopes.Parse(sc)
	in.RefreshExpiresAt, in.CreatedAt, in.UpdatedAt = fromMS(exp), fromMS(created), fromMS(updated)
	return &in, nil
}

// List describes every stored grant (no secrets), ordered by subject.
func (s *sqlStore) List(ctx context.Context) ([]Info, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `
		SELECT subject, scopes, client_id, refresh_expires_at, created_at, updated_at FROM grants ORDER BY subject`)
	if err != nil {
		return nil, s.wrap("listing", err)
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
			return nil, s.wrap("listing", err)
		}
		in.Scopes = scopes.Parse(sc)
		in.RefreshExpiresAt, in.CreatedAt, in.UpdatedAt = fromMS(exp), fromMS(created), fromMS(updated)
		out = append(out, in)
	}
	return out, s.wrap("listing", rows.Err())
}

// Refresh implements Store.Refresh.
func (s *sqlStore) Refresh(ctx context.Context, subject string, fn RefreshFunc) error {
	l, err := s.lock(ctx, subject, lockRefresh)
	if err != nil {
		return err
	}
	defer l.end()
	g, err := s.get(ctx, l.reader(), subject)
	if err != nil {
		return err
	}
	// A surviving record of an attempt on this very generation: the
	// process that made it never stored the IdP's answer.
	var gen int64
	err = l.reader().QueryRowContext(ctx, s.q(`SELECT generation FROM refresh_attempts WHERE subject = ?`), subject).Scan(&gen)
	switch {
	case err == nil && gen == g.generation:
		return ErrRefreshInterrupted
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return s.wrap("reading the refresh record", err)
	}
	// Record the attempt where it survives this process (committed on its
	// own, not in the locked transaction): from here on the IdP may spend
	// the stored token.
	actx, cancel := s.bound(ctx)
	_, err = s.db.ExecContext(actx, s.q(`
		INSERT INTO refresh_attempts(subject, generation, started_at, replica) VALUES(?, ?, ?, ?)
		ON CONFLICT(subject) DO UPDATE SET generation = excluded.generation, started_at = excluded.started_at, replica = excluded.replica`),
		subject, g.generation, ms(s.now()), s.replica)
	cancel()
	if err != nil {
		return s.wrap("recording the refresh", err)
	}
	// What fn returns is stored even when it also reports an error: a
	// rotated token must be kept whatever else went wrong.
	res, ferr := fn(ctx, g)
	clearAttempt := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM refresh_attempts WHERE subject = ?`), subject)
		return s.wrap("clearing the refresh record", err)
	}
	var werr error
	switch {
	case res.Refused != "":
		werr = l.writeExclusive(ctx, func(tx *sql.Tx) error {
			_, err := s.deleteTx(ctx, tx, subject, res.Refused)
			return err
		})
	case res.RefreshToken != "" && res.RefreshToken != g.RefreshToken:
		werr = l.write(ctx, func(tx *sql.Tx) error {
			if err := s.rotate(ctx, tx, g, res.RefreshToken, res.RefreshExpiresAt); err != nil {
				return err
			}
			return clearAttempt(tx)
		})
	default:
		werr = l.write(ctx, clearAttempt)
	}
	if ferr != nil {
		return errors.Join(ferr, werr)
	}
	return werr
}

// Hold implements Store.Hold.
func (s *sqlStore) Hold(ctx context.Context, subject string) (func(), error) {
	l, err := s.lock(ctx, subject, lockHold)
	if err != nil {
		return nil, err
	}
	if !s.pg {
		// The in-process lock is taken; the grant must exist under it.
		ok, err := s.Has(ctx, subject)
		if err != nil || !ok {
			l.end()
			if err == nil {
				err = ErrNotFound
			}
			return nil, err
		}
	}
	return l.end, nil
}

// Revoke implements Store.Revoke.
func (s *sqlStore) Revoke(ctx context.Context, subject, reason string, fn func(ctx context.Context, g *Grant) error) (bool, error) {
	l, err := s.lock(ctx, subject, lockDelete)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer l.end()
	g, err := s.get(ctx, l.reader(), subject)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		g = nil // undecryptable: nothing to tell the IdP, but delete
	}
	if fn != nil {
		if ferr := fn(ctx, g); ferr != nil && reason != "" {
			reason += "; " + ferr.Error()
		}
	}
	var deleted bool
	err = l.write(ctx, func(tx *sql.Tx) error {
		var err error
		deleted, err = s.deleteTx(ctx, tx, subject, reason)
		return err
	})
	return deleted, err
}

// Audit records an event for subject (see Store.Audit).
func (s *sqlStore) Audit(ctx context.Context, subject, event, detail string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("writing audit event", err)
	}
	defer rollback(tx)
	if err := s.audit(ctx, tx, ms(s.now()), subject, event, detail); err != nil {
		return err
	}
	return s.wrap("writing audit event", tx.Commit())
}

var jwtShape = regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

// advisory lock classes (PostgreSQL pg_advisory_xact_lock(class, key)).
const (
	lockClassAudit     = 7101
	lockClassStates    = 7102
	lockClassMigration = 7103
)

func (s *sqlStore) audit(ctx context.Context, tx *sql.Tx, now int64, subject, event, detail string) error {
	detail = jwtShape.ReplaceAllString(detail, "[redacted]")
	if r := []rune(detail); len(r) > 500 {
		detail = string(r[:500]) + "…"
	}
	if s.pg {
		// Replicas auditing one user at once must see each other's rows,
		// or a repeated event is not coalesced.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClassAudit, subject); err != nil {
			return s.wrap("writing audit event", err)
		}
	}
	var (
		lastID                int64
		lastEvent, lastDetail string
	)
	err := tx.QueryRowContext(ctx, s.q(`SELECT id, event, detail FROM audit WHERE subject = ? ORDER BY id DESC LIMIT 1`), subject).
		Scan(&lastID, &lastEvent, &lastDetail)
	switch {
	case err == nil && lastEvent == event && lastDetail == detail:
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE audit SET time = ?, repeats = repeats + 1 WHERE id = ?`), now, lastID); err != nil {
			return s.wrap("writing audit event", err)
		}
		return nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return s.wrap("reading audit", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit(time, subject, event, detail) VALUES(?, ?, ?, ?)`), now, subject, event, detail); err != nil {
		return s.wrap("writing audit event", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM audit WHERE subject = ? AND (time < ? OR id NOT IN (
			SELECT id FROM audit WHERE subject = ? ORDER BY id DESC LIMIT ?))`),
		subject, now-s.auditRetention.Milliseconds(), subject, s.auditPerSubject); err != nil {
		return s.wrap("pruning audit", err)
	}
	return nil
}

// AuditEvents returns the newest audit events first, for subject ("" for
// everyone), at most limit (default 100).
func (s *sqlStore) AuditEvents(ctx context.Context, subject string, limit int) ([]AuditEvent, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
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
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, s.wrap("reading audit", err)
	}
	defer closeRows(rows)
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Subject, &e.Event, &e.Detail, &e.Count); err != nil {
			return nil, s.wrap("reading audit", err)
		}
		e.Time = fromMS(t)
		out = append(out, e)
	}
	return out, s.wrap("reading audit", rows.Err())
}

// stateKey is what the database keeps of a state: its SHA-256. The state
// itself travels only in the user's authorization link.
func stateKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// AddState implements Store.AddState.
func (s *sqlStore) AddState(ctx context.Context, state string, p PendingState, now time.Time, perSubject, max int) error {
	if state == "" || p.Subject == "" {
		return errors.New("tokenstore: a pending authorization needs a state and a subject")
	}
	if perSubject < 1 {
		perSubject = 1
	}
	k := stateKey(state)
	sealed, err := s.key.seal([]byte(p.Verifier), aad("pkce_verifier", k))
	if err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("recording the authorization", err)
	}
	defer rollback(tx)
	if s.pg {
		// One subject's links are counted and evicted by one replica at
		// a time.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClassStates, p.Subject); err != nil {
			return s.wrap("recording the authorization", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM consent_states WHERE expires_at <= ?`), ms(now)); err != nil {
		return s.wrap("expiring authorizations", err)
	}
	// A user asking again and again keeps only the newest few states,
	// used ones included (they stay until they expire so that a replay is
	// reported as one).
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM consent_states WHERE subject = ? AND id NOT IN (
			SELECT id FROM consent_states WHERE subject = ? ORDER BY id DESC LIMIT ?)`), p.Subject, p.Subject, perSubject-1); err != nil {
		return s.wrap("bounding authorizations", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM consent_states`).Scan(&n); err != nil {
		return s.wrap("counting authorizations", err)
	}
	if n >= max {
		return ErrTooManyPending
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO consent_states(state_hash, subject, verifier, expires_at, used) VALUES(?, ?, ?, ?, 0)`),
		k, p.Subject, sealed, ms(p.ExpiresAt)); err != nil {
		return s.wrap("recording the authorization", err)
	}
	return s.wrap("recording the authorization", tx.Commit())
}

// TakeState implements Store.TakeState.
func (s *sqlStore) TakeState(ctx context.Context, state string, now time.Time) (PendingState, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	k := stateKey(state)
	var (
		p      PendingState
		sealed []byte
		exp    int64
	)
	// The one atomic statement: of concurrent takers exactly one matches
	// "not used yet".
	err := s.db.QueryRowContext(ctx, s.q(`
		UPDATE consent_states SET used = 1 WHERE state_hash = ? AND used = 0 AND expires_at > ?
		RETURNING subject, verifier, expires_at`), k, ms(now)).Scan(&p.Subject, &sealed, &exp)
	if err == nil {
		// The verifier is needed once; the used row stays (replays are
		// reported) without it.
		_, _ = s.db.ExecContext(ctx, s.q(`UPDATE consent_states SET verifier = ? WHERE state_hash = ?`), []byte{}, k)
		pt, err := s.key.open(sealed, aad("pkce_verifier", k))
		if err != nil {
			return PendingState{}, errors.New("tokenstore: the stored authorization cannot be decrypted (another key?)")
		}
		p.Verifier, p.ExpiresAt = string(pt), fromMS(exp)
		return p, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return PendingState{}, s.wrap("taking the authorization state", err)
	}
	// Why not: only for the message.
	var used int
	err = s.db.QueryRowContext(ctx, s.q(`SELECT used, expires_at FROM consent_states WHERE state_hash = ?`), k).Scan(&used, &exp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return PendingState{}, ErrStateUnknown
	case err != nil:
		return PendingState{}, s.wrap("reading the authorization state", err)
	case used != 0:
		return PendingState{}, ErrStateUsed
	default:
		_, _ = s.db.ExecContext(ctx, s.q(`DELETE FROM consent_states WHERE state_hash = ?`), k)
		return PendingState{}, ErrStateExpired
	}
}

// PendingStates implements Store.PendingStates.
func (s *sqlStore) PendingStates(ctx context.Context) (int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM consent_states`).Scan(&n)
	return n, s.wrap("counting authorizations", err)
}

// keyCheck is encrypted into meta on first use so that Open can tell a
// wrong key up front instead of failing on every user later.
const keyCheck = "nextcloud-mcp-go tokenstore key check"

// init migrates the schema, prunes the audit table and checks the key.
func (s *sqlStore) init(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM audit WHERE time < ?`), ms(s.now().Add(-s.auditRetention))); err != nil {
		return s.wrap("pruning the audit table", err)
	}
	sealed, err := s.key.seal([]byte(keyCheck), aad("key_check", ""))
	if err != nil {
		return err
	}
	// Replicas starting at once: the first writes the check, every one
	// reads it back.
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO meta(name, value) VALUES('key_check', ?) ON CONFLICT(name) DO NOTHING`), sealed); err != nil {
		return s.wrap("writing key check", err)
	}
	var check []byte
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'key_check'`).Scan(&check); err != nil {
		return s.wrap("reading key check", err)
	}
	if pt, err := s.key.open(check, aad("key_check", "")); err != nil || string(pt) != keyCheck {
		return ErrWrongKey
	}
	return nil
}
