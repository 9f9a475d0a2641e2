package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/exchange"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/bearer"
)

// tokenHashKey is where the bearer layer records the SHA-256 of the token
// it verified, so the mode layer can prove that the token it forwards or
// exchanges is exactly that one (invariant 3) without keeping the token in
// any long-lived structure.
const tokenHashKey = "nextcloud-mcp/token-sha256"

// clientSource is the one call tools make to get their Nextcloud client
// (docs/architecture.md §2.1); each mode implements it. Tool code never knows which.
type clientSource func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error)

// basicClients serves every request with the one shared Basic-auth client.
func basicClients(shared *nextcloud.Client) clientSource {
	return func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) { return shared, nil }
}

// passthroughClients forwards the validated inbound token to Nextcloud.
// The token's subject names the principal, whose uid the clients share.
func passthroughClients(base *nextcloud.Client) clientSource {
	return func(_ context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		token, err := verifiedToken(extra)
		if err != nil {
			return nil, err
		}
		return base.WithCredentials(nextcloud.BearerFor(extra.TokenInfo.UserID, token)), nil
	}
}

// tokenExchanger is the RFC 8693 client (exchange.Exchanger).
type tokenExchanger interface {
	Exchange(ctx context.Context, subjectToken, subject string) (*exchange.Token, error)
}

// offlineTokens hands out a user's Flow 2 access token; only the explicit,
// off-by-default refresh fallback uses it on the tool path.
type offlineTokens interface {
	AccessToken(ctx context.Context, subject string) (string, error)
}

// exchangeClients exchanges the inbound token for a Nextcloud-audience
// token on every call; the result serves this call only. A failed exchange
// fails the call (invariant 2) unless fallback is set. Every call's token
// differs, so the inbound token's subject names the principal whose uid
// the clients share.
func exchangeClients(base *nextcloud.Client, ex tokenExchanger, fallback offlineTokens, logger *slog.Logger) clientSource {
	return func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		token, err := verifiedToken(extra)
		if err != nil {
			return nil, err
		}
		sub := extra.TokenInfo.UserID
		tok, err := ex.Exchange(ctx, token, sub)
		if err == nil {
			return base.WithCredentials(nextcloud.BearerFor(sub, tok.AccessToken)), nil
		}
		if exchange.SubjectRefused(err, extra.TokenInfo.Expiration, time.Now()) {
			// The client's token is bad (expired past the IdP's clock,
			// revoked): the answer becomes a 401 invalid_token, which tells
			// the client to refresh (docs/architecture.md §2.2 invariant
			// 2). No fallback either: the offline grant must not stand in
			// for a token the IdP refused.
			desc := "the identity provider refused to exchange this access token (" + oauth.ErrorCode(err) + "): it has expired or is no longer valid; obtain a new one"
			delivered := bearer.RejectToken(extra.TokenInfo, desc)
			logger.Info("token exchange refused the client's token", "sub", sub, "code", oauth.ErrorCode(err), "answered_401", delivered)
			return nil, fmt.Errorf("%s; %s", desc, err)
		}
		if fallback != nil {
			logger.Warn("token exchange failed; using the offline grant (TOKEN_EXCHANGE_REFRESH_FALLBACK)", "sub", sub, "err", err)
			at, ferr := fallback.AccessToken(ctx, sub)
			if ferr == nil {
				return base.WithCredentials(nextcloud.BearerFor(sub, at)), nil
			}
			return nil, fmt.Errorf("%s; the offline-grant fallback failed too: %v", explainExchange(err), ferr)
		}
		logger.Warn("token exchange failed", "sub", sub, "err", err)
		return nil, errors.New(explainExchange(err))
	}
}

// explainExchange turns an exchange failure into a tool error that names
// the cause and what to do.
func explainExchange(err error) string {
	msg := "token exchange with the identity provider failed: " + err.Error()
	switch {
	case oauth.HasCode(err, oauth.CodeUnsupportedGrantType):
		msg += " (the identity provider does not support RFC 8693 token exchange; enable it there, or run the server with ENABLE_TOKEN_EXCHANGE=false)"
	case oauth.HasCode(err, "invalid_target"):
		msg += " (this server's client may not obtain tokens for Nextcloud's audience; grant it the token-exchange permission at the identity provider)"
	case oauth.HasCode(err, oauth.CodeInvalidClient):
		msg += " (the identity provider refused this server's client credentials: check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET)"
	case errors.Is(err, oauth.ErrUnavailable):
		msg += " (the identity provider is unreachable; try again shortly)"
	}
	return msg
}

