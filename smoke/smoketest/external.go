package smoketest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// External configures real images in place of the fakes: a real
// Nextcloud, a real IdP (Keycloak), or both. The same scenarios run
// against them; checks that need a fake's control API are skipped with a
// reason. See smoke/README.md for what the images must be configured with.
//
// Every setting comes from an SMOKE_* environment variable (ExternalFromEnv).
// JSON is used for lists and maps so values may hold commas and spaces.
type External struct {
	// IdPImage (SMOKE_IDP_IMAGE) replaces the fake IdP.
	IdPImage string
	// IdPIssuer (SMOKE_IDP_ISSUER) is the issuer URL the image serves on
	// the host network, e.g. http://127.0.0.1:8180/realms/nextcloud-mcp.
	IdPIssuer string
	// IdPEnv (SMOKE_IDP_ENV, JSON object), IdPArgs (SMOKE_IDP_ARGS, JSON
	// array) and IdPFiles (SMOKE_IDP_FILES, JSON object container path →
	// host path, e.g. a realm to import) configure the container.
	IdPEnv   map[string]string
	IdPArgs  []string
	IdPFiles map[string]string
	// ServerClientID/Secret (SMOKE_IDP_SERVER_CLIENT_ID, default
	// nextcloud-mcp-server; SMOKE_IDP_SERVER_CLIENT_SECRET) are the MCP
	// server's confidential client.
	ServerClientID, ServerClientSecret string
	// ClientID/Secret (SMOKE_IDP_CLIENT_ID, default mcp-client;
	// SMOKE_IDP_CLIENT_SECRET) are the client the suites get Flow 1 tokens
	// for.
	ClientID, ClientSecret string
	// TokenFlow (SMOKE_IDP_TOKEN_FLOW) is "password" (resource owner
	// password grant; the default with a real IdP) or "code" (code + PKCE;
	// needs an IdP that approves without a login page).
	TokenFlow string

	// User (SMOKE_USER, default alice) is the account the suites act as;
	// Password (SMOKE_PASSWORD) is its IdP password for the password grant.
	User, Password string

	// NextcloudImage (SMOKE_NEXTCLOUD_IMAGE) replaces the fake Nextcloud.
	NextcloudImage string
	// NextcloudURL (SMOKE_NEXTCLOUD_URL) is its base URL on the host
	// network, e.g. http://127.0.0.1:8080.
	NextcloudURL string
	// NextcloudEnv/Args/Files as for the IdP (SMOKE_NEXTCLOUD_ENV,
	// SMOKE_NEXTCLOUD_ARGS, SMOKE_NEXTCLOUD_FILES).
	NextcloudEnv   map[string]string
	NextcloudArgs  []string
	NextcloudFiles map[string]string
	// NextcloudAppPassword (SMOKE_NEXTCLOUD_APP_PASSWORD) is User's app
	// password for basic mode.
	NextcloudAppPassword string
	// NextcloudAudience (SMOKE_NEXTCLOUD_AUDIENCE, default nextcloud) is
	// Nextcloud's client id at the IdP (user_oidc's provider client id).
	NextcloudAudience string

	// ReadyTimeout (SMOKE_READY_TIMEOUT, default 5m) bounds the start of a
	// real image; Nextcloud installs itself on first start.
	ReadyTimeout time.Duration
}

// RealIdP reports whether a real IdP image replaces the fake one.
func (e External) RealIdP() bool { return e.IdPImage != "" }

// RealNextcloud reports whether a real Nextcloud image replaces the fake.
func (e External) RealNextcloud() bool { return e.NextcloudImage != "" }

// Any reports whether any real image is configured.
func (e External) Any() bool { return e.RealIdP() || e.RealNextcloud() }

