package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/asclient"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// idpLogin obtains the tokens an external IdP target needs through a code
// flow with PKCE — what any certified provider offers, unlike the password
// grant: the user opens the printed URL and signs in, the IdP redirects to
// CONFORMANCE_IDP_REDIRECT_URI (a loopback URI this command listens on),
// and the code is redeemed with the resource CONFORMANCE_MCP_URL (so the
// token is addressed to the MCP server's client, as exchange needs). A
// refresh without resource then rotates the refresh token and, at an IdP
// with resource indicators, yields an opaque access token for RFC7662-001.
// The tokens are written to file (mode 0600) as VAR=value lines, never
// printed.
func idpLogin(ctx context.Context, file string, getenv func(string) string, stderr io.Writer, approve func(ctx context.Context, authURL string) (*url.URL, error)) error {
	issuer := getenv("CONFORMANCE_IDP_ISSUER")
	if issuer == "" {
		return errors.New("CONFORMANCE_IDP_ISSUER is required")
	}
	flow := &asclient.CodeFlow{
		ClientID:    envDefault(getenv, "CONFORMANCE_IDP_PUBLIC_CLIENT_ID", "mcp-client"),
		RedirectURI: envDefault(getenv, "CONFORMANCE_IDP_REDIRECT_URI", "http://127.0.0.1:53682/callback"),
		Scope:       envDefault(getenv, "CONFORMANCE_IDP_LOGIN_SCOPE", "openid offline_access"),
		Resource:    getenv("CONFORMANCE_MCP_URL"),
	}
	hc := grade.NewHTTPClient(30 * time.Second)
	m, err := asclient.Discover(ctx, hc, issuer)
	if err != nil {
		return err
	}
	authURL, err := flow.AuthorizationURL(m)
	if err != nil {
		return err
	}
	if approve == nil {
		approve = func(ctx context.Context, authURL string) (*url.URL, error) {
			return awaitRedirect(ctx, flow.RedirectURI, authURL, stderr)
		}
	}
	redirect, err := approve(ctx, authURL)
	if err != nil {
		return err
	}
	a, err := flow.Redeem(ctx, hc, m, redirect)
	if err != nil {
		return err
	}
	lines := []string{"CONFORMANCE_IDP_SUBJECT_TOKEN=" + a.Str("access_token")}
	refresh := a.Str("refresh_token")
	if refresh == "" {
		say(stderr, "conformance: the IdP issued no refresh token (is offline_access allowed for %s?): RFC9700-003/-004 will be N/A\n", flow.ClientID)
	} else {
		r, err := asclient.Post(ctx, hc, m.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, &asclient.Client{ID: flow.ClientID})
		switch {
		case err != nil:
			return err
		case r.Status != http.StatusOK || r.Str("refresh_token") == "":
			// No rotation (or no refresh): hand over the first one.
			lines = append(lines, "CONFORMANCE_IDP_REFRESH_TOKEN="+refresh)
		default:
			lines = append(lines, "CONFORMANCE_IDP_REFRESH_TOKEN="+r.Str("refresh_token"))
			if at := r.Str("access_token"); at != "" && !asclient.IsJWT(at) {
				lines = append(lines, "CONFORMANCE_IDP_OPAQUE_TOKEN="+at)
			}
		}
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	names := make([]string, len(lines))
	for i, l := range lines {
		names[i], _, _ = strings.Cut(l, "=")
	}
	say(stderr, "conformance: wrote %s to %s (mode 0600); load it with: set -a; . %s; set +a\n", strings.Join(names, ", "), file, file)
	return nil
}

func envDefault(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}

// awaitRedirect listens on the loopback redirect URI, asks the user to
// open authURL, and returns the redirect the browser brings back.
func awaitRedirect(ctx context.Context, redirectURI, authURL string, stderr io.Writer) (*url.URL, error) {
	ru, err := url.Parse(redirectURI)
	if err != nil || ru.Scheme != "http" || (ru.Hostname() != "127.0.0.1" && ru.Hostname() != "localhost" && ru.Hostname() != "::1") || ru.Port() == "" {
		return nil, fmt.Errorf("CONFORMANCE_IDP_REDIRECT_URI %q must be an http loopback URL with a port, where this command can listen", redirectURI)
	}
	ln, err := net.Listen("tcp", ru.Host)
	if err != nil {
		return nil, err
	}
	got := make(chan *url.URL, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ru.Path {
			http.NotFound(w, r)
			return
		}
		full := *ru
		full.RawQuery = r.URL.RawQuery
		select {
		case got <- &full:
		default:
		}
		_, _ = io.WriteString(w, "Signed in; you can close this window and return to the terminal.\n")
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	say(stderr, "conformance: open this URL in a browser and sign in as the test user (waiting up to 5 minutes):\n\n  %s\n\n", authURL)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	select {
	case u := <-got:
		return u, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no redirect to %s arrived: %w", redirectURI, ctx.Err())
	}
}
