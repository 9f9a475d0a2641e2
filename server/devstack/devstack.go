// Package devstack runs the whole system in one process on loopback: the
// fake IdP, the fake Nextcloud and the MCP server, each on its own
// listener, talking to each other over real HTTP exactly as separate
// deployments would. `nextcloud-mcp dev`, the server's integration tests,
// the conformance suite's default target and the benchmarks all use it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
)

// Defaults of the stack, matching the fakes' seeds.
const (
	ServerClientID     = idp.ClientMCPServer
	ServerClientSecret = "nextcloud-mcp-server-secret"
	MCPClientID        = idp.ClientMCP
	NextcloudClientID  = idp.ClientNextcloud
	// BasicUser is the account basic mode uses (with its app password).
	BasicUser = "alice"
)

// Options configures Start. The zero value is an exchange-mode stack
// without progressive consent.
type Options struct {
	// Mode is the server's token mode; empty means exchange.
	Mode server.Mode
	// ProgressiveConsent turns on Flow 2 (OAuth modes only).
	ProgressiveConsent bool
	// AutoApprove makes the fake IdP approve authorizations at once.
	AutoApprove bool
	// Listen, IdPListen and NextcloudListen default to "127.0.0.1:0".
	Listen, IdPListen, NextcloudListen string
	// DataDir holds the token database; empty means a temporary directory
	// removed by Close.
	DataDir string
	// SyncInterval of the server's background worker (default 1 minute).
	SyncInterval time.Duration
	// Mutate* adjust each component's configuration before it starts.
	MutateIdP       func(*idp.Config)
	MutateNextcloud func(*fakenc.Config)
	MutateServer    func(*server.Config)
	// WrapIdP, when set, wraps the fake IdP's handler (e.g. a test tap that
	// watches the token endpoint's responses) on the IdP's own listener.
	WrapIdP func(http.Handler) http.Handler
	// Logger receives all three components' logs; discarded when nil.
	Logger *slog.Logger
	// Limits bound the connections of all three listeners (serve.Limits;
	// zero fields take its defaults).
	Limits serve.Limits
}

// Stack is a running system.
type Stack struct {
	IdP          *idp.IdP
	IdPURL       string // the issuer
	Nextcloud    *fakenc.Nextcloud
	NextcloudURL string
	Server       *server.Server
	ServerConfig server.Config
	BaseURL      string // the server's public base URL
	MCPURL       string // BaseURL + "/mcp"
	Mode         server.Mode

	limits serve.Limits
	// accepted counts the connections each component's listener accepted.
	accepted struct{ idp, nextcloud, server atomic.Int64 }

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	servers   []*http.Server
	tempDir   string
	closeOnce sync.Once
	closeErr  error
}

