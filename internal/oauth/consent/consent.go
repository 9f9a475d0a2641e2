// Package consent is the token side of progressive consent (Flow 2): the
// server's own confidential client asks the user, through the IdP, for
// offline access to Nextcloud, and keeps the resulting refresh token
// encrypted for the background worker.
//
// Begin issues the authorization URL (offline_access, prompt=consent,
// PKCE S256, a random single-use state that expires after 10 minutes and is
// bound to the Flow 1 subject). Complete handles the callback: state,
// RFC 9207 iss, the IdP's error parameters, the code exchange
// (client_secret_basic + code_verifier), and the result's checks (a refresh
// token is present; the access token verifies for Nextcloud's audience and
// belongs to the subject that started the flow, so a user cannot attach
// someone else's Nextcloud account, nor be made to attach theirs to an
// attacker's session). Status and Revoke (RFC 7009, then delete) complete
// the set. Every step is audited in the token store, without secrets.
package consent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// Defaults for Config's zero values.
const (
	DefaultStateTTL   = 10 * time.Minute
	DefaultMaxPending = 10000
	maxPerSubject     = 5
)

// Audit events written by the flow (the store adds grant_stored and
// grant_deleted).
const (
	EventConsentStarted = "consent_started"
	EventConsentFailed  = "consent_failed"
	EventRevoked        = "grant_revoked"
)

// Errors of Complete besides the state errors and *oauth.Error.
var (
	// ErrIssuerMismatch: RFC 9207 iss missing or naming another server
	// (a mix-up attack, or a misconfigured issuer).
	ErrIssuerMismatch = errors.New("consent: the authorization response does not come from the configured issuer")
	// ErrSubjectMismatch: the account that approved is not the one that
	// started the flow.
	ErrSubjectMismatch = errors.New("consent: the account that approved access is not the one that asked for it")
	// ErrNoRefreshToken: the IdP granted no refresh token.
	ErrNoRefreshToken = errors.New("consent: the IdP issued no refresh token")
	// ErrBadGrant: the IdP's token response is unusable.
	ErrBadGrant = errors.New("consent: the IdP's token response is unusable")
)

// Config configures a Flow.
type Config struct {
	AuthorizationEndpoint string
	TokenEndpoint         string
	// RevocationEndpoint is optional; without it Revoke only deletes.
	RevocationEndpoint string
	// Issuer is checked against RFC 9207 iss.
	Issuer string
	// IssParameterSupported is the AS metadata's
	// authorization_response_iss_parameter_supported: iss is then required.
	IssParameterSupported bool
	// Client is this server's confidential client.
	Client oauth.ClientCredentials
	// RedirectURL is this server's callback (…/oauth/callback), registered
	// at the IdP for Client.
	RedirectURL string
	// Scopes are requested besides offline_access (e.g. openid and the
	// soft scopes).
	Scopes []string
	// Resource (RFC 8707) and Audience, when set, are sent on the
	// authorization request (Resource on the token request too): a
	// resource-indicator IdP selects the granted token's audience by
	// Resource, others (Keycloak) by their audience mappers or Audience.
	Resource string
	Audience string
	// Remedy, when set, ends the error that refuses a granted access token
	// not issued for Nextcloud: the settings to change (the server names
	// its variables).
	Remedy string
	// Verifier checks the access token of the grant: Nextcloud's audience
	// (and issuer, signature). CacheSize -1 is appropriate.
	Verifier *verify.Verifier
	// Store keeps the pending authorization states and receives the grant
	// in Complete; Revoke deletes it there.
	Store tokenstore.Store
	// StateTTL is the lifetime of an authorization link (default 10 min).
	StateTTL time.Duration
	// MaxPending bounds outstanding authorizations (default 10000).
	MaxPending int
	HTTPClient *http.Client
	Now        func() time.Time
}

