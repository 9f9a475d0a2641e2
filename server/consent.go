package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/broker"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/consent"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/verify"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// The progressive-consent module and its tools (upstream names).
const (
	consentModuleID = "consent"
	toolProvision   = "provision_nextcloud_access"
	toolStatus      = "check_provisioning_status"
	toolRevoke      = "revoke_nextcloud_access"
)

// consentService is progressive consent (docs/architecture.md §1.2): the
// provisioning tools, the /oauth/callback endpoint, the gate that refuses
// unprovisioned users on every Nextcloud tool, and the encrypted grant
// store with the background broker that alone turns grants into tokens.
type consentService struct {
	flow   *consent.Flow
	store  tokenstore.Store
	broker *broker.Broker
	logger *slog.Logger
	// provisioned receives the subject of every completed consent, so the
	// worker indexes that user at once.
	provisioned chan string
	// forgotten is called on revocation (drops the user's index).
	forgotten func(sub string)
	// logSecrets is the log-issued-tokens variant (tests only).
	logSecrets bool
}

func newConsentService(ctx context.Context, s *Server) (*consentService, error) {
	key, err := tokenstore.ParseKey(s.cfg.TokenEncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("server: TOKEN_ENCRYPTION_KEY: %w", err)
	}
	target := s.cfg.TokenStorageURL
	if target == "" {
		target = s.cfg.TokenStorageDB
		if abs, err := filepath.Abs(target); err == nil {
			target = abs
		}
	}
	store, err := tokenstore.Open(ctx, target, key, tokenstore.Options{
		Logger: s.logger, MaxConns: s.cfg.TokenStorageMaxConns, StatementTimeout: s.cfg.TokenStorageTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("server: token store: %w", err)
	}
	client := oauth.ClientCredentials{ID: s.cfg.OIDCClientID, Secret: s.cfg.OIDCClientSecret}
	if s.ncVerifier == nil {
		return nil, errors.Join(errors.New("server: the identity provider publishes no jwks_uri; provisioned grants cannot be verified"), store.Close())
	}
	ccfg := consent.Config{
		Client:      client,
		RedirectURL: trimSlash(s.cfg.PublicURL) + "/oauth/callback",
		Scopes:      scopes.Union([]string{scopes.OpenID}, scopes.Soft),
		Audience:    s.cfg.NextcloudAudience,
		Resource:    s.cfg.Resource(),
		Remedy: fmt.Sprintf("configure the identity provider to issue JWT access tokens with Nextcloud's audience for that resource, or set NEXTCLOUD_RESOURCE to the resource indicator it issues Nextcloud's tokens for (or %q for none) and NEXTCLOUD_OIDC_AUDIENCE to Nextcloud's client id there",
			ResourceNone),
		Verifier:   s.ncVerifier,
		Store:      store,
		HTTPClient: s.hc,
	}
	ccfg.ApplyMetadata(s.meta)
	flow, err := consent.New(ccfg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("server: progressive consent: %w", err), store.Close())
	}
	b, err := broker.New(broker.Config{
		TokenEndpoint:      s.meta.TokenEndpoint,
		RevocationEndpoint: s.meta.RevocationEndpoint,
		Client:             client,
		Store:              store,
		Resource:           s.cfg.Resource(),
		Verifier:           s.ncVerifier,
		HTTPClient:         s.hc,
		Logger:             s.logger,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("server: token broker: %w", err), store.Close())
	}
	return &consentService{
		flow:        flow,
		store:       store,
		broker:      b,
		logger:      s.logger,
		provisioned: make(chan string, 64),
		forgotten:   func(string) {},
		logSecrets:  s.cfg.brokenVariant == variantLogTokens,
	}, nil
}

func (c *consentService) Close() error { return c.store.Close() }

// notProvisionedError is the tool error of the gate. Its text carries the
// user's personal authorization link; LogText leaves the link out so the
// state never reaches a log line.
type notProvisionedError struct {
	url     string
	expires time.Time
	cause   error
}

func (e *notProvisionedError) Error() string {
	if e.url == "" {
		return fmt.Sprintf("Nextcloud access is not provisioned for your account. Call the tool %s to get an authorization link (it could not be created just now: %v).", toolProvision, e.cause)
	}
	return fmt.Sprintf("Nextcloud access is not provisioned for your account. Call the tool %s, or open this link (valid until %s) to grant offline access, then retry: %s",
		toolProvision, e.expires.UTC().Format(time.RFC3339), e.url)
}

// LogText is the loggable form, without the link.
func (e *notProvisionedError) LogText() string {
	return fmt.Sprintf("Nextcloud access is not provisioned (the user was pointed at %s)", toolProvision)
}