// ExternalFromEnv reads the SMOKE_* settings through getenv (os.Getenv)
// and checks them; every problem is reported at once.
func ExternalFromEnv(getenv func(string) string) (External, error) {
	e := External{
		IdPImage:             getenv("SMOKE_IDP_IMAGE"),
		IdPIssuer:            strings.TrimSuffix(getenv("SMOKE_IDP_ISSUER"), "/"),
		ServerClientID:       or(getenv("SMOKE_IDP_SERVER_CLIENT_ID"), "nextcloud-mcp-server"),
		ServerClientSecret:   getenv("SMOKE_IDP_SERVER_CLIENT_SECRET"),
		ClientID:             or(getenv("SMOKE_IDP_CLIENT_ID"), "mcp-client"),
		ClientSecret:         getenv("SMOKE_IDP_CLIENT_SECRET"),
		TokenFlow:            getenv("SMOKE_IDP_TOKEN_FLOW"),
		User:                 or(getenv("SMOKE_USER"), "alice"),
		Password:             getenv("SMOKE_PASSWORD"),
		NextcloudImage:       getenv("SMOKE_NEXTCLOUD_IMAGE"),
		NextcloudURL:         strings.TrimSuffix(getenv("SMOKE_NEXTCLOUD_URL"), "/"),
		NextcloudAppPassword: getenv("SMOKE_NEXTCLOUD_APP_PASSWORD"),
		NextcloudAudience:    or(getenv("SMOKE_NEXTCLOUD_AUDIENCE"), "nextcloud"),
		ReadyTimeout:         5 * time.Minute,
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	jsonVar := func(name string, out any) {
		if v := getenv(name); v != "" {
			if err := json.Unmarshal([]byte(v), out); err != nil {
				bad("%s must be JSON (%v)", name, err)
			}
		}
	}
	jsonVar("SMOKE_IDP_ENV", &e.IdPEnv)
	jsonVar("SMOKE_IDP_ARGS", &e.IdPArgs)
	jsonVar("SMOKE_IDP_FILES", &e.IdPFiles)
	jsonVar("SMOKE_NEXTCLOUD_ENV", &e.NextcloudEnv)
	jsonVar("SMOKE_NEXTCLOUD_ARGS", &e.NextcloudArgs)
	jsonVar("SMOKE_NEXTCLOUD_FILES", &e.NextcloudFiles)
	for name, files := range map[string]map[string]string{"SMOKE_IDP_FILES": e.IdPFiles, "SMOKE_NEXTCLOUD_FILES": e.NextcloudFiles} {
		for dst, src := range files {
			if !filepath.IsAbs(src) || !filepath.IsAbs(dst) {
				bad("%s: %q → %q: both paths must be absolute (the suites run in smoke/)", name, dst, src)
			}
		}
	}
	if v := getenv("SMOKE_READY_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("SMOKE_READY_TIMEOUT must be a positive duration such as 5m")
		} else {
			e.ReadyTimeout = d
		}
	}
	if e.RealIdP() {
		if err := checkLoopbackURL(e.IdPIssuer); err != nil {
			bad("SMOKE_IDP_ISSUER (required with SMOKE_IDP_IMAGE) %v", err)
		}
		if e.ServerClientSecret == "" {
			bad("SMOKE_IDP_SERVER_CLIENT_SECRET is required with SMOKE_IDP_IMAGE (the MCP server's client secret)")
		}
		switch e.TokenFlow {
		case "":
			e.TokenFlow = "password"
		case "password", "code":
		default:
			bad("SMOKE_IDP_TOKEN_FLOW must be password or code, not %q", e.TokenFlow)
		}
		if e.TokenFlow == "password" && e.Password == "" {
			bad("SMOKE_PASSWORD is required for SMOKE_IDP_TOKEN_FLOW=password (the IdP password of SMOKE_USER)")
		}
	} else if getenv("SMOKE_IDP_ISSUER") != "" {
		bad("SMOKE_IDP_ISSUER is set without SMOKE_IDP_IMAGE")
	}
	if e.RealNextcloud() {
		if err := checkLoopbackURL(e.NextcloudURL); err != nil {
			bad("SMOKE_NEXTCLOUD_URL (required with SMOKE_NEXTCLOUD_IMAGE) %v", err)
		}
		if e.NextcloudAppPassword == "" {
			bad("SMOKE_NEXTCLOUD_APP_PASSWORD is required with SMOKE_NEXTCLOUD_IMAGE (basic mode logs in with it)")
		}
		if !e.RealIdP() {
			// The fake IdP's port changes per run, but a real Nextcloud's
			// user_oidc provider is configured with a fixed issuer.
			bad("SMOKE_NEXTCLOUD_IMAGE needs SMOKE_IDP_IMAGE too: user_oidc in a real Nextcloud must be configured with the IdP's fixed issuer URL")
		}
	}
	return e, errors.Join(errs...)
}

// checkLoopbackURL insists on http://127.0.0.1:<port>[/path]: with host
// networking every container and the suites must see the same URL.
func checkLoopbackURL(s string) error {
	u, err := url.Parse(s)
	if s == "" || err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		return errors.New("must be an http://127.0.0.1:<port> URL (containers run on the host network)")
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
