package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/envflag"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/logging"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
)

var devEnv = map[string]string{
	"listen":              "DEV_LISTEN",
	"idp-listen":          "DEV_IDP_LISTEN",
	"nextcloud-listen":    "DEV_NEXTCLOUD_LISTEN",
	"mode":                "DEV_MODE",
	"progressive-consent": "DEV_PROGRESSIVE_CONSENT",
	"auto-approve":        "DEV_AUTO_APPROVE",
	"data-dir":            "DEV_DATA_DIR",
	"allowed-origins":     "DEV_ALLOWED_ORIGINS",
	"log-format":          "LOG_FORMAT",
	"log-level":           "LOG_LEVEL",
}

func devCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	u := func(name, text string) string { return text + envflag.Usage(devEnv, name) }
	listen := fs.String("listen", "127.0.0.1:8000", u("listen", "MCP server listen address (port 0 picks a free port)"))
	idpListen := fs.String("idp-listen", "127.0.0.1:9090", u("idp-listen", "fake IdP listen address"))
	ncListen := fs.String("nextcloud-listen", "127.0.0.1:8080", u("nextcloud-listen", "fake Nextcloud listen address"))
	mode := fs.String("mode", string(server.ModeExchange), u("mode", "token mode: basic, passthrough or exchange"))
	consent := fs.Bool("progressive-consent", true, u("progressive-consent", "require provisioning (Flow 2) before Nextcloud tools work (OAuth modes)"))
	autoApprove := fs.Bool("auto-approve", false, u("auto-approve", "fake IdP approves at once as the login_hint user (default alice), skipping its login and consent pages"))
	dataDir := fs.String("data-dir", "", u("data-dir", "directory of the token database (default: a temporary directory)"))
	origins := fs.String("allowed-origins", "http://localhost:6274,http://127.0.0.1:6274", u("allowed-origins", "web origins whose browser requests the MCP server serves besides its own (default: the MCP Inspector's)"))
	logFormat := fs.String("log-format", "text", u("log-format", "text or json (stderr)"))
	logLevel := fs.String("log-level", "info", u("log-level", "debug, info, warn or error"))
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if err := envflag.Apply(fs, devEnv); err != nil {
		return usageError{err}
	}
	logger, err := logging.New(stderr, *logFormat, *logLevel)
	if err != nil {
		return usageError{err}
	}
	m := server.Mode(*mode)
	st, err := devstack.Start(ctx, devstack.Options{
		Mode:               m,
		ProgressiveConsent: *consent && m != server.ModeBasic,
		AutoApprove:        *autoApprove,
		Listen:             *listen,
		IdPListen:          *idpListen,
		NextcloudListen:    *ncListen,
		DataDir:            *dataDir,
		Logger:             logger,
		MutateServer: func(c *server.Config) {
			for _, o := range strings.Split(*origins, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.AllowedOrigins = append(c.AllowedOrigins, o)
				}
			}
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Warn("stopping the dev stack failed", "err", err)
		}
	}()

	// The banner (with its sample token) is ready before the ready line, so
	// a supervisor that stops the process right after the ready line does
	// not interrupt it.
	text, err := banner(ctx, st)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: a clean shutdown
		}
		return err
	}
	line, err := serve.ReadyLine(st.BaseURL, map[string]any{
		"mcp_url": st.MCPURL, "idp_url": st.IdPURL, "nextcloud_url": st.NextcloudURL, "mode": string(st.Mode),
	})
	if err != nil {
		return err
	}
	if _, err := stdout.Write(append(line, text...)); err != nil {
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}

// banner renders what a developer needs to connect a client.
func banner(ctx context.Context, st *devstack.Stack) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nnextcloud-mcp dev — %s mode\n\n", st.Mode)
	fmt.Fprintf(&b, "  MCP endpoint   %s\n", st.MCPURL)
	fmt.Fprintf(&b, "  fake IdP       %s   (users alice, bob, admin; password <user>-password)\n", st.IdPURL)
	fmt.Fprintf(&b, "  fake Nextcloud %s   (same users; control API at /_fake/)\n", st.NextcloudURL)
	cfg := map[string]any{"mcpServers": map[string]any{"nextcloud": map[string]any{"type": "http", "url": st.MCPURL}}}
	if st.Mode == server.ModeBasic {
		fmt.Fprintf(&b, "\nBasic mode: no token needed; the server acts as %s.\n", devstack.BasicUser)
	} else {
		tok, err := st.Token(ctx, "alice", scopes.Union(scopes.Standard[:3], scopes.Soft))
		if err != nil {
			return "", fmt.Errorf("sample token: %w", err)
		}
		fmt.Fprintf(&b, "\nOAuth clients discover everything from %s/.well-known/oauth-protected-resource/mcp\n", st.BaseURL)
		fmt.Fprintf(&b, "(public client id %q, or dynamic client registration; PKCE S256).\n", devstack.MCPClientID)
		fmt.Fprintf(&b, "\nSample access token for alice with every scope (1 h):\n\n  %s\n", tok)
		fmt.Fprintf(&b, "\nTry it:\n\n  curl -s %s -H 'Authorization: Bearer <token>' -H 'Content-Type: application/json' \\\n", st.MCPURL)
		b.WriteString("    -H 'Accept: application/json, text/event-stream' \\\n")
		b.WriteString(`    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}'` + "\n")
		if st.ServerConfig.EnableProgressiveConsent {
			b.WriteString("\nProgressive consent is on: call provision_nextcloud_access first and open the link it returns.\n")
		}
	}
	js, _ := json.MarshalIndent(cfg, "  ", "  ")
	fmt.Fprintf(&b, "\nMCP client configuration:\n\n  %s\n\nPress Ctrl-C to stop.\n", js)
	return b.String(), nil
}
