// Package broker turns stored Flow 2 grants into Nextcloud access tokens
// for the background worker (notes sync and the like) through the refresh
// grant: the access token is cached until shortly before it expires, a
// rotated refresh token is stored at once, concurrent requests for one user
// make a single refresh, and an invalid_grant answer (reuse detected,
// revoked, expired) unprovisions the user and is audited.
//
// Architecture invariant 1: no tool call ever triggers a refresh grant.
// The broker enforces it at run time: TokenFor refuses any context that
// was not marked with WorkerContext, and any context that carries a
// request's verified token (go-sdk's auth.TokenInfo), so a tool handler
// passing its own context fails loudly instead of refreshing. Wiring rule
// for the server: construct the Broker next to the worker and hand it only
// to the worker; the tool dependencies (tools.Deps) must not have a field
// of this type.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"golang.org/x/sync/singleflight"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// ErrNotProvisioned: the user has no usable grant (never provisioned,
// revoked, or unprovisioned because the IdP refused the refresh token).
// The user has to run provision_nextcloud_access again.
var ErrNotProvisioned = errors.New("broker: Nextcloud access is not provisioned for this user; run provision_nextcloud_access")

// ErrForeground: TokenFor was called from a request's context.
var ErrForeground = errors.New("broker: refresh grants are only for the background worker (use broker.WorkerContext in the worker; never call the broker from a tool call)")

// ErrBadResponse: the IdP's refresh answer is unusable.
var ErrBadResponse = errors.New("broker: the IdP's refresh response is unusable")

// Audit event written by the broker.
const EventUnprovisioned = "unprovisioned_invalid_grant"

// DefaultEarlyRefresh is how long before expiry a cached token is renewed.
const DefaultEarlyRefresh = time.Minute

// refreshBound bounds one refresh grant from taking the grant's lock to
// storing the answer: the IdP's round trip and the store's writes.
const refreshBound = 40 * time.Second

// Config configures a Broker.
type Config struct {
	// TokenEndpoint is the IdP's token endpoint; RevocationEndpoint
	// (optional) ends grants whose refresh was interrupted.
	TokenEndpoint      string
	RevocationEndpoint string
	// Client is this server's confidential client, the one the grants
	// were issued to.
	Client oauth.ClientCredentials
	// Store holds the grants (shared by every replica: it also serialises
	// their refreshes of one grant).
	Store tokenstore.Store
	// Verifier checks refreshed access tokens: Nextcloud's audience,
	// CacheSize -1.
	Verifier *verify.Verifier
	// Scopes, when set, are requested on refresh (down-scoping).
	Scopes []string
	// Resource, when set, is sent as the RFC 8707 resource on refresh: a
	// resource-indicator IdP otherwise issues the refreshed access token
	// for its own userinfo endpoint, not for Nextcloud.
	Resource string
	// EarlyRefresh (default 1 min) renews tokens this long before expiry.
	EarlyRefresh time.Duration
	HTTPClient   *http.Client
	Now          func() time.Time
	// Logger records unprovisioning and rotation conflicts (never a token).
	Logger *slog.Logger
}

// Broker hands out Nextcloud access tokens to the background worker.
type Broker struct {
	cfg    Config
	ep     oauth.Endpoint
	revoke oauth.Endpoint
	group  singleflight.Group
	log    *slog.Logger

	mu    sync.Mutex
	cache map[string]*Token
}

