package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/asclient"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// EnvVar documents one environment variable of an external run.
type EnvVar struct {
	Name, Meaning string
}

// EnvVars lists the variables that point the suite at an external
// deployment. Setting any of the three *_URL/ISSUER variables switches the
// suite from the in-process stacks to that deployment.
var EnvVars = []EnvVar{
	{"CONFORMANCE_MCP_URL", "the MCP endpoint, e.g. https://mcp.example.com/mcp (its canonical resource URL)"},
	{"CONFORMANCE_MCP_MODE", "basic, passthrough or exchange, when known (mode-specific checks are N/A otherwise)"},
	{"CONFORMANCE_MCP_TOKEN", "an access token for the MCP server with every advertised scope (user 1)"},
	{"CONFORMANCE_MCP_TOKEN_READONLY", "an access token of user 1 with only the <app>:read scopes (scope checks)"},
	{"CONFORMANCE_MCP_TOKEN_OTHER_USER", "an access token with every scope for a second user (session binding)"},
	{"CONFORMANCE_MCP_USERS", "the two users' names, comma-separated (default alice,bob)"},
	{"CONFORMANCE_MCP_PROGRESSIVE_CONSENT", "true if the server runs with ENABLE_PROGRESSIVE_CONSENT"},
	{"CONFORMANCE_MCP_SERVER_CLIENT_ID", "the server's own client id at the IdP (default nextcloud-mcp-server)"},
	{"CONFORMANCE_NEXTCLOUD_AUDIENCE", "Nextcloud's client id at the IdP (default nextcloud)"},
	{"CONFORMANCE_TOKEN_DB", "path of the server's token database file, if readable from here"},
	{"CONFORMANCE_SERVER_LOG", "path of a file with the server's log, scanned for leaked secrets"},
	{"CONFORMANCE_OFFICIAL_URL", "an MCP endpoint without authorization (basic mode) for the official suite (-official)"},
	{"CONFORMANCE_IDP_ISSUER", "the IdP's issuer URL (RFC 8414); also the MCP server's expected authorization server"},
	{"CONFORMANCE_IDP_PUBLIC_CLIENT_ID", "a public client (PKCE checks, refresh rotation), default mcp-client"},
	{"CONFORMANCE_IDP_REDIRECT_URI", "a redirect URI registered for the public client, default http://127.0.0.1:53682/callback"},
	{"CONFORMANCE_IDP_CLIENT_ID", "a confidential client that may exchange tokens and introspect (the MCP server's)"},
	{"CONFORMANCE_IDP_CLIENT_SECRET", "its secret"},
	{"CONFORMANCE_IDP_EXCHANGE_AUDIENCE", "the audience it may exchange for, default nextcloud"},
	{"CONFORMANCE_IDP_SUBJECT_TOKEN", "an access token whose aud names the confidential client (from a code flow: -idp-login writes it)"},
	{"CONFORMANCE_IDP_REFRESH_TOKEN", "a fresh refresh token of the public client (it is used up; -idp-login writes it)"},
	{"CONFORMANCE_IDP_OPAQUE_TOKEN", "a live opaque access token, for IdPs that introspect only opaque tokens (oidc-provider; -idp-login writes one where the IdP issues it)"},
	{"CONFORMANCE_IDP_LOGIN_SCOPE", "the scope -idp-login asks for (default openid offline_access)"},
	{"CONFORMANCE_IDP_USERNAME", "instead of the tokens, only where the IdP offers the password grant (Keycloak direct access grants): a user of the public client"},
	{"CONFORMANCE_IDP_PASSWORD", "that user's password"},
	{"CONFORMANCE_IDP_AUTO_APPROVE", "true if the IdP approves authorizations at once (the fake IdP's --auto-approve): enables the Flow 2 checks"},
	{"CONFORMANCE_NEXTCLOUD_URL", "the Nextcloud base URL"},
	{"CONFORMANCE_NEXTCLOUD_USER", "a Nextcloud login for the contract checks (they create and delete their own note and folder)"},
	{"CONFORMANCE_NEXTCLOUD_PASSWORD", "its password or app password"},
}

// ExternalRequested reports whether the environment names an external
// deployment.
func ExternalRequested(getenv func(string) string) bool {
	return getenv("CONFORMANCE_MCP_URL") != "" || getenv("CONFORMANCE_IDP_ISSUER") != "" || getenv("CONFORMANCE_NEXTCLOUD_URL") != ""
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}

func absURL(k, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%s=%q is not an absolute URL", k, v)
	}
	return nil
}

