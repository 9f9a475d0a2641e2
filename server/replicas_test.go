package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/pgtest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// roundRobin is a balancer in front of the replicas: request i goes to
// backend i mod n. hits counts what each backend got.
type roundRobin struct {
	mu       sync.Mutex
	backends []*url.URL
	next     int
	hits     []atomic.Int32
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.mu.Lock()
	i := rr.next % len(rr.backends)
	rr.next++
	rr.mu.Unlock()
	rr.hits[i].Add(1)
	httputil.NewSingleHostReverseProxy(rr.backends[i]).ServeHTTP(w, r)
}

// replicaSet is two servers sharing one PostgreSQL database behind a
// round-robin balancer whose URL is their public URL, with the fake IdP
// and Nextcloud of one dev stack.
type replicaSet struct {
	st       *devstack.Stack
	lb       *roundRobin
	lbURL    string
	urls     [2]string // each replica's own base URL
	replicas [2]*server.Server
}

func (rs *replicaSet) mcpURL() string { return rs.lbURL + "/mcp" }

// token is a Flow 1 token for user bound to the balancer's MCP URL (the
// replicas' canonical resource).
func (rs *replicaSet) token(t *testing.T, user string) string {
	t.Helper()
	tok, err := rs.st.IdP.IssueAccessToken(context.Background(), idpIssue(user, rs.mcpURL()))
	require.NoError(t, err)
	return tok.AccessToken
}

func startReplicas(t *testing.T, pg *pgtest.Server) *replicaSet {
	t.Helper()
	dsn := pg.NewDatabase(t)
	lbLn, lbURL, err := serve.Listen("127.0.0.1:0")
	require.NoError(t, err)
	rs := &replicaSet{lbURL: lbURL, lb: &roundRobin{hits: make([]atomic.Int32, 2)}}
	rs.st = devstacktest.Start(t, devstack.Options{
		Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour,
		MutateServer: func(c *server.Config) {
			c.PublicURL = lbURL
			c.TokenStorageURL = dsn
		},
	})
	// The IdP must know the balancer's MCP URL as the server's resource.
	c, ok := rs.st.IdP.Client(devstack.ServerClientID)
	require.True(t, ok)
	c.ResourceURIs = append(c.ResourceURIs, rs.mcpURL())
	require.NoError(t, rs.st.IdP.UpsertClient(c))
	rs.replicas[0], rs.urls[0] = rs.st.Server, rs.st.BaseURL
	// The second replica: the same configuration, its own listener and
	// worker.
	cfg := rs.st.ServerConfig
	ln, url2, err := serve.Listen("127.0.0.1:0")
	require.NoError(t, err)
	cfg.Listen = ln.Addr().String()
	srv, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener = ln
	hs.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; hs.Close(); assert.NoError(t, srv.Close()) })
	rs.replicas[1], rs.urls[1] = srv, url2
	for _, u := range rs.urls {
		b, err := url.Parse(u)
		require.NoError(t, err)
		rs.lb.backends = append(rs.lb.backends, b)
	}
	lbs := httptest.NewUnstartedServer(rs.lb)
	lbs.Listener = lbLn
	lbs.Start()
	t.Cleanup(lbs.Close)
	return rs
}

// TestReplicasShareConsentAndRevocation: two replicas on one PostgreSQL
// database, stateless sessions, behind a round-robin balancer. A link
// issued by replica 0 completes on replica 1; tool calls alternate between
// them; a revocation on replica 0 is seen by replica 1 before its next
// call can use anything derived from the grant (its notes index).
func TestReplicasShareConsentAndRevocation(t *testing.T) {
	pg := pgtest.Start(t)
	rs := startReplicas(t, pg)
	ctx := context.Background()
	token := rs.token(t, "alice")

	// Replica 0 issues the link.
	on0 := connect(t, rs.urls[0]+"/mcp", token)
	var prov struct {
		URL string `json:"authorization_url"`
	}
	mustCall(t, on0, "provision_nextcloud_access", nil, &prov)
	require.NotEmpty(t, prov.URL)

	// The IdP approves; its redirect is completed on replica 1.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(prov.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusFound, resp.StatusCode)
	cb, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, rs.lbURL+"/oauth/callback", cb.Scheme+"://"+cb.Host+cb.Path, "the redirect URI is the public URL's")
	on1URL, _ := url.Parse(rs.urls[1])
	cb.Host = on1URL.Host
	page, err := http.Get(cb.String())
	require.NoError(t, err)
	body, _ := io.ReadAll(page.Body)
	require.NoError(t, page.Body.Close())
	require.Equal(t, http.StatusOK, page.StatusCode, "replica 1 completing replica 0's link: %s", body)
	// Replaying the callback on replica 0: the state was taken once.
	cb.Host = strings.TrimPrefix(rs.urls[0], "http://")
	replay, err := http.Get(cb.String())
	require.NoError(t, err)
	require.NoError(t, replay.Body.Close())
	assert.Equal(t, http.StatusBadRequest, replay.StatusCode, "the state taken on replica 1 was accepted again on replica 0")

	// Through the balancer, calls alternate and work on both.
	lb := connect(t, rs.mcpURL(), token)
	before := [2]int32{rs.lb.hits[0].Load(), rs.lb.hits[1].Load()}
	for range 4 {
		mustCall(t, lb, notes.ToolGetNote, map[string]any{"note_id": firstNoteID(t, lb)}, nil)
	}
	for i := range 2 {
		assert.Greater(t, rs.lb.hits[i].Load()-before[i], int32(2), "replica %d served too few requests", i)
	}

	// Replica 1's worker indexed alice when she provisioned there.
	on1 := connect(t, rs.urls[1]+"/mcp", token)
	require.Eventually(t, func() bool {
		var out struct {
			Source string `json:"source"`
		}
		mustCall(t, on1, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, &out)
		return out.Source == "index"
	}, 10*time.Second, 50*time.Millisecond, "replica 1 never answered from its index")

	// Revoked on replica 0 ...
	var rev struct {
		Deleted bool `json:"deleted"`
	}
	mustCall(t, on0, "revoke_nextcloud_access", nil, &rev)
	require.True(t, rev.Deleted)
	// ... replica 1 answers nothing from its index any more.
	res := call(t, on1, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, nil)
	assert.True(t, res.IsError, "replica 1 answered after the revocation on replica 0: %s", text(res))
	assert.Contains(t, text(res), "provision_nextcloud_access")
	_ = ctx
}

