package tokenstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/pgtest"
)

// backend is one implementation of Store under test. target returns a
// fresh, empty database (an SQLite file or a PostgreSQL database);
// dataDir is where its bytes end up on disk.
type backend struct {
	name    string
	target  func(t *testing.T) string
	dataDir func(t *testing.T, target string) string
	// shared: several Stores opened on one target coordinate (PostgreSQL;
	// an SQLite file belongs to one process, whose one Store does).
	shared bool
	pg     *pgtest.Server
}

func (b *backend) open(t *testing.T, target string, key Key, opts Options) Store {
	t.Helper()
	s, err := Open(context.Background(), target, key, opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// fresh opens a store on a new database.
func (b *backend) fresh(t *testing.T, opts Options) Store {
	t.Helper()
	return b.open(t, b.target(t), testKey(t), opts)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// dbName is the database a PostgreSQL URL names.
func dbName(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// raw runs SQL on the store's own database (tests that tamper with rows).
func raw(t *testing.T, s Store, query string, args ...any) {
	t.Helper()
	ss := s.(*sqlStore)
	_, err := ss.db.ExecContext(context.Background(), ss.q(query), args...)
	require.NoError(t, err)
}

// TestStore is the store suite: every case runs against SQLite and
// against PostgreSQL (a throw-away server this test starts; it fails,
// naming .ci/deps, when the PostgreSQL binaries are missing).
func TestStore(t *testing.T) {
	pg := pgtest.Start(t)
	backends := []*backend{
		{
			name:    "sqlite",
			target:  func(t *testing.T) string { return filepath.Join(t.TempDir(), "tokens.db") },
			dataDir: func(_ *testing.T, target string) string { return filepath.Dir(target) },
		},
		{
			name:    "postgres",
			target:  func(t *testing.T) string { return pg.NewDatabase(t) },
			dataDir: func(*testing.T, string) string { return pg.DataDir() },
			shared:  true,
			pg:      pg,
		},
	}
	cases := []struct {
		name string
		run  func(t *testing.T, b *backend)
	}{
		{"grant lifecycle", testGrantLifecycle},
		{"no plaintext at rest", testNoPlaintextAtRest},
		{"rows cannot be swapped", testRowsCannotBeSwapped},
		{"wrong key", testWrongKey},
		{"concurrent use", testConcurrentUse},
		{"audit redacts and bounds detail", testAuditRedactsAndBounds},
		{"audit repeats are coalesced", testAuditRepeatsAreCoalesced},
		{"audit rows are bounded per user", testAuditRowsAreBoundedPerUser},
		{"audit retention", testAuditRetention},
		{"states are single-use and expire", testStates},
		{"states are bounded", testStateBounds},
		{"concurrent takers get a state once", testStateTakenOnce},
		{"refresh stores the rotation under the lock", testRefreshRotates},
		{"refresh refused deletes the grant", testRefreshRefused},
		{"refresh error keeps the grant", testRefreshError},
		{"interrupted refresh is never retried", testRefreshInterrupted},
		{"refreshes of one grant never overlap", testRefreshExclusive},
		{"revoke waits for holders", testRevokeWaitsForHolds},
		{"delete of a held grant times out", testDeleteBusy},
		{"migrations started at once", testMigrationsAtOnce},
		{"newer schema refused", testNewerSchemaRefused},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, b) })
			}
		})
	}
}

