package loadbench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// The fakes' documented defaults (fakes/idp/README.md).
const (
	fakeServerClientID     = "nextcloud-mcp-server"
	fakeServerClientSecret = "nextcloud-mcp-server-secret"
	fakeMCPClientID        = "mcp-client"
	fakeNextcloudAudience  = "nextcloud"
	benchUser              = "alice"
)

// stack is one target's processes.
type stack struct {
	target Target
	// server is the measured process: the MCP server, the bare server, or
	// the whole dev stack.
	server   *child
	children []*child // every process, in start order
	mcpURL   string
	token    string // "" in basic mode and for the bare server
	// serverPort receives the load client's connections; upstreamPorts
	// are the fake Nextcloud's and the fake IdP's.
	serverPort    int
	upstreamPorts []int
}

// binaries are the paths of the components' executables.
type binaries struct {
	self, server, idp, nextcloud string
}

func findBinaries(dir string) (binaries, error) {
	self, err := os.Executable()
	if err != nil {
		return binaries{}, err
	}
	b := binaries{
		self:      self,
		server:    filepath.Join(dir, "nextcloud-mcp"),
		idp:       filepath.Join(dir, "fake-idp"),
		nextcloud: filepath.Join(dir, "fake-nextcloud"),
	}
	for _, p := range []string{b.server, b.idp, b.nextcloud} {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return binaries{}, fmt.Errorf("%s is missing: run `make build` first (or point -bin at the binaries)", p)
		}
	}
	return b, nil
}

// startStack starts target's processes and obtains a token for the load.
func startStack(ctx context.Context, bins binaries, logDir string, target Target, serverEnv []string) (_ *stack, err error) {
	st := &stack{target: target}
	defer func() {
		if err != nil {
			err = errors.Join(err, st.stop())
		}
	}()
	start := func(name, path string, args, env []string) (*child, error) {
		c, err := startChild(ctx, logDir, string(target)+"-"+name, path, args, env)
		if c != nil {
			st.children = append(st.children, c)
		}
		return c, err
	}
	switch {
	case target == Bare:
		if st.server, err = start("bare", bins.self, []string{"bare", "--listen", "127.0.0.1:0"}, serverEnv); err != nil {
			return nil, err
		}
		st.mcpURL = st.server.URL("mcp_url")
	case target.Dev():
		if st.server, err = start("dev", bins.server, []string{"dev", "--mode", target.Mode(), "--progressive-consent=false",
			"--listen", "127.0.0.1:0", "--idp-listen", "127.0.0.1:0", "--nextcloud-listen", "127.0.0.1:0", "--log-level", "warn"}, serverEnv); err != nil {
			return nil, err
		}
		st.mcpURL = st.server.URL("mcp_url")
		st.upstreamPorts = []int{urlPort(st.server.URL("nextcloud_url")), urlPort(st.server.URL("idp_url"))}
		if target.OAuth() {
			if st.token, err = issueToken(ctx, st.server.URL("idp_url"), st.mcpURL, target.Mode()); err != nil {
				return nil, err
			}
		}
	default:
		if err = st.startSeparate(ctx, bins, start, serverEnv); err != nil {
			return nil, err
		}
	}
	st.serverPort = urlPort(st.mcpURL)
	return st, nil
}

