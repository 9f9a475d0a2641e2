// Command fake-nextcloud runs the fake Nextcloud of package fakes/nextcloud
// as a server, for development stacks, litmus and black-box tests. See
// fakes/nextcloud/README.md for flags, defaults and the control API.
//
// With --listen 127.0.0.1:0 it picks a free port; once it accepts
// connections it prints one line on stdout:
//
//	{"ready":true,"url":"http://127.0.0.1:PORT","dav":"http://127.0.0.1:PORT/remote.php/dav","bearer_on_app_routes":"accept"}
//
// SIGTERM or SIGINT shuts it down gracefully (state is flushed to
// --data-dir when set).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/envflag"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/logging"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
)

// envNames maps every flag to its environment variable.
var envNames = map[string]string{
	"listen":               "FAKE_NEXTCLOUD_LISTEN",
	"oidc-issuer":          "FAKE_NEXTCLOUD_OIDC_ISSUER",
	"oidc-client-id":       "FAKE_NEXTCLOUD_OIDC_CLIENT_ID",
	"skip-audience-check":  "FAKE_NEXTCLOUD_SKIP_AUDIENCE_CHECK",
	"uid-mapping":          "FAKE_NEXTCLOUD_UID_MAPPING",
	"no-auto-provision":    "FAKE_NEXTCLOUD_NO_AUTO_PROVISION",
	"bearer-on-app-routes": "FAKE_NEXTCLOUD_BEARER_ON_APP_ROUTES",
	"data-dir":             "FAKE_NEXTCLOUD_DATA_DIR",
	"control-api":          "FAKE_NEXTCLOUD_CONTROL_API",
	"seed":                 "FAKE_NEXTCLOUD_SEED",
	"max-body-bytes":       "FAKE_NEXTCLOUD_MAX_BODY_BYTES",
	"upload-dir":           "FAKE_NEXTCLOUD_UPLOAD_DIR",
	"upload-expiry":        "FAKE_NEXTCLOUD_UPLOAD_EXPIRY",
	"max-uploads-per-user": "FAKE_NEXTCLOUD_MAX_UPLOADS_PER_USER",
	"max-upload-bytes":     "FAKE_NEXTCLOUD_MAX_UPLOAD_BYTES",
	"version":              "FAKE_NEXTCLOUD_VERSION",
	"log-format":           "FAKE_NEXTCLOUD_LOG_FORMAT",
	"log-level":            "FAKE_NEXTCLOUD_LOG_LEVEL",
}

func main() { serve.Main("fake-nextcloud", run) }

// run parses args, builds the fake and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fake-nextcloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	u := func(name, text string) string { return text + envflag.Usage(envNames, name) }
	cfg := nextcloud.DefaultConfig()
	listen := fs.String("listen", "127.0.0.1:8080", u("listen", "listen address; port 0 picks a free port"))
	fs.StringVar(&cfg.OIDCIssuer, "oidc-issuer", "", u("oidc-issuer", "issuer whose JWT bearer tokens are accepted (discovery at ISSUER/.well-known/openid-configuration); empty: none"))
	fs.StringVar(&cfg.OIDCClientID, "oidc-client-id", "nextcloud", u("oidc-client-id", "client id a bearer token's aud must contain"))
	fs.BoolVar(&cfg.SkipAudienceCheck, "skip-audience-check", false, u("skip-audience-check", "accept bearer tokens whatever their aud (user_oidc selfencoded_bearer_validation_audience_check=false)"))
	fs.StringVar(&cfg.UIDMapping, "uid-mapping", "sub", u("uid-mapping", "bearer claim to uid: sub, preferred_username or hashed (user_oidc unique uid)"))
	fs.BoolVar(&cfg.DisableAutoProvision, "no-auto-provision", false, u("no-auto-provision", "refuse bearer tokens of unknown users instead of creating them"))
	fs.StringVar(&cfg.BearerOnAppRoutes, "bearer-on-app-routes", "accept", u("bearer-on-app-routes", "accept (patched Nextcloud) or reject (stock: 401 \"CORS requires basic auth\") for Bearer on #[CORS] app routes"))
	fs.StringVar(&cfg.DataDir, "data-dir", "", u("data-dir", "persist state in this directory (default: in memory)"))
	fs.BoolVar(&cfg.ControlAPI, "control-api", false, u("control-api", "serve the test-control API under /_fake/"))
	seedPath := fs.String("seed", "", u("seed", "JSON seed file replacing the default seed (users, files, notes)"))
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", 64<<20, u("max-body-bytes", "largest accepted request body; 413 above"))
	fs.StringVar(&cfg.UploadDir, "upload-dir", "", u("upload-dir", "where chunked uploads spool their chunks (default: the system temporary directory)"))
	fs.DurationVar(&cfg.UploadExpiry, "upload-expiry", 24*time.Hour, u("upload-expiry", "a chunked upload without a write for this long is removed (Nextcloud's UploadCleanup)"))
	fs.IntVar(&cfg.MaxUploadsPerUser, "max-uploads-per-user", 100, u("max-uploads-per-user", "open chunked uploads per user; 507 beyond"))
	fs.Int64Var(&cfg.MaxUploadBytes, "max-upload-bytes", 1<<30, u("max-upload-bytes", "bytes a user's open chunked uploads may hold (and the largest assembled file); 507 beyond"))
	fs.StringVar(&cfg.Version, "version", "32.0.14", u("version", "Nextcloud version to report"))
	logFormat := fs.String("log-format", "text", u("log-format", "text or json (logs go to stderr)"))
	logLevel := fs.String("log-level", "info", u("log-level", "debug, info, warn or error"))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return serve.ErrUsage
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "fake-nextcloud: unexpected arguments %q\n", fs.Args())
		return serve.ErrUsage
	}
	if err := envflag.Apply(fs, envNames); err != nil {
		return err
	}
	logger, err := logging.New(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	if *seedPath != "" {
		b, err := os.ReadFile(*seedPath)
		if err != nil {
			return fmt.Errorf("--seed: %w", err)
		}
		var s nextcloud.Seed
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return fmt.Errorf("--seed %s: %w", *seedPath, err)
		}
		cfg.Seed = &s
	}
	n, err := nextcloud.New(cfg)
	if err != nil {
		return err
	}
	runErr := serve.Run(ctx, serve.Options{
		Addr:    *listen,
		Handler: n,
		Logger:  logger,
		Stdout:  stdout,
		Ready: func(baseURL string) map[string]any {
			return map[string]any{"dav": baseURL + "/remote.php/dav", "bearer_on_app_routes": n.BearerOnAppRoutes()}
		},
	})
	// Close flushes the state to --data-dir; a failed flush is an error
	// even after a clean shutdown.
	return errors.Join(runErr, n.Close())
}