// ExternalSpec builds the target for an external deployment from the
// environment. The fakes' control APIs are used when they answer at the
// given URLs (fakes running elsewhere); otherwise the checks that need
// them are N/A.
func ExternalSpec(getenv func(string) string, officialScript string) (TargetSpec, error) {
	var errs []error
	for _, k := range []string{"CONFORMANCE_MCP_URL", "CONFORMANCE_IDP_ISSUER", "CONFORMANCE_NEXTCLOUD_URL", "CONFORMANCE_OFFICIAL_URL", "CONFORMANCE_IDP_REDIRECT_URI"} {
		if err := absURL(k, getenv(k)); err != nil {
			errs = append(errs, err)
		}
	}
	mode := getenv("CONFORMANCE_MCP_MODE")
	switch mode {
	case "", grade.ModeBasic, grade.ModePassthrough, grade.ModeExchange:
	default:
		errs = append(errs, fmt.Errorf("CONFORMANCE_MCP_MODE=%q: want basic, passthrough or exchange", mode))
	}
	bools := map[string]bool{}
	for _, k := range []string{"CONFORMANCE_MCP_PROGRESSIVE_CONSENT", "CONFORMANCE_IDP_AUTO_APPROVE"} {
		if v := getenv(k); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not a boolean", k, v))
			}
			bools[k] = b
		}
	}
	users := [2]string{"alice", "bob"}
	if v := getenv("CONFORMANCE_MCP_USERS"); v != "" {
		parts := strings.Split(v, ",")
		if len(parts) != 2 || strings.TrimSpace(parts[0]) == "" || strings.TrimSpace(parts[1]) == "" {
			errs = append(errs, fmt.Errorf("CONFORMANCE_MCP_USERS=%q: want two comma-separated names", v))
		} else {
			users = [2]string{strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return TargetSpec{}, err
	}
	var parts []string
	for _, k := range []string{"CONFORMANCE_MCP_URL", "CONFORMANCE_IDP_ISSUER", "CONFORMANCE_NEXTCLOUD_URL"} {
		if v := getenv(k); v != "" {
			parts = append(parts, v)
		}
	}
	spec := TargetSpec{Name: "external", Description: "external deployment: " + strings.Join(parts, ", ")}
	spec.Start = func(ctx context.Context) (*grade.Target, func() error, error) {
		hc := grade.NewHTTPClient(30 * time.Second)
		t := &grade.Target{Name: spec.Name, Description: spec.Description, HTTP: hc}
		issuer := getenv("CONFORMANCE_IDP_ISSUER")
		var idpCtl *fakectl.IdP
		if issuer != "" {
			c := fakectl.NewIdP(issuer, hc)
			if c.Probe(ctx) == nil {
				idpCtl = c
			}
		}
		if mcpURL := getenv("CONFORMANCE_MCP_URL"); mcpURL != "" {
			u, _ := url.Parse(mcpURL)
			rec := grade.NewRecorder(16<<20, u.Host)
			t.HTTP = grade.NewRecordingClient(30*time.Second, rec)
			t.Recorder = rec
			m := &grade.MCP{
				URL: mcpURL, Mode: mode, Issuer: issuer,
				ProgressiveConsent: bools["CONFORMANCE_MCP_PROGRESSIVE_CONSENT"],
				ServerClientID:     envOr(getenv, "CONFORMANCE_MCP_SERVER_CLIENT_ID", "nextcloud-mcp-server"),
				NextcloudAudience:  envOr(getenv, "CONFORMANCE_NEXTCLOUD_AUDIENCE", "nextcloud"),
				Users:              users,
				IdPControl:         idpCtl,
				TokenDB:            getenv("CONFORMANCE_TOKEN_DB"),
			}
			if nc := getenv("CONFORMANCE_NEXTCLOUD_URL"); nc != "" {
				if c := fakectl.NewNextcloud(nc, hc); c.Probe(ctx) == nil {
					m.NCControl = c
				}
			}
			if id := getenv("CONFORMANCE_IDP_CLIENT_ID"); id != "" {
				m.Introspector = &grade.ClientCredentials{ID: id, Secret: getenv("CONFORMANCE_IDP_CLIENT_SECRET")}
				m.Secrets = append(m.Secrets, getenv("CONFORMANCE_IDP_CLIENT_SECRET"))
			}
			if bools["CONFORMANCE_IDP_AUTO_APPROVE"] {
				m.Approve = grade.FakeIdPApprove(hc)
			}
			if p := getenv("CONFORMANCE_SERVER_LOG"); p != "" {
				m.ServerLog = func() []byte {
					b, _ := os.ReadFile(p)
					return b
				}
			}
			static := grade.StaticTokens{Full: getenv("CONFORMANCE_MCP_TOKEN"), ReadOnly: getenv("CONFORMANCE_MCP_TOKEN_READONLY"),
				Other: getenv("CONFORMANCE_MCP_TOKEN_OTHER_USER"), Users: users}
			switch {
			case mode == grade.ModeBasic:
			case static.Full != "":
				m.Tokens = static
			case idpCtl != nil:
				resource := mcpURL
				if mode == grade.ModePassthrough {
					resource = ""
				}
				m.Tokens = grade.ControlTokens{Control: idpCtl, ClientID: envOr(getenv, "CONFORMANCE_IDP_PUBLIC_CLIENT_ID", "mcp-client"), Resource: resource}
			}
			t.MCP = m
		}
		if issuer != "" {
			t.IdP = externalIdP(ctx, getenv, issuer, idpCtl, hc)
		}
		if nc := getenv("CONFORMANCE_NEXTCLOUD_URL"); nc != "" {
			t.Nextcloud = &grade.Nextcloud{URL: nc, User: getenv("CONFORMANCE_NEXTCLOUD_USER"), Password: getenv("CONFORMANCE_NEXTCLOUD_PASSWORD")}
		}
		if officialScript != "" {
			t.Official = &grade.Official{Script: officialScript, URL: getenv("CONFORMANCE_OFFICIAL_URL")}
			if t.Official.URL == "" && mode == grade.ModeBasic {
				t.Official.URL = getenv("CONFORMANCE_MCP_URL")
			}
		}
		return t, nil, nil
	}
	return spec, nil
}

// externalIdP describes an external issuer. Tokens to work with come from,
// in order: the fake's control API, the password grant of the public
// client (only where the IdP offers it), or tokens given in the
// environment (obtained by a code flow: -idp-login).
func externalIdP(_ context.Context, getenv func(string) string, issuer string, ctl *fakectl.IdP, hc *http.Client) *grade.IdP {
	pub := envOr(getenv, "CONFORMANCE_IDP_PUBLIC_CLIENT_ID", "mcp-client")
	g := &grade.IdP{
		Issuer:           issuer,
		PublicClientID:   pub,
		RedirectURI:      envOr(getenv, "CONFORMANCE_IDP_REDIRECT_URI", "http://127.0.0.1:53682/callback"),
		ExchangeAudience: envOr(getenv, "CONFORMANCE_IDP_EXCHANGE_AUDIENCE", "nextcloud"),
		Control:          ctl,
	}
	if id := getenv("CONFORMANCE_IDP_CLIENT_ID"); id != "" {
		g.Confidential = &grade.ClientCredentials{ID: id, Secret: getenv("CONFORMANCE_IDP_CLIENT_SECRET")}
	}
	user, pass := getenv("CONFORMANCE_IDP_USERNAME"), getenv("CONFORMANCE_IDP_PASSWORD")
	passwordGrant := func(ctx context.Context) (*asclient.Answer, error) {
		m, err := asclient.Discover(ctx, hc, issuer)
		if err != nil {
			return nil, err
		}
		a, err := asclient.Post(ctx, hc, m.TokenEndpoint, url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass},
			"scope": {"openid offline_access"}}, &asclient.Client{ID: pub})
		if err != nil {
			return nil, err
		}
		if a.Status != http.StatusOK {
			return nil, fmt.Errorf("password grant for %s: %s", user, a.Summary())
		}
		return a, nil
	}
	switch {
	case ctl != nil:
		g.SubjectToken = func(ctx context.Context) (string, error) {
			res, err := ctl.Issue(ctx, fakectl.IssueRequest{ClientID: pub, Username: "alice", Scopes: []string{"openid"}})
			if err != nil {
				return "", err
			}
			return res.AccessToken, nil
		}
		g.RefreshToken = func(ctx context.Context) (string, error) {
			res, err := ctl.Issue(ctx, fakectl.IssueRequest{ClientID: pub, Username: "alice", Scopes: []string{"openid"}, Offline: true})
			if err != nil {
				return "", err
			}
			return res.RefreshToken, nil
		}
	case user != "" && pass != "":
		g.SubjectToken = func(ctx context.Context) (string, error) {
			a, err := passwordGrant(ctx)
			if err != nil {
				return "", err
			}
			return a.Str("access_token"), nil
		}
		g.RefreshToken = func(ctx context.Context) (string, error) {
			a, err := passwordGrant(ctx)
			if err != nil {
				return "", err
			}
			if a.Str("refresh_token") == "" {
				return "", errors.New("the password grant returned no refresh token (offline_access not granted?)")
			}
			return a.Str("refresh_token"), nil
		}
	default:
		if tok := getenv("CONFORMANCE_IDP_SUBJECT_TOKEN"); tok != "" {
			g.SubjectToken = func(context.Context) (string, error) { return tok, nil }
		}
		if tok := getenv("CONFORMANCE_IDP_REFRESH_TOKEN"); tok != "" {
			g.RefreshToken = func(context.Context) (string, error) { return tok, nil }
		}
	}
	if tok := getenv("CONFORMANCE_IDP_OPAQUE_TOKEN"); tok != "" {
		g.OpaqueToken = func(context.Context) (string, error) { return tok, nil }
	}
	return g
}
