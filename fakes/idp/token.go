package idp

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// handleToken is the token endpoint (RFC 6749 §3.2): decode, authenticate
// the client, dispatch on grant_type, write a no-store JSON answer.
func (p *IdP) handleToken(w http.ResponseWriter, r *http.Request) {
	entry := entryOf(r)
	resp, err := p.token(r, entry)
	if err != nil {
		entry.Outcome = err.Code
		if err.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "POST")
		}
		writeError(w, err)
		return
	}
	entry.Outcome = "ok"
	writeJSONNoStore(w, http.StatusOK, resp)
}

func (p *IdP) token(r *http.Request, entry *LogEntry) (*TokenResponse, *Error) {
	form, err := readForm(r, "resource", "audience")
	if err != nil {
		return nil, err
	}
	gt := form.get("grant_type")
	switch gt {
	case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantTokenExchange, "":
		entry.GrantType = gt
	default:
		entry.GrantType = "other"
	}
	c, _, err := p.authenticateClient(r, form)
	if err != nil {
		return nil, err
	}
	entry.ClientID = c.ID
	switch gt {
	case "":
		return nil, errInvalidRequest("grant_type is required")
	case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
	case GrantTokenExchange:
		p.mu.Lock()
		on := p.exchangeEnabled
		p.mu.Unlock()
		if !on {
			return nil, &Error{Code: "unsupported_grant_type", Description: "token exchange is disabled"}
		}
	default:
		return nil, &Error{Code: "unsupported_grant_type", Description: "unsupported grant_type"}
	}
	if !c.allowsGrant(gt) {
		return nil, errUnauthorizedClient("the client may not use this grant type")
	}
	var resp *TokenResponse
	var info grantInfo
	switch gt {
	case GrantAuthorizationCode:
		resp, info, err = p.grantAuthorizationCode(c, form)
	case GrantRefreshToken:
		resp, info, err = p.grantRefreshToken(c, form)
	case GrantClientCredentials:
		resp, info, err = p.grantClientCredentials(c, form)
	case GrantTokenExchange:
		resp, info, err = p.grantTokenExchange(c, form)
	}
	entry.Subject, entry.Audience = info.subject, info.aud
	return resp, err
}

// grantInfo is what a grant tells the request log.
type grantInfo struct {
	subject string
	aud     []string
}

// issueErr maps an issuance failure to an OAuth error.
func issueErr(err error) *Error {
	if errors.Is(err, errGrantRevoked) {
		return errInvalidGrant("the grant has been revoked")
	}
	var oe *Error
	if errors.As(err, &oe) {
		return oe
	}
	return errServer("could not issue the token")
}

// grantAuthorizationCode redeems a code (RFC 6749 §4.1.3, RFC 7636 §4.6,
// RFC 8707 §2.2). Codes are single-use: a replay revokes what the first
// redemption issued.
func (p *IdP) grantAuthorizationCode(c *Client, f params) (*TokenResponse, grantInfo, *Error) {
	var info grantInfo
	code, redirectURI, verifier := f.get("code"), f.get("redirect_uri"), f.get("code_verifier")
	if code == "" {
		return nil, info, errInvalidRequest("code is required")
	}
	if redirectURI == "" {
		return nil, info, errInvalidRequest("redirect_uri is required")
	}
	if verifier != "" && !validVerifier(verifier) {
		return nil, info, errInvalidRequest("code_verifier must be 43 to 128 unreserved characters")
	}
	resources := f.all("resource")
	for _, res := range resources {
		if checkResourceURI(res) != nil {
			return nil, info, errInvalidTarget("resource must be an absolute URI without a fragment")
		}
	}

	p.mu.Lock()
	p.state.init()
	rec := p.state.codes[hashKey(code)]
	now := p.nowLocked()
	var u *User
	switch {
	case rec == nil || rec.clientID != c.ID:
		p.mu.Unlock()
		return nil, info, errInvalidGrant("the authorization code is invalid")
	case rec.used:
		p.revokeGrantLocked(rec.grantID)
		p.mu.Unlock()
		return nil, info, errInvalidGrant("the authorization code has already been used; the tokens it issued are revoked")
	}
	rec.used = true
	if uu := p.users[rec.username]; uu != nil {
		cp := *uu
		u = &cp
	}
	p.mu.Unlock()

	switch {
	case !now.Before(rec.expiresAt):
		return nil, info, errInvalidGrant("the authorization code has expired")
	case rec.redirectURI != redirectURI:
		return nil, info, errInvalidGrant("redirect_uri does not match the authorization request")
	case rec.challenge != "" && verifier == "":
		return nil, info, errInvalidGrant("code_verifier is required")
	case rec.challenge == "" && verifier != "":
		return nil, info, errInvalidGrant("code_verifier sent but the authorization request had no code_challenge")
	case rec.challenge != "" && !secretEqual(s256(verifier), rec.challenge):
		return nil, info, errInvalidGrant("code_verifier does not match the code_challenge")
	case u == nil:
		return nil, info, errInvalidGrant("the user no longer exists")
	}
	for _, res := range resources {
		if !slices.Contains(rec.resources, res) {
			return nil, info, errInvalidTarget("resource was not part of the authorization request")
		}
	}
	if len(resources) == 0 {
		resources = rec.resources
	}
	aud := withAudiences(resolveAudience(c, resources), resources, p.grantAudiences(rec.grantID))
	info = grantInfo{subject: u.Subject, aud: aud}
	resp, err := p.issue(issueParams{
		client: c, user: u, scopes: rec.scopes, aud: aud, resources: rec.resources,
		grantID: rec.grantID, refresh: slices.Contains(rec.scopes, scopes.OfflineAccess),
		idToken: slices.Contains(rec.scopes, scopes.OpenID), nonce: rec.nonce, authTime: rec.authTime,
	})
	if err != nil {
		return nil, info, issueErr(err)
	}
	return resp, info, nil
}

