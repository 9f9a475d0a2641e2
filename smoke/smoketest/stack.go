package smoketest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Mode is the MCP server's token mode (docs/architecture.md §2.1).
type Mode string

// The three modes.
const (
	ModeBasic       Mode = "basic"
	ModePassthrough Mode = "passthrough"
	ModeExchange    Mode = "exchange"
)

// The fakes' documented defaults (fakes/idp/README.md, fakes/nextcloud).
const (
	FakeServerClientID     = "nextcloud-mcp-server"
	FakeServerClientSecret = "nextcloud-mcp-server-secret"
	FakeMCPClientID        = "mcp-client"
	FakeNextcloudAudience  = "nextcloud"
	FakeUser               = "alice"
	// codeRedirectURI is the Flow 1 redirect URI of the suites' code flow:
	// any loopback URI works for mcp-client, and nothing listens there.
	codeRedirectURI = "http://127.0.0.1:1/smoke/callback"
)

// Options configures a deployment.
type Options struct {
	Mode               Mode
	ProgressiveConsent bool
	// ServerEnv adds to or overrides the server's environment, e.g. a
	// deliberately wrong NEXTCLOUD_OIDC_AUDIENCE.
	ServerEnv map[string]string
	Images    Images
	External  External
	RunID     string
	// Replicas runs that many server containers (default 1) behind a
	// round-robin Balancer whose URL is the servers' public URL; they
	// share what ServerEnv points them at (TOKEN_STORAGE_URL).
	Replicas int
	// IdPArgs are further arguments of the fake IdP (e.g. a short
	// --access-token-ttl).
	IdPArgs []string
}

// Stack is one deployment: IdP, Nextcloud and the MCP server, each in its
// own container on the host network, configured as a real deployment is
// (the server through environment variables only).
type Stack struct {
	Mode Mode
	// User is the account the suites act as.
	User string

	IssuerURL, NextcloudURL, BaseURL, MCPURL string
	// ServerClientID is the server's client at the IdP (act.sub of
	// exchanged tokens); NextcloudAudience is Nextcloud's client id.
	ServerClientID, NextcloudAudience string
	ProgressiveConsent                bool

	Containers []*Container
	// Replicas are the server containers and ReplicaURLs their own base
	// URLs; with more than one, Balancer serves BaseURL in front of them.
	Replicas    []*Container
	ReplicaURLs []string
	Balancer    *Balancer
	// IdPControl and NCControl are the fakes' control APIs; nil when a
	// real image replaces the fake.
	IdPControl *IdPControl
	NCControl  *NCControl
	// Secrets are every credential this deployment used; no container log
	// may contain any of them (checked when the test ends).
	Secrets *Secrets

	tokens TokenSource
}

// realImageLock serialises deployments with real images: they listen on
// the fixed ports their configuration names.
var realImageLock sync.Mutex

