package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/logging"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
)

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg server.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Bind(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if err := server.ApplyEnv(fs); err != nil {
		return usageError{err}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	logger, err := logging.New(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return usageError{err}
	}

	if cfg.Transport == "stdio" {
		// stdout carries the protocol: no ready line; logs go to stderr.
		if cfg.PublicURL == "" {
			cfg.PublicURL = "http://127.0.0.1"
		}
		s, err := server.New(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer closeServer(s, logger)
		go s.Run(ctx)
		logger.Info("serving MCP over stdio", "mode", string(s.Mode()))
		err = s.MCP().Run(ctx, &mcp.StdioTransport{})
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	ln, baseURL, err := serve.Listen(cfg.Listen)
	if err != nil {
		return err
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = baseURL
	}
	s, err := server.New(ctx, cfg, logger)
	if err != nil {
		return errors.Join(err, ln.Close())
	}
	defer closeServer(s, logger)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.Run(wctx)
	return serve.RunListener(ctx, ln, baseURL, serve.Options{
		Handler: s.Handler(),
		Logger:  logger,
		Stdout:  stdout,
		Limits:  cfg.Limits(),
		Ready: func(string) map[string]any {
			return map[string]any{"mcp_url": cfg.MCPURL(), "mode": string(s.Mode())}
		},
	})
}

// closeServer releases the server's token store at exit; a failure there
// is worth a line in the log, not a different exit status.
func closeServer(s *server.Server, logger *slog.Logger) {
	if err := s.Close(); err != nil {
		logger.Warn("closing the server failed", "err", err)
	}
}