// Start brings the stack up. Close it when done.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.Mode == "" {
		opts.Mode = server.ModeExchange
	}
	switch opts.Mode {
	case server.ModeBasic, server.ModePassthrough, server.ModeExchange:
	default:
		return nil, fmt.Errorf("devstack: unknown mode %q (want basic, passthrough or exchange)", opts.Mode)
	}
	if opts.ProgressiveConsent && opts.Mode == server.ModeBasic {
		return nil, errors.New("devstack: progressive consent needs an OAuth mode (passthrough or exchange)")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	listen := func(addr string) (net.Listener, string, error) {
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		return serve.Listen(addr)
	}
	st := &Stack{Mode: opts.Mode, limits: opts.Limits}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st.cancel = cancel
	defer func() {
		if err != nil {
			err = errors.Join(err, st.Close())
		}
	}()

	// Identity provider.
	idpLn, idpURL, err := listen(opts.IdPListen)
	if err != nil {
		return nil, err
	}
	icfg := idp.DefaultConfig()
	icfg.Issuer = idpURL
	icfg.AutoApprove = opts.AutoApprove
	icfg.ControlAPI = true
	icfg.Logger = logger.With("component", "fake-idp")
	if opts.MutateIdP != nil {
		opts.MutateIdP(&icfg)
	}
	if st.IdP, err = idp.New(icfg); err != nil {
		return nil, errors.Join(fmt.Errorf("devstack: fake IdP: %w", err), idpLn.Close())
	}
	st.IdPURL = st.IdP.Issuer()
	var idpHandler http.Handler = st.IdP
	if opts.WrapIdP != nil {
		idpHandler = opts.WrapIdP(idpHandler)
	}
	st.serveOn(idpLn, &st.accepted.idp, idpHandler)

	// Nextcloud.
	ncLn, ncURL, err := listen(opts.NextcloudListen)
	if err != nil {
		return nil, err
	}
	ncfg := fakenc.DefaultConfig()
	ncfg.OIDCIssuer = st.IdPURL
	ncfg.ControlAPI = true
	ncfg.Logger = logger.With("component", "fake-nextcloud")
	if opts.MutateNextcloud != nil {
		opts.MutateNextcloud(&ncfg)
	}
	if st.Nextcloud, err = fakenc.New(ncfg); err != nil {
		return nil, errors.Join(fmt.Errorf("devstack: fake Nextcloud: %w", err), ncLn.Close())
	}
	st.NextcloudURL = ncURL
	st.serveOn(ncLn, &st.accepted.nextcloud, st.Nextcloud)

	// MCP server.
	ln, baseURL, err := listen(opts.Listen)
	if err != nil {
		return nil, err
	}
	st.BaseURL = baseURL
	st.MCPURL = baseURL + "/mcp"
	// The server's client serves the MCP URL: tokens addressed to it may
	// be exchanged by it (Keycloak's audience rule), and its Flow 2
	// callback on this port is a registered (loopback) redirect URI.
	c, ok := st.IdP.Client(ServerClientID)
	if ok {
		if !slices.Contains(c.ResourceURIs, st.MCPURL) {
			c.ResourceURIs = append(c.ResourceURIs, st.MCPURL)
		}
		if err := st.IdP.UpsertClient(c); err != nil {
			return nil, errors.Join(fmt.Errorf("devstack: register the MCP URL at the IdP: %w", err), ln.Close())
		}
	}
	cfg := server.Config{
		Listen:            ln.Addr().String(),
		PublicURL:         baseURL,
		Transport:         "http",
		NextcloudHost:     st.NextcloudURL,
		NextcloudAudience: NextcloudClientID,
		TokenStorageDB:    "",
		SyncInterval:      opts.SyncInterval,
		HTTPTimeout:       15 * time.Second,
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = time.Minute
	}
	switch opts.Mode {
	case server.ModeBasic:
		cfg.NextcloudUsername = BasicUser
		cfg.NextcloudPassword = fakenc.DefaultAppPassword(BasicUser)
	default:
		cfg.OIDCDiscoveryURL = st.IdPURL
		cfg.OIDCClientID = ServerClientID
		cfg.OIDCClientSecret = ServerClientSecret
		cfg.EnableTokenExchange = opts.Mode == server.ModeExchange
		if opts.ProgressiveConsent {
			cfg.EnableProgressiveConsent = true
			dir := opts.DataDir
			if dir == "" {
				if dir, err = os.MkdirTemp("", "nextcloud-mcp-dev-"); err != nil {
					return nil, errors.Join(err, ln.Close())
				}
				st.tempDir = dir
			}
			cfg.TokenStorageDB = filepath.Join(dir, "tokens.db")
			if cfg.TokenEncryptionKey, err = tokenstore.GenerateKey(); err != nil {
				return nil, errors.Join(err, ln.Close())
			}
		}
	}
	if opts.MutateServer != nil {
		opts.MutateServer(&cfg)
	}
	st.ServerConfig = cfg
	if st.Server, err = server.New(ctx, cfg, logger.With("component", "nextcloud-mcp")); err != nil {
		return nil, errors.Join(err, ln.Close())
	}
	st.serveOn(ln, &st.accepted.server, st.Server.Handler())
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		st.Server.Run(runCtx)
	}()
	return st, nil
}

// serveOn serves h on ln with the same bounds as the binaries
// (serve.Limits): slow request bodies are cut, idle keep-alive
// connections closed, connections counted (accepted, for the
// connection-reuse tests).
func (st *Stack) serveOn(ln net.Listener, accepted *atomic.Int64, h http.Handler) {
	ln = countingListener{Listener: ln, n: accepted}
	srv := serve.NewServer(h, st.limits)
	st.servers = append(st.servers, srv)
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		// Serve returns ErrServerClosed once Close shuts it down; any
		// other failure shows as the component not answering.
		_ = srv.Serve(serve.LimitListener(ln, st.limits.WithDefaults().MaxConnections))
	}()
}

// Connections counts the TCP connections each component has accepted so
// far: with the server's upstream transports kept alive, the fakes' counts
// stop growing once the load's concurrency is reached.
type Connections struct {
	IdP, Nextcloud, Server int64
}

// Connections returns how many connections each component has accepted.
func (st *Stack) Connections() Connections {
	return Connections{IdP: st.accepted.idp.Load(), Nextcloud: st.accepted.nextcloud.Load(), Server: st.accepted.server.Load()}
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// Close stops the server's worker and all three listeners, and removes the
// temporary data directory.
func (st *Stack) Close() error {
	st.closeOnce.Do(func() {
		if st.cancel != nil {
			st.cancel()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, srv := range st.servers {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, srv.Close())
			}
		}
		st.wg.Wait()
		if st.Server != nil {
			errs = append(errs, st.Server.Close())
		}
		if st.Nextcloud != nil {
			errs = append(errs, st.Nextcloud.Close())
		}
		if st.tempDir != "" {
			errs = append(errs, os.RemoveAll(st.tempDir))
		}
		st.closeErr = errors.Join(errs...)
	})
	return st.closeErr
}

// Token issues a Flow 1 access token for user as the public MCP client
// would obtain it through the authorization-code flow. In exchange mode it
// is bound to the MCP URL (RFC 8707 resource). In pass-through mode it
// carries the client's default audiences instead (the server's client id
// and Nextcloud's), because a passed-through token must be valid at both —
// the coupling that makes pass-through the MCP spec's "token passthrough".
func (st *Stack) Token(ctx context.Context, user string, scopes []string) (string, error) {
	req := idp.IssueRequest{ClientID: MCPClientID, Username: user, Scopes: scopes}
	if st.Mode != server.ModePassthrough {
		req.Resource = st.MCPURL
	}
	res, err := st.IdP.IssueAccessToken(ctx, req)
	if err != nil {
		return "", err
	}
	return res.AccessToken, nil
}
