package broker

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/pgtest"
)

// refreshWatch sits in front of the fake IdP's token endpoint and counts,
// per user, the refresh grants in flight at once. It learns which user a
// refresh token belongs to from the tokens it saw issued.
type refreshWatch struct {
	next http.Handler

	mu       sync.Mutex
	owner    map[string]string // refresh token → subject
	inFlight map[string]int
	maxSeen  map[string]int
	total    atomic.Int32
}

func (w *refreshWatch) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/token" {
		w.next.ServeHTTP(rw, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	if form.Get("grant_type") != oauth.GrantTypeRefreshToken {
		w.next.ServeHTTP(rw, r)
		return
	}
	w.mu.Lock()
	sub := w.owner[form.Get("refresh_token")]
	w.inFlight[sub]++
	w.maxSeen[sub] = max(w.maxSeen[sub], w.inFlight[sub])
	w.mu.Unlock()
	w.total.Add(1)
	rec := httptest.NewRecorder()
	time.Sleep(2 * time.Millisecond) // widen the window a second refresh would overlap in
	w.next.ServeHTTP(rec, r)
	var resp struct {
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &resp) // an error answer has none
	w.mu.Lock()
	w.inFlight[sub]--
	if resp.RefreshToken != "" {
		w.owner[resp.RefreshToken] = sub
	}
	w.mu.Unlock()
	for k, v := range rec.Header() {
		rw.Header()[k] = v
	}
	rw.WriteHeader(rec.Code)
	_, _ = rw.Write(rec.Body.Bytes()) // the recorder's bytes; a vanished client needs nothing
}

