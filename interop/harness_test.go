//go:build interop

package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/asclient"
	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
)

const (
	serverClientID = "nextcloud-mcp-server"
	serverSecret   = "interop-server-secret"
	loopbackCB     = "http://127.0.0.1:53682/callback"
)

// lockedBuffer collects a process's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// deployment is one nextcloud-mcp deployment on oidc-provider: the IdP as
// a Node process (run-idp.sh), the fake Nextcloud verifying its tokens
// (user_oidc's bearer check against the same issuer), and the MCP server
// configured by server.Config as a deployment would set its variables.
type deployment struct {
	Mode                  server.Mode
	Issuer, MCPURL, NCURL string
	BaseURL, LogPath      string
	TokenDB               string
	Nextcloud             *fakenc.Nextcloud
	idpOut                *lockedBuffer
	httpServers           []*http.Server
	srv                   *server.Server
	cancel                context.CancelFunc
	wg                    sync.WaitGroup
}

type options struct {
	mode    server.Mode
	consent bool
	// idpEnv overrides provider.mjs's environment (a misconfigured IdP).
	idpEnv map[string]string
	// server adjusts the server's configuration.
	server func(*server.Config)
}

// startIdP runs run-idp.sh with env and returns its issuer; the process
// is stopped (SIGTERM, then killed) by t.Cleanup.
func startIdP(t *testing.T, env map[string]string) (string, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command("bash", "run-idp.sh")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &lockedBuffer{}
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct {
				Ready  bool   `json:"ready"`
				Issuer string `json:"issuer"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Ready {
				ready <- line.Issuer
			}
			_, _ = out.Write(append(sc.Bytes(), '\n'))
		}
	}()
	select {
	case iss := <-ready:
		return iss, out
	case <-exited:
		t.Fatalf("oidc-provider exited before it was ready; its output:\n%s", out)
	case <-time.After(90 * time.Second):
		t.Fatalf("oidc-provider was not ready within 90 s; its output:\n%s", out)
	}
	return "", nil
}

// start brings a deployment up; t.Cleanup takes it down.
func start(t *testing.T, o options) *deployment {
	t.Helper()
	ncLn, ncURL, err := serve.Listen("127.0.0.1:0")
	require.NoError(t, err)
	mcpLn, baseURL, err := serve.Listen("127.0.0.1:0")
	require.NoError(t, err)
	d := &deployment{Mode: o.mode, NCURL: ncURL, BaseURL: baseURL, MCPURL: baseURL + "/mcp"}
	env := map[string]string{
		"MCP_URL": d.MCPURL, "NEXTCLOUD_URL": ncURL, "SERVER_CALLBACK": baseURL + "/oauth/callback",
		"SERVER_SECRET": serverSecret, "MODE": string(o.mode),
	}
	for k, v := range o.idpEnv {
		env[k] = v
	}
	d.Issuer, d.idpOut = startIdP(t, env)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("oidc-provider's output:\n%s", d.idpOut)
		}
	})

	dir := t.TempDir()
	d.LogPath = filepath.Join(dir, "server.log")
	logFile, err := os.OpenFile(d.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ncfg := fakenc.DefaultConfig()
	ncfg.OIDCIssuer = d.Issuer
	ncfg.ControlAPI = true
	ncfg.Logger = logger.With("component", "fake-nextcloud")
	d.Nextcloud, err = fakenc.New(ncfg)
	require.NoError(t, err)
	d.serve(ncLn, d.Nextcloud)

	cfg := server.Config{
		Listen: mcpLn.Addr().String(), PublicURL: baseURL, Transport: "http",
		NextcloudHost: ncURL, NextcloudAudience: "nextcloud",
		OIDCDiscoveryURL: d.Issuer, OIDCClientID: serverClientID, OIDCClientSecret: serverSecret,
		EnableTokenExchange: o.mode == server.ModeExchange,
		SyncInterval:        time.Hour, HTTPTimeout: 15 * time.Second,
	}
	if o.consent {
		cfg.EnableProgressiveConsent = true
		d.TokenDB = filepath.Join(dir, "tokens.db")
		cfg.TokenStorageDB = d.TokenDB
		cfg.TokenEncryptionKey, err = tokenstore.GenerateKey()
		require.NoError(t, err)
	}
	if o.server != nil {
		o.server(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.srv, err = server.New(ctx, cfg, logger.With("component", "nextcloud-mcp"))
	require.NoError(t, err, "the server could not start on this IdP")
	d.serve(mcpLn, d.srv.Handler())
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.srv.Run(ctx) }()
	t.Cleanup(func() {
		d.cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		for _, s := range d.httpServers {
			if s.Shutdown(sctx) != nil {
				_ = s.Close()
			}
		}
		d.wg.Wait()
		_ = d.srv.Close()
		_ = d.Nextcloud.Close()
		_ = logFile.Close()
	})
	return d
}

func (d *deployment) serve(ln net.Listener, h http.Handler) {
	s := serve.NewServer(h, serve.Limits{})
	d.httpServers = append(d.httpServers, s)
	d.wg.Add(1)
	go func() { defer d.wg.Done(); _ = s.Serve(ln) }()
}

// metadata discovers the IdP from the MCP server, as a client does: its
// 401 challenge names the Protected Resource Metadata (RFC 9728), which
// names the authorization server (RFC 8414).
func (d *deployment) metadata(t *testing.T) *asclient.Metadata {
	md, _ := d.discover(t)
	return md
}

// discover is metadata, plus the scopes the server advertises.
func (d *deployment) discover(t *testing.T) (*asclient.Metadata, []string) {
	t.Helper()
	resp, err := http.Post(d.MCPURL, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	m := regexp.MustCompile(`resource_metadata="([^"]+)"`).FindStringSubmatch(resp.Header.Get("WWW-Authenticate"))
	require.Len(t, m, 2, "no resource_metadata in %q", resp.Header.Get("WWW-Authenticate"))
	prmResp, err := http.Get(m[1])
	require.NoError(t, err)
	defer prmResp.Body.Close()
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	require.NoError(t, json.NewDecoder(prmResp.Body).Decode(&prm))
	require.Equal(t, d.MCPURL, prm.Resource)
	require.Equal(t, []string{d.Issuer}, prm.AuthorizationServers)
	md, err := asclient.Discover(context.Background(), http.DefaultClient, prm.AuthorizationServers[0])
	require.NoError(t, err)
	return md, prm.ScopesSupported
}

