// Command fake-idp runs the fake OpenID Connect / OAuth 2.1 identity
// provider of package fakes/idp as a server, for development stacks and
// black-box tests. See fakes/idp/README.md for flags, defaults and the
// control API.
//
// With --listen 127.0.0.1:0 it picks a free port; once it accepts
// connections it prints one line on stdout:
//
//	{"ready":true,"url":"http://127.0.0.1:PORT","issuer":"http://127.0.0.1:PORT"}
//
// SIGTERM or SIGINT shuts it down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/envflag"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/logging"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
)

// envNames maps every flag to its environment variable.
var envNames = map[string]string{
	"listen":                   "FAKE_IDP_LISTEN",
	"issuer":                   "FAKE_IDP_ISSUER",
	"config":                   "FAKE_IDP_CONFIG",
	"auto-approve":             "FAKE_IDP_AUTO_APPROVE",
	"default-user":             "FAKE_IDP_DEFAULT_USER",
	"control-api":              "FAKE_IDP_CONTROL_API",
	"signing-alg":              "FAKE_IDP_SIGNING_ALG",
	"disable-token-exchange":   "FAKE_IDP_DISABLE_TOKEN_EXCHANGE",
	"disable-registration":     "FAKE_IDP_DISABLE_REGISTRATION",
	"registration-token":       "FAKE_IDP_REGISTRATION_TOKEN",
	"strict-resources":         "FAKE_IDP_STRICT_RESOURCES",
	"strict-registered-scopes": "FAKE_IDP_STRICT_REGISTERED_SCOPES",
	"server-resource-uri":      "FAKE_IDP_SERVER_RESOURCE_URI",
	"access-token-ttl":         "FAKE_IDP_ACCESS_TOKEN_TTL",
	"exchanged-token-ttl":      "FAKE_IDP_EXCHANGED_TOKEN_TTL",
	"refresh-token-ttl":        "FAKE_IDP_REFRESH_TOKEN_TTL",
	"code-ttl":                 "FAKE_IDP_CODE_TTL",
	"key-grace-period":         "FAKE_IDP_KEY_GRACE_PERIOD",
	"jwks-max-age":             "FAKE_IDP_JWKS_MAX_AGE",
	"log-format":               "FAKE_IDP_LOG_FORMAT",
	"log-level":                "FAKE_IDP_LOG_LEVEL",
}

func main() { serve.Main("fake-idp", run) }

// run parses args, builds the IdP and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fake-idp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	u := func(name, text string) string { return text + envflag.Usage(envNames, name) }
	def := idp.Config{}
	listen := fs.String("listen", "127.0.0.1:9090", u("listen", "listen address; port 0 picks a free port"))
	issuer := fs.String("issuer", "", u("issuer", "public issuer URL (default: the bound URL)"))
	configPath := fs.String("config", "", u("config", "JSON file with users, clients and scopes merged into the defaults"))
	fs.BoolVar(&def.AutoApprove, "auto-approve", false, u("auto-approve", "approve every authorization at once as the login_hint user, skipping login and consent"))
	fs.StringVar(&def.DefaultLoginHint, "default-user", "alice", u("default-user", "auto-approve user when no login_hint is sent"))
	fs.BoolVar(&def.ControlAPI, "control-api", false, u("control-api", "serve the test-control API under /_fake/"))
	fs.StringVar(&def.SigningAlg, "signing-alg", "RS256", u("signing-alg", "RS256 or ES256"))
	fs.BoolVar(&def.DisableTokenExchange, "disable-token-exchange", false, u("disable-token-exchange", "turn RFC 8693 token exchange off (emulates IdPs without it)"))
	fs.BoolVar(&def.DisableRegistration, "disable-registration", false, u("disable-registration", "turn dynamic client registration off"))
	fs.StringVar(&def.RegistrationToken, "registration-token", "", u("registration-token", "initial access token required for dynamic client registration (default: open registration)"))
	fs.BoolVar(&def.StrictResources, "strict-resources", false, u("strict-resources", "refuse resource indicators no client lists in its resource URIs"))
	fs.BoolVar(&def.StrictRegisteredScopes, "strict-registered-scopes", false, u("strict-registered-scopes", "limit dynamically registered clients to the scopes they registered (as certified providers do)"))
	resourceURIs := fs.String("server-resource-uri", "", u("server-resource-uri", "comma-separated resource URIs served by the nextcloud-mcp-server client (e.g. the MCP server's /mcp URL)"))
	fs.DurationVar(&def.AccessTokenTTL, "access-token-ttl", time.Hour, u("access-token-ttl", "access and ID token lifetime"))
	fs.DurationVar(&def.ExchangedTokenTTL, "exchanged-token-ttl", 300*time.Second, u("exchanged-token-ttl", "lifetime of tokens issued by token exchange"))
	fs.DurationVar(&def.RefreshTokenTTL, "refresh-token-ttl", 30*24*time.Hour, u("refresh-token-ttl", "refresh token lifetime"))
	fs.DurationVar(&def.CodeTTL, "code-ttl", 60*time.Second, u("code-ttl", "authorization code lifetime"))
	fs.DurationVar(&def.KeyGracePeriod, "key-grace-period", time.Hour, u("key-grace-period", "how long a rotated-out key stays in the JWKS"))
	fs.DurationVar(&def.JWKSMaxAge, "jwks-max-age", 300*time.Second, u("jwks-max-age", "Cache-Control max-age of the JWKS"))
	logFormat := fs.String("log-format", "text", u("log-format", "text or json (logs go to stderr)"))
	logLevel := fs.String("log-level", "info", u("log-level", "debug, info, warn or error"))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return serve.ErrUsage
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "fake-idp: unexpected arguments %q\n", fs.Args())
		return serve.ErrUsage
	}
	if err := envflag.Apply(fs, envNames); err != nil {
		return err
	}
	logger, err := logging.New(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}

	cfg := def
	defaults := idp.DefaultConfig()
	cfg.Users, cfg.Clients, cfg.Scopes = defaults.Users, defaults.Clients, defaults.Scopes
	cfg.Logger = logger
	if *configPath != "" {
		if cfg, err = idp.LoadConfigFile(*configPath, cfg); err != nil {
			return err
		}
	}
	if *resourceURIs != "" {
		var uris []string
		for _, r := range strings.Split(*resourceURIs, ",") {
			if r = strings.TrimSpace(r); r != "" {
				uris = append(uris, r)
			}
		}
		found := false
		for i := range cfg.Clients {
			if cfg.Clients[i].ID == idp.ClientMCPServer {
				cfg.Clients[i].ResourceURIs = append(cfg.Clients[i].ResourceURIs, uris...)
				found = true
			}
		}
		if !found {
			return fmt.Errorf("--server-resource-uri: there is no %s client", idp.ClientMCPServer)
		}
	}
	cfg.Issuer = *issuer
	p, err := idp.New(cfg)
	if err != nil {
		return err
	}
	return serve.Run(ctx, serve.Options{
		Addr:    *listen,
		Handler: p,
		Logger:  logger,
		Stdout:  stdout,
		OnListen: func(baseURL string) error {
			if *issuer == "" {
				return p.SetIssuer(baseURL)
			}
			return nil
		},
		Ready: func(string) map[string]any { return map[string]any{"issuer": p.Issuer()} },
	})
}
