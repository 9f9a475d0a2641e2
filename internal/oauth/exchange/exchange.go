// Package exchange is the RFC 8693 token-exchange client of exchange mode:
// per tool call, the validated Flow 1 token (audience: this server) is
// exchanged at the IdP for a token whose audience is Nextcloud, with this
// server authenticating as its confidential client. The result is checked
// — issued_token_type, token_type, and through verify.Verifier.CheckIssued
// iss, exp, aud (Nextcloud's), sub (the inbound token's) and act (this
// server, when the IdP names an actor) — and handed back for that one
// call: nothing is cached, stored or logged here. Its signature is not
// verified: it comes straight from the token endpoint over the server's
// own authenticated connection, and Nextcloud verifies it
// (docs/architecture.md §2.1.1).
//
// Failures never fall back to anything: they wrap *oauth.Error (the IdP's
// RFC 6749 §5.2 code), oauth.ErrUnavailable (IdP unreachable or 5xx) or
// ErrBadResponse (the IdP answered with something unusable), with a message
// that names the cause.
package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// ErrBadResponse means the IdP accepted the exchange but returned a token
// this server must not use (wrong type, audience, signature, subject...).
var ErrBadResponse = errors.New("token exchange returned an unusable token")

// Config configures an Exchanger.
type Config struct {
	// TokenEndpoint is the IdP's token endpoint.
	TokenEndpoint string
	// Client is this server's confidential client (client_secret_basic).
	Client oauth.ClientCredentials
	// Audience is requested as RFC 8693 audience: Nextcloud's client id at
	// the IdP (e.g. "nextcloud").
	Audience string
	// Resource, when set, is sent as RFC 8707 resource too (for IdPs that
	// select the target by URL).
	Resource string
	// Scopes, when set, are requested as scope (down-scoping).
	Scopes []string
	// Verifier checks the issued token's claims (CheckIssued). Configure
	// it with the IdP's issuer and Audiences = {Audience}; its KeySet and
	// cache are not used here.
	Verifier *verify.Verifier
	// Actor, when set, is this server's client id: an issued token whose
	// RFC 8693 act claim names another actor is refused. A token without
	// act is accepted (Keycloak's standard token exchange issues none).
	Actor string
	// HTTPClient defaults to oauth.NewHTTPClient(0).
	HTTPClient *http.Client
	// Now is the clock (tests).
	Now func() time.Time
}

// Exchanger performs token exchanges. It is safe for concurrent use.
type Exchanger struct {
	cfg Config
	ep  oauth.Endpoint
}

// New checks cfg and returns an Exchanger.
func New(cfg Config) (*Exchanger, error) {
	switch {
	case cfg.TokenEndpoint == "":
		return nil, errors.New("exchange: TokenEndpoint is required")
	case cfg.Client.ID == "" || cfg.Client.Secret == "":
		return nil, errors.New("exchange: the server's client id and secret are required (RFC 8693 exchange is done as a confidential client)")
	case cfg.Audience == "":
		return nil, errors.New("exchange: Audience (Nextcloud's client id) is required")
	case cfg.Verifier == nil:
		return nil, errors.New("exchange: Verifier for the issued token is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Exchanger{cfg: cfg, ep: oauth.Endpoint{
		Name: "token endpoint", URL: cfg.TokenEndpoint, Client: cfg.Client, HTTPClient: cfg.HTTPClient,
	}}, nil
}

// Token is an exchanged access token for one call. Its String, GoString
// and LogValue never show the token.
type Token struct {
	AccessToken string
	TokenType   string
	ExpiresAt   time.Time
	Scopes      []string
	// Claims is the verified content of AccessToken.
	Claims *verify.Result
}

