package idp

import (
	"slices"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// grantTokenExchange is RFC 8693 token exchange with the rules of Keycloak
// standard token exchange v2:
//   - confidential clients only (checked by the caller through allowsGrant);
//   - subject_token: an access token this IdP issued, valid and not
//     revoked, whose aud names the requesting client (its id or one of its
//     ResourceURIs);
//   - audience: target client ids, each the requester itself or one of its
//     ExchangeAudiences, else invalid_target; omitted means the requester;
//   - resource (RFC 8707, repeatable): absolute URIs (with StrictResources,
//     ones a client serves) added to the token's aud besides the targets;
//   - scope: a subset of the subject token's scopes;
//   - only access tokens are requested and issued; no delegation
//     (actor_token).
//
// The result has a new jti, the same sub, aud = the targets and resources, azp and
// client_id = the requester, act = {"sub": requester} (nesting any act the
// subject token had, RFC 8693 §4.1), and the short exchanged-token lifetime.
func (p *IdP) grantTokenExchange(c *Client, f params) (*TokenResponse, grantInfo, *Error) {
	var info grantInfo
	subject, subjectType := f.get("subject_token"), f.get("subject_token_type")
	switch {
	case subject == "":
		return nil, info, errInvalidRequest("subject_token is required")
	case subjectType == "":
		return nil, info, errInvalidRequest("subject_token_type is required")
	case subjectType != TokenTypeAccessToken:
		return nil, info, errInvalidRequest("subject_token_type must be " + TokenTypeAccessToken)
	case f.get("actor_token") != "" || f.get("actor_token_type") != "":
		return nil, info, errInvalidRequest("delegation (actor_token) is not supported")
	}
	if rt := f.get("requested_token_type"); rt != "" && rt != TokenTypeAccessToken {
		return nil, info, errInvalidRequest("requested_token_type must be " + TokenTypeAccessToken)
	}
	resources := f.all("resource")
	for _, res := range resources {
		if e := p.checkResource(res); e != nil {
			return nil, info, e
		}
	}
	t := p.findAccessToken(subject)
	if t == nil {
		return nil, info, errInvalidRequest("subject_token is invalid, expired or revoked")
	}
	info.subject = t.subject
	if !addressedTo(t.aud, c) {
		return nil, info, errInvalidRequest("subject_token is not addressed to the requesting client")
	}
	targets := f.all("audience")
	if len(targets) == 0 {
		targets = []string{c.ID}
	}
	p.mu.Lock()
	for _, a := range targets {
		if _, ok := p.clients[a]; !ok {
			p.mu.Unlock()
			return nil, info, errInvalidTarget("unknown audience " + printable(a))
		}
		if a != c.ID && !slices.Contains(c.ExchangeAudiences, a) {
			p.mu.Unlock()
			return nil, info, errInvalidTarget("the client may not exchange tokens for audience " + printable(a))
		}
	}
	p.mu.Unlock()
	targets = slices.Compact(slices.Clone(targets))
	for _, res := range resources {
		if !slices.Contains(targets, res) {
			targets = append(targets, res)
		}
	}
	sc := t.scopes
	if req := scopes.Parse(f.get("scope")); len(req) > 0 {
		if e := p.checkScopes(c, req); e != nil {
			return nil, info, e
		}
		if !scopes.HasAll(t.scopes, req) {
			return nil, info, errInvalidScope("the requested scope exceeds the subject token's scope")
		}
		sc = req
	}
	act := map[string]any{"sub": c.ID}
	if prev, ok := t.claims["act"].(map[string]any); ok {
		act["act"] = prev
	}
	email, _ := t.claims["email"].(string)
	user := &User{Username: t.username, Subject: t.subject, Email: email}
	info.aud = targets
	resp, err := p.issue(issueParams{
		client: c, user: user, scopes: sc, aud: targets, grantID: t.grantID,
		ttl: p.exchangedTTL, act: act, exchange: true,
	})
	if err != nil {
		e := issueErr(err)
		if e.Code == "invalid_grant" {
			e = errInvalidRequest("subject_token has been revoked")
		}
		return nil, info, e
	}
	return resp, info, nil
}

// addressedTo reports whether an audience names the client, by id or by a
// resource URI the client serves.
func addressedTo(aud []string, c *Client) bool {
	for _, a := range aud {
		if a == c.ID || slices.Contains(c.ResourceURIs, a) {
			return true
		}
	}
	return false
}