// StartStack starts a deployment for t and registers, in this order of
// execution at the end of the test: the log scan for leaked secrets, a
// log dump when the test failed, and the termination of every container.
func StartStack(ctx context.Context, t testing.TB, o Options) *Stack {
	t.Helper()
	ext := o.External
	if ext.Any() {
		realImageLock.Lock()
		t.Cleanup(realImageLock.Unlock)
	}
	replicas := max(1, o.Replicas)
	ports, err := FreePorts(3 + replicas)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{
		Mode:               o.Mode,
		User:               FakeUser,
		IssuerURL:          LoopbackURL(ports[0]),
		NextcloudURL:       LoopbackURL(ports[1]),
		BaseURL:            LoopbackURL(ports[2]),
		ServerClientID:     FakeServerClientID,
		NextcloudAudience:  FakeNextcloudAudience,
		ProgressiveConsent: o.ProgressiveConsent,
		Secrets:            &Secrets{},
	}
	s.MCPURL = s.BaseURL + "/mcp"
	serverSecret := FakeServerClientSecret
	if ext.RealIdP() {
		s.IssuerURL, s.ServerClientID, serverSecret = ext.IdPIssuer, ext.ServerClientID, ext.ServerClientSecret
		s.User = ext.User
		s.Secrets.Add("the IdP password of "+ext.User, ext.Password)
		s.Secrets.Add("the MCP client's secret", ext.ClientSecret)
	} else {
		s.Secrets.Add("the IdP password of "+FakeUser, FakeUser+"-password")
	}
	if ext.RealNextcloud() {
		s.NextcloudURL, s.NextcloudAudience = ext.NextcloudURL, ext.NextcloudAudience
	}
	s.Secrets.Add("the server's client secret", serverSecret)

	// The IdP and Nextcloud start together; the server needs the IdP
	// (discovery) and, in basic mode, its app password in Nextcloud.
	var (
		wg         sync.WaitGroup
		idpC, ncC  *Container
		idpE, ncE  error
		containers = make([]*Container, 0, 3)
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		idpC, idpE = Start(ctx, t, s.idpSpec(o))
	}()
	go func() {
		defer wg.Done()
		ncC, ncE = Start(ctx, t, s.nextcloudSpec(o))
	}()
	wg.Wait()
	for _, c := range []*Container{idpC, ncC} {
		if c != nil {
			containers = append(containers, c)
		}
	}
	s.Containers = containers
	if idpE != nil || ncE != nil {
		s.registerLogChecks(t)
		t.Fatalf("the deployment did not start:\n%v", joinErrs(idpE, ncE))
	}
	if !ext.RealIdP() {
		s.IdPControl = &IdPControl{Control{BaseURL: s.IssuerURL}}
	}
	appPassword := ext.NextcloudAppPassword
	if !ext.RealNextcloud() {
		s.NCControl = &NCControl{Control{BaseURL: s.NextcloudURL}}
		if o.Mode == ModeBasic {
			// A fresh app password per run, as an admin would create one.
			appPassword = RandomSecret(48)
			if err := s.NCControl.AddAppPassword(ctx, s.User, appPassword); err != nil {
				s.registerLogChecks(t)
				t.Fatalf("creating an app password in the fake Nextcloud: %v", err)
			}
		}
	}
	s.Secrets.Add("the app password of "+s.User, appPassword)

	env := s.serverEnv(o, serverSecret, appPassword)
	if replicas == 1 {
		s.ReplicaURLs = []string{s.BaseURL}
	} else {
		for i := range replicas {
			s.ReplicaURLs = append(s.ReplicaURLs, LoopbackURL(ports[3+i]))
		}
	}
	srvs := make([]*Container, replicas)
	errs := make([]error, replicas)
	var swg sync.WaitGroup
	for i := range replicas {
		renv := maps.Clone(env)
		renv["MCP_LISTEN"] = hostPort(s.ReplicaURLs[i])
		role := Server
		if replicas > 1 {
			role = fmt.Sprintf("%s-%d", Server, i+1)
		}
		swg.Go(func() {
			srvs[i], errs[i] = Start(ctx, t, Spec{Role: role, Image: o.Images[Server], Env: renv, RunID: o.RunID})
		})
	}
	swg.Wait()
	for _, c := range srvs {
		if c != nil {
			s.Containers = append(s.Containers, c)
			s.Replicas = append(s.Replicas, c)
		}
	}
	// Registered after every container's termination, so it runs first.
	s.registerLogChecks(t)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if replicas > 1 {
		lb, err := StartBalancer(hostPort(s.BaseURL), s.ReplicaURLs)
		if err != nil {
			t.Fatalf("starting the balancer: %v", err)
		}
		s.Balancer = lb
		t.Cleanup(func() { _ = lb.Close() }) // only stops the test's own listener
	}

	switch {
	case !ext.RealIdP():
		s.tokens = &CodeFlow{Issuer: s.IssuerURL, ClientID: FakeMCPClientID, RedirectURI: codeRedirectURI,
			OnCode: func(code string) { s.Secrets.Add("a Flow 1 authorization code", code) }}
	case ext.TokenFlow == "code":
		s.tokens = &CodeFlow{Issuer: s.IssuerURL, ClientID: ext.ClientID, RedirectURI: codeRedirectURI,
			OnCode: func(code string) { s.Secrets.Add("a Flow 1 authorization code", code) }}
	default:
		s.tokens = &PasswordGrant{Issuer: s.IssuerURL, ClientID: ext.ClientID, ClientSecret: ext.ClientSecret,
			Password: func(string) string { return ext.Password }}
	}
	return s
}

func joinErrs(errs ...error) string {
	var parts []string
	for _, e := range errs {
		if e != nil {
			parts = append(parts, e.Error())
		}
	}
	return strings.Join(parts, "\n")
}

