//go:build smoke

package smoke

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/pgtest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/smoke/smoketest"
)

// replicas is the size of a scale-out deployment.
const replicas = 3

// TestScaleOut runs the server as three replica containers behind a
// round-robin balancer (docs/architecture.md §1.4, §4.7), once per OAuth
// mode. Exchange mode shares a PostgreSQL database — a throw-away server
// this suite starts on a loopback port — for progressive consent, the
// workers and revocation; pass-through needs nothing shared but stateless
// sessions.
func TestScaleOut(t *testing.T) {
	if external.Any() {
		t.Skip("the scale-out suite drives the fakes' control APIs (request logs, auto-approval); real images stand in for them")
	}
	t.Run("exchange", func(t *testing.T) {
		t.Parallel()
		runScaleOutExchange(t)
	})
	t.Run("passthrough", func(t *testing.T) {
		t.Parallel()
		runScaleOutPassthrough(t)
	})
}

func scaleOptions(mode smoketest.Mode, consent bool, env map[string]string) smoketest.Options {
	o := options(mode, consent)
	o.Replicas = replicas
	o.ServerEnv = env
	return o
}

// callsReachEveryReplica makes n calls through the balancer and checks
// that each succeeded and that every live replica served some.
func callsReachEveryReplica(ctx context.Context, t *testing.T, s *smoketest.Stack, c *smoketest.Client, n int, noteID int64, live []int) {
	t.Helper()
	from := len(s.Balancer.Hits())
	for i := range n {
		s.Call(ctx, t, c, fmt.Sprintf("read note %d through the balancer (%d)", noteID, i), "nc_notes_get_note", map[string]any{"note_id": noteID})
	}
	served := map[int]int{}
	for _, h := range s.Balancer.Hits()[from:] {
		if h.Method == "POST" && h.Path == "/mcp" && h.Status == 200 {
			served[h.Backend]++
		}
	}
	for _, r := range live {
		assert.Positive(t, served[r], "replica %d served none of %d calls (served: %v)", r+1, n, served)
	}
}

func runScaleOutPassthrough(t *testing.T) {
	ctx := testContext(t)
	s := smoketest.StartStack(ctx, t, scaleOptions(smoketest.ModePassthrough, false, map[string]string{"MCP_SESSION_MODE": "stateless"}))
	tok, err := s.Token(ctx, smoketest.AllScopes()...)
	require.NoError(t, err)
	c, err := s.Connect(ctx, tok.AccessToken)
	require.NoError(t, err)
	closeOnCleanup(t, c)
	res, _ := s.Call(ctx, t, c, "create a note", "nc_notes_create_note", map[string]any{"title": "Scale-out", "content": "three replicas", "category": ""})
	var created noteWrite
	require.NoError(t, smoketest.Structured(res, &created))
	callsReachEveryReplica(ctx, t, s, c, 6, created.ID, []int{0, 1, 2})
}