func idpIssue(user, resource string) idp.IssueRequest {
	return idp.IssueRequest{ClientID: devstack.MCPClientID, Username: user, Scopes: allScopes, Resource: resource}
}

// TestStatelessSessions: in stateless mode no MCP session outlives its
// request. Nothing is held, so the session caps have nothing to count
// (initializes beyond them are all served and none is refused); every
// request is authenticated and acts for its own token's user, whatever
// came before; there is no standalone stream (GET is 405); the batch cap
// still applies.
func TestStatelessSessions(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: func(c *server.Config) {
		c.SessionMode = server.SessionsStateless
		c.MaxSessions, c.MaxSessionsPerUser, c.MaxBatch = 2, 1, 3
	}})
	ctx := context.Background()
	alice, err := st.Token(ctx, "alice", allScopes)
	require.NoError(t, err)
	bob, err := st.Token(ctx, "bob", allScopes)
	require.NoError(t, err)

	for i := range 5 {
		s := &rawSession{t: t, url: st.MCPURL, token: alice}
		resp, body := s.post(initBody)
		require.Equal(t, http.StatusOK, resp.StatusCode, "initialize %d beyond the session caps: %s", i, body)
		assert.Empty(t, resp.Header.Get("Mcp-Session-Id"), "a stateless server issued a session")
	}

	// One client, two users' tokens in turn: each request is its token's.
	call := func(token string) string {
		st.Nextcloud.ResetLog()
		s := &rawSession{t: t, url: st.MCPURL, token: token}
		resp, body := s.post(fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":%q,"arguments":{"query":"x"}}}`, notes.ToolSearchNotes))
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		log := st.Nextcloud.RequestLog()
		require.NotEmpty(t, log)
		return log[len(log)-1].UID
	}
	assert.Equal(t, "alice", call(alice))
	assert.Equal(t, "bob", call(bob))
	assert.Equal(t, "alice", call(alice))

	req, err := http.NewRequest(http.MethodGet, st.MCPURL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "GET (standalone stream) in stateless mode")

	s := &rawSession{t: t, url: st.MCPURL, token: alice, protocol: "2025-03-26"}
	resp, body := s.post(batchOf(4))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	assert.Contains(t, body, "MCP_MAX_BATCH")
}

// TestTokenStoreDownOrSlow: with the PostgreSQL store hanging (its
// processes stopped) or down, a call that needs it fails with a clear
// tool error within the store's timeout, naming neither the URL's
// password nor anything secret; other requests and the next calls after
// the database is back work.
func TestTokenStoreDownOrSlow(t *testing.T) {
	pg := pgtest.Start(t)
	dsn := pg.NewDatabase(t)
	var logs syncBuffer
	st := devstacktest.Start(t, devstack.Options{
		Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MutateServer: func(c *server.Config) {
			c.TokenStorageURL = dsn
			c.TokenStorageTimeout = 500 * time.Millisecond
		},
	})
	token, err := st.Token(context.Background(), "alice", allScopes)
	require.NoError(t, err)
	cs := connect(t, st.MCPURL, token)
	var status struct {
		Provisioned bool `json:"provisioned"`
	}
	mustCall(t, cs, "check_provisioning_status", nil, &status)

	tests := []struct {
		name        string
		fault, heal func() error
		want        string
	}{
		{name: "hanging", fault: pg.Pause, heal: pg.Resume, want: "did not answer in time"},
		{name: "down", fault: pg.Stop, heal: pg.Restart, want: "could not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.fault())
			res := call(t, cs, notes.ToolSearchNotes, map[string]any{"query": "x"}, nil)
			assert.True(t, res.IsError)
			assert.Contains(t, text(res), tt.want)
			assert.NotContains(t, text(res), pg.Password)
			// Requests that need no store are served meanwhile.
			resp, err := http.Get(st.BaseURL + "/healthz")
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			require.NoError(t, tt.heal())
			require.Eventually(t, func() bool {
				res := call(t, cs, "check_provisioning_status", nil, nil)
				return !res.IsError
			}, 20*time.Second, 100*time.Millisecond, "the store did not come back")
		})
	}
	assert.NotContains(t, logs.String(), pg.Password, "the database password reached a log line")
}