func (s *Stack) idpSpec(o Options) Spec {
	if e := o.External; e.RealIdP() {
		return Spec{Role: "idp", Image: e.IdPImage, Cmd: e.IdPArgs, Env: e.IdPEnv, Files: e.IdPFiles, RunID: o.RunID,
			Wait:         HTTPReady{URL: s.IssuerURL + "/.well-known/openid-configuration", Contains: `"issuer"`},
			ReadyTimeout: e.ReadyTimeout}
	}
	return Spec{Role: FakeIdP, Image: o.Images[FakeIdP], RunID: o.RunID, Cmd: append([]string{
		"--listen", hostPort(s.IssuerURL),
		"--auto-approve",
		"--control-api",
		"--log-format", "json",
		// The MCP URL is a resource the server's client serves: the
		// client's tokens for it may be exchanged by the server.
		"--server-resource-uri", s.MCPURL,
	}, o.IdPArgs...)}
}

func (s *Stack) nextcloudSpec(o Options) Spec {
	if e := o.External; e.RealNextcloud() {
		return Spec{Role: "nextcloud", Image: e.NextcloudImage, Cmd: e.NextcloudArgs, Env: e.NextcloudEnv, Files: e.NextcloudFiles,
			RunID: o.RunID, Wait: HTTPReady{URL: s.NextcloudURL + "/status.php", Contains: `"installed":true`},
			ReadyTimeout: e.ReadyTimeout}
	}
	cmd := []string{"--listen", hostPort(s.NextcloudURL), "--control-api", "--log-format", "json"}
	if o.Mode != ModeBasic {
		// user_oidc with bearer validation against the IdP.
		cmd = append(cmd, "--oidc-issuer", s.IssuerURL, "--oidc-client-id", s.NextcloudAudience)
	}
	return Spec{Role: FakeNextcloud, Image: o.Images[FakeNextcloud], RunID: o.RunID, Cmd: cmd}
}

// serverEnv is the server's whole configuration, as a deployment would
// write it: upstream-compatible environment variables, nothing else.
func (s *Stack) serverEnv(o Options, serverSecret, appPassword string) map[string]string {
	env := map[string]string{
		"MCP_LISTEN":               hostPort(s.BaseURL),
		"NEXTCLOUD_MCP_SERVER_URL": s.BaseURL,
		"NEXTCLOUD_HOST":           s.NextcloudURL,
		"LOG_FORMAT":               "json",
	}
	switch o.Mode {
	case ModeBasic:
		env["NEXTCLOUD_USERNAME"] = s.User
		env["NEXTCLOUD_PASSWORD"] = appPassword
	default:
		env["OIDC_DISCOVERY_URL"] = s.IssuerURL
		env["OIDC_CLIENT_ID"] = s.ServerClientID
		env["OIDC_CLIENT_SECRET"] = serverSecret
		env["NEXTCLOUD_OIDC_AUDIENCE"] = s.NextcloudAudience
		env["ENABLE_TOKEN_EXCHANGE"] = strconv.FormatBool(o.Mode == ModeExchange)
	}
	if o.ProgressiveConsent {
		key := RandomSecret(32)
		s.Secrets.Add("TOKEN_ENCRYPTION_KEY", key)
		env["ENABLE_PROGRESSIVE_CONSENT"] = "true"
		env["TOKEN_ENCRYPTION_KEY"] = key
		env["TOKEN_STORAGE_DB"] = "/data/tokens.db"
	}
	maps.Copy(env, o.ServerEnv)
	return env
}

func hostPort(u string) string {
	return strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
}

// registerLogChecks arranges, for the end of the test: the leak scan of
// every container's log, and a redacted dump of the logs' tails if the
// test failed (of the whole logs with SMOKE_LOGS=1). t.Cleanup runs these before the containers' terminations,
// which were registered earlier.
func (s *Stack) registerLogChecks(t testing.TB) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, c := range s.Containers {
			text, err := LogText(ctx, c.Container)
			if err != nil {
				t.Errorf("reading the %s log for the secret scan: %v", c.Role, err)
				continue
			}
			if strings.TrimSpace(text) == "" {
				t.Errorf("the %s log is empty: the secret scan would prove nothing", c.Role)
			}
			for _, leak := range s.Secrets.Scan(c.Role, text) {
				t.Errorf("secret in a container log: %s", leak)
			}
			if os.Getenv("SMOKE_LOGS") != "" {
				t.Logf("the %s log (secrets redacted):\n%s", c.Role, indent(s.Secrets.Redact(text)))
			} else if t.Failed() {
				tail, _ := LogTail(ctx, c.Container, 25)
				t.Logf("last lines of the %s log (secrets redacted):\n%s", c.Role, indent(s.Secrets.Redact(tail)))
			}
		}
	})
}