func testGrantLifecycle(t *testing.T, b *backend) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := b.fresh(t, Options{Now: clk.Now})
	_, err := s.Get(ctx, "alice")
	require.ErrorIs(t, err, ErrNotFound, "empty store")
	exp := clk.Now().Add(30 * 24 * time.Hour)
	g := Grant{Subject: "alice", RefreshToken: "rt-1", Scopes: []string{"offline_access", "notes:read"}, ClientID: "srv", RefreshExpiresAt: exp}
	require.NoError(t, s.Save(ctx, g))
	got, err := s.Get(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "rt-1", got.RefreshToken)
	assert.Equal(t, "srv", got.ClientID)
	assert.Equal(t, []string{"offline_access", "notes:read"}, got.Scopes)
	assert.True(t, got.RefreshExpiresAt.Equal(exp))
	assert.True(t, got.CreatedAt.Equal(clk.Now()))
	has, err := s.Has(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, has)
	in, err := s.Info(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "srv", in.ClientID)
	_, err = s.Info(ctx, "bob")
	assert.ErrorIs(t, err, ErrNotFound)
	has, err = s.Has(ctx, "bob")
	require.NoError(t, err)
	assert.False(t, has)

	// Re-provisioning replaces and keeps created_at.
	clk.Advance(time.Hour)
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-2", ClientID: "srv"}))
	got2, err := s.Get(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "rt-2", got2.RefreshToken)
	assert.True(t, got2.CreatedAt.Equal(got.CreatedAt))
	assert.True(t, got2.UpdatedAt.Equal(clk.Now()))
	// A rotation based on the stale read conflicts; on the fresh one works.
	assert.ErrorIs(t, s.Rotate(ctx, got, "rt-x", time.Time{}), ErrConflict)
	require.NoError(t, s.Rotate(ctx, got2, "rt-3", time.Time{}))
	require.NoError(t, s.Rotate(ctx, got2, "rt-4", time.Time{}), "second rotate on the updated grant")
	got3, err := s.Get(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "rt-4", got3.RefreshToken)

	require.NoError(t, s.Save(ctx, Grant{Subject: "bob", RefreshToken: "rt-b"}))
	list, err := s.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "alice", list[0].Subject)
	assert.Equal(t, "bob", list[1].Subject)
	deleted, err := s.Delete(ctx, "alice", "revoked by the user")
	require.NoError(t, err)
	assert.True(t, deleted)
	deleted, err = s.Delete(ctx, "alice", "again")
	require.NoError(t, err)
	assert.False(t, deleted, "deleted twice")
	assert.ErrorIs(t, s.Rotate(ctx, got2, "rt-5", time.Time{}), ErrNotFound, "rotate after delete must not resurrect")
	_, err = s.Get(ctx, "alice")
	assert.ErrorIs(t, err, ErrNotFound)

	events, err := s.AuditEvents(ctx, "alice", 0)
	require.NoError(t, err)
	var names []string
	for _, e := range events {
		names = append(names, fmt.Sprintf("%s×%d", e.Event, e.Count))
	}
	// The two rotations in a row are one row counted twice.
	assert.Equal(t, []string{"grant_deleted×1", "refresh_token_rotated×2", "grant_stored×1", "grant_stored×1"}, names)
	assert.Equal(t, "revoked by the user", events[0].Detail)
	all, err := s.AuditEvents(ctx, "", 2)
	require.NoError(t, err)
	assert.Len(t, all, 2)
	assert.Error(t, s.Save(ctx, Grant{Subject: "", RefreshToken: "x"}), "saved without subject")
	assert.Error(t, s.Save(ctx, Grant{Subject: "x"}), "saved without token")
}

