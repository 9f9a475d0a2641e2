package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

var allScopes = scopes.Union([]string{scopes.OpenID, scopes.Profile, scopes.Email}, scopes.Soft)

type writeOut struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	ETag  string `json:"etag"`
}

type noteOut struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Content string `json:"content"`
	ETag    string `json:"etag"`
}

// notesCRUD runs create → get → update with etag → stale update → delete
// and returns the number of tool calls it made.
func notesCRUD(t *testing.T, st *devstack.Stack, token string) int {
	t.Helper()
	cs := connect(t, st.MCPURL, token)
	var created writeOut
	mustCall(t, cs, notes.ToolCreateNote, map[string]any{"title": "Groceries", "content": "milk", "category": "home"}, &created)
	if created.ID <= 0 || created.ETag == "" {
		t.Fatalf("create returned %+v", created)
	}
	var got noteOut
	mustCall(t, cs, notes.ToolGetNote, map[string]any{"note_id": created.ID}, &got)
	if got.Title != "Groceries" || got.Content != "milk" || got.ETag != created.ETag {
		t.Fatalf("get returned %+v", got)
	}
	var updated writeOut
	mustCall(t, cs, notes.ToolUpdateNote, map[string]any{"note_id": created.ID, "etag": got.ETag, "content": "milk, eggs"}, &updated)
	if updated.ETag == "" || updated.ETag == got.ETag {
		t.Fatalf("update kept etag %q", updated.ETag)
	}
	res := call(t, cs, notes.ToolUpdateNote, map[string]any{"note_id": created.ID, "etag": got.ETag, "content": "stale"}, nil)
	if !res.IsError || !strings.Contains(text(res), "changed since") {
		t.Fatalf("stale update: isError=%v text=%q", res.IsError, text(res))
	}
	mustCall(t, cs, notes.ToolDeleteNote, map[string]any{"note_id": created.ID}, nil)
	res = call(t, cs, notes.ToolGetNote, map[string]any{"note_id": created.ID}, nil)
	if !res.IsError || !strings.Contains(text(res), "not found") {
		t.Fatalf("get after delete: isError=%v text=%q", res.IsError, text(res))
	}
	return 6
}

// notesRequests returns the fake Nextcloud's log entries for the Notes API.
func notesRequests(st *devstack.Stack) []fakenc.LogEntry {
	var out []fakenc.LogEntry
	for _, e := range st.Nextcloud.RequestLog() {
		if strings.Contains(e.Path, "/apps/notes/") {
			out = append(out, e)
		}
	}
	return out
}

func grants(st *devstack.Stack, grantType string) []idp.LogEntry {
	var out []idp.LogEntry
	for _, e := range st.IdP.RequestLog() {
		if e.GrantType == grantType {
			out = append(out, e)
		}
	}
	return out
}

func TestBasicMode(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeBasic})
	st.Nextcloud.ResetLog()
	notesCRUD(t, st, "")
	reqs := notesRequests(st)
	if len(reqs) == 0 {
		t.Fatal("no Notes request reached Nextcloud")
	}
	for _, e := range reqs {
		if e.AuthKind != "basic" || e.UID != devstack.BasicUser || e.Token != nil {
			t.Errorf("%s %s: auth %s uid %q, want basic as %s", e.Method, e.Path, e.AuthKind, e.UID, devstack.BasicUser)
		}
	}
}

func TestPassthroughModeForwardsExactlyTheClientToken(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModePassthrough})
	token, err := st.Token(context.Background(), "alice", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	jti := claims(t, token)["jti"]
	st.Nextcloud.ResetLog()
	st.IdP.ResetLog()
	notesCRUD(t, st, token)
	reqs := notesRequests(st)
	if len(reqs) == 0 {
		t.Fatal("no Notes request reached Nextcloud")
	}
	for _, e := range reqs {
		if e.AuthKind != "bearer" || e.Token == nil || e.Token.Jti != jti || e.UID != "alice" {
			t.Errorf("%s %s: auth %s claims %+v, want the client's token (jti %v)", e.Method, e.Path, e.AuthKind, e.Token, jti)
		}
	}
	if n := len(grants(st, idp.GrantTokenExchange)) + len(grants(st, idp.GrantRefreshToken)); n != 0 {
		t.Errorf("pass-through made %d token requests at the IdP", n)
	}
}