func runScaleOutExchange(t *testing.T) {
	ctx := testContext(t)
	pg := pgtest.Start(t)
	dsn := pg.NewDatabase(t)
	s := smoketest.StartStack(ctx, t, func() smoketest.Options {
		o := scaleOptions(smoketest.ModeExchange, true, map[string]string{
			"TOKEN_STORAGE_URL":   dsn,
			"NOTES_SYNC_INTERVAL": "1s",
		})
		// Access tokens live 62 s; the broker renews a cached token one
		// minute before it expires, so every worker refreshes every two
		// seconds or so: refresh cycles on all replicas within the suite.
		o.IdPArgs = []string{"--access-token-ttl", "62s"}
		return o
	}())
	s.Secrets.Add("the PostgreSQL password", pg.Password)
	s.Secrets.Add("TOKEN_STORAGE_URL", dsn)
	tok, err := s.Token(ctx, smoketest.AllScopes()...)
	require.NoError(t, err)
	c, err := s.Connect(ctx, tok.AccessToken)
	require.NoError(t, err)
	closeOnCleanup(t, c)

	if !t.Run("Flow 2 started through one replica completes through another", func(t *testing.T) {
		from := len(s.Balancer.Hits())
		link := refusedUnprovisioned(ctx, t, s, c)
		issuer := -1
		for _, h := range s.Balancer.Hits()[from:] {
			if h.Path == "/mcp" && h.Status == 200 {
				issuer = h.Backend
			}
		}
		require.GreaterOrEqual(t, issuer, 0, "no replica served the refused call")
		if s.Balancer.Next() == issuer {
			s.Balancer.Skip()
		}
		from = len(s.Balancer.Hits())
		hops, status, body, err := smoketest.FollowAuthorization(ctx, link, func(code string) {
			s.Secrets.Add("a Flow 2 authorization code", code)
		})
		require.NoError(t, err)
		require.Equal(t, s.BaseURL+"/oauth/callback", hops[len(hops)-1].URL)
		require.Equal(t, 200, status, "the callback: %s", s.Secrets.Redact(body))
		for _, h := range s.Balancer.Hits()[from:] {
			if h.Path == "/oauth/callback" {
				assert.NotEqual(t, issuer, h.Backend, "the callback went to the replica that issued the link")
			}
		}
		res, _ := s.Call(ctx, t, c, "check provisioning status", smoketest.ToolStatus, nil)
		var st struct {
			Provisioned bool `json:"provisioned"`
		}
		require.NoError(t, smoketest.Structured(res, &st))
		require.True(t, st.Provisioned)
	}) {
		return
	}

	var noteID int64
	t.Run("tool calls round-robin across the replicas", func(t *testing.T) {
		res, _ := s.Call(ctx, t, c, "create a note", "nc_notes_create_note", map[string]any{"title": "Scale-out", "content": "three replicas", "category": ""})
		var created noteWrite
		require.NoError(t, smoketest.Structured(res, &created))
		noteID = created.ID
		callsReachEveryReplica(ctx, t, s, c, 6, noteID, []int{0, 1, 2})
	})

	// refreshes waits until the IdP has answered at least n more refresh
	// grants for the user after mark, and checks that it refused none
	// (a refresh token presented twice is refused, and revokes the grant).
	refreshes := func(t *testing.T, mark, n int) int {
		t.Helper()
		var ok int
		deadline := time.Now().Add(60 * time.Second)
		for {
			log, err := s.IdPControl.Log(ctx)
			require.NoError(t, err)
			ok = 0
			for _, e := range log[mark:] {
				if e.GrantType != "refresh_token" {
					continue
				}
				require.Equal(t, "ok", e.Outcome, "the IdP refused a refresh grant (reuse?): %+v", e)
				ok++
			}
			if ok >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		require.GreaterOrEqual(t, ok, n, "refresh grants answered")
		return ok
	}
	t.Run("workers on every replica refresh for several cycles without reuse", func(t *testing.T) {
		n := refreshes(t, 0, 3*replicas)
		t.Logf("%d refresh grants so far, all answered", n)
	})

	t.Run("a replica killed mid-run; clients keep working without re-authorising", func(t *testing.T) {
		victim := 1
		mark := idpLogLen(ctx, t, s)
		// The kill lands outside a refresh's round trip to the IdP: the
		// suite holds every grant's refresh lock (waiting for running
		// refreshes to store their answers) while it kills. A kill inside
		// that window ends the user's grant instead, by design (the stored
		// token may be spent; docs/architecture.md §1.4), and is tested in
		// internal/oauth/tokenstore.
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer func() { _ = conn.Close(context.Background()) }()
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SELECT subject FROM grants FOR NO KEY UPDATE`)
		require.NoError(t, err)
		require.NoError(t, smoketest.Kill(ctx, s.Replicas[victim]))
		require.NoError(t, tx.Rollback(ctx))

		from := len(s.Balancer.Hits())
		callsReachEveryReplica(ctx, t, s, c, 6, noteID, []int{0, 2})
		refused := 0
		for _, h := range s.Balancer.Hits()[from:] {
			if h.Backend == victim && h.Status == 0 {
				refused++
			}
		}
		assert.Positive(t, refused, "the balancer never tried the killed replica")
		res, _ := s.Call(ctx, t, c, "check provisioning status", smoketest.ToolStatus, nil)
		var st struct {
			Provisioned bool `json:"provisioned"`
		}
		require.NoError(t, smoketest.Structured(res, &st))
		assert.True(t, st.Provisioned, "the grant did not survive the replica")
		n := refreshes(t, mark, 2*2)
		t.Logf("%d refresh grants after the kill, all answered", n)
	})

	t.Run("revoke on one replica stops the others", func(t *testing.T) {
		res, _ := s.Call(ctx, t, c, "revoke Nextcloud access", smoketest.ToolRevoke, nil)
		var out struct {
			Deleted bool `json:"deleted"`
		}
		require.NoError(t, smoketest.Structured(res, &out))
		require.True(t, out.Deleted)
		mark := idpLogLen(ctx, t, s)
		for _, r := range []int{0, 2} {
			rc, err := smoketest.Connect(ctx, s.ReplicaURLs[r]+"/mcp", tok.AccessToken)
			require.NoError(t, err)
			closeOnCleanup(t, rc)
			res, err := rc.Call(ctx, "nc_notes_search_notes", map[string]any{"query": "replicas"})
			require.NoError(t, err)
			assert.True(t, res.IsError, "replica %d answered after the revocation: %s", r+1, smoketest.ResultText(res))
			assert.Contains(t, smoketest.ResultText(res), smoketest.ToolProvision)
		}
		// Three sync intervals: no worker refreshes the revoked grant.
		time.Sleep(3 * time.Second)
		log, err := s.IdPControl.Log(ctx)
		require.NoError(t, err)
		for _, e := range log[mark:] {
			assert.NotEqual(t, "refresh_token", e.GrantType, "a refresh grant after the revocation: %+v", e)
		}
	})
}

func idpLogLen(ctx context.Context, t *testing.T, s *smoketest.Stack) int {
	t.Helper()
	log, err := s.IdPControl.Log(ctx)
	require.NoError(t, err)
	return len(log)
}