// testNoPlaintextAtRest: the database's files (SQLite's and its WAL;
// PostgreSQL's data directory after a checkpoint) never hold a refresh
// token, a PKCE verifier or a state in plaintext, nor in base64.
func testNoPlaintextAtRest(t *testing.T, b *backend) {
	ctx := context.Background()
	target := b.target(t)
	s := b.open(t, target, testKey(t), Options{})
	var secrets []string
	for i, user := range []string{"alice", "bob", "carol"} {
		tok := fmt.Sprintf("refresh-token-PLAINTEXT-MARKER-%d-%s-eyJhbGciOi", i, b.name)
		secrets = append(secrets, tok)
		require.NoError(t, s.Save(ctx, Grant{Subject: user, RefreshToken: tok, Scopes: []string{"offline_access"}}))
	}
	g, err := s.Get(ctx, "alice")
	require.NoError(t, err)
	rotated := "rotated-PLAINTEXT-MARKER-xyz-" + b.name
	secrets = append(secrets, rotated)
	require.NoError(t, s.Rotate(ctx, g, rotated, time.Time{}))
	state, verifier := "state-PLAINTEXT-MARKER-"+b.name, "verifier-PLAINTEXT-MARKER-"+b.name
	secrets = append(secrets, state, verifier)
	require.NoError(t, s.AddState(ctx, state, PendingState{Subject: "dave", Verifier: verifier, ExpiresAt: time.Now().Add(time.Minute)}, time.Now(), 5, 100))
	require.NoError(t, s.Audit(ctx, "bob", "note", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXNpZw leaked by a careless caller"))
	check := func(stage string) {
		if b.pg != nil {
			require.NoError(t, b.pg.Exec(ctx, "postgres", "CHECKPOINT"))
		}
		err := filepath.WalkDir(b.dataDir(t, target), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil // a file PostgreSQL removed meanwhile
			}
			for _, sec := range secrets {
				for _, form := range []string{sec, base64.StdEncoding.EncodeToString([]byte(sec)), base64.RawURLEncoding.EncodeToString([]byte(sec))} {
					if bytes.Contains(data, []byte(form)) {
						return fmt.Errorf("%s: %s holds a secret in plaintext", stage, path)
					}
				}
			}
			if bytes.Contains(data, []byte("eyJzdWIiOiJib2IifQ")) {
				return fmt.Errorf("%s: %s holds an audit detail's token", stage, path)
			}
			return nil
		})
		require.NoError(t, err)
	}
	check("open")
	_, err = s.Delete(ctx, "carol", "test")
	require.NoError(t, err)
	check("after delete")
}

func testRowsCannotBeSwapped(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{})
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "alice-token"}))
	require.NoError(t, s.Save(ctx, Grant{Subject: "mallory", RefreshToken: "mallory-token"}))
	// Someone with write access to the database copies alice's
	// ciphertext onto mallory's row.
	raw(t, s, `UPDATE grants SET refresh_token = (SELECT refresh_token FROM grants WHERE subject = 'alice') WHERE subject = 'mallory'`)
	_, err := s.Get(ctx, "mallory")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot be decrypted")
	assert.NotContains(t, err.Error(), "alice-token")
	ev, err := s.AuditEvents(ctx, "mallory", 1)
	require.NoError(t, err)
	require.Len(t, ev, 1)
	assert.Equal(t, EventDecryptFailed, ev[0].Event)
	g, err := s.Get(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "alice-token", g.RefreshToken)
}

func testWrongKey(t *testing.T, b *backend) {
	target := b.target(t)
	s := b.open(t, target, testKey(t), Options{})
	require.NoError(t, s.Save(context.Background(), Grant{Subject: "alice", RefreshToken: "rt"}))
	_, err := Open(context.Background(), target, testKey(t), Options{})
	assert.ErrorIs(t, err, ErrWrongKey)
}

func testConcurrentUse(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			sub := fmt.Sprint("user", i%5)
			assert.NoError(t, s.Save(ctx, Grant{Subject: sub, RefreshToken: fmt.Sprint("t", i)}))
			_, err := s.Get(ctx, sub)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	l, err := s.List(ctx)
	require.NoError(t, err)
	assert.Len(t, l, 5)
}

func testAuditRedactsAndBounds(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{})
	jwtish := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
	require.NoError(t, s.Audit(ctx, "alice", "x", "token was "+jwtish))
	require.NoError(t, s.Audit(ctx, "alice", "y", strings.Repeat("é", 800)))
	ev, err := s.AuditEvents(ctx, "alice", 10)
	require.NoError(t, err)
	require.Len(t, ev, 2)
	assert.NotContains(t, ev[1].Detail, jwtish)
	assert.Contains(t, ev[1].Detail, "[redacted]")
	assert.Len(t, []rune(ev[0].Detail), 501)
}