// register registers a public client dynamically (RFC 7591), as an MCP
// client does, with every scope the server advertises, and returns its id.
func register(t *testing.T, md *asclient.Metadata, scope string) string {
	t.Helper()
	require.NotEmpty(t, md.RegistrationEndpoint, "the IdP offers no dynamic registration")
	body, _ := json.Marshal(map[string]any{
		"client_name": "interop MCP client", "application_type": "native", "redirect_uris": []string{loopbackCB},
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"token_endpoint_auth_method": "none", "scope": scope,
	})
	resp, err := http.Post(md.RegistrationEndpoint, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "registration: %s", b)
	var reg struct {
		ClientID string `json:"client_id"`
	}
	require.NoError(t, json.Unmarshal(b, &reg))
	return reg.ClientID
}

// browser plays a person at the IdP's own pages: it follows redirects with
// its cookies, fills the login form's login field (oidc-provider's pages
// accept any password) and submits the consent form, until a redirect
// leaves the IdP for stop. The redirect is fetched when fetch is set (the
// MCP server's callback) and returned as is otherwise (a client's
// loopback redirect URI, where nothing listens).
type browser struct {
	hc   *http.Client
	user string
}

func newBrowser(user string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{user: user, hc: &http.Client{Jar: jar, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	formRE  = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input([^>]*)>`)
	attrRE  = func(name string) *regexp.Regexp { return regexp.MustCompile(name + `="([^"]*)"`) }
)

// page is where the browser ended.
type page struct {
	URL    *url.URL
	Status int
	Body   string
}