// Token runs the client's authorization for the stack's user with scopes
// and records the tokens as secrets. Against the fake IdP in exchange mode
// the token names the MCP URL as its resource (RFC 8707), as
// spec-following MCP clients ask; otherwise it has the client's default
// audiences — the server's client id and Nextcloud's, which is what a
// Keycloak audience mapper gives, and what pass-through needs because
// Nextcloud must accept the very same token.
func (s *Stack) Token(ctx context.Context, scopes ...string) (*Token, error) {
	req := TokenRequest{User: s.User, Scopes: scopes}
	if s.Mode == ModeExchange && s.IdPControl != nil {
		req.Resource = s.MCPURL
	}
	tok, err := s.tokens.Token(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("obtaining a token for %s with scopes %q: %w", s.User, scopes, err)
	}
	s.Secrets.AddToken("an access token", tok.AccessToken)
	s.Secrets.AddToken("a refresh token", tok.RefreshToken)
	return tok, nil
}

// Mint asks the fake IdP for a token with arbitrary claims and records it.
func (s *Stack) Mint(ctx context.Context, m MintRequest) (string, error) {
	if s.IdPControl == nil {
		return "", fmt.Errorf("minting needs the fake IdP's control API")
	}
	tok, err := s.IdPControl.Mint(ctx, m)
	if err == nil {
		s.Secrets.AddToken("a minted token", tok)
	}
	return tok, err
}

// Connect opens an MCP session with token (empty in basic mode).
func (s *Stack) Connect(ctx context.Context, token string) (*Client, error) {
	return Connect(ctx, s.MCPURL, token)
}

// Mark is a position in the fakes' request logs.
type Mark struct{ idp, nc int }

// Mark returns the current ends of the fakes' request logs.
func (s *Stack) Mark(ctx context.Context) Mark {
	var m Mark
	if s.IdPControl != nil {
		if l, err := s.IdPControl.Log(ctx); err == nil {
			m.idp = len(l)
		}
	}
	if s.NCControl != nil {
		if l, err := s.NCControl.Log(ctx); err == nil {
			m.nc = len(l)
		}
	}
	return m
}

// Since returns what the fakes logged after m. Available is false when a
// real image stands in for either fake or a log could not be read.
func (s *Stack) Since(ctx context.Context, m Mark) Evidence {
	if s.IdPControl == nil || s.NCControl == nil {
		return Evidence{}
	}
	idpLog, err1 := s.IdPControl.Log(ctx)
	ncLog, err2 := s.NCControl.Log(ctx)
	if err1 != nil || err2 != nil {
		return Evidence{}
	}
	return Evidence{Available: true, IdP: tail(idpLog, m.idp), Nextcloud: tail(ncLog, m.nc)}
}

func tail[T any](l []T, from int) []T {
	if from > len(l) {
		return nil
	}
	return l[from:]
}

// Call calls a tool and fails the test with a readable explanation —
// the tool's error, what the fakes saw, the likely misconfiguration —
// unless it succeeds. It returns the result and what the fakes logged
// during the call.
func (s *Stack) Call(ctx context.Context, t testing.TB, c *Client, step, tool string, args map[string]any) (*mcp.CallToolResult, Evidence) {
	t.Helper()
	m := s.Mark(ctx)
	res, err := c.Call(ctx, tool, args)
	ev := s.Since(ctx, m)
	if err != nil || res.IsError {
		f := Failure{Step: step, Tool: tool, Err: err, Evidence: ev}
		if err == nil {
			f.Result = res
		}
		if rej, ok := c.LastRejection(); ok && err != nil {
			f.Rejection = &rej
		}
		t.Fatal(s.Secrets.Redact(f.Message()))
	}
	return res, ev
}

// HTTPGet is a small helper for probes (/healthz, metadata).
func HTTPGet(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }() // closing only releases the connection
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}
