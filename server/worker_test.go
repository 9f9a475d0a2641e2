package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

type searchOut struct {
	Source  string `json:"source"`
	Results []struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	} `json:"results"`
}

// waitForIndex polls the search tool until it answers from the index.
func waitForIndex(t *testing.T, search func() searchOut) searchOut {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := search()
		if out.Source == "index" {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notes index was not built in time (last source %q)", out.Source)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWorkerAloneUsesRefreshGrants: after provisioning, the background
// worker obtains a token by the refresh grant and indexes the user's
// notes; searches then come from the index; tool calls never run a
// refresh grant, and writes invalidate the index.
func TestWorkerAloneUsesRefreshGrants(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour})
	ctx := context.Background()
	token, err := st.Token(ctx, "alice", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, st.MCPURL, token)
	var p struct {
		URL string `json:"authorization_url"`
	}
	mustCall(t, cs, "provision_nextcloud_access", nil, &p)
	st.IdP.ResetLog()
	approve(t, p.URL)

	search := func(q string) func() searchOut {
		return func() searchOut {
			var out searchOut
			mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": q}, &out)
			return out
		}
	}
	out := waitForIndex(t, search("welcome"))
	if len(out.Results) == 0 {
		t.Fatalf("index search found nothing: %+v", out)
	}
	refreshes := grants(st, idp.GrantRefreshToken)
	if len(refreshes) != 1 || refreshes[0].ClientID != devstack.ServerClientID || refreshes[0].Outcome != "ok" {
		t.Fatalf("refresh grants after provisioning = %+v, want exactly the worker's one", refreshes)
	}

	// Many tool calls: exchanges, never a refresh grant.
	for i := 0; i < 5; i++ {
		search("welcome")()
	}
	var created writeOut
	mustCall(t, cs, notes.ToolCreateNote, map[string]any{"title": "Indexed later", "content": "zebra crossing", "category": ""}, &created)
	// The write invalidated the index: the next search is live and sees it.
	live := search("zebra")()
	if len(live.Results) == 0 || live.Results[0].ID != created.ID {
		t.Fatalf("search right after a write = %+v, want the new note", live)
	}
	// The worker re-indexes (from its cached token, no new refresh).
	again := waitForIndex(t, search("zebra"))
	if len(again.Results) == 0 || again.Results[0].ID != created.ID {
		t.Fatalf("re-indexed search = %+v", again)
	}
	if n := len(grants(st, idp.GrantRefreshToken)); n != 1 {
		t.Errorf("%d refresh grants in all, want only the worker's first", n)
	}
	// Index-served searches need no Nextcloud call; the write exchanged a
	// token, and so did the search after it unless the worker (woken by
	// the write's invalidation) had already re-indexed by then — which
	// one happens is scheduling, so only the write's exchange is certain.
	if n := len(grants(st, idp.GrantTokenExchange)); n < 1 {
		t.Errorf("%d exchanges for the Nextcloud tool calls", n)
	}
}

// TestWorkerUnprovisionsOnRevokedGrant: when the IdP no longer honours the
// refresh token, the worker drops the grant and the user's index.
func TestWorkerUnprovisionsOnRevokedGrant(t *testing.T) {
	// Tokens that live 61 s are renewed by the broker (1 min early) at
	// every sync, so the worker meets the IdP's refusal at once.
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true,
		SyncInterval: 100 * time.Millisecond, MutateIdP: func(c *idp.Config) { c.AccessTokenTTL = 61 * time.Second }})
	ctx := context.Background()
	token, err := st.Token(ctx, "alice", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, st.MCPURL, token)
	var p struct {
		URL string `json:"authorization_url"`
	}
	mustCall(t, cs, "provision_nextcloud_access", nil, &p)
	approve(t, p.URL)
	waitForIndex(t, func() searchOut {
		var out searchOut
		mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, &out)
		return out
	})
	// The IdP forgets every grant (as after an admin's session purge).
	if err := st.IdP.Reset(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := call(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, nil)
		if res.IsError && strings.Contains(text(res), "provision_nextcloud_access") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the user stayed provisioned after the IdP dropped the grant: %q", text(res))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRevokeWaitsForBackgroundWork: a revocation that arrives while the
// worker syncs the user returns only after the sync is done, and no
// background request reaches Nextcloud after it returned (the worker
// holds the grant while it works: docs/architecture.md §1.4).
func TestRevokeWaitsForBackgroundWork(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour})
	ctx := context.Background()
	token, err := st.Token(ctx, "alice", allScopes)
	require.NoError(t, err)
	cs := connect(t, st.MCPURL, token)
	var p struct {
		URL string `json:"authorization_url"`
	}
	mustCall(t, cs, "provision_nextcloud_access", nil, &p)
	// The sync after provisioning lists the notes slowly.
	const slow = 700 * time.Millisecond
	st.Nextcloud.InjectFault(fakenc.Fault{Pattern: "*/apps/notes/api/v1/notes", Method: http.MethodGet, Delay: slow})
	st.Nextcloud.ResetLog()
	approve(t, p.URL)
	// Wait until the worker's listing is in flight: the fault is consumed
	// when the request arrives.
	require.Eventually(t, func() bool { return len(st.Nextcloud.Faults()) == 0 }, 5*time.Second, 5*time.Millisecond)
	start := time.Now()
	var rev struct {
		Deleted bool `json:"deleted"`
	}
	mustCall(t, cs, "revoke_nextcloud_access", nil, &rev)
	returned := time.Now()
	require.True(t, rev.Deleted)
	assert.GreaterOrEqual(t, returned.Sub(start), slow/2, "the revocation did not wait for the running sync")
	for _, e := range st.Nextcloud.RequestLog() {
		if e.Token != nil && e.Token.Azp == devstack.ServerClientID && e.Token.Act == nil {
			assert.True(t, e.Time.Before(returned), "a background request at %v, after the revocation returned at %v", e.Time, returned)
		}
	}
}
