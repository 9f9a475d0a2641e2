package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
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

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFailuresStayWithTheirRequest: Nextcloud failing, slow or the IdP
// refusing gives that one call a clear error; the next call works, and
// other users are served meanwhile.
func TestFailuresStayWithTheirRequest(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: func(c *server.Config) { c.HTTPTimeout = 2 * time.Second }})
	ctx := context.Background()
	alice, err := st.Token(ctx, "alice", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := st.Token(ctx, "bob", allScopes)
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := connect(t, st.MCPURL, alice), connect(t, st.MCPURL, bob)
	id := firstNoteID(t, ca)
	tests := []struct {
		name    string
		inject  func()
		wantErr string
	}{
		{"nextcloud 503", func() {
			st.Nextcloud.InjectFault(fakenc.Fault{Pattern: "*/notes/*", Status: 503, Count: 10})
		}, "unavailable"},
		{"nextcloud 500", func() {
			st.Nextcloud.InjectFault(fakenc.Fault{Pattern: "*/notes/*", Status: 500, Count: 10})
		}, "500"},
		{"nextcloud too slow", func() {
			st.Nextcloud.InjectFault(fakenc.Fault{Pattern: "*/notes/*", Delay: 5 * time.Second, Count: 10})
		}, "did not answer"},
		{"idp refuses the exchange", func() {
			st.IdP.InjectFault(idp.Fault{Endpoint: "token", Status: 503})
		}, "identity provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.inject()
			res := call(t, ca, notes.ToolGetNote, map[string]any{"note_id": id}, nil)
			if !res.IsError || !strings.Contains(strings.ToLower(text(res)), strings.ToLower(tt.wantErr)) {
				t.Errorf("isError=%v %q, want an error mentioning %q", res.IsError, text(res), tt.wantErr)
			}
			st.Nextcloud.ClearFaults()
			st.IdP.ClearFaults()
			mustCall(t, cb, notes.ToolSearchNotes, map[string]any{"query": "x"}, nil)
			mustCall(t, ca, notes.ToolGetNote, map[string]any{"note_id": id}, nil)
		})
	}
}

// TestBadArguments: wrong types, unknown fields, missing fields and huge
// values are tool errors with clear text, not crashes.
func TestBadArguments(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeBasic})
	cs := connect(t, st.MCPURL, "")
	tests := []struct {
		name string
		tool string
		args map[string]any
		want string
	}{
		{"wrong type", notes.ToolGetNote, map[string]any{"note_id": "seven"}, "note_id"},
		{"unknown field", notes.ToolGetNote, map[string]any{"note_id": 1, "bogus": true}, "bogus"},
		{"missing field", notes.ToolUpdateNote, map[string]any{"note_id": 1}, "etag"},
		{"negative id", notes.ToolGetNote, map[string]any{"note_id": -3}, "positive"},
		{"empty title", notes.ToolCreateNote, map[string]any{"title": "", "content": "x", "category": ""}, "title"},
		{"huge content", notes.ToolCreateNote, map[string]any{"title": "big", "content": strings.Repeat("x", 2<<20), "category": ""}, "MiB"},
		{"attachment name with a path", notes.ToolGetAttachment, map[string]any{"note_id": 1, "attachment_filename": "../../etc/passwd"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, cs, tt.tool, tt.args, nil)
			if !res.IsError || !strings.Contains(text(res), tt.want) {
				t.Errorf("isError=%v %q, want an error mentioning %q", res.IsError, text(res), tt.want)
			}
		})
	}
	// The session still works.
	mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, nil)
	// A request body over the transport's limit is refused, not read.
	resp := post(t, st.MCPURL, "", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"`+strings.Repeat("a", 5<<20)+`"}}`)
	if resp.StatusCode != 413 && resp.StatusCode != 400 {
		t.Errorf("oversized body: status %d", resp.StatusCode)
	}
}

// TestNoSecretInLogs runs every mode's flows with logs captured and looks
// for any token, password or secret the run used.
// issuedTokens is a tap in front of the fake IdP: it keeps every token
// the token endpoint hands out (access, refresh and ID tokens of every
// grant: Flow 1, exchanges, Flow 2 codes and refreshes), to look for them
// where no token may be.
type issuedTokens struct {
	mu     sync.Mutex
	tokens map[string]string // token → what it is
}

func (it *issuedTokens) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/token") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "tap: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body)) // a malformed form is the IdP's to refuse
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes()) // the server under test reads it; a failure shows there
		var resp struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			IDToken      string `json:"id_token"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
			return
		}
		grant := form.Get("grant_type")
		it.mu.Lock()
		defer it.mu.Unlock()
		if it.tokens == nil {
			it.tokens = map[string]string{}
		}
		for kind, tok := range map[string]string{"access token": resp.AccessToken, "refresh token": resp.RefreshToken, "ID token": resp.IDToken} {
			if tok != "" {
				it.tokens[tok] = kind + " of a " + grant + " grant"
			}
		}
	})
}

