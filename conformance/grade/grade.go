// Package grade holds what every conformance check shares: the outcome of
// a check, and the Target — one deployment (MCP server, IdP, Nextcloud)
// described only by URLs, credentials and optional test hooks, never by
// the server's internals.
package grade

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
)

// Status is a check's result.
type Status string

// Results. N/A means the check could not be run against this target (the
// reason says why); it never counts as a pass.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Warn Status = "WARN"
	NA   Status = "N/A"
)

// Outcome is a status with one line of evidence.
type Outcome struct {
	Status   Status
	Evidence string
	// Details are optional further lines (per-scenario results, …) that
	// the Markdown and JSON reports include and the table omits.
	Details []string
}

func outcome(s Status, format string, a []any) Outcome {
	ev := fmt.Sprintf(format, a...)
	ev = strings.Join(strings.Fields(ev), " ")
	return Outcome{Status: s, Evidence: ev}
}

// Passf is a pass with evidence.
func Passf(format string, a ...any) Outcome { return outcome(Pass, format, a) }

// Failf is a failure with evidence.
func Failf(format string, a ...any) Outcome { return outcome(Fail, format, a) }

// Warnf is a pass that needs attention.
func Warnf(format string, a ...any) Outcome { return outcome(Warn, format, a) }

// NAf says why the check does not apply.
func NAf(format string, a ...any) Outcome { return outcome(NA, format, a) }

// Errorf turns an unexpected error of the harness itself (not of the
// graded system) into a failure: a check that cannot run its probe has
// not shown the requirement holds.
func Errorf(step string, err error) Outcome {
	if errors.Is(err, ErrUnavailable) {
		return NAf("%s: %v", step, err)
	}
	return Failf("%s: %v", step, err)
}

// ErrUnavailable marks a missing capability of the target (no token
// source, no control API): checks turn it into N/A.
var ErrUnavailable = errors.New("not available for this target")

// Func is a check: it probes t and grades what it saw.
type Func func(ctx context.Context, t *Target) Outcome

// Target is one deployment under test. Nil parts are not graded.
type Target struct {
	// Name identifies the target in reports ("exchange", "external", …).
	Name string
	// Description is one line for the report header.
	Description string
	// HTTP is the client every probe uses. It must not follow redirects
	// (the checks grade redirects themselves).
	HTTP *http.Client

	MCP       *MCP
	IdP       *IdP
	Nextcloud *Nextcloud
	// Official runs the official MCP conformance suite; nil = not run.
	Official *Official

	// Recorder, when set, holds the bodies of the responses HTTP received
	// (see NewRecordingClient); the secret-leak check scans them.
	Recorder *Recorder

	mu       sync.Mutex
	memo     map[string]*memoEntry
	secrets  []string
	cleanups []func(context.Context)
}

// Cleanup registers f to run after the target's last check (e.g. delete
// a note a check created on an external deployment).
func (t *Target) Cleanup(f func(context.Context)) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}

// RunCleanups runs the registered cleanups, last first.
func (t *Target) RunCleanups(ctx context.Context) {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i](ctx)
	}
}

type memoEntry struct {
	once sync.Once
	v    any
	err  error
}

// Memo runs f once per key for this target and returns its result
// thereafter; checks use it to share expensive probes (tool lists,
// positive controls).
func (t *Target) Memo(key string, f func() (any, error)) (any, error) {
	t.mu.Lock()
	if t.memo == nil {
		t.memo = map[string]*memoEntry{}
	}
	e := t.memo[key]
	if e == nil {
		e = &memoEntry{}
		t.memo[key] = e
	}
	t.mu.Unlock()
	e.once.Do(func() { e.v, e.err = f() })
	return e.v, e.err
}

// NewHTTPClient returns the probes' HTTP client: a timeout, and redirects
// returned rather than followed.
func NewHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Modes of an MCP server (docs/architecture.md §2.1).
const (
	ModeBasic       = "basic"
	ModePassthrough = "passthrough"
	ModeExchange    = "exchange"
)

