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
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// openSQLite opens (creating if needed) the SQLite database at path
// (TOKEN_STORAGE_DB). The directory is created 0700 if missing; the file is
// created 0600, and an existing file readable by group or others is
// narrowed to 0600. One process owns the file: its grant locks live in
// that process.
func openSQLite(ctx context.Context, path string, key Key, opts Options) (Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, errors.New("tokenstore: need a file path without ? or # (TOKEN_STORAGE_DB)")
	}
	if key == (Key{}) {
		return nil, errors.New("tokenstore: no encryption key (TOKEN_ENCRYPTION_KEY)")
	}
	if err := prepareFile(path, opts.Logger); err != nil {
		return nil, err
	}
	// _txlock=immediate: a transaction takes the write lock when it
	// begins, so two processes migrating one file at once queue (busy
	// timeout) instead of failing to upgrade a read lock.
	dsn := path + "?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("tokenstore: opening %s: %w", path, err)
	}
	// One connection: SQLite serialises writers anyway, and it keeps the
	// WAL/SHM files owned by one handle.
	db.SetMaxOpenConns(1)
	s := newSQLStore(db, key, opts)
	s.path, s.backend, s.locks = path, "sqlite", newLockTable()
	ictx, cancel := context.WithTimeout(ctx, 4*s.stmtTimeout)
	defer cancel()
	if err := initRetryingBusy(ictx, s); err != nil {
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

// newSQLStore applies opts' defaults.
func newSQLStore(db *sql.DB, key Key, opts Options) *sqlStore {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AuditPerSubject <= 0 {
		opts.AuditPerSubject = DefaultAuditPerSubject
	}
	if opts.AuditRetention <= 0 {
		opts.AuditRetention = DefaultAuditRetention
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Replica == "" {
		host, _ := os.Hostname()
		opts.Replica = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	return &sqlStore{
		db: db, key: key, now: opts.Now, replica: opts.Replica,
		auditPerSubject: opts.AuditPerSubject, auditRetention: opts.AuditRetention,
		stmtTimeout: opts.StatementTimeout, lockTimeout: opts.LockTimeout,
	}
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

// initRetryingBusy runs the store's start-up (migration, key check) and
// starts it again while SQLite answers SQLITE_BUSY without waiting: when
// several processes open a new file at once, switching it to WAL and the
// first write lock can fail at once instead of going through the busy
// timeout (https://www.sqlite.org/wal.html §"Sometimes Queries Return
// SQLITE_BUSY In WAL Mode"). Start-up is one transaction and idempotent,
// so starting again is safe; the context bounds the whole.
func initRetryingBusy(ctx context.Context, s *sqlStore) error {
	wait := 10 * time.Millisecond
	for {
		err := s.init(ctx)
		if err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}

// isBusy reports SQLite's SQLITE_BUSY, extended codes included.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