// TestReplicasRefreshEachGrantOneAtATime: two brokers, each on its own
// store over one PostgreSQL database (two replicas), with many goroutines
// asking for tokens of three users and every call refreshing (the early
// refresh margin exceeds the token lifetime). The fake IdP, which revokes
// a whole grant when a refresh token is presented twice, never sees two
// refreshes of one user at once, never sees reuse, and every user keeps
// their grant.
func TestReplicasRefreshEachGrantOneAtATime(t *testing.T) {
	pg := pgtest.Start(t)
	dsn := pg.NewDatabase(t)
	cfg := idp.DefaultConfig()
	cfg.ControlAPI = true
	p, err := idp.New(cfg)
	require.NoError(t, err)
	watch := &refreshWatch{next: p, owner: map[string]string{}, inFlight: map[string]int{}, maxSeen: map[string]int{}}
	hs := httptest.NewServer(watch)
	t.Cleanup(hs.Close)
	require.NoError(t, p.SetIssuer(hs.URL))

	ks, _ := tokenstore.GenerateKey()
	key, _ := tokenstore.ParseKey(ks)
	ctx := context.Background()
	users := []string{"alice", "bob", "admin"}
	var brokers []*Broker
	for i := range 2 {
		store, err := tokenstore.Open(ctx, dsn, key, tokenstore.Options{Replica: fmt.Sprint("replica-", i)})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, store.Close()) })
		v, err := verify.New(verify.Config{Issuer: hs.URL, Audiences: []string{idp.ClientNextcloud},
			Keys: verify.NewKeySet(hs.URL+"/jwks", verify.KeySetOptions{}), CacheSize: -1})
		require.NoError(t, err)
		b, err := New(Config{
			TokenEndpoint: hs.URL + "/token",
			Client:        oauth.ClientCredentials{ID: idp.ClientMCPServer, Secret: idp.ClientMCPServer + "-secret"},
			Store:         store, Verifier: v,
			EarlyRefresh: 365 * 24 * time.Hour, // every call refreshes
		})
		require.NoError(t, err)
		brokers = append(brokers, b)
		if i == 0 {
			for _, u := range users {
				res, err := p.IssueAccessToken(ctx, idp.IssueRequest{ClientID: idp.ClientMCPServer, Username: u,
					Scopes: []string{"openid", "notes:read"}, Offline: true})
				require.NoError(t, err)
				require.NotEmpty(t, res.RefreshToken)
				watch.owner[res.RefreshToken] = u
				require.NoError(t, store.Save(ctx, tokenstore.Grant{Subject: u, RefreshToken: res.RefreshToken, ClientID: idp.ClientMCPServer}))
			}
		}
	}

	wctx := WorkerContext(ctx)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for g := range 12 {
		b := brokers[g%2]
		wg.Go(func() {
			for i := range 6 {
				tok, err := b.TokenFor(wctx, users[(g+i)%len(users)])
				if assert.NoError(t, err) {
					assert.NotEmpty(t, tok.AccessToken)
					ok.Add(1)
				}
				b.Forget(users[(g+i)%len(users)]) // a replica's cache would hide the other's refreshes
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(72), ok.Load())
	for _, u := range users {
		assert.Equal(t, 1, watch.maxSeen[u], "refreshes of %s in flight at once", u)
		has, err := brokers[1].cfg.Store.Has(ctx, u)
		require.NoError(t, err)
		assert.True(t, has, "%s lost the grant", u)
	}
	assert.GreaterOrEqual(t, watch.total.Load(), int32(12), "refresh grants (singleflight joins concurrent calls within one broker)")
	for _, e := range p.RequestLog() {
		if e.GrantType == oauth.GrantTypeRefreshToken {
			assert.Equal(t, "ok", e.Outcome, "a refresh grant was refused: %+v", e)
		}
	}
}

// TestInterruptedRefreshRevokesInsteadOfReusing: a grant whose last
// refresh was asked of the IdP but never stored (its replica died in
// between: the record of the attempt survives) is not refreshed again —
// the possibly spent token would be reuse — but revoked at the IdP (RFC
// 7009) and deleted; the user is told to provision again, and it is
// audited.
func TestInterruptedRefreshRevokesInsteadOfReusing(t *testing.T) {
	as := testas.New(t)
	path := filepath.Join(t.TempDir(), "t.db")
	ks, _ := tokenstore.GenerateKey()
	key, _ := tokenstore.ParseKey(ks)
	ctx := context.Background()
	store, err := tokenstore.Open(ctx, path, key, tokenstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	v, err := verify.New(verify.Config{Issuer: as.Issuer, Audiences: []string{testas.NextcloudAudience},
		Keys: verify.NewKeySet(as.URL+"/jwks", verify.KeySetOptions{}), CacheSize: -1})
	require.NoError(t, err)
	b, err := New(Config{
		TokenEndpoint: as.URL + "/token", RevocationEndpoint: as.URL + "/revoke",
		Client: oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret},
		Store:  store, Verifier: v,
	})
	require.NoError(t, err)
	rt := as.IssueRefresh("alice", "offline_access notes:read")
	require.NoError(t, store.Save(ctx, tokenstore.Grant{Subject: "alice", RefreshToken: rt, ClientID: testas.ServerClientID}))
	// What a replica killed between the IdP's answer and its commit
	// leaves: the record of its attempt on the grant's generation.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO refresh_attempts(subject, generation, started_at, replica) VALUES('alice', 1, 0, 'dead')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = b.TokenFor(WorkerContext(ctx), "alice")
	require.ErrorIs(t, err, ErrNotProvisioned)
	assert.Contains(t, err.Error(), "interrupted")
	assert.Zero(t, as.CountGrant(oauth.GrantTypeRefreshToken), "the possibly spent refresh token was presented")
	assert.True(t, as.IsRevoked(rt), "the grant was not revoked at the IdP")
	has, err := store.Has(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, has)
	ev, err := store.AuditEvents(ctx, "alice", 0)
	require.NoError(t, err)
	var names []string
	for _, e := range ev {
		names = append(names, e.Event)
	}
	assert.Contains(t, names, EventUnprovisioned)
}