// String describes t without the token.
func (t *Token) String() string {
	if t == nil {
		return "<nil token>"
	}
	sub := ""
	if t.Claims != nil {
		sub = t.Claims.Subject
	}
	return fmt.Sprintf("exchanged access token for %s (expires %s)", sub, t.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString is String, so %#v does not print the token either.
func (t *Token) GoString() string { return t.String() }

// LogValue keeps the token out of slog output.
func (t *Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

type response struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       *int64 `json:"expires_in"`
	Scope           string `json:"scope"`
}

// Exchange trades subjectToken (the validated inbound access token) for a
// Nextcloud token. subject is the inbound token's sub; when not empty the
// issued token must carry the same sub (pass "" only for IdPs that issue
// pairwise subjects per audience).
func (e *Exchanger) Exchange(ctx context.Context, subjectToken, subject string) (*Token, error) {
	if subjectToken == "" {
		return nil, errors.New("token exchange: no subject token")
	}
	form := url.Values{
		"grant_type":           {oauth.GrantTypeTokenExchange},
		"subject_token":        {subjectToken},
		"subject_token_type":   {oauth.TokenTypeAccessToken},
		"requested_token_type": {oauth.TokenTypeAccessToken},
		"audience":             {e.cfg.Audience},
	}
	if e.cfg.Resource != "" {
		form.Set("resource", e.cfg.Resource)
	}
	if len(e.cfg.Scopes) > 0 {
		form.Set("scope", scopes.Format(e.cfg.Scopes))
	}
	var resp response
	if err := e.ep.Post(ctx, form, &resp); err != nil {
		return nil, e.explain(err)
	}
	now := e.cfg.Now()
	switch {
	case resp.AccessToken == "":
		return nil, fmt.Errorf("%w: the response has no access_token", ErrBadResponse)
	case resp.IssuedTokenType != oauth.TokenTypeAccessToken:
		return nil, fmt.Errorf("%w: issued_token_type is %s, want %s", ErrBadResponse, printable(resp.IssuedTokenType), oauth.TokenTypeAccessToken)
	case !strings.EqualFold(resp.TokenType, "bearer"):
		return nil, fmt.Errorf("%w: token_type is %s, want Bearer", ErrBadResponse, printable(resp.TokenType))
	}
	// The claims are checked, not the signature (see the package comment).
	claims, err := e.cfg.Verifier.CheckIssued(resp.AccessToken)
	if err != nil {
		// Not wrapped: the inbound token was fine, so this must not look
		// like an invalid inbound token (401) to the caller.
		return nil, fmt.Errorf("%w: the issued token was refused: %v", ErrBadResponse, err)
	}
	if subject != "" && claims.Subject != subject {
		return nil, fmt.Errorf("%w: the issued token is for subject %s, not %s", ErrBadResponse, printable(claims.Subject), printable(subject))
	}
	if _, named := claims.Act["sub"]; e.cfg.Actor != "" && claims.Act != nil && (!named || claims.ActorSubject() != e.cfg.Actor) {
		return nil, fmt.Errorf("%w: the issued token names actor %s, not this server (%s)", ErrBadResponse, printable(claims.ActorSubject()), e.cfg.Actor)
	}
	t := &Token{AccessToken: resp.AccessToken, TokenType: "Bearer", ExpiresAt: claims.Expiry, Claims: claims, Scopes: claims.Scopes}
	if resp.ExpiresIn != nil && *resp.ExpiresIn > 0 {
		if at := now.Add(time.Duration(*resp.ExpiresIn) * time.Second); at.Before(t.ExpiresAt) {
			t.ExpiresAt = at
		}
	}
	if resp.Scope != "" {
		t.Scopes = scopes.Parse(resp.Scope)
	}
	return t, nil
}

// SubjectRefused reports whether the IdP refused an exchange because of
// the subject token — the client's own token — so the client must refresh
// or re-authorize: invalid_grant or invalid_token (what IdPs answer for an
// expired, revoked or foreign subject token), or invalid_request for a
// subject token whose exp (given, zero if unknown) has passed — RFC 8693
// §2.2.2 makes invalid_request the code for an invalid subject token, but
// also for a malformed request, so it counts only when the token is
// known to be expired (it passed the resource server's leeway, not the
// IdP's). Every other failure (exchange not offered or not allowed, the
// IdP down, an unusable answer) is the deployment's, not the client's.
func SubjectRefused(err error, expiry, now time.Time) bool {
	switch {
	case err == nil || errors.Is(err, ErrBadResponse) || errors.Is(err, oauth.ErrUnavailable):
		return false
	case oauth.HasCode(err, oauth.CodeInvalidGrant), oauth.HasCode(err, CodeInvalidToken):
		return true
	case oauth.HasCode(err, oauth.CodeInvalidRequest):
		return !expiry.IsZero() && !now.Before(expiry)
	}
	return false
}

// CodeInvalidToken is RFC 6750's invalid_token, which some IdPs answer for
// a subject token they will not accept.
const CodeInvalidToken = "invalid_token"

// explain names the cause of a refused exchange in words an operator can
// act on, keeping *oauth.Error and ErrUnavailable in the chain.
func (e *Exchanger) explain(err error) error {
	if errors.Is(err, oauth.ErrUnavailable) {
		return fmt.Errorf("token exchange failed: the IdP is unavailable: %w", err)
	}
	var hint string
	switch oauth.ErrorCode(err) {
	case oauth.CodeUnsupportedGrantType:
		hint = "the IdP does not support RFC 8693 token exchange (or not for this client)"
	case oauth.CodeUnauthorizedClient:
		hint = fmt.Sprintf("client %s is not allowed to use token exchange at the IdP", e.cfg.Client.ID)
	case oauth.CodeInvalidClient:
		hint = fmt.Sprintf("the IdP refused this server's client credentials (client %s); check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET", e.cfg.Client.ID)
	case oauth.CodeInvalidTarget:
		hint = fmt.Sprintf("the IdP will not issue tokens for audience %s to client %s", e.cfg.Audience, e.cfg.Client.ID)
	case oauth.CodeInvalidGrant:
		hint = "the IdP refused the subject token (expired, revoked or not exchangeable)"
	case oauth.CodeInvalidScope:
		hint = "the IdP refused the requested scope"
	case oauth.CodeInvalidRequest:
		// RFC 8693 §2.2.2 uses invalid_request both for a malformed
		// request and for a subject token it will not accept.
		hint = "the IdP rejected the exchange request (malformed, or a subject token it will not exchange: expired, revoked or not addressed to this server)"
	default:
		hint = "the IdP refused the exchange"
	}
	return fmt.Errorf("token exchange failed: %s: %w", hint, err)
}

func printable(s string) string {
	if s == "" {
		return "(empty)"
	}
	out := []rune{}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		out = append(out, r)
		if len(out) >= 80 {
			break
		}
	}
	return string(out)
}
