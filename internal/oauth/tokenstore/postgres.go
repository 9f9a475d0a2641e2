package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres connects to the PostgreSQL database at dsn
// (TOKEN_STORAGE_URL, a postgres:// URL; libpq's parameters apply, e.g.
// sslmode) and migrates it. The pool is bounded (Options.MaxConns), and
// every session carries the server-side bounds: statement_timeout; and,
// so that a replica that vanished without closing its connection releases
// its grant locks, idle_in_transaction_session_timeout and TCP keepalives.
// Errors never repeat the URL (it may hold a password).
func openPostgres(ctx context.Context, dsn string, key Key, opts Options) (Store, error) {
	if key == (Key{}) {
		return nil, errors.New("tokenstore: no encryption key (TOKEN_ENCRYPTION_KEY)")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL; say only what is wrong.
		return nil, fmt.Errorf("tokenstore: TOKEN_STORAGE_URL is not a valid PostgreSQL URL (%s)", RedactURL(dsn))
	}
	s := newSQLStore(nil, key, opts)
	maxConns := opts.MaxConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > s.stmtTimeout {
		cfg.ConnectTimeout = s.stmtTimeout
	}
	rp := cfg.RuntimeParams
	set := func(k, v string) {
		if _, ok := rp[k]; !ok {
			rp[k] = v
		}
	}
	set("application_name", "nextcloud-mcp")
	set("statement_timeout", strconv.FormatInt(s.stmtTimeout.Milliseconds(), 10))
	// A grant lock is held across one IdP round trip (Refresh) or one
	// user's background job (Hold): far below this.
	set("idle_in_transaction_session_timeout", strconv.FormatInt((10*time.Minute).Milliseconds(), 10))
	set("tcp_keepalives_idle", "30")
	set("tcp_keepalives_interval", "10")
	set("tcp_keepalives_count", "3")
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.db, s.backend, s.pg = db, "postgres", true
	ictx, cancel := context.WithTimeout(ctx, 4*s.stmtTimeout)
	defer cancel()
	if err := s.init(ictx); err != nil {
		return nil, errors.Join(fmt.Errorf("tokenstore: PostgreSQL at %s: %w", RedactURL(dsn), err), db.Close())
	}
	return s, nil
}

// RedactURL is a database URL fit for messages: the password, and every
// query parameter's value (one may be a password), replaced.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q.Set(k, "xxxxx")
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