// MCP describes the MCP server under test.
type MCP struct {
	// URL is the MCP endpoint (the canonical resource identifier).
	URL string
	// Mode is the configured token mode, or "" when unknown.
	Mode string
	// Issuer is the expected authorization server ("" = accept what the
	// metadata names).
	Issuer string
	// ProgressiveConsent says whether Flow 2 is enabled.
	ProgressiveConsent bool
	// ServerClientID is the server's own client id at the IdP (the actor
	// of exchanged tokens, the client of Flow 2).
	ServerClientID string
	// NextcloudAudience is Nextcloud's client id at the IdP.
	NextcloudAudience string
	// Users are two distinct accounts: [0] is the main one.
	Users [2]string
	// Tokens issues Flow 1 access tokens; nil means none can be had.
	Tokens Tokens
	// IdPControl and NCControl are the fakes' control APIs (nil when
	// absent); checks that need them are N/A otherwise.
	IdPControl *fakectl.IdP
	NCControl  *fakectl.Nextcloud
	// Approve completes a Flow 2 authorization at the IdP as user and
	// returns the URL the IdP redirected the browser to (the server's
	// callback with code and state). Nil: consent checks are N/A.
	Approve func(ctx context.Context, authorizationURL, user string) (string, error)
	// TokenDB is the path of the server's token database file, if this
	// process can read it.
	TokenDB string
	// Introspector is a client allowed to introspect at the IdP (RFC
	// 7662), used to ask whether strings found at rest are live tokens.
	Introspector *ClientCredentials
	// Tap reports refresh tokens the IdP issued to a client, as seen on
	// the wire by a tap in front of the IdP; nil when there is none.
	Tap TokenTap
	// ServerLog returns everything the server has logged so far; nil
	// when the logs cannot be read.
	ServerLog func() []byte
	// Secrets are further strings that must never appear in the server's
	// logs or answers (e.g. the basic-mode app password).
	Secrets []string
}

// Tokens issues Flow 1 access tokens for the MCP server.
type Tokens interface {
	// Token returns an access token for user with exactly scopes, or an
	// error wrapping ErrUnavailable.
	Token(ctx context.Context, user string, scopes []string) (string, error)
}

// TokenTap reports refresh tokens issued to a client.
type TokenTap interface {
	RefreshTokens(clientID string) []string
}

// ClientCredentials is a confidential client.
type ClientCredentials struct {
	ID, Secret string
}

// IdP describes the identity provider under test.
type IdP struct {
	// Issuer is the issuer identifier (RFC 8414 §2).
	Issuer string
	// PublicClientID and RedirectURI are a public client and one of its
	// registered redirect URIs, for authorization-request checks.
	PublicClientID string
	RedirectURI    string
	// Confidential is a client that may introspect and may exchange
	// tokens for ExchangeAudience.
	Confidential     *ClientCredentials
	ExchangeAudience string
	// SubjectToken returns an access token Confidential may exchange (its
	// aud names Confidential); nil or ErrUnavailable when none.
	SubjectToken func(ctx context.Context) (string, error)
	// RefreshToken returns a fresh refresh token of the public client;
	// nil or ErrUnavailable when none.
	RefreshToken func(ctx context.Context) (string, error)
	// OpaqueToken returns a live opaque access token, for IdPs that
	// introspect only their opaque tokens (oidc-provider refuses to
	// introspect its JWTs with unsupported_token_type); nil when none.
	OpaqueToken func(ctx context.Context) (string, error)
	// Control is the fake IdP's control API, nil when absent.
	Control *fakectl.IdP
}

// Nextcloud describes the Nextcloud under test.
type Nextcloud struct {
	URL      string
	User     string
	Password string // password or app password
}

// AddSecret remembers a credential the harness handled (tokens it was
// issued or minted) so the secret-leak check can look for it.
func (t *Target) AddSecret(s string) {
	if len(s) < 12 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, x := range t.secrets {
		if x == s {
			return
		}
	}
	t.secrets = append(t.secrets, s)
}

// Secrets returns the credentials remembered so far.
func (t *Target) Secrets() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.secrets...)
}

// Official configures a run of the official MCP conformance suite.
type Official struct {
	// Script is conformance/official/run.sh (it installs Node 22 and the
	// pinned suite on first use and applies the expected-failures
	// baseline next to it).
	Script string
	// URL is an MCP endpoint that needs no token (the suite sends none).
	URL string
	// OAuthURL is an MCP endpoint that requires OAuth, for the TypeScript
	// SDK client probe (tsclient.mjs); its IdP must let the probe log in
	// as alice / alice-password (or approve at once).
	OAuthURL string
}
