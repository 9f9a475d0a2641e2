package tokenstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type auditClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *auditClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *auditClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openAuditStore(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "tokens.db"), testKey(t), opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// TestAuditRepeatsAreCoalesced: the same event with the same detail, one
// after the other for one user (a user hitting the consent gate again and
// again), is one row with a count and the time of the last one.
func TestAuditRepeatsAreCoalesced(t *testing.T) {
	clk := &auditClock{t: time.Now()}
	s := openAuditStore(t, Options{Now: clk.Now})
	ctx := context.Background()
	for range 1000 {
		require.NoError(t, s.Audit(ctx, "mallory", "consent_started", "scopes=notes:read"))
		clk.Advance(time.Second)
	}
	require.NoError(t, s.Audit(ctx, "alice", "consent_started", "scopes=notes:read"))
	ev, err := s.AuditEvents(ctx, "mallory", 0)
	require.NoError(t, err)
	require.Equal(t, 1, len(ev), "rows for one repeated event")
	assert.Equal(t, 1000, ev[0].Count)
	assert.WithinDuration(t, clk.Now().Add(-time.Second), ev[0].Time, time.Millisecond, "the row tells when it last happened")

	// A different event in between starts a new row.
	require.NoError(t, s.Audit(ctx, "mallory", "consent_failed", "access_denied"))
	require.NoError(t, s.Audit(ctx, "mallory", "consent_started", "scopes=notes:read"))
	ev, err = s.AuditEvents(ctx, "mallory", 0)
	require.NoError(t, err)
	require.Equal(t, 3, len(ev))
	assert.Equal(t, 1, ev[0].Count)
}

// TestAuditRowsAreBoundedPerUser: one user's distinct events keep at most
// AuditPerSubject rows, the newest; other users' rows are untouched.
func TestAuditRowsAreBoundedPerUser(t *testing.T) {
	s := openAuditStore(t, Options{AuditPerSubject: 50})
	ctx := context.Background()
	require.NoError(t, s.Audit(ctx, "alice", "grant_stored", "client=x"))
	for i := range 500 {
		require.NoError(t, s.Audit(ctx, "mallory", "consent_failed", fmt.Sprintf("attempt %d", i)))
	}
	ev, err := s.AuditEvents(ctx, "mallory", 1000)
	require.NoError(t, err)
	require.Equal(t, 50, len(ev), "rows kept for one user")
	assert.Equal(t, "attempt 499", ev[0].Detail)
	assert.Equal(t, "attempt 450", ev[49].Detail)
	alice, err := s.AuditEvents(ctx, "alice", 0)
	require.NoError(t, err)
	assert.Len(t, alice, 1)
}

// TestAuditRetention: rows older than AuditRetention are removed (on
// writes for that user, and at Open for everyone).
func TestAuditRetention(t *testing.T) {
	clk := &auditClock{t: time.Now()}
	dir := t.TempDir()
	key := testKey(t)
	opts := Options{Now: clk.Now, AuditRetention: 24 * time.Hour}
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(dir, "tokens.db"), key, opts)
	require.NoError(t, err)
	require.NoError(t, s.Audit(ctx, "alice", "grant_stored", "old"))
	require.NoError(t, s.Audit(ctx, "bob", "grant_stored", "old"))
	clk.Advance(25 * time.Hour)
	require.NoError(t, s.Audit(ctx, "alice", "grant_rotated", "new"))
	ev, err := s.AuditEvents(ctx, "alice", 0)
	require.NoError(t, err)
	require.Equal(t, 1, len(ev), "rows of alice after the retention passed")
	assert.Equal(t, "new", ev[0].Detail)
	require.NoError(t, s.Close())

	s, err = Open(ctx, filepath.Join(dir, "tokens.db"), key, opts)
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Close()) }()
	ev, err = s.AuditEvents(ctx, "bob", 0)
	require.NoError(t, err)
	assert.Empty(t, ev, "bob's expired row survived a reopen")
}

// TestAuditUpgradesOldDatabases: a database written before audit rows
// were coalesced (no repeats column) is upgraded at Open; its rows count
// once.
func TestAuditUpgradesOldDatabases(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	ctx := context.Background()
	path := filepath.Join(dir, "tokens.db")
	s, err := Open(ctx, path, key, Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `ALTER TABLE audit DROP COLUMN repeats`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO audit(time, subject, event, detail) VALUES(?, 'alice', 'grant_stored', 'old')`, time.Now().UnixMilli())
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err = Open(ctx, path, key, Options{})
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Close()) }()
	require.NoError(t, s.Audit(ctx, "alice", "grant_stored", "old"))
	ev, err := s.AuditEvents(ctx, "alice", 0)
	require.NoError(t, err)
	require.Equal(t, 1, len(ev))
	assert.Equal(t, 2, ev[0].Count)
}
