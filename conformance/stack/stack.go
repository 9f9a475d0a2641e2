// Package stack starts the in-repo system (server/devstack: fake IdP, fake
// Nextcloud, MCP server) in-process as conformance targets, one per mode.
// It is the only part of the suite that imports the server, and only to
// start it: the checks see nothing but URLs, the fakes' /_fake/ control
// APIs, the server's log lines and its token database file.
package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
)

// Options describes one in-process target.
type Options struct {
	Name        string
	Description string
	Mode        server.Mode
	// ProgressiveConsent turns Flow 2 on (with the fake IdP approving
	// at once and a tap in front of the IdP).
	ProgressiveConsent bool
	// HashedUID makes the fake Nextcloud map sub to user_oidc's hashed uid.
	HashedUID bool
	// GradeIdP and GradeNextcloud also grade the fakes themselves.
	GradeIdP, GradeNextcloud bool
	// OfficialScript, when set, runs the official suite (basic mode) or
	// the TypeScript SDK client probe (OAuth modes).
	OfficialScript string
	// Only restricts the graded requirements to these IDs (nil = all).
	Only []string
	// MutateServer adjusts the server's configuration (the self-test
	// uses it to select a broken variant).
	MutateServer func(*server.Config)
}

// Users of the fakes' default seed.
var users = [2]string{"alice", "bob"}

// logBuffer collects the stack's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 64<<20 {
		b.buf.Write(p)
	}
	return len(p), nil
}

// serverLines returns the MCP server's own log lines (the fakes log under
// other components).
func (b *logBuffer) serverLines() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out bytes.Buffer
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if bytes.Contains(line, []byte(`"component":"nextcloud-mcp"`)) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// Start brings a stack up and describes it as a target.
func Start(ctx context.Context, o Options) (*grade.Target, func() error, error) {
	return start(ctx, o)
}

func start(ctx context.Context, o Options) (*grade.Target, func() error, error) {
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := devstack.Options{
		Mode:               o.Mode,
		ProgressiveConsent: o.ProgressiveConsent,
		AutoApprove:        true,
		Logger:             logger,
		// No background refresh during the checks: invariant 1 is graded
		// on the IdP's log, where a worker's refresh would be noise.
		SyncInterval: 30 * time.Minute,
		MutateServer: o.MutateServer,
	}
	var tp *tap
	if o.ProgressiveConsent {
		tp = newTap()
		opts.WrapIdP = tp.wrap
	}
	if o.HashedUID {
		opts.MutateNextcloud = func(c *fakenc.Config) { c.UIDMapping = fakenc.UIDHashed }
	}
	st, err := devstack.Start(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("devstack: %w", err)
	}
	stop := st.Close

	hc := grade.NewHTTPClient(20 * time.Second)
	rec := grade.NewRecorder(16<<20, hostOf(st.BaseURL))
	rhc := grade.NewRecordingClient(20*time.Second, rec)
	idpCtl := fakectl.NewIdP(st.IdPURL, hc)
	ncCtl := fakectl.NewNextcloud(st.NextcloudURL, hc)
	mode := string(st.Mode)
	t := &grade.Target{
		Name:        o.Name,
		Description: o.Description,
		HTTP:        rhc,
		Recorder:    rec,
		MCP: &grade.MCP{
			URL:                st.MCPURL,
			Mode:               mode,
			Issuer:             st.IdPURL,
			ProgressiveConsent: st.ServerConfig.EnableProgressiveConsent,
			ServerClientID:     devstack.ServerClientID,
			NextcloudAudience:  devstack.NextcloudClientID,
			Users:              users,
			IdPControl:         idpCtl,
			NCControl:          ncCtl,
			Approve:            grade.FakeIdPApprove(hc),
			TokenDB:            st.ServerConfig.TokenStorageDB,
			Introspector:       &grade.ClientCredentials{ID: devstack.ServerClientID, Secret: devstack.ServerClientSecret},
			ServerLog:          logs.serverLines,
			Secrets:            nonEmpty(devstack.ServerClientSecret, st.ServerConfig.NextcloudPassword, st.ServerConfig.TokenEncryptionKey, st.ServerConfig.OIDCClientSecret),
		},
	}
	if st.Mode != server.ModeBasic {
		resource := st.MCPURL
		if st.Mode == server.ModePassthrough {
			// A passed-through token must be valid at Nextcloud too: the
			// client asks for its default audiences (see devstack.Token).
			resource = ""
		}
		t.MCP.Tokens = grade.ControlTokens{Control: idpCtl, ClientID: devstack.MCPClientID, Resource: resource}
	}
	if tp != nil {
		t.MCP.Tap = tp
	}
	if o.GradeIdP {
		t.IdP = fakeIdPTarget(st.IdPURL, idpCtl)
	}
	if o.GradeNextcloud {
		t.Nextcloud = &grade.Nextcloud{URL: st.NextcloudURL, User: users[0], Password: users[0] + "-password"}
	}
	if o.OfficialScript != "" {
		t.Official = &grade.Official{Script: o.OfficialScript}
		if st.Mode == server.ModeBasic {
			t.Official.URL = st.MCPURL
		} else {
			t.Official.OAuthURL = st.MCPURL
		}
	}
	return t, stop, nil
}

