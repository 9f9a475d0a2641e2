package idp

import (
	"net/http"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// handleIntrospect is RFC 7662 token introspection. The caller must
// authenticate as a confidential client allowed to introspect; any token
// that is unknown, expired, revoked, rotated or garbage is {"active":false}.
func (p *IdP) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	entry := entryOf(r)
	resp, err := p.introspect(r, entry)
	if err != nil {
		entry.Outcome = err.Code
		if err.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "POST")
		}
		writeError(w, err)
		return
	}
	if resp["active"] == true {
		entry.Outcome = "active"
	} else {
		entry.Outcome = "inactive"
	}
	writeJSONNoStore(w, http.StatusOK, resp)
}

func (p *IdP) introspect(r *http.Request, entry *LogEntry) (map[string]any, *Error) {
	form, err := readForm(r)
	if err != nil {
		return nil, err
	}
	c, _, err := p.authenticateClient(r, form)
	if err != nil {
		return nil, err
	}
	entry.ClientID = c.ID
	if c.Public {
		return nil, errInvalidClient("introspection requires a confidential client")
	}
	if !c.CanIntrospect {
		return nil, &Error{Code: "unauthorized_client", Description: "the client may not introspect tokens", Status: http.StatusForbidden}
	}
	raw := form.get("token")
	if raw == "" {
		return nil, errInvalidRequest("token is required")
	}
	hint := form.get("token_type_hint")
	// The hint only orders the search (RFC 7662 §2.1).
	lookups := []func(string) map[string]any{p.introspectAccess, p.introspectRefresh}
	if hint == "refresh_token" {
		lookups[0], lookups[1] = lookups[1], lookups[0]
	}
	for _, look := range lookups {
		if resp := look(raw); resp != nil {
			entry.Subject, _ = resp["sub"].(string)
			entry.Audience = claimStrings(resp["aud"])
			return resp, nil
		}
	}
	return map[string]any{"active": false}, nil
}

func (p *IdP) introspectAccess(raw string) map[string]any {
	t := p.findAccessToken(raw)
	if t == nil {
		return nil
	}
	resp := make(map[string]any, len(t.claims)+3)
	for k, v := range t.claims {
		resp[k] = v
	}
	resp["active"] = true
	resp["token_type"] = "Bearer"
	if t.username != "" {
		resp["username"] = t.username
	}
	return resp
}

func (p *IdP) introspectRefresh(raw string) map[string]any {
	t := p.findRefreshToken(raw)
	if t == nil {
		return nil
	}
	resp := map[string]any{
		"active": true, "token_type": "refresh_token", "client_id": t.clientID,
		"sub": t.subject, "username": t.username, "iss": p.Issuer(),
		"iat": t.issuedAt.Unix(), "exp": t.expiresAt.Unix(),
	}
	if len(t.scopes) > 0 {
		resp["scope"] = scopes.Format(t.scopes)
	}
	return resp
}

// findRefreshToken returns a usable refresh token's record, or nil.
func (p *IdP) findRefreshToken(raw string) *tokenRecord {
	if raw == "" || len(raw) > 16<<10 || strings.Count(raw, ".") == 2 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.init()
	t := p.state.tokens[hashKey(raw)]
	if t == nil || t.kind != kindRefresh || t.revoked || t.used || t.expired(p.nowLocked()) {
		return nil
	}
	if g := p.state.grants[t.grantID]; g != nil && g.revoked {
		return nil
	}
	return t
}