// exchangePerCallProblems makes five tool calls in exchange mode, one at a
// time with the fakes' logs reset in between, and returns what breaks the
// rule "per call, one fresh exchange, used for that call only": each call
// makes exactly one exchange, every Nextcloud request of the call carries
// the token of that exchange (one jti, aud Nextcloud, act.sub the server,
// the user's sub, never the client's token), and no jti serves two calls.
func exchangePerCallProblems(t *testing.T, st *devstack.Stack) []string {
	t.Helper()
	token, err := st.Token(context.Background(), "alice", allScopes)
	require.NoError(t, err)
	flow1 := claims(t, token)["jti"]
	cs := connect(t, st.MCPURL, token)
	var created writeOut
	mustCall(t, cs, notes.ToolCreateNote, map[string]any{"title": "Per call", "content": "one", "category": ""}, &created)
	calls := []struct {
		tool string
		args map[string]any
	}{
		{notes.ToolGetNote, map[string]any{"note_id": created.ID}},
		{notes.ToolAppendContent, map[string]any{"note_id": created.ID, "content": "two"}},
		{notes.ToolGetNote, map[string]any{"note_id": created.ID}},
		{notes.ToolSearchNotes, map[string]any{"query": "per call"}},
		{notes.ToolDeleteNote, map[string]any{"note_id": created.ID}},
	}
	var problems []string
	usedBy := map[string]int{} // jti → call
	for i, c := range calls {
		st.Nextcloud.ResetLog()
		st.IdP.ResetLog()
		mustCall(t, cs, c.tool, c.args, nil)
		if n := len(grants(st, idp.GrantTokenExchange)); n != 1 {
			problems = append(problems, fmt.Sprintf("call %d (%s): %d token exchanges, want 1", i+1, c.tool, n))
		}
		if n := len(grants(st, idp.GrantRefreshToken)); n != 0 {
			problems = append(problems, fmt.Sprintf("call %d (%s): %d refresh grants", i+1, c.tool, n))
		}
		reqs := notesRequests(st)
		if len(reqs) == 0 {
			problems = append(problems, fmt.Sprintf("call %d (%s) reached no Notes route", i+1, c.tool))
		}
		jtis := map[string]bool{}
		for _, e := range reqs {
			tc := e.Token
			if e.AuthKind != "bearer" || tc == nil {
				problems = append(problems, fmt.Sprintf("call %d: %s %s with auth %s, want an exchanged bearer token", i+1, e.Method, e.Path, e.AuthKind))
				continue
			}
			if tc.Jti == flow1 {
				problems = append(problems, fmt.Sprintf("call %d: the client's own token reached Nextcloud", i+1))
			}
			if !slices.Contains(tc.Aud, devstack.NextcloudClientID) || tc.Act["sub"] != devstack.ServerClientID || tc.Sub != "alice" {
				problems = append(problems, fmt.Sprintf("call %d: claims %+v, want aud %s, act.sub %s, sub alice", i+1, tc, devstack.NextcloudClientID, devstack.ServerClientID))
			}
			jtis[tc.Jti] = true
		}
		if len(jtis) > 1 {
			problems = append(problems, fmt.Sprintf("call %d used %d exchanged tokens, want one", i+1, len(jtis)))
		}
		for jti := range jtis {
			if prev, ok := usedBy[jti]; ok {
				problems = append(problems, fmt.Sprintf("call %d reused the exchanged token of call %d", i+1, prev))
			}
			usedBy[jti] = i + 1
		}
	}
	return problems
}

// TestExchangeModeUsesOneFreshExchangedTokenPerCall: docs/architecture.md
// §2.1 — an exchanged token serves one call and is never cached.
func TestExchangeModeUsesOneFreshExchangedTokenPerCall(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	assert.Empty(t, exchangePerCallProblems(t, st))
}

// TestExchangePerCallCatchesReuse: the check above fails against a server
// that exchanges on every call but sends Nextcloud the first token it got
// for the user (a cache the exchange count alone does not show).
func TestExchangePerCallCatchesReuse(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: server.WithBrokenVariant("exchanged-token-reuse")})
	problems := exchangePerCallProblems(t, st)
	assert.NotEmpty(t, problems, "the per-call check did not notice a reused exchanged token")
	assert.Contains(t, strings.Join(problems, "\n"), "reused the exchanged token")
}

func TestExchangeFailureFailsTheCallWithoutFallback(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	token, err := st.Token(context.Background(), "alice", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, st.MCPURL, token)
	st.IdP.SetTokenExchange(false)
	st.Nextcloud.ResetLog()
	res := call(t, cs, notes.ToolGetNote, map[string]any{"note_id": 1}, nil)
	if !res.IsError || !strings.Contains(text(res), "unsupported_grant_type") || !strings.Contains(text(res), "ENABLE_TOKEN_EXCHANGE") {
		t.Fatalf("isError=%v text=%q, want an exchange error naming the cause and the remedy", res.IsError, text(res))
	}
	if strings.Contains(text(res), token) {
		t.Fatal("tool error contains the token")
	}
	if n := len(notesRequests(st)); n != 0 {
		t.Errorf("%d requests reached Nextcloud after a failed exchange", n)
	}
}
