package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

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
func TestNoSecretInLogs(t *testing.T) {
	for _, mode := range []server.Mode{server.ModeBasic, server.ModePassthrough, server.ModeExchange} {
		t.Run(string(mode), func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			st := devstacktest.Start(t, devstack.Options{Mode: mode, ProgressiveConsent: mode == server.ModeExchange, AutoApprove: true, Logger: logger, SyncInterval: time.Hour})
			token := ""
			if mode != server.ModeBasic {
				var err error
				if token, err = st.Token(context.Background(), "alice", allScopes); err != nil {
					t.Fatal(err)
				}
			}
			cs := connect(t, st.MCPURL, token)
			if mode == server.ModeExchange {
				var p struct {
					URL string `json:"authorization_url"`
				}
				mustCall(t, cs, "provision_nextcloud_access", nil, &p)
				call(t, cs, notes.ToolGetNote, map[string]any{"note_id": 1}, nil) // the gate's error, with a link
				approve(t, p.URL)
			}
			notesCRUD(t, st, token)
			post(t, st.MCPURL, "bogus-token-value", initBody)
			secrets := map[string]string{
				"app password":   fakenc.DefaultAppPassword("alice"),
				"password":       "alice-password",
				"client secret":  devstack.ServerClientSecret,
				"nc secret":      "nextcloud-secret",
				"bad token":      "bogus-token-value",
				"encryption key": st.ServerConfig.TokenEncryptionKey,
			}
			if token != "" {
				secrets["access token"] = token
				secrets["token signature"] = token[strings.LastIndex(token, ".")+1:]
			}
			out := logs.String()
			if len(out) == 0 {
				t.Fatal("no logs captured")
			}
			for name, v := range secrets {
				if v != "" && strings.Contains(out, v) {
					t.Errorf("the logs contain the %s", name)
				}
			}
			if i := strings.Index(out, "state="); i >= 0 {
				t.Logf("%s", out[max(0, i-1500):min(len(out), i+100)])
			}
			if strings.Contains(out, "state=") || strings.Contains(out, "code=") {
				t.Errorf("the logs contain an authorization state or code")
			}
		})
	}
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
