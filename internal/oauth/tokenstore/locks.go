package tokenstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// lockMode is how a grant is locked. Holds share with each other and with
// one refresh; a refresh excludes other refreshes; a deletion excludes
// everything. In PostgreSQL these are the row locks FOR KEY SHARE, FOR NO
// KEY UPDATE and FOR UPDATE, whose conflicts are exactly these
// (https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS).
type lockMode int

const (
	lockHold lockMode = iota
	lockRefresh
	lockDelete
)

func (m lockMode) String() string {
	return [...]string{"hold", "refresh", "delete"}[m]
}

func (m lockMode) rowLock() string {
	return [...]string{"FOR KEY SHARE", "FOR NO KEY UPDATE", "FOR UPDATE"}[m]
}

// grantLock is a held lock on one grant. For PostgreSQL it is the row lock
// of tx, in which the holder also writes, so what it stores is committed
// with the lock's release; a holder whose process dies loses its
// connection, and PostgreSQL rolls the transaction back and releases the
// lock. For SQLite it is an entry in the process's lock table (one process
// owns an SQLite file), and writes get a short transaction of their own.
type grantLock struct {
	s       *sqlStore
	subject string
	tx      *sql.Tx
	release func()
	once    sync.Once
}

// lock takes subject's grant lock in mode, waiting at most the lock
// timeout (then ErrBusy). ErrNotFound when there is no grant (PostgreSQL;
// the SQLite caller reads the grant under the lock).
func (s *sqlStore) lock(ctx context.Context, subject string, mode lockMode) (*grantLock, error) {
	if !s.pg {
		rel, err := s.locks.acquire(ctx, subject, mode, s.lockTimeout)
		if err != nil {
			return nil, err
		}
		return &grantLock{s: s, subject: subject, release: rel}, nil
	}
	// The transaction lives as long as the lock, so it takes the caller's
	// context, not a statement's: the statements are bounded by the
	// server's timeouts set here.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.wrap("locking the grant", err)
	}
	wait := s.lockTimeout.Milliseconds()
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d; SET LOCAL statement_timeout = %d`,
		wait, wait+s.stmtTimeout.Milliseconds())); err != nil {
		rollback(tx)
		return nil, s.wrap("locking the grant", err)
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM grants WHERE subject = $1 `+mode.rowLock(), subject).Scan(&one)
	if err != nil {
		rollback(tx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, s.lockErr(err)
	}
	return &grantLock{s: s, subject: subject, tx: tx}, nil
}

// lockErr turns PostgreSQL's lock and statement timeouts into ErrBusy.
func (s *sqlStore) lockErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "55P03" || pe.Code == "57014") {
		return ErrBusy
	}
	return s.wrap("locking the grant", err)
}

// reader is where the holder reads the grant.
func (l *grantLock) reader() querier {
	if l.tx != nil {
		return l.tx
	}
	return l.s.db
}

// write runs f in the lock's transaction and commits it (PostgreSQL), or
// in a short transaction of its own (SQLite).
func (l *grantLock) write(ctx context.Context, f func(*sql.Tx) error) error {
	tx := l.tx
	if tx == nil {
		bctx, cancel := l.s.bound(ctx)
		defer cancel()
		var err error
		if tx, err = l.s.db.BeginTx(bctx, nil); err != nil {
			return l.s.wrap("writing the grant", err)
		}
		// The statements f runs in tx end with it: bctx bounds them.
		defer rollback(tx)
	}
	if err := f(tx); err != nil {
		return l.s.lockErr(err)
	}
	if err := tx.Commit(); err != nil {
		return l.s.wrap("writing the grant", err)
	}
	return nil
}

// writeExclusive is write for a change that needs the grant to itself (a
// refresh holder deleting the grant): in PostgreSQL the DELETE waits for
// holders within the lock timeout; SQLite waits for them first.
func (l *grantLock) writeExclusive(ctx context.Context, f func(*sql.Tx) error) error {
	if l.tx == nil {
		if err := l.s.locks.upgrade(ctx, l.subject, l.s.lockTimeout); err != nil {
			return err
		}
	}
	return l.write(ctx, f)
}

// end releases the lock (rolling back whatever was not committed).
func (l *grantLock) end() {
	l.once.Do(func() {
		if l.tx != nil {
			rollback(l.tx)
		}
		if l.release != nil {
			l.release()
		}
	})
}

// lockTable is SQLite's grant locks: per subject, the number of holders,
// whether a refresh runs, whether the grant is locked exclusively, and how
// many wait for that (new holders then wait too, so a revocation is not
// starved by background work).
type lockTable struct {
	mu      sync.Mutex
	m       map[string]*lockState
	changed chan struct{}
}

type lockState struct {
	holds, waitingExclusive int
	refresh, exclusive      bool
}

func newLockTable() *lockTable {
	return &lockTable{m: map[string]*lockState{}, changed: make(chan struct{})}
}

func (t *lockTable) state(subject string) *lockState {
	st := t.m[subject]
	if st == nil {
		st = &lockState{}
		t.m[subject] = st
	}
	return st
}

// wakeLocked tells waiters that something changed; t.mu is held.
func (t *lockTable) wakeLocked(subject string) {
	if st := t.m[subject]; st != nil && *st == (lockState{}) {
		delete(t.m, subject)
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// wait blocks until the table changes, ctx ends or deadline passes.
func wait(ctx context.Context, ch <-chan struct{}, deadline *time.Timer) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-deadline.C:
		return ErrBusy
	}
}

func (t *lockTable) acquire(ctx context.Context, subject string, mode lockMode, timeout time.Duration) (func(), error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	counted := false
	for {
		t.mu.Lock()
		st := t.state(subject)
		ok := false
		switch mode {
		case lockHold:
			ok = !st.exclusive && st.waitingExclusive == 0
		case lockRefresh:
			ok = !st.exclusive && !st.refresh
		case lockDelete:
			ok = !st.exclusive && !st.refresh && st.holds == 0
		}
		if ok {
			switch mode {
			case lockHold:
				st.holds++
			case lockRefresh:
				st.refresh = true
			case lockDelete:
				st.exclusive = true
			}
			if counted {
				st.waitingExclusive--
			}
			t.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { t.releaseMode(subject, mode) }) }, nil
		}
		if mode == lockDelete && !counted {
			st.waitingExclusive++
			counted = true
		}
		ch := t.changed
		t.mu.Unlock()
		if err := wait(ctx, ch, deadline); err != nil {
			if counted {
				t.mu.Lock()
				t.state(subject).waitingExclusive--
				t.wakeLocked(subject)
				t.mu.Unlock()
			}
			return nil, err
		}
	}
}

func (t *lockTable) releaseMode(subject string, mode lockMode) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(subject)
	switch mode {
	case lockHold:
		st.holds--
	case lockRefresh:
		st.refresh, st.exclusive = false, false
	case lockDelete:
		st.exclusive = false
	}
	t.wakeLocked(subject)
}

// upgrade makes a refresh lock exclusive once no holder is left; the
// refresh's release ends both.
func (t *lockTable) upgrade(ctx context.Context, subject string, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		st := t.state(subject)
		if st.holds == 0 {
			st.exclusive = true
			t.mu.Unlock()
			return nil
		}
		ch := t.changed
		t.mu.Unlock()
		if err := wait(ctx, ch, deadline); err != nil {
			return err
		}
	}
}