// gate refuses every Nextcloud tool for users without a stored grant.
func (c *consentService) gate(next clientSource) clientSource {
	return func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
		ti := tokenInfo(extra)
		if ti == nil || ti.UserID == "" {
			return nil, errors.New("this request carries no verified access token")
		}
		ok, err := c.store.Has(ctx, ti.UserID)
		if err != nil {
			return nil, fmt.Errorf("could not check whether Nextcloud access is provisioned: %w", err)
		}
		if !ok {
			a, err := c.flow.Begin(ctx, ti.UserID)
			if err != nil {
				return nil, &notProvisionedError{cause: err}
			}
			return nil, &notProvisionedError{url: withLoginHint(a.URL, extra), expires: a.ExpiresAt}
		}
		return next(ctx, extra)
	}
}

// dropRevoked is the consent service's MCP middleware: before a tool call
// or resource read, it asks the shared store whether the caller still has
// a grant, and when not, drops what this process keeps for that user (the
// background data, such as the notes index, and the broker's cached
// token). A revocation on another replica is thus seen here before the
// next call can use anything derived from the grant (docs/architecture.md
// §1.4). The gate refuses the call itself when it needs Nextcloud.
func (c *consentService) dropRevoked(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "tools/call" || method == "resources/read" {
			if ti := tokenInfo(req.GetExtra()); ti != nil && ti.UserID != "" {
				// A store that cannot be asked cannot vouch for the grant
				// either: the user's local data goes too (fail closed), and
				// the gate gives the call its clear error.
				if ok, err := c.store.Has(ctx, ti.UserID); err != nil || !ok {
					c.broker.Forget(ti.UserID)
					c.forgotten(ti.UserID)
				}
			}
		}
		return next(ctx, method, req)
	}
}

// AccessToken serves the explicit, off-by-default exchange fallback
// (TOKEN_EXCHANGE_REFRESH_FALLBACK). It deliberately runs a refresh grant
// for a tool call — what invariant 1 forbids — which is why it exists only
// behind that setting and why conformance flags it.
func (c *consentService) AccessToken(ctx context.Context, sub string) (string, error) {
	wctx, cancel := context.WithTimeout(broker.WorkerContext(context.WithoutCancel(context.Background())), 30*time.Second)
	defer cancel()
	tok, err := c.broker.TokenFor(wctx, sub)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// Provisioning tool I/O.
type (
	noInput         struct{}
	provisionOutput struct {
		Provisioned      bool   `json:"provisioned" jsonschema:"True when offline access is already provisioned; no link is then issued."`
		AuthorizationURL string `json:"authorization_url,omitempty" jsonschema:"Open this link in a browser to grant this server offline access to Nextcloud (valid once, for 10 minutes)."`
		ExpiresAt        string `json:"expires_at,omitempty" jsonschema:"When the link stops working (RFC 3339)."`
		Message          string `json:"message" jsonschema:"What to do next."`
	}
	statusOutput struct {
		Provisioned      bool     `json:"provisioned" jsonschema:"Whether this server holds offline access to Nextcloud for you."`
		Scopes           []string `json:"scopes,omitempty" jsonschema:"Scopes of the stored grant."`
		Since            string   `json:"since,omitempty" jsonschema:"When access was provisioned (RFC 3339)."`
		RefreshExpiresAt string   `json:"refresh_expires_at,omitempty" jsonschema:"When the grant expires at the identity provider, if known (RFC 3339)."`
	}
	revokeOutput struct {
		Deleted      bool   `json:"deleted" jsonschema:"A grant existed and was deleted from this server."`
		RevokedAtIdP bool   `json:"revoked_at_idp" jsonschema:"The identity provider confirmed the revocation (RFC 7009)."`
		Message      string `json:"message" jsonschema:"What happened."`
	}
)

// module is the progressive-consent tools as a kit module. They act on
// this server's own grant store, never on Nextcloud, so they need no soft
// scope (Public) — only the verified token every OAuth request carries.
func (c *consentService) module() tools.Module {
	closed := tools.Ptr(false)
	return tools.Module{
		ID:    consentModuleID,
		Title: "Progressive consent, when ENABLE_PROGRESSIVE_CONSENT is on",
		Tools: []tools.Tool{
			tools.Func(mcp.Tool{
				Name:  toolProvision,
				Title: "Provision Nextcloud access",
				Description: "Start progressive consent: returns a link where you grant this server offline access to your Nextcloud " +
					"(needed once before any Nextcloud tool works, and for background features such as the notes search index).",
				Annotations: &mcp.ToolAnnotations{OpenWorldHint: closed, DestructiveHint: closed},
			}, c.provision, tools.Public()),
			tools.Func(mcp.Tool{
				Name:        toolStatus,
				Title:       "Check Nextcloud provisioning",
				Description: "Report whether this server holds offline access to your Nextcloud, since when and with which scopes.",
				Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: closed},
			}, c.status, tools.Public()),
			tools.Func(mcp.Tool{
				Name:        toolRevoke,
				Title:       "Revoke Nextcloud access",
				Description: "Revoke this server's offline access to your Nextcloud at the identity provider (RFC 7009) and delete it here.",
				Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), IdempotentHint: true, OpenWorldHint: closed},
			}, c.revoke, tools.Public()),
		},
	}
}