// fakeIdPTarget grades a fake IdP with its default clients.
func fakeIdPTarget(issuer string, ctl *fakectl.IdP) *grade.IdP {
	return &grade.IdP{
		Issuer:           issuer,
		PublicClientID:   devstack.MCPClientID,
		RedirectURI:      "http://127.0.0.1:53682/callback",
		Confidential:     &grade.ClientCredentials{ID: devstack.ServerClientID, Secret: devstack.ServerClientSecret},
		ExchangeAudience: devstack.NextcloudClientID,
		SubjectToken: func(ctx context.Context) (string, error) {
			// The public client's default audiences name the server's
			// client, so the server's client may exchange it.
			res, err := ctl.Issue(ctx, fakectl.IssueRequest{ClientID: devstack.MCPClientID, Username: users[0], Scopes: []string{"openid", "notes:read"}})
			if err != nil {
				return "", err
			}
			return res.AccessToken, nil
		},
		RefreshToken: func(ctx context.Context) (string, error) {
			res, err := ctl.Issue(ctx, fakectl.IssueRequest{ClientID: devstack.MCPClientID, Username: users[0], Scopes: []string{"openid", "notes:read"}, Offline: true})
			if err != nil {
				return "", err
			}
			if res.RefreshToken == "" {
				return "", errors.New("the fake IdP issued no refresh token with offline access")
			}
			return res.RefreshToken, nil
		},
		Control: ctl,
	}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func hostOf(base string) string {
	return strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
}

// DefaultOptions are the in-process targets `make conformance` grades.
func DefaultOptions(officialScript string) []Options {
	return []Options{
		{Name: "exchange", Description: "in-process stack, exchange mode (RFC 8693 per call); also grades the fake IdP and the fake Nextcloud, and runs the TypeScript SDK client probe",
			Mode: server.ModeExchange, GradeIdP: true, GradeNextcloud: true, OfficialScript: officialScript},
		{Name: "exchange+consent", Description: "in-process stack, exchange mode with progressive consent (Flow 2), a tap in front of the IdP",
			Mode: server.ModeExchange, ProgressiveConsent: true},
		{Name: "exchange+hashed-uid", Description: "in-process stack, exchange mode; the fake Nextcloud maps sub to user_oidc's hashed uid",
			Mode: server.ModeExchange, HashedUID: true, Only: []string{"MODE-2", "INV-5", "INV-4"}},
		{Name: "passthrough", Description: "in-process stack, pass-through mode (the client's token is forwarded)",
			Mode: server.ModePassthrough},
		{Name: "basic", Description: "in-process stack, basic mode (app password, no inbound auth); runs the official MCP suite",
			Mode: server.ModeBasic, OfficialScript: officialScript},
	}
}