func (it *issuedTokens) all() map[string]string {
	it.mu.Lock()
	defer it.mu.Unlock()
	return maps.Clone(it.tokens)
}

// secretLeaks runs the whole life of a user in mode — provisioning (in
// exchange mode, with progressive consent and the worker's refresh), notes
// CRUD, a bad token — with debug logging, and returns every secret found
// in the server's log: passwords, client secrets, the encryption key, the
// client's token, and every token the IdP issued (exchanged tokens, Flow 2
// refresh and access tokens, rotated ones), whole or by signature.
func secretLeaks(t *testing.T, mode server.Mode, mutate func(*server.Config)) []string {
	t.Helper()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tap := &issuedTokens{}
	st := devstacktest.Start(t, devstack.Options{Mode: mode, ProgressiveConsent: mode == server.ModeExchange, AutoApprove: true,
		Logger: logger, SyncInterval: time.Hour, WrapIdP: tap.wrap, MutateServer: mutate})
	token := ""
	if mode != server.ModeBasic {
		var err error
		token, err = st.Token(context.Background(), "alice", allScopes)
		require.NoError(t, err)
	}
	cs := connect(t, st.MCPURL, token)
	if mode == server.ModeExchange {
		var p struct {
			URL string `json:"authorization_url"`
		}
		mustCall(t, cs, "provision_nextcloud_access", nil, &p)
		call(t, cs, notes.ToolGetNote, map[string]any{"note_id": 1}, nil) // the gate's error, with a link
		approve(t, p.URL)
		// The worker syncs the new user at once: a refresh grant, whose
		// access token and rotated refresh token are secrets too.
		require.Eventually(t, func() bool { return len(grants(st, idp.GrantRefreshToken)) > 0 }, 10*time.Second, 20*time.Millisecond)
	}
	notesCRUD(t, st, token)
	post(t, st.MCPURL, "bogus-token-value", initBody)
	secrets := map[string]string{
		"bogus-token-value":                "the bad token",
		fakenc.DefaultAppPassword("alice"): "the app password",
		"alice-password":                   "the password",
		devstack.ServerClientSecret:        "the client secret",
		"nextcloud-secret":                 "Nextcloud's client secret",
		st.ServerConfig.TokenEncryptionKey: "the encryption key",
		token:                              "the client's access token",
	}
	for tok, what := range tap.all() {
		secrets[tok] = what
		if i := strings.LastIndex(tok, "."); i > 0 && len(tok)-i > 16 {
			secrets[tok[i+1:]] = "the signature of the " + what
		}
	}
	if mode == server.ModeExchange {
		kinds := strings.Join(slices.Collect(maps.Values(tap.all())), ", ")
		require.Contains(t, kinds, "access token of a "+idp.GrantTokenExchange, "the tap saw no exchanged token")
		require.Contains(t, kinds, "refresh token of a refresh_token grant", "the tap saw no rotated refresh token")
	}
	out := logs.String()
	require.NotEmpty(t, out, "no logs captured")
	var leaks []string
	for v, what := range secrets {
		if v != "" && strings.Contains(out, v) {
			leaks = append(leaks, what)
		}
	}
	if strings.Contains(out, "state=") || strings.Contains(out, "code=") {
		leaks = append(leaks, "an authorization state or code")
	}
	slices.Sort(leaks)
	return leaks
}

// TestNoSecretInLogs: docs/architecture.md §2.2 invariant 4.
func TestNoSecretInLogs(t *testing.T) {
	for _, mode := range []server.Mode{server.ModeBasic, server.ModePassthrough, server.ModeExchange} {
		t.Run(string(mode), func(t *testing.T) {
			assert.Empty(t, secretLeaks(t, mode, nil))
		})
	}
}

// TestSecretScanCatchesIssuedTokens: the scan above finds exchanged
// tokens and Flow 2 refresh tokens in the log of a server that logs them
// (the log-issued-tokens variant), which the old scan, knowing only the
// client's token and the configured secrets, could not.
func TestSecretScanCatchesIssuedTokens(t *testing.T) {
	leaks := strings.Join(secretLeaks(t, server.ModeExchange, server.WithBrokenVariant("log-issued-tokens")), "; ")
	assert.Contains(t, leaks, "access token of a "+idp.GrantTokenExchange)
	assert.Contains(t, leaks, "refresh token of a authorization_code grant")
}

// TestNoGoroutineLeak: a stack that served sessions and failures leaves
// no goroutine behind once closed.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		st, err := devstack.Start(context.Background(), devstack.Options{Mode: server.ModeExchange})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		token, err := st.Token(context.Background(), "alice", allScopes)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			cs := connect(t, st.MCPURL, token)
			mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": "x"}, nil)
			cs.Close()
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		now := runtime.NumGoroutine()
		if now <= before+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after closing the stack:\n%s", before, now, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