// New checks cfg and returns a Broker.
func New(cfg Config) (*Broker, error) {
	switch {
	case cfg.TokenEndpoint == "":
		return nil, errors.New("broker: TokenEndpoint is required")
	case cfg.Client.ID == "" || cfg.Client.Secret == "":
		return nil, errors.New("broker: the server's client id and secret are required")
	case cfg.Store == nil:
		return nil, errors.New("broker: Store is required")
	case cfg.Verifier == nil:
		return nil, errors.New("broker: Verifier (Nextcloud audience) is required")
	}
	if cfg.EarlyRefresh <= 0 {
		cfg.EarlyRefresh = DefaultEarlyRefresh
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broker{
		cfg:    cfg,
		ep:     oauth.Endpoint{Name: "token endpoint", URL: cfg.TokenEndpoint, Client: cfg.Client, HTTPClient: cfg.HTTPClient},
		revoke: oauth.Endpoint{Name: "revocation endpoint", URL: cfg.RevocationEndpoint, Client: cfg.Client, HTTPClient: cfg.HTTPClient},
		log:    log,
		cache:  map[string]*Token{},
	}, nil
}

type workerKey struct{}

// WorkerContext marks ctx as the background worker's. Call it once where
// the worker's loop starts, on a context that does not come from an HTTP
// request.
func WorkerContext(parent context.Context) context.Context {
	return context.WithValue(parent, workerKey{}, true)
}

func checkBackground(ctx context.Context) error {
	if v, _ := ctx.Value(workerKey{}).(bool); !v {
		return ErrForeground
	}
	if auth.TokenInfoFromContext(ctx) != nil {
		return ErrForeground
	}
	return nil
}

// Token is a Nextcloud access token for background use. String, GoString
// and LogValue never show it.
type Token struct {
	Subject     string
	AccessToken string
	ExpiresAt   time.Time
	Scopes      []string
}

// String describes t without the token.
func (t *Token) String() string {
	if t == nil {
		return "<nil token>"
	}
	return fmt.Sprintf("background access token for %s (expires %s)", t.Subject, t.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString is String.
func (t *Token) GoString() string { return t.String() }

// LogValue keeps the token out of slog output.
func (t *Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Subjects lists the provisioned users, for the worker's loop.
func (b *Broker) Subjects(ctx context.Context) ([]string, error) {
	list, err := b.cfg.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(list))
	for _, in := range list {
		out = append(out, in.Subject)
	}
	return out, nil
}

// TokenFor returns a Nextcloud access token for subject, from the cache or
// by one refresh grant. ctx must come from WorkerContext. Errors:
// ErrForeground, ErrNotProvisioned (possibly wrapping the IdP's
// invalid_grant), oauth.ErrUnavailable (keep the grant, retry later),
// *oauth.Error (e.g. invalid_client: configuration), ErrBadResponse.
func (b *Broker) TokenFor(ctx context.Context, subject string) (*Token, error) {
	if err := checkBackground(ctx); err != nil {
		return nil, err
	}
	// A revoked user loses cached tokens at once.
	has, err := b.cfg.Store.Has(ctx, subject)
	if err != nil {
		return nil, err
	}
	if !has {
		b.Forget(subject)
		return nil, ErrNotProvisioned
	}
	if t := b.cached(subject, b.cfg.EarlyRefresh); t != nil {
		return t, nil
	}
	v, err, _ := b.group.Do(subject, func() (any, error) {
		if t := b.cached(subject, b.cfg.EarlyRefresh); t != nil {
			return t, nil
		}
		return b.refresh(ctx, subject)
	})
	if err != nil {
		return nil, err
	}
	return copyToken(v.(*Token)), nil
}

// Cached returns subject's cached token if it is still valid for at least
// margin, without ever refreshing; for an explicit, off-by-default fallback
// of exchange mode that may reuse what the worker already obtained. It
// checks that the grant still exists.
func (b *Broker) Cached(ctx context.Context, subject string, margin time.Duration) (*Token, bool) {
	if has, err := b.cfg.Store.Has(ctx, subject); err != nil || !has {
		b.Forget(subject)
		return nil, false
	}
	t := b.cached(subject, margin)
	return t, t != nil
}

// Forget drops subject's cached token (after a revocation).
func (b *Broker) Forget(subject string) {
	b.mu.Lock()
	delete(b.cache, subject)
	b.mu.Unlock()
}

func (b *Broker) cached(subject string, margin time.Duration) *Token {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.cache[subject]
	if t == nil || !b.cfg.Now().Add(margin).Before(t.ExpiresAt) {
		return nil
	}
	return copyToken(t)
}

func copyToken(t *Token) *Token {
	c := *t
	c.Scopes = append([]string(nil), t.Scopes...)
	return &c
}

type refreshResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	RefreshToken     string `json:"refresh_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	Scope            string `json:"scope"`
}

func (b *Broker) refresh(ctx context.Context, subject string) (*Token, error) {
	// Once the IdP is asked, the answer must be stored: a worker that is
	// stopping still finishes this (bounded), or the rotated token would be
	// lost and the spent one presented next time.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshBound)
	defer cancel()
	var tok *Token
	err := b.cfg.Store.Refresh(rctx, subject, func(ctx context.Context, g *tokenstore.Grant) (tokenstore.RefreshResult, error) {
		form := url.Values{
			"grant_type":    {oauth.GrantTypeRefreshToken},
			"refresh_token": {g.RefreshToken},
		}
		if len(b.cfg.Scopes) > 0 {
			form.Set("scope", scopes.Format(b.cfg.Scopes))
		}
		if b.cfg.Resource != "" {
			form.Set("resource", b.cfg.Resource)
		}
		var rr refreshResponse
		if err := b.ep.Post(ctx, form, &rr); err != nil {
			if oauth.HasCode(err, oauth.CodeInvalidGrant) {
				reason := "the IdP refused the refresh token (invalid_grant: reused, revoked or expired)"
				b.Forget(subject)
				if aerr := b.cfg.Store.Audit(ctx, subject, EventUnprovisioned, reason); aerr != nil {
					b.log.Warn("audit failed", "sub", subject, "err", aerr)
				}
				b.log.Warn("user unprovisioned: refresh token refused", "sub", subject, "reason", reason)
				return tokenstore.RefreshResult{Refused: reason}, fmt.Errorf("%w: %w", ErrNotProvisioned, err)
			}
			return tokenstore.RefreshResult{}, fmt.Errorf("broker: refreshing the Nextcloud token of %s: %w", subject, err)
		}
		now := b.cfg.Now()
		// A rotated refresh token is returned to the store whatever the
		// checks below say: the old one is spent, and presenting it again
		// would look like reuse.
		res := tokenstore.RefreshResult{RefreshToken: rr.RefreshToken}
		if rr.RefreshExpiresIn > 0 {
			res.RefreshExpiresAt = now.Add(time.Duration(rr.RefreshExpiresIn) * time.Second)
		}
		var err error
		tok, err = b.check(ctx, subject, rr, now)
		return res, err
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrNotProvisioned):
		return nil, err
	case errors.Is(err, tokenstore.ErrNotFound):
		// Revoked meanwhile: the user wants no access.
		b.Forget(subject)
		return nil, ErrNotProvisioned
	case errors.Is(err, tokenstore.ErrUnreadable):
		// The grant can never be used again.
		b.unprovision(ctx, subject, "stored grant unreadable")
		return nil, fmt.Errorf("%w (%v)", ErrNotProvisioned, err)
	case errors.Is(err, tokenstore.ErrRefreshInterrupted):
		return nil, b.interrupted(ctx, subject)
	default:
		return nil, err
	}
	b.mu.Lock()
	b.cache[subject] = tok
	b.mu.Unlock()
	return copyToken(tok), nil
}

// interrupted ends a grant whose last refresh never stored the IdP's
// answer (its replica died between the two): the stored token may be
// spent, and presenting it would trip the IdP's reuse detection. It is
// revoked at the IdP instead (RFC 7009; revoking is not a refresh) and
// deleted; the user provisions again.
func (b *Broker) interrupted(ctx context.Context, subject string) error {
	reason := "an earlier refresh was interrupted (a replica stopped between the IdP's answer and storing it); the stored refresh token may be spent"
	b.Forget(subject)
	if err := b.cfg.Store.Audit(ctx, subject, EventUnprovisioned, reason); err != nil {
		b.log.Warn("audit failed", "sub", subject, "err", err)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshBound)
	defer cancel()
	_, err := b.cfg.Store.Revoke(rctx, subject, reason, func(ctx context.Context, g *tokenstore.Grant) error {
		if g == nil || b.revoke.URL == "" {
			return nil
		}
		return oauth.Revoke(ctx, b.revoke, g.RefreshToken, "refresh_token")
	})
	if err != nil {
		return fmt.Errorf("broker: ending the grant of %s after an interrupted refresh: %w", subject, err)
	}
	b.log.Warn("user unprovisioned: an earlier refresh was interrupted", "sub", subject)
	return fmt.Errorf("%w (%s)", ErrNotProvisioned, reason)
}

// Acquire returns subject's token together with a hold on the grant: until
// release is called the grant cannot be revoked (a revocation on any
// replica waits), so background work using the token never outlives a
// revocation that has returned. ctx must come from WorkerContext.
func (b *Broker) Acquire(ctx context.Context, subject string) (*Token, func(), error) {
	tok, err := b.TokenFor(ctx, subject)
	if err != nil {
		return nil, nil, err
	}
	release, err := b.cfg.Store.Hold(ctx, subject)
	if errors.Is(err, tokenstore.ErrNotFound) {
		// Revoked between the two.
		b.Forget(subject)
		return nil, nil, ErrNotProvisioned
	}
	if err != nil {
		return nil, nil, err
	}
	return tok, release, nil
}

func (b *Broker) check(ctx context.Context, subject string, rr refreshResponse, now time.Time) (*Token, error) {
	if rr.AccessToken == "" || !strings.EqualFold(rr.TokenType, "bearer") {
		return nil, fmt.Errorf("%w: expected a Bearer access token", ErrBadResponse)
	}
	claims, err := b.cfg.Verifier.Verify(ctx, rr.AccessToken)
	if err != nil {
		if errors.Is(err, oauth.ErrUnavailable) {
			return nil, fmt.Errorf("broker: checking the refreshed token: %w", err)
		}
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if claims.Subject != subject {
		return nil, fmt.Errorf("%w: the refreshed token is for %s, not %s", ErrBadResponse, claims.Subject, subject)
	}
	t := &Token{Subject: subject, AccessToken: rr.AccessToken, ExpiresAt: claims.Expiry, Scopes: claims.Scopes}
	if rr.ExpiresIn > 0 {
		if at := now.Add(time.Duration(rr.ExpiresIn) * time.Second); at.Before(t.ExpiresAt) {
			t.ExpiresAt = at
		}
	}
	if rr.Scope != "" {
		t.Scopes = scopes.Parse(rr.Scope)
	}
	return t, nil
}

func (b *Broker) unprovision(ctx context.Context, subject, reason string) {
	b.Forget(subject)
	if err := b.cfg.Store.Audit(ctx, subject, EventUnprovisioned, reason); err != nil {
		b.log.Warn("audit failed", "sub", subject, "err", err)
	}
	if _, err := b.cfg.Store.Delete(ctx, subject, reason); err != nil {
		b.log.Warn("deleting a refused grant failed", "sub", subject, "err", err)
		return
	}
	b.log.Warn("user unprovisioned: refresh token refused", "sub", subject, "reason", reason)
}