// testAuditRepeatsAreCoalesced: the same event with the same detail, one
// after the other for one user (a user hitting the consent gate again and
// again), is one row with a count and the time of the last one.
func testAuditRepeatsAreCoalesced(t *testing.T, b *backend) {
	clk := &clock{t: time.Now()}
	s := b.fresh(t, Options{Now: clk.Now})
	ctx := context.Background()
	for range 300 {
		require.NoError(t, s.Audit(ctx, "mallory", "consent_started", "scopes=notes:read"))
		clk.Advance(time.Second)
	}
	require.NoError(t, s.Audit(ctx, "alice", "consent_started", "scopes=notes:read"))
	ev, err := s.AuditEvents(ctx, "mallory", 0)
	require.NoError(t, err)
	require.Len(t, ev, 1, "rows for one repeated event")
	assert.Equal(t, 300, ev[0].Count)
	assert.WithinDuration(t, clk.Now().Add(-time.Second), ev[0].Time, time.Millisecond, "the row tells when it last happened")
	// A different event in between starts a new row.
	require.NoError(t, s.Audit(ctx, "mallory", "consent_failed", "access_denied"))
	require.NoError(t, s.Audit(ctx, "mallory", "consent_started", "scopes=notes:read"))
	ev, err = s.AuditEvents(ctx, "mallory", 0)
	require.NoError(t, err)
	require.Len(t, ev, 3)
	assert.Equal(t, 1, ev[0].Count)
}

// testAuditRowsAreBoundedPerUser: one user's distinct events keep at most
// AuditPerSubject rows, the newest; other users' rows are untouched.
func testAuditRowsAreBoundedPerUser(t *testing.T, b *backend) {
	s := b.fresh(t, Options{AuditPerSubject: 50})
	ctx := context.Background()
	require.NoError(t, s.Audit(ctx, "alice", "grant_stored", "client=x"))
	for i := range 200 {
		require.NoError(t, s.Audit(ctx, "mallory", "consent_failed", fmt.Sprintf("attempt %d", i)))
	}
	ev, err := s.AuditEvents(ctx, "mallory", 1000)
	require.NoError(t, err)
	require.Len(t, ev, 50, "rows kept for one user")
	assert.Equal(t, "attempt 199", ev[0].Detail)
	assert.Equal(t, "attempt 150", ev[49].Detail)
	alice, err := s.AuditEvents(ctx, "alice", 0)
	require.NoError(t, err)
	assert.Len(t, alice, 1)
}

// testAuditRetention: rows older than AuditRetention are removed (on
// writes for that user, and at Open for everyone).
func testAuditRetention(t *testing.T, b *backend) {
	clk := &clock{t: time.Now()}
	target := b.target(t)
	key := testKey(t)
	opts := Options{Now: clk.Now, AuditRetention: 24 * time.Hour}
	ctx := context.Background()
	s := b.open(t, target, key, opts)
	require.NoError(t, s.Audit(ctx, "alice", "grant_stored", "old"))
	require.NoError(t, s.Audit(ctx, "bob", "grant_stored", "old"))
	clk.Advance(25 * time.Hour)
	require.NoError(t, s.Audit(ctx, "alice", "grant_rotated", "new"))
	ev, err := s.AuditEvents(ctx, "alice", 0)
	require.NoError(t, err)
	require.Len(t, ev, 1, "rows of alice after the retention passed")
	assert.Equal(t, "new", ev[0].Detail)
	require.NoError(t, s.Close())

	s2, err := Open(ctx, target, key, opts)
	require.NoError(t, err)
	defer func() { assert.NoError(t, s2.Close()) }()
	ev, err = s2.AuditEvents(ctx, "bob", 0)
	require.NoError(t, err)
	assert.Empty(t, ev, "bob's expired row survived a reopen")
}

func testStates(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{})
	now := time.Now()
	ttl := 10 * time.Minute
	require.NoError(t, s.AddState(ctx, "st-1", PendingState{Subject: "alice", Verifier: "v-1", ExpiresAt: now.Add(ttl)}, now, 5, 100))
	require.NoError(t, s.AddState(ctx, "st-2", PendingState{Subject: "alice", Verifier: "v-2", ExpiresAt: now.Add(ttl)}, now, 5, 100))
	tests := []struct {
		name, state string
		at          time.Duration
		want        error
		verifier    string
	}{
		{name: "taken", state: "st-1", at: time.Minute, verifier: "v-1"},
		{name: "replayed", state: "st-1", at: time.Minute, want: ErrStateUsed},
		{name: "unknown", state: "never-issued", at: time.Minute, want: ErrStateUnknown},
		{name: "expired", state: "st-2", at: ttl, want: ErrStateExpired},
		{name: "expired is then unknown", state: "st-2", at: ttl, want: ErrStateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.TakeState(ctx, tt.state, now.Add(tt.at))
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "alice", p.Subject)
			assert.Equal(t, tt.verifier, p.Verifier)
			assert.True(t, p.ExpiresAt.Equal(now.Add(ttl).Truncate(time.Millisecond)))
		})
	}
}