// ApplyMetadata fills the endpoints, issuer and RFC 9207 support from the
// IdP's metadata, leaving fields already set alone.
func (c *Config) ApplyMetadata(m *oauth.Metadata) {
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&c.AuthorizationEndpoint, m.AuthorizationEndpoint)
	set(&c.TokenEndpoint, m.TokenEndpoint)
	set(&c.RevocationEndpoint, m.RevocationEndpoint)
	set(&c.Issuer, m.Issuer)
	c.IssParameterSupported = c.IssParameterSupported || m.AuthorizationResponseIssParameterSupported
}

// Flow runs progressive consent. It is safe for concurrent use, and
// several replicas may run it on one shared store: pending authorizations
// live in the store, so a link issued by one replica completes on another.
type Flow struct {
	cfg    Config
	token  oauth.Endpoint
	revoke oauth.Endpoint
}

// New checks cfg and returns a Flow.
func New(cfg Config) (*Flow, error) {
	switch {
	case cfg.AuthorizationEndpoint == "" || cfg.TokenEndpoint == "":
		return nil, errors.New("consent: the IdP's authorization and token endpoints are required")
	case cfg.Issuer == "":
		return nil, errors.New("consent: Issuer is required")
	case cfg.Client.ID == "" || cfg.Client.Secret == "":
		return nil, errors.New("consent: the server's client id and secret are required")
	case cfg.RedirectURL == "":
		return nil, errors.New("consent: RedirectURL (this server's /oauth/callback URL) is required")
	case cfg.Verifier == nil:
		return nil, errors.New("consent: Verifier (Nextcloud audience) is required")
	case cfg.Store == nil:
		return nil, errors.New("consent: Store is required")
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || u.Host == "" || u.Fragment != "" {
		return nil, errors.New("consent: RedirectURL must be an absolute URL without fragment")
	}
	if cfg.StateTTL <= 0 {
		cfg.StateTTL = DefaultStateTTL
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Flow{
		cfg:    cfg,
		token:  oauth.Endpoint{Name: "token endpoint", URL: cfg.TokenEndpoint, Client: cfg.Client, HTTPClient: cfg.HTTPClient},
		revoke: oauth.Endpoint{Name: "revocation endpoint", URL: cfg.RevocationEndpoint, Client: cfg.Client, HTTPClient: cfg.HTTPClient},
	}, nil
}

// RequestedScopes is offline_access plus Config.Scopes, deduplicated.
func (f *Flow) RequestedScopes() []string {
	return scopes.Parse(scopes.OfflineAccess + " " + scopes.Format(f.cfg.Scopes))
}

// Authorization is what Begin hands back to show the user.
type Authorization struct {
	// URL is where the user approves access (contains the state: show it
	// to that user only, never log it).
	URL       string
	ExpiresAt time.Time
}

// Begin starts Flow 2 for subject (the verified Flow 1 sub).
func (f *Flow) Begin(ctx context.Context, subject string) (*Authorization, error) {
	if subject == "" {
		return nil, errors.New("consent: no subject")
	}
	now := f.cfg.Now()
	verifier := oauth2.GenerateVerifier()
	state, err := f.addState(ctx, subject, verifier, now)
	if err != nil {
		return nil, err
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {f.cfg.Client.ID},
		"redirect_uri":          {f.cfg.RedirectURL},
		"scope":                 {scopes.Format(f.RequestedScopes())},
		"state":                 {state},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
		"prompt":                {"consent"},
	}
	if f.cfg.Resource != "" {
		q.Set("resource", f.cfg.Resource)
	}
	if f.cfg.Audience != "" {
		q.Set("audience", f.cfg.Audience)
	}
	u, err := url.Parse(f.cfg.AuthorizationEndpoint)
	if err != nil {
		return nil, fmt.Errorf("consent: authorization endpoint: %w", err)
	}
	// Keep parameters the endpoint URL already has (RFC 6749 §3.1).
	existing := u.Query()
	for k, v := range q {
		existing[k] = v
	}
	u.RawQuery = existing.Encode()
	if err := f.cfg.Store.Audit(ctx, subject, EventConsentStarted, "scopes="+scopes.Format(f.RequestedScopes())); err != nil {
		return nil, err
	}
	return &Authorization{URL: u.String(), ExpiresAt: now.Add(f.cfg.StateTTL)}, nil
}

// Callback holds the authorization response parameters (RFC 6749 §4.1.2,
// RFC 9207).
type Callback struct {
	State, Code, Iss, Error, ErrorDescription string
}

// CallbackFromQuery reads a Callback from the callback URL's query.
func CallbackFromQuery(q url.Values) Callback {
	return Callback{
		State: q.Get("state"), Code: q.Get("code"), Iss: q.Get("iss"),
		Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
	}
}

// Result is a completed consent. Grant has been saved to the store.
type Result struct {
	Subject string
	Scopes  []string
	// Grant is what was stored (it holds the refresh token: do not log
	// it; its String is safe).
	Grant *tokenstore.Grant
}

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	RefreshToken     string `json:"refresh_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	Scope            string `json:"scope"`
}

// Complete finishes Flow 2 from the callback parameters and stores the
// grant. Errors: the state errors, ErrIssuerMismatch, *oauth.Error (the
// IdP's error response or refused code exchange; CodeAccessDenied when
// the user declined), ErrNoRefreshToken, ErrBadGrant, ErrSubjectMismatch,
// or oauth.ErrUnavailable. Messages name the cause and hold no secret.
func (f *Flow) Complete(ctx context.Context, cb Callback) (*Result, error) {
	if cb.State == "" {
		return nil, ErrUnknownState
	}
	p, err := f.takeState(ctx, cb.State, f.cfg.Now())
	if err != nil {
		return nil, err
	}
	res, err := f.complete(ctx, p, cb)
	if err != nil {
		_ = f.cfg.Store.Audit(ctx, p.subject, EventConsentFailed, err.Error())
		return nil, err
	}
	return res, nil
}

func (f *Flow) complete(ctx context.Context, p pending, cb Callback) (*Result, error) {
	if cb.Iss != "" || f.cfg.IssParameterSupported {
		if cb.Iss != f.cfg.Issuer {
			return nil, fmt.Errorf("%w (RFC 9207: iss %s, want %s)", ErrIssuerMismatch, quoted(cb.Iss), f.cfg.Issuer)
		}
	}
	if cb.Error != "" {
		oe := &oauth.Error{Endpoint: "authorization endpoint", Code: errorCode(cb.Error)}
		if cb.ErrorDescription != "" {
			oe.Description = quoted(cb.ErrorDescription)
		}
		if cb.Error == oauth.CodeAccessDenied {
			return nil, fmt.Errorf("consent: access was not granted: %w", oe)
		}
		return nil, fmt.Errorf("consent: %w", oe)
	}
	if cb.Code == "" {
		return nil, fmt.Errorf("%w: the callback carries neither code nor error", ErrBadGrant)
	}
	form := url.Values{
		"grant_type":    {oauth.GrantTypeAuthorizationCode},
		"code":          {cb.Code},
		"redirect_uri":  {f.cfg.RedirectURL},
		"code_verifier": {p.verifier},
	}
	if f.cfg.Resource != "" {
		form.Set("resource", f.cfg.Resource)
	}
	var tr tokenResponse
	if err := f.token.Post(ctx, form, &tr); err != nil {
		return nil, fmt.Errorf("consent: exchanging the authorization code: %w", err)
	}
	// From here on the IdP holds an offline grant: every refusal below
	// revokes it first (refuse), or it would outlive the refusal for the
	// refresh token's whole lifetime, usable by nobody and revocable by
	// nobody.
	refuse := func(err error) (*Result, error) { return nil, f.revokeRefused(ctx, tr.RefreshToken, err) }
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "bearer") {
		return refuse(fmt.Errorf("%w: expected a Bearer access token, got token_type %s", ErrBadGrant, printable(tr.TokenType)))
	}
	if tr.RefreshToken == "" {
		return nil, fmt.Errorf("%w; is offline_access allowed for client %s at the IdP?", ErrNoRefreshToken, f.cfg.Client.ID)
	}
	claims, err := f.cfg.Verifier.Verify(ctx, tr.AccessToken)
	if err != nil {
		if errors.Is(err, oauth.ErrUnavailable) {
			return refuse(fmt.Errorf("consent: checking the granted token: %w", err))
		}
		return refuse(fmt.Errorf("%w: %s", ErrBadGrant, f.describeRefused(tr.AccessToken, err)))
	}
	if claims.Subject != p.subject {
		return refuse(fmt.Errorf("%w (approved by %s, requested by %s)", ErrSubjectMismatch, printable(claims.Subject), printable(p.subject)))
	}
	granted := scopes.Parse(tr.Scope)
	if len(granted) == 0 {
		granted = f.RequestedScopes()
	}
	g := tokenstore.Grant{Subject: p.subject, RefreshToken: tr.RefreshToken, Scopes: granted, ClientID: f.cfg.Client.ID}
	if tr.RefreshExpiresIn > 0 {
		g.RefreshExpiresAt = f.cfg.Now().Add(time.Duration(tr.RefreshExpiresIn) * time.Second)
	}
	if err := f.cfg.Store.Save(ctx, g); err != nil {
		return refuse(err)
	}
	return &Result{Subject: p.subject, Scopes: granted, Grant: &g}, nil
}

// describeRefused says what the IdP granted when the grant's access token
// is not a token for Nextcloud, what this server asked for, and what to
// configure. It reads the token's payload without trusting it, for the
// message only: aud is no secret, and nothing else of the token is shown.
func (f *Flow) describeRefused(token string, cause error) string {
	asked := fmt.Sprintf("the authorization asked for resource %s and audience %s", orNone(f.cfg.Resource), orNone(f.cfg.Audience))
	remedy := "; the IdP must issue JWT access tokens with Nextcloud's audience for that resource"
	if f.cfg.Remedy != "" {
		remedy = "; " + f.cfg.Remedy
	}
	aud, isJWT := audiences(token)
	switch {
	case !isJWT:
		return fmt.Sprintf("the IdP granted an opaque access token (not a JWT), so it did not issue a token for Nextcloud: %s. "+
			"An RFC 8707 resource-indicator IdP that does not know the resource issues a token for its own userinfo endpoint instead%s", asked, remedy)
	case f.cfg.Audience != "" && !slices.Contains(aud, f.cfg.Audience):
		return fmt.Sprintf("the IdP granted an access token for audience %s, not Nextcloud's %q: %s%s", printable(strings.Join(aud, " ")), f.cfg.Audience, asked, remedy)
	}
	return fmt.Sprintf("the granted access token was refused: %v", cause)
}

// audiences reads the aud claim of a compact JWS without verifying it;
// isJWT is false for anything that is not one.
func audiences(token string) (aud []string, isJWT bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var claims struct {
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return nil, false
	}
	var one string
	if json.Unmarshal(claims.Aud, &one) == nil {
		return []string{one}, true
	}
	_ = json.Unmarshal(claims.Aud, &aud) // absent or malformed: no audience
	return aud, true
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(s)
}

// revokeRefused revokes at the IdP (RFC 7009) the refresh token of a grant
// the callback refuses, and returns cause with the outcome appended. The
// revocation runs even when the request's context has ended: the grant
// exists at the IdP either way.
func (f *Flow) revokeRefused(ctx context.Context, refreshToken string, cause error) error {
	if refreshToken == "" {
		return cause
	}
	if f.revoke.URL == "" {
		return fmt.Errorf("%w; the IdP has no revocation endpoint, so the grant it issued stays until it expires", cause)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := oauth.Revoke(rctx, f.revoke, refreshToken, "refresh_token"); err != nil {
		return fmt.Errorf("%w; revoking the grant the IdP issued failed too: %v", cause, err)
	}
	return fmt.Errorf("%w; the grant the IdP issued was revoked at the identity provider", cause)
}

// Status describes a user's provisioning.
type Status struct {
	Provisioned bool
	Scopes      []string
	Since       time.Time
	// RefreshExpiresAt is when the IdP said the grant expires (zero:
	// unknown).
	RefreshExpiresAt time.Time
}

// Status reports whether subject has a stored grant (no secret read).
func (f *Flow) Status(ctx context.Context, subject string) (Status, error) {
	in, err := f.cfg.Store.Info(ctx, subject)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, err
	}
	return Status{Provisioned: true, Scopes: in.Scopes, Since: in.CreatedAt, RefreshExpiresAt: in.RefreshExpiresAt}, nil
}

// RevokeResult says what Revoke achieved.
type RevokeResult struct {
	// Deleted: a grant existed and is gone from this server.
	Deleted bool
	// RevokedAtIdP: the IdP confirmed the revocation (RFC 7009).
	RevokedAtIdP bool
	// IdPError explains why the IdP was not told (no revocation endpoint,
	// IdP unavailable, refusal). The grant is deleted here regardless: the
	// server can no longer use it, and the refresh token expires at the
	// IdP on its own.
	IdPError error
}

// Revoke revokes subject's refresh token at the IdP (token_type_hint
// refresh_token, which also ends the access tokens of the grant at IdPs
// that support it) and deletes the grant. The error is only for store
// failures; the IdP outcome is in the result.
func (f *Flow) Revoke(ctx context.Context, subject string) (RevokeResult, error) {
	var res RevokeResult
	// The store locks the grant against every other use (background jobs
	// and refreshes on any replica end first, none starts after), so once
	// Revoke returns nothing uses the grant any more.
	deleted, err := f.cfg.Store.Revoke(ctx, subject, "revoked by the user", func(ctx context.Context, g *tokenstore.Grant) error {
		switch {
		case g == nil:
			// Undecryptable: nothing to revoke at the IdP, but delete.
			res.IdPError = errors.New("the stored grant could not be decrypted, so the IdP could not be told")
		case f.revoke.URL == "":
			res.IdPError = errors.New("the IdP has no revocation endpoint; the refresh token will expire on its own")
		default:
			if err := oauth.Revoke(ctx, f.revoke, g.RefreshToken, "refresh_token"); err != nil {
				res.IdPError = fmt.Errorf("the IdP could not revoke the refresh token: %w", err)
			} else {
				res.RevokedAtIdP = true
			}
		}
		detail := "revoked at the IdP"
		if res.IdPError != nil {
			detail = "deleted locally; " + res.IdPError.Error()
		}
		return f.cfg.Store.Audit(ctx, subject, EventRevoked, detail)
	})
	res.Deleted = deleted
	return res, err
}

// printable keeps a value the IdP asserted (a verified token's sub, a
// token type) short and on one line in error text: anything but graphic
// characters (controls, line and paragraph separators, bidi overrides)
// becomes '?'.
func printable(s string) string {
	if s == "" {
		return "(none)"
	}
	out := []rune{}
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			r = '?'
		}
		out = append(out, r)
		if len(out) >= 120 {
			break
		}
	}
	return string(out)
}

// maxQuoted bounds, in characters, what quoted keeps of a value.
const maxQuoted = 120

// quoted renders text the caller of the callback chose (error,
// error_description, iss) for error messages, logs and the audit table:
// cut to maxQuoted characters, then Go-quoted, so line breaks, controls
// and bidi or other format characters show as escapes and the text can
// neither forge a line nor pass for the server's own words.
func quoted(s string) string {
	if s == "" {
		return "(none)"
	}
	cut := false
	if r := []rune(s); len(r) > maxQuoted {
		s, cut = string(r[:maxQuoted]), true
	}
	q := strconv.Quote(s)
	if cut {
		q += "…"
	}
	return q
}

// errorCode keeps an RFC 6749 §4.1.2.1 error code as it is when it has the
// code syntax (%x20-21 / %x23-5B / %x5D-7E), so callers can match it, and
// quotes anything else.
func errorCode(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return quoted(s)
		}
	}
	if s == "" || len(s) > maxQuoted {
		return quoted(s)
	}
	return s
}