func (b *browser) visit(ctx context.Context, start, stop string, fetch bool) (*page, error) {
	next, method, form := start, http.MethodGet, url.Values(nil)
	for hop := 0; hop < 16; hop++ {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, next, body)
		if err != nil {
			return nil, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := b.hc.Do(req)
		if err != nil {
			return nil, err
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		here := resp.Request.URL
		if strings.HasPrefix(here.String(), stop) {
			return &page{URL: here, Status: resp.StatusCode, Body: string(raw)}, nil
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			u, err := here.Parse(loc)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(u.String(), stop) && !fetch {
				return &page{URL: u, Status: resp.StatusCode}, nil
			}
			next, method, form = u.String(), http.MethodGet, nil
			continue
		}
		f := formRE.FindStringSubmatch(string(raw))
		if f == nil {
			return nil, fmt.Errorf("no form at %s (HTTP %d): %.300s", here.Path, resp.StatusCode, raw)
		}
		action, err := here.Parse(strings.ReplaceAll(f[1], "&amp;", "&"))
		if err != nil {
			return nil, err
		}
		form = url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			name := attrRE("name").FindStringSubmatch(in[1])
			if name == nil {
				continue
			}
			v := ""
			if m := attrRE("value").FindStringSubmatch(in[1]); m != nil {
				v = m[1]
			}
			switch name[1] {
			case "login", "username":
				v = b.user
			case "password":
				v = "any password"
			}
			form.Set(name[1], v)
		}
		next, method = action.String(), http.MethodPost
	}
	return nil, errors.New("too many redirects and forms")
}

// tokens runs a code flow with PKCE for clientID as user and returns the
// token response.
func tokens(t *testing.T, md *asclient.Metadata, clientID, user, scope, resource string) *asclient.Answer {
	t.Helper()
	ctx := context.Background()
	f := &asclient.CodeFlow{ClientID: clientID, RedirectURI: loopbackCB, Scope: scope, Resource: resource}
	authURL, err := f.AuthorizationURL(md)
	require.NoError(t, err)
	p, err := newBrowser(user).visit(ctx, authURL, loopbackCB, false)
	require.NoError(t, err)
	a, err := f.Redeem(ctx, http.DefaultClient, md, p.URL)
	require.NoError(t, err)
	return a
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens an MCP session with token (go-sdk's client).
func connect(t *testing.T, mcpURL, token string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "interop", Version: "0"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: mcpURL,
		HTTPClient: &http.Client{Transport: bearerTransport{token: token}, Timeout: 30 * time.Second}, DisableStandaloneSSE: true}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// callTool calls a tool and returns its result (tool errors included).
func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, "tools/call %s", name)
	return res
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// rawCall sends one tools/call as a raw POST after initializing a session
// and returns the answer's status, WWW-Authenticate header and body.
func rawCall(t *testing.T, mcpURL, token, tool, args string) (int, string, string) {
	t.Helper()
	post := func(body, session string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, mcpURL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+token)
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
			req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	init := post(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"interop","version":"0"}}}`, "")
	b, _ := io.ReadAll(init.Body)
	_ = init.Body.Close()
	if init.StatusCode != http.StatusOK {
		return init.StatusCode, init.Header.Get("WWW-Authenticate"), string(b)
	}
	resp := post(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"`+tool+`","arguments":`+args+`}}`, init.Header.Get("Mcp-Session-Id"))
	defer resp.Body.Close()
	b, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
}

func structured(res *mcp.CallToolResult) []byte {
	b, _ := json.Marshal(res.StructuredContent)
	return b
}

// jsonOf decodes a tool result's structured content (or its text).
func jsonOf(res *mcp.CallToolResult, v any) error {
	if res.StructuredContent != nil {
		return json.Unmarshal(structured(res), v)
	}
	return json.Unmarshal([]byte(resultText(res)), v)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func between(s, a, b string) string {
	_, rest, _ := strings.Cut(s, a)
	out, _, _ := strings.Cut(rest, b)
	return out
}