// verifiedToken returns the request's bearer token after checking that it
// is the very token the bearer layer verified.
func verifiedToken(extra *mcp.RequestExtra) (string, error) {
	if extra == nil || extra.TokenInfo == nil || extra.Header == nil {
		return "", errors.New("this request carries no verified access token")
	}
	h := extra.Header.Values("Authorization")
	if len(h) != 1 {
		return "", errors.New("this request carries no verified access token")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(h[0]), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", errors.New("this request carries no verified access token")
	}
	want, _ := extra.TokenInfo.Extra[tokenHashKey].([]byte)
	got := sha256.Sum256([]byte(token))
	if len(want) != len(got) || subtle.ConstantTimeCompare(want, got[:]) != 1 {
		return "", errors.New("the request's token is not the one that was verified")
	}
	return token, nil
}

// describeNextcloudError adds what was wrong for the current mode to a
// Nextcloud 401/403, so users know which setting to fix.
func describeNextcloudError(mode Mode, audience string, err error) error {
	var ne *nextcloud.Error
	if !errors.As(err, &ne) {
		return err
	}
	switch {
	case ne.BearerRejectedOnAppRoute:
		return fmt.Errorf("%w — Nextcloud refused a bearer token on this app route (its #[CORS] middleware requires Basic auth for index.php app APIs); patch Nextcloud or use basic mode for this app", err)
	case ne.Status == 401 && mode == ModeBasic:
		return fmt.Errorf("%w — check NEXTCLOUD_USERNAME and NEXTCLOUD_PASSWORD (use an app password)", err)
	case ne.Status == 401 && mode == ModePassthrough:
		return fmt.Errorf("%w — in pass-through mode your access token must also be valid for Nextcloud (its audience must include Nextcloud's client id, and Nextcloud's user_oidc app must accept bearer tokens)", err)
	case ne.Status == 401 && mode == ModeExchange:
		return fmt.Errorf("%w — Nextcloud refused the exchanged token; check that user_oidc validates bearer tokens from this identity provider for client id %q", err, audience)
	}
	return err
}

// brokenPassthroughFallback is the conformance self-test's "exchange falls
// back to pass-through" variant: exactly what invariant 2 forbids.
func brokenPassthroughFallback(base *nextcloud.Client, ex tokenExchanger) clientSource {
	return func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		token, err := verifiedToken(extra)
		if err != nil {
			return nil, err
		}
		if tok, err := ex.Exchange(ctx, token, extra.TokenInfo.UserID); err == nil {
			return base.WithCredentials(nextcloud.Bearer(tok.AccessToken)), nil
		}
		return base.WithCredentials(nextcloud.Bearer(token)), nil
	}
}

// brokenRefreshPerCall is the conformance self-test's "refresh token used
// for a tool call" variant: every call runs a refresh grant (invariant 1).
func brokenRefreshPerCall(base *nextcloud.Client, c *consentService) clientSource {
	return func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		ti := tokenInfo(extra)
		if ti == nil {
			return nil, errors.New("this request carries no verified access token")
		}
		c.broker.Forget(ti.UserID)
		at, err := c.AccessToken(ctx, ti.UserID)
		if err != nil {
			return nil, err
		}
		return base.WithCredentials(nextcloud.Bearer(at)), nil
	}
}

// brokenExchangeReuse is the "exchanged-token-reuse" variant: it exchanges
// on every call, as it should, but sends Nextcloud the first token it got
// for the user as long as that one lives — an exchanged token cached
// across calls (docs/architecture.md §2.1 forbids it).
func brokenExchangeReuse(base *nextcloud.Client, ex tokenExchanger) clientSource {
	var (
		mu    sync.Mutex
		first = map[string]*exchange.Token{}
	)
	return func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		token, err := verifiedToken(extra)
		if err != nil {
			return nil, err
		}
		sub := extra.TokenInfo.UserID
		tok, err := ex.Exchange(ctx, token, sub)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		if prev, ok := first[sub]; ok && time.Now().Before(prev.ExpiresAt) {
			tok = prev
		} else {
			first[sub] = tok
		}
		mu.Unlock()
		return base.WithCredentials(nextcloud.BearerFor(sub, tok.AccessToken)), nil
	}
}

// brokenRefreshCached is the "refresh-cached-for-tool-calls" variant: tool
// calls of provisioned users are served with the access token the broker
// keeps from the worker's last refresh — invariant 1 broken without any
// refresh grant at call time.
func brokenRefreshCached(base *nextcloud.Client, c *consentService) clientSource {
	return func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		ti := tokenInfo(extra)
		if ti == nil {
			return nil, errors.New("this request carries no verified access token")
		}
		at, err := c.AccessToken(ctx, ti.UserID)
		if err != nil {
			return nil, err
		}
		return base.WithCredentials(nextcloud.Bearer(at)), nil
	}
}
