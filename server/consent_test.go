package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

var urlRE = regexp.MustCompile(`https?://[^\s"]+`)

// approve plays the user's browser: it opens the authorization URL; the
// fake IdP (auto-approve) redirects to the server's callback.
func approve(t *testing.T, authURL string) string {
	t.Helper()
	page, _ := approveAt(t, authURL)
	return page
}

// approveAt is approve that also returns the callback URL the IdP
// redirected to (with its code and state).
func approveAt(t *testing.T, authURL string) (page, callbackURL string) {
	t.Helper()
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(resp.Request.URL.Path, "/oauth/callback") {
		t.Fatalf("authorization ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, b)
	}
	return string(b), resp.Request.URL.String()
}

func TestProgressiveConsentEndToEnd(t *testing.T) {
	dir := t.TempDir()
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, DataDir: dir, SyncInterval: time.Hour})
	ctx := context.Background()
	token, err := st.Token(ctx, "alice", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, st.MCPURL, token)

	// Unprovisioned: every Nextcloud tool refuses, naming the tool and
	// carrying the link; Nextcloud is not asked.
	st.Nextcloud.ResetLog()
	res := call(t, cs, notes.ToolSearchNotes, map[string]any{"query": "x"}, nil)
	msg := text(res)
	if !res.IsError || !strings.Contains(msg, "provision_nextcloud_access") {
		t.Fatalf("unprovisioned call: isError=%v %q", res.IsError, msg)
	}
	link := urlRE.FindString(msg)
	if !strings.HasPrefix(link, st.IdPURL+"/authorize?") || !strings.Contains(link, "code_challenge_method=S256") ||
		!strings.Contains(link, "offline_access") || !strings.Contains(link, "prompt=consent") || !strings.Contains(link, "login_hint=alice") {
		t.Fatalf("authorization link %q", link)
	}
	if n := len(st.Nextcloud.RequestLog()); n != 0 {
		t.Fatalf("%d requests reached Nextcloud for an unprovisioned user", n)
	}
	var status struct {
		Provisioned bool `json:"provisioned"`
	}
	mustCall(t, cs, "check_provisioning_status", nil, &status)
	if status.Provisioned {
		t.Fatal("provisioned before consent")
	}

	// The user approves; the callback stores the grant.
	page, callbackURL := approveAt(t, link)
	if !strings.Contains(page, "provisioned") {
		t.Fatalf("callback page: %s", page)
	}
	if u, err := url.Parse(callbackURL); err != nil || u.Query().Get("code") == "" || u.Query().Get("state") == "" {
		t.Fatalf("callback URL %q lacks a code or state", callbackURL)
	}
	// The state is single-use: replaying the very callback the IdP sent
	// (same code, same state) is refused as a replay, and the code is not
	// sent to the IdP again.
	st.IdP.ResetLog()
	replay, err := http.Get(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	replayPage, _ := io.ReadAll(replay.Body)
	replay.Body.Close()
	if replay.StatusCode != 400 || !strings.Contains(string(replayPage), "already used") {
		t.Errorf("replayed callback: status %d, page %s; want 400 naming the replay", replay.StatusCode, replayPage)
	}
	if n := len(grants(st, idp.GrantAuthorizationCode)); n != 0 {
		t.Errorf("the replayed code was redeemed again (%d code grants)", n)
	}

	mustCall(t, cs, "check_provisioning_status", nil, &status)
	if !status.Provisioned {
		t.Fatal("not provisioned after consent")
	}
	st.IdP.ResetLog()
	mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, nil)
	mustCall(t, cs, notes.ToolGetNote, map[string]any{"note_id": firstNoteID(t, cs)}, nil)
	if n := len(grants(st, idp.GrantRefreshToken)); n > 1 {
		// At most the worker's one sync after provisioning.
		t.Errorf("%d refresh grants around two tool calls", n)
	}
	for _, e := range grants(st, idp.GrantRefreshToken) {
		if e.ClientID != devstack.ServerClientID {
			t.Errorf("refresh grant by %s", e.ClientID)
		}
	}

	// The refresh token is in the store, and only encrypted on disk.
	key, err := tokenstore.ParseKey(st.ServerConfig.TokenEncryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	store, err := tokenstore.Open(ctx, st.ServerConfig.TokenStorageDB, key, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	grant, err := store.Get(ctx, "alice")
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte(grant.RefreshToken)
	if len(secret) < 16 {
		t.Fatalf("implausible refresh token length %d", len(secret))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, secret) {
			t.Errorf("%s holds the refresh token in plaintext", f)
		}
		if fi, _ := os.Stat(f); filepath.Base(f) == "tokens.db" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}

	// Revoke: the IdP is told (RFC 7009), the grant is gone, tools refuse again.
	st.IdP.ResetLog()
	var rev struct {
		Deleted      bool `json:"deleted"`
		RevokedAtIdP bool `json:"revoked_at_idp"`
	}
	mustCall(t, cs, "revoke_nextcloud_access", nil, &rev)
	if !rev.Deleted || !rev.RevokedAtIdP {
		t.Errorf("revoke = %+v", rev)
	}
	revoked := false
	for _, e := range st.IdP.RequestLog() {
		if e.Endpoint == "revoke" && e.ClientID == devstack.ServerClientID && e.Status == 200 {
			revoked = true
		}
	}
	if !revoked {
		t.Errorf("the IdP saw no revocation: %+v", st.IdP.RequestLog())
	}
	res = call(t, cs, notes.ToolSearchNotes, map[string]any{"query": "x"}, nil)
	if !res.IsError || !strings.Contains(text(res), "provision_nextcloud_access") {
		t.Errorf("after revoke: isError=%v %q", res.IsError, text(res))
	}
}

// TestConsentIsBoundToTheUser: bob cannot complete alice's link.
func TestConsentIsBoundToTheUser(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour})
	token, err := st.Token(context.Background(), "alice", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, st.MCPURL, token)
	var out struct {
		URL string `json:"authorization_url"`
	}
	mustCall(t, cs, "provision_nextcloud_access", nil, &out)
	st.IdP.ResetLog()
	// Bob's browser opens alice's link.
	link := strings.Replace(out.URL, "login_hint=alice", "login_hint=bob", 1)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "not the one that asked") {
		t.Errorf("bob completing alice's link: %d %s", resp.StatusCode, b)
	}
	// The server redeemed bob's code before it could see whose it was:
	// the grant is revoked at the IdP, not left behind for 30 days.
	if n := revocations(st); n != 1 {
		t.Errorf("%d revocations of bob's refused grant, want 1", n)
	}
	var status struct {
		Provisioned bool `json:"provisioned"`
	}
	mustCall(t, cs, "check_provisioning_status", nil, &status)
	if status.Provisioned {
		t.Error("alice got bob's grant")
	}
}

// firstNoteID returns the id of one of the user's notes.
func firstNoteID(t *testing.T, cs *mcp.ClientSession) int64 {
	t.Helper()
	var out struct {
		Results []struct {
			ID int64 `json:"id"`
		} `json:"results"`
	}
	mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": ""}, &out)
	if len(out.Results) == 0 {
		t.Fatal("the user has no notes")
	}
	return out.Results[0].ID
}