func testStateBounds(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{})
	now := time.Now()
	exp := now.Add(time.Minute)
	for i := range 8 {
		require.NoError(t, s.AddState(ctx, fmt.Sprint("m-", i), PendingState{Subject: "mallory", ExpiresAt: exp}, now, 3, 5))
	}
	n, err := s.PendingStates(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "one user keeps the newest three")
	_, err = s.TakeState(ctx, "m-0", now)
	assert.ErrorIs(t, err, ErrStateUnknown, "the oldest was evicted")
	_, err = s.TakeState(ctx, "m-7", now)
	require.NoError(t, err, "the newest is kept")
	require.NoError(t, s.AddState(ctx, "a-1", PendingState{Subject: "alice", ExpiresAt: exp}, now, 3, 5))
	require.NoError(t, s.AddState(ctx, "b-1", PendingState{Subject: "bob", ExpiresAt: exp}, now, 3, 5))
	assert.ErrorIs(t, s.AddState(ctx, "c-1", PendingState{Subject: "carol", ExpiresAt: exp}, now, 3, 5), ErrTooManyPending)
	// Once they expire there is room again.
	require.NoError(t, s.AddState(ctx, "c-2", PendingState{Subject: "carol", ExpiresAt: exp.Add(time.Minute)}, exp, 3, 5))
	n, err = s.PendingStates(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// testStateTakenOnce: many goroutines, through two stores on one database
// where the backend shares (PostgreSQL), race to take the same states;
// each state is taken exactly once.
func testStateTakenOnce(t *testing.T, b *backend) {
	ctx := context.Background()
	target := b.target(t)
	key := testKey(t)
	s1 := b.open(t, target, key, Options{})
	s2 := s1
	if b.shared {
		s2 = b.open(t, target, key, Options{})
	}
	now := time.Now()
	const states, takers = 20, 8
	for i := range states {
		require.NoError(t, s1.AddState(ctx, fmt.Sprint("race-", i), PendingState{Subject: fmt.Sprint("u", i), Verifier: "v", ExpiresAt: now.Add(time.Minute)}, now, 5, 1000))
	}
	var taken [states]atomic.Int32
	var wg sync.WaitGroup
	for g := range takers {
		store := []Store{s1, s2}[g%2]
		wg.Go(func() {
			for i := range states {
				_, err := store.TakeState(ctx, fmt.Sprint("race-", i), now)
				switch {
				case err == nil:
					taken[i].Add(1)
				case !errors.Is(err, ErrStateUsed):
					t.Errorf("take: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for i := range states {
		assert.Equal(t, int32(1), taken[i].Load(), "state %d taken", i)
	}
}

func testRefreshRotates(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{})
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-1"}))
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	var presented []string
	for i := 2; i <= 4; i++ {
		err := s.Refresh(ctx, "alice", func(_ context.Context, g *Grant) (RefreshResult, error) {
			presented = append(presented, g.RefreshToken)
			return RefreshResult{RefreshToken: fmt.Sprint("rt-", i), RefreshExpiresAt: exp}, nil
		})
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"rt-1", "rt-2", "rt-3"}, presented, "each refresh presents the token the previous one stored")
	g, err := s.Get(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "rt-4", g.RefreshToken)
	assert.True(t, g.RefreshExpiresAt.Equal(exp))
	// Not rotated: kept.
	require.NoError(t, s.Refresh(ctx, "alice", func(context.Context, *Grant) (RefreshResult, error) { return RefreshResult{}, nil }))
	g, err = s.Get(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "rt-4", g.RefreshToken)
	assert.ErrorIs(t, s.Refresh(ctx, "nobody", nil), ErrNotFound)
}

func testRefreshRefused(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{})
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-1"}))
	require.NoError(t, s.Refresh(ctx, "alice", func(context.Context, *Grant) (RefreshResult, error) {
		return RefreshResult{Refused: "invalid_grant: reused"}, nil
	}))
	has, err := s.Has(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, has)
	ev, err := s.AuditEvents(ctx, "alice", 1)
	require.NoError(t, err)
	require.Len(t, ev, 1)
	assert.Equal(t, EventGrantDeleted, ev[0].Event)
	assert.Equal(t, "invalid_grant: reused", ev[0].Detail)
}

func testRefreshError(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{})
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-1"}))
	idpDown := errors.New("IdP unavailable")
	err := s.Refresh(ctx, "alice", func(context.Context, *Grant) (RefreshResult, error) { return RefreshResult{}, idpDown })
	assert.ErrorIs(t, err, idpDown)
	// The answer was an error, not a rotation: the attempt is over and
	// the next refresh presents the same token.
	calls := 0
	require.NoError(t, s.Refresh(ctx, "alice", func(_ context.Context, g *Grant) (RefreshResult, error) {
		calls++
		assert.Equal(t, "rt-1", g.RefreshToken)
		return RefreshResult{RefreshToken: "rt-2"}, nil
	}))
	assert.Equal(t, 1, calls)
}

// testRefreshInterrupted: a refresh whose process died after asking the
// IdP (its record survives, the rotated token was never stored) makes
// every later refresh refuse without presenting the possibly spent token.
// PostgreSQL: the dying process is a connection terminated while the
// refresh waits for the IdP. SQLite: the process's record is left as a
// crash leaves it.
func testRefreshInterrupted(t *testing.T, b *backend) {
	ctx := context.Background()
	target := b.target(t)
	key := testKey(t)
	s := b.open(t, target, key, Options{Replica: "victim"})
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-1"}))
	if b.pg != nil {
		inIdP := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- s.Refresh(ctx, "alice", func(ctx context.Context, _ *Grant) (RefreshResult, error) {
				close(inIdP)
				// The process dies here: its database connection goes.
				require.NoError(t, b.pg.Exec(context.Background(), "postgres",
					`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = $1`, dbName(target)))
				return RefreshResult{RefreshToken: "rt-2-lost"}, nil
			})
		}()
		<-inIdP
		assert.Error(t, <-done, "the rotated token could not be stored")
	} else {
		raw(t, s, `INSERT INTO refresh_attempts(subject, generation, started_at, replica) VALUES('alice', 1, 0, 'victim')`)
	}
	other := s
	if b.shared {
		other = b.open(t, target, key, Options{})
	}
	called := false
	err := other.Refresh(ctx, "alice", func(context.Context, *Grant) (RefreshResult, error) {
		called = true
		return RefreshResult{}, nil
	})
	assert.ErrorIs(t, err, ErrRefreshInterrupted)
	assert.False(t, called, "the possibly spent token was presented again")
	// Revoke clears it: the grant and its record go.
	deleted, err := other.Revoke(ctx, "alice", "refresh interrupted", nil)
	require.NoError(t, err)
	assert.True(t, deleted)
	require.NoError(t, other.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-new"}))
	require.NoError(t, other.Refresh(ctx, "alice", func(context.Context, *Grant) (RefreshResult, error) { return RefreshResult{}, nil }),
		"a new grant is not taken for the interrupted one")
}

// testRefreshExclusive: refreshes of one grant from many goroutines (and,
// on PostgreSQL, two stores) never run at the same time, and each
// presents the token the previous one stored.
func testRefreshExclusive(t *testing.T, b *backend) {
	ctx := context.Background()
	target := b.target(t)
	key := testKey(t)
	s1 := b.open(t, target, key, Options{})
	s2 := s1
	if b.shared {
		s2 = b.open(t, target, key, Options{})
	}
	require.NoError(t, s1.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-0"}))
	var (
		inside, maxInside atomic.Int32
		mu                sync.Mutex
		seen              = map[string]bool{}
		next              atomic.Int32
		wg                sync.WaitGroup
	)
	for g := range 8 {
		store := []Store{s1, s2}[g%2]
		wg.Go(func() {
			for range 5 {
				err := store.Refresh(ctx, "alice", func(_ context.Context, g *Grant) (RefreshResult, error) {
					n := inside.Add(1)
					defer inside.Add(-1)
					for {
						m := maxInside.Load()
						if n <= m || maxInside.CompareAndSwap(m, n) {
							break
						}
					}
					mu.Lock()
					reused := seen[g.RefreshToken]
					seen[g.RefreshToken] = true
					mu.Unlock()
					assert.False(t, reused, "refresh token %s presented twice", g.RefreshToken)
					time.Sleep(time.Millisecond)
					return RefreshResult{RefreshToken: fmt.Sprint("rt-", next.Add(1))}, nil
				})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), maxInside.Load(), "refreshes of one grant at once")
	assert.Len(t, seen, 40)
}

func testRevokeWaitsForHolds(t *testing.T, b *backend) {
	ctx := context.Background()
	target := b.target(t)
	key := testKey(t)
	s1 := b.open(t, target, key, Options{})
	s2 := s1
	if b.shared {
		s2 = b.open(t, target, key, Options{})
	}
	require.NoError(t, s1.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-1"}))
	release, err := s1.Hold(ctx, "alice")
	require.NoError(t, err)
	// A refresh runs alongside a hold.
	require.NoError(t, s2.Refresh(ctx, "alice", func(context.Context, *Grant) (RefreshResult, error) {
		return RefreshResult{RefreshToken: "rt-2"}, nil
	}))
	var jobDone atomic.Bool
	revoked := make(chan error, 1)
	go func() {
		_, err := s2.Revoke(ctx, "alice", "revoked by the user", func(_ context.Context, g *Grant) error {
			assert.True(t, jobDone.Load(), "revoke ran while background work held the grant")
			assert.Equal(t, "rt-2", g.RefreshToken)
			return nil
		})
		revoked <- err
	}()
	time.Sleep(50 * time.Millisecond)
	jobDone.Store(true)
	release()
	release() // idempotent
	require.NoError(t, <-revoked)
	_, err = s1.Hold(ctx, "alice")
	assert.ErrorIs(t, err, ErrNotFound, "a hold after the revocation")
}

func testDeleteBusy(t *testing.T, b *backend) {
	ctx := context.Background()
	s := b.fresh(t, Options{LockTimeout: 100 * time.Millisecond})
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-1"}))
	release, err := s.Hold(ctx, "alice")
	require.NoError(t, err)
	defer release()
	_, err = s.Delete(ctx, "alice", "x")
	assert.ErrorIs(t, err, ErrBusy)
	has, err := s.Has(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, has, "a busy delete deleted")
}

// testMigrationsAtOnce: replicas starting together on a new database
// migrate it once, and all of them work.
func testMigrationsAtOnce(t *testing.T, b *backend) {
	target := b.target(t)
	key := testKey(t)
	const replicas = 4
	stores := make([]Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), target, key, Options{}) })
	}
	wg.Wait()
	for i := range replicas {
		require.NoError(t, errs[i], "replica %d", i)
		t.Cleanup(func() { assert.NoError(t, stores[i].Close()) })
	}
	ss := stores[0].(*sqlStore)
	var rows, maxV int
	require.NoError(t, ss.db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&rows, &maxV))
	assert.Equal(t, SchemaVersion(), rows, "each version recorded once")
	assert.Equal(t, SchemaVersion(), maxV)
	require.NoError(t, stores[1].Save(context.Background(), Grant{Subject: "alice", RefreshToken: "rt"}))
	g, err := stores[2].Get(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, "rt", g.RefreshToken)
}

func testNewerSchemaRefused(t *testing.T, b *backend) {
	target := b.target(t)
	key := testKey(t)
	s := b.open(t, target, key, Options{})
	raw(t, s, `INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, 'from the future', 0)`, SchemaVersion()+1)
	_, err := Open(context.Background(), target, key, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "newer than this binary")
}