// grantRefreshToken redeems a refresh token (RFC 6749 §6) with rotation:
// every use returns a new refresh token, and presenting a rotated one again
// revokes the whole family (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).
func (p *IdP) grantRefreshToken(c *Client, f params) (*TokenResponse, grantInfo, *Error) {
	var info grantInfo
	raw := f.get("refresh_token")
	if raw == "" {
		return nil, info, errInvalidRequest("refresh_token is required")
	}
	resources := f.all("resource")
	p.mu.Lock()
	p.state.init()
	t := p.state.tokens[hashKey(raw)]
	now := p.nowLocked()
	var fail *Error
	switch {
	case t == nil || t.kind != kindRefresh || t.clientID != c.ID:
		fail = errInvalidGrant("the refresh token is invalid")
	case t.used:
		p.revokeGrantLocked(t.grantID)
		fail = errInvalidGrant("the refresh token was already used; the token family is revoked")
	case t.revoked || (p.state.grants[t.grantID] != nil && p.state.grants[t.grantID].revoked):
		fail = errInvalidGrant("the refresh token has been revoked")
	case t.expired(now):
		fail = errInvalidGrant("the refresh token has expired")
	}
	if fail != nil {
		p.mu.Unlock()
		return nil, info, fail
	}
	u := p.users[t.username]
	if u == nil {
		p.mu.Unlock()
		return nil, info, errInvalidGrant("the user no longer exists")
	}
	user := *u
	granted, grantRes := t.scopes, t.resources
	sc := granted
	if req := scopes.Parse(f.get("scope")); len(req) > 0 {
		if !scopes.HasAll(granted, req) {
			p.mu.Unlock()
			return nil, info, errInvalidScope("the requested scope exceeds the scope originally granted")
		}
		sc = req
	}
	for _, res := range resources {
		if !slices.Contains(grantRes, res) {
			p.mu.Unlock()
			return nil, info, errInvalidTarget("resource was not part of the original grant")
		}
	}
	// Validation passed: consume the token only now, so a bad request does
	// not burn it.
	t.used = true
	var authTime time.Time
	if g := p.state.grants[t.grantID]; g != nil {
		authTime = g.authTime
	}
	p.mu.Unlock()
	if len(resources) == 0 {
		resources = grantRes
	}
	aud := withAudiences(resolveAudience(c, resources), resources, p.grantAudiences(t.grantID))
	info = grantInfo{subject: user.Subject, aud: aud}
	resp, err := p.issue(issueParams{
		client: c, user: &user, scopes: sc, aud: aud, resources: grantRes, grantID: t.grantID,
		refresh: true, refreshScopes: granted, idToken: slices.Contains(sc, scopes.OpenID),
		authTime: authTime,
	})
	if err != nil {
		return nil, info, issueErr(err)
	}
	return resp, info, nil
}

// grantClientCredentials issues a service-account token to a confidential
// client (RFC 6749 §4.4). No refresh token, no ID token.
func (p *IdP) grantClientCredentials(c *Client, f params) (*TokenResponse, grantInfo, *Error) {
	var info grantInfo
	sc := requestedScopes(c, f.get("scope"))
	if e := p.checkScopes(c, sc); e != nil {
		return nil, info, e
	}
	if slices.Contains(sc, scopes.OfflineAccess) || slices.Contains(sc, scopes.OpenID) {
		return nil, info, errInvalidScope("client_credentials tokens carry neither openid nor offline_access")
	}
	resources := f.all("resource")
	for _, res := range resources {
		if e := p.checkResource(res); e != nil {
			return nil, info, e
		}
	}
	aud := resolveAudience(c, resources)
	info = grantInfo{subject: c.ID, aud: aud}
	resp, err := p.issue(issueParams{client: c, scopes: sc, aud: aud, resources: resources})
	if err != nil {
		return nil, info, issueErr(err)
	}
	return resp, info, nil
}
