package idp

import (
	"net/http"
	"strings"
)

// handleRevoke is RFC 7009 token revocation. Public clients identify
// themselves with client_id; confidential ones authenticate. Unknown or
// invalid tokens answer 200 (§2.2); a token issued to another client is
// refused. Revoking a refresh token revokes its whole grant, access tokens
// included (§2.1).
func (p *IdP) handleRevoke(w http.ResponseWriter, r *http.Request) {
	entry := entryOf(r)
	if err := p.revoke(r, entry); err != nil {
		entry.Outcome = err.Code
		if err.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "POST")
		}
		writeError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (p *IdP) revoke(r *http.Request, entry *LogEntry) *Error {
	form, err := readForm(r)
	if err != nil {
		return err
	}
	c, _, err := p.authenticateClient(r, form)
	if err != nil {
		return err
	}
	entry.ClientID = c.ID
	raw := form.get("token")
	if raw == "" {
		return errInvalidRequest("token is required")
	}
	key := hashKey(raw)
	if strings.Count(raw, ".") == 2 {
		v, verr := p.verifyJWT(raw)
		if verr != nil {
			entry.Outcome = "unknown_token"
			return nil
		}
		jti, _ := v.claims["jti"].(string)
		key = "jti:" + jti
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.init()
	t := p.state.tokens[key]
	if t == nil {
		entry.Outcome = "unknown_token"
		return nil
	}
	if t.clientID != c.ID {
		return errUnauthorizedClient("the token was not issued to this client")
	}
	entry.Subject = t.subject
	entry.Audience = t.aud
	if t.kind == kindRefresh && t.grantID != "" {
		p.revokeGrantLocked(t.grantID)
	}
	t.revoked = true
	entry.Outcome = "revoked"
	return nil
}
