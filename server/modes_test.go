package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

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

func TestExchangeModeUsesOneFreshExchangedTokenPerCall(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	token, err := st.Token(context.Background(), "alice", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	flow1 := claims(t, token)["jti"]
	st.Nextcloud.ResetLog()
	st.IdP.ResetLog()
	calls := notesCRUD(t, st, token)

	reqs := notesRequests(st)
	if len(reqs) == 0 {
		t.Fatal("no Notes request reached Nextcloud")
	}
	seen := map[string]bool{}
	for _, e := range reqs {
		c := e.Token
		if e.AuthKind != "bearer" || c == nil {
			t.Fatalf("%s %s: auth %s, want an exchanged bearer token", e.Method, e.Path, e.AuthKind)
		}
		if c.Jti == flow1 {
			t.Errorf("%s %s: the client's Flow 1 token reached Nextcloud", e.Method, e.Path)
		}
		if !slices.Contains(c.Aud, devstack.NextcloudClientID) || c.Act["sub"] != devstack.ServerClientID || c.Sub != "alice" {
			t.Errorf("%s %s: claims %+v, want aud %s, act.sub %s, sub alice", e.Method, e.Path, c, devstack.NextcloudClientID, devstack.ServerClientID)
		}
		seen[c.Jti] = true
	}
	ex := grants(st, idp.GrantTokenExchange)
	if len(ex) != calls {
		t.Errorf("%d token exchanges for %d tool calls, want one per call", len(ex), calls)
	}
	for _, e := range ex {
		if e.ClientID != devstack.ServerClientID || e.Outcome != "ok" {
			t.Errorf("exchange log entry %+v", e)
		}
	}
	if len(seen) > calls {
		t.Errorf("%d distinct exchanged tokens for %d calls", len(seen), calls)
	}
	if n := len(grants(st, idp.GrantRefreshToken)); n != 0 {
		t.Errorf("%d refresh grants during tool calls, want none", n)
	}
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