func (c *consentService) provision(ctx context.Context, req *mcp.CallToolRequest, _ noInput) (*mcp.CallToolResult, provisionOutput, error) {
	sub, err := subjectOf(req.Extra)
	if err != nil {
		return nil, provisionOutput{}, err
	}
	if ok, err := c.store.Has(ctx, sub); err != nil {
		return nil, provisionOutput{}, fmt.Errorf("could not read the grant store: %w", err)
	} else if ok {
		return nil, provisionOutput{Provisioned: true, Message: "Nextcloud access is already provisioned. Use " + toolRevoke + " first to start over."}, nil
	}
	a, err := c.flow.Begin(ctx, sub)
	if err != nil {
		return nil, provisionOutput{}, fmt.Errorf("could not start the authorization: %w", err)
	}
	return nil, provisionOutput{
		AuthorizationURL: withLoginHint(a.URL, req.Extra),
		ExpiresAt:        a.ExpiresAt.UTC().Format(time.RFC3339),
		Message:          "Open the link in a browser, sign in and approve; then call " + toolStatus + " or retry your request.",
	}, nil
}

func (c *consentService) status(ctx context.Context, req *mcp.CallToolRequest, _ noInput) (*mcp.CallToolResult, statusOutput, error) {
	sub, err := subjectOf(req.Extra)
	if err != nil {
		return nil, statusOutput{}, err
	}
	st, err := c.flow.Status(ctx, sub)
	if err != nil {
		return nil, statusOutput{}, fmt.Errorf("could not read the grant store: %w", err)
	}
	out := statusOutput{Provisioned: st.Provisioned, Scopes: st.Scopes}
	if !st.Since.IsZero() {
		out.Since = st.Since.UTC().Format(time.RFC3339)
	}
	if !st.RefreshExpiresAt.IsZero() {
		out.RefreshExpiresAt = st.RefreshExpiresAt.UTC().Format(time.RFC3339)
	}
	return nil, out, nil
}

func (c *consentService) revoke(ctx context.Context, req *mcp.CallToolRequest, _ noInput) (*mcp.CallToolResult, revokeOutput, error) {
	sub, err := subjectOf(req.Extra)
	if err != nil {
		return nil, revokeOutput{}, err
	}
	res, err := c.flow.Revoke(ctx, sub)
	if err != nil {
		return nil, revokeOutput{}, fmt.Errorf("could not revoke: %w", err)
	}
	c.broker.Forget(sub)
	c.forgotten(sub)
	out := revokeOutput{Deleted: res.Deleted, RevokedAtIdP: res.RevokedAtIdP}
	switch {
	case !res.Deleted:
		out.Message = "Nothing to revoke: Nextcloud access was not provisioned."
	case res.RevokedAtIdP:
		out.Message = "Access revoked at the identity provider and deleted from this server."
	default:
		out.Message = fmt.Sprintf("Access deleted from this server; the identity provider was not told (%v), so the grant expires there on its own.", res.IdPError)
	}
	return nil, out, nil
}

// withLoginHint adds the OIDC login_hint (the Flow 1 token's username) to
// an authorization URL, so the IdP pre-selects the account that must
// approve: Complete refuses approval by any other account.
func withLoginHint(authURL string, extra *mcp.RequestExtra) string {
	r, ok := verify.FromTokenInfo(tokenInfo(extra))
	if !ok || r.Username == "" {
		return authURL
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return authURL
	}
	q := u.Query()
	if q.Get("login_hint") == "" {
		q.Set("login_hint", r.Username)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func subjectOf(extra *mcp.RequestExtra) (string, error) {
	ti := tokenInfo(extra)
	if ti == nil || ti.UserID == "" {
		return "", errors.New("this tool needs an OAuth access token")
	}
	return ti.UserID, nil
}

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))

// callback is GET /oauth/callback: the IdP's redirect at the end of Flow 2.
func (c *consentService) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Referrer-Policy", "no-referrer")
	res, err := c.flow.Complete(r.Context(), consent.CallbackFromQuery(r.URL.Query()))
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, oauth.ErrUnavailable) {
			status = http.StatusBadGateway
		}
		c.logger.Info("provisioning callback refused", "err", err.Error())
		w.WriteHeader(status)
		c.renderCallback(w, "Nextcloud access was not provisioned", err.Error())
		return
	}
	c.logger.Info("nextcloud access provisioned", "sub", res.Subject, "scopes", scopes.Format(res.Scopes))
	if c.logSecrets {
		// The "log-issued-tokens" variant: invariant 4 forbids this.
		c.logger.Debug("stored grant", "refresh_token", res.Grant.RefreshToken)
	}
	select {
	case c.provisioned <- res.Subject:
	default:
	}
	c.renderCallback(w, "Nextcloud access provisioned",
		"This server may now work with your Nextcloud. You can close this window and return to your assistant.")
}

// renderCallback writes the callback page. The outcome is already decided
// and logged; a browser that went away cannot be told anything more.
func (c *consentService) renderCallback(w http.ResponseWriter, title, message string) {
	if err := callbackPage.Execute(w, map[string]string{"Title": title, "Message": message}); err != nil {
		c.logger.Debug("provisioning callback page not delivered", "err", err.Error())
	}
}