// startSeparate starts the fake IdP (OAuth modes), the fake Nextcloud and
// nextcloud-mcp serve, each in its own process, configured as the smoke
// suites configure their containers.
func (st *stack) startSeparate(ctx context.Context, bins binaries, start func(name, path string, args, env []string) (*child, error), serverEnv []string) error {
	mode := st.target.Mode()
	// The IdP must know the MCP URL (the server's client serves it)
	// before the server, which discovers the IdP at start, is running.
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	st.mcpURL = base + "/mcp"
	env := []string{
		"MCP_LISTEN=127.0.0.1:" + strconv.Itoa(port),
		"NEXTCLOUD_MCP_SERVER_URL=" + base,
		"LOG_LEVEL=warn",
		// The idle-memory phase holds up to 1,000 sessions of one user
		// (and their SSE connections): lift the per-server, per-user and
		// connection caps above it, or the server would close or refuse
		// what the benchmark is measuring.
		"MCP_MAX_SESSIONS=4096",
		"MCP_MAX_SESSIONS_PER_USER=4096",
		"MCP_MAX_CONNECTIONS=8192",
	}
	ncArgs := []string{"--listen", "127.0.0.1:0", "--control-api", "--log-level", "warn"}
	var issuer string
	if st.target.OAuth() {
		idp, err := start("fake-idp", bins.idp, []string{"--listen", "127.0.0.1:0", "--control-api", "--log-level", "warn",
			"--server-resource-uri", st.mcpURL}, nil)
		if err != nil {
			return err
		}
		issuer = idp.URL("issuer")
		ncArgs = append(ncArgs, "--oidc-issuer", issuer, "--oidc-client-id", fakeNextcloudAudience)
		env = append(env,
			"OIDC_DISCOVERY_URL="+issuer,
			"OIDC_CLIENT_ID="+fakeServerClientID,
			"OIDC_CLIENT_SECRET="+fakeServerClientSecret,
			"NEXTCLOUD_OIDC_AUDIENCE="+fakeNextcloudAudience,
			"ENABLE_TOKEN_EXCHANGE="+strconv.FormatBool(mode == string(Exchange)))
	}
	nc, err := start("fake-nextcloud", bins.nextcloud, ncArgs, nil)
	if err != nil {
		return err
	}
	env = append(env, "NEXTCLOUD_HOST="+nc.URL("url"))
	st.upstreamPorts = append(st.upstreamPorts, urlPort(nc.URL("url")))
	if issuer != "" {
		st.upstreamPorts = append(st.upstreamPorts, urlPort(issuer))
	}
	if mode == string(Basic) {
		// A fresh app password, as an admin would create one.
		pw := randomHex(36)
		seed := map[string]any{"users": []map[string]any{{"uid": benchUser, "app_passwords": []string{pw}}}}
		if err := postJSON(ctx, nc.URL("url")+"/_fake/seed", seed, nil); err != nil {
			return fmt.Errorf("adding an app password at the fake Nextcloud: %w", err)
		}
		env = append(env, "NEXTCLOUD_USERNAME="+benchUser, "NEXTCLOUD_PASSWORD="+pw)
	}
	if st.server, err = start("nextcloud-mcp", bins.server, []string{"serve"}, append(env, serverEnv...)); err != nil {
		return err
	}
	if st.target.OAuth() {
		if st.token, err = issueToken(ctx, issuer, st.mcpURL, mode); err != nil {
			return err
		}
	}
	return nil
}

// stop stops every process, the last started first.
func (st *stack) stop() error {
	var errs []error
	for i := len(st.children) - 1; i >= 0; i-- {
		errs = append(errs, st.children[i].stop())
	}
	st.children = nil
	return errors.Join(errs...)
}

// issueToken asks the fake IdP's control API for alice's access token with
// every scope, as the public MCP client would obtain it: bound to the MCP
// URL (RFC 8707) in exchange mode; with the client's default audiences
// (this server's client id and Nextcloud's) in pass-through mode, where
// Nextcloud must accept the very same token.
func issueToken(ctx context.Context, issuer, mcpURL, mode string) (string, error) {
	req := map[string]any{
		"client_id": fakeMCPClientID,
		"username":  benchUser,
		"scopes":    scopes.Union(scopes.Standard[:3], scopes.Soft),
	}
	if mode == string(Exchange) {
		req["resource"] = mcpURL
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := postJSON(ctx, issuer+"/_fake/issue", req, &resp); err != nil {
		return "", fmt.Errorf("issuing a token at the fake IdP: %w", err)
	}
	if resp.AccessToken == "" {
		return "", errors.New("the fake IdP issued no access token")
	}
	return resp.AccessToken, nil
}

// postJSON posts a control-API request and decodes a JSON answer into out
// (nil: ignored).
func postJSON(ctx context.Context, url string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read below; closing only releases the connection
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before the server binds it; then the server fails to start and
// the run says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

func urlPort(raw string) int {
	u, err := url.Parse(raw)
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on Linux
	return hex.EncodeToString(b)
}
