package idp

import (
	"net/http"
	"slices"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// handleUserinfo is the OpenID Connect UserInfo endpoint (Core §5.3). The
// access token goes in the Authorization header (RFC 6750 §2.1) and must
// carry the openid scope; claims follow the profile and email scopes.
func (p *IdP) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	entry := entryOf(r)
	claims, err := p.userinfo(r)
	if err != nil {
		entry.Outcome = err.Code
		if err.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, POST")
		}
		writeError(w, err)
		return
	}
	entry.Subject, entry.Outcome = claims["sub"].(string), "ok"
	writeJSONNoStore(w, http.StatusOK, claims)
}

func (p *IdP) userinfo(r *http.Request) (map[string]any, *Error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, &Error{Code: "invalid_request", Description: "the method must be GET or POST", Status: http.StatusMethodNotAllowed}
	}
	if r.URL.Query().Has("access_token") {
		return nil, errInvalidRequest("send the access token in the Authorization header, not the URL")
	}
	authz := r.Header.Values("Authorization")
	if len(authz) == 0 {
		return nil, &Error{Code: "invalid_request", Description: "an access token is required",
			Status: http.StatusUnauthorized, WWWAuthenticate: `Bearer realm="fake-idp"`}
	}
	scheme, raw, _ := strings.Cut(authz[0], " ")
	if len(authz) > 1 || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, errInvalidToken("malformed Authorization header")
	}
	t := p.findAccessToken(strings.TrimSpace(raw))
	if t == nil {
		return nil, errInvalidToken("the access token is invalid, expired or revoked")
	}
	if !slices.Contains(t.scopes, scopes.OpenID) {
		return nil, &Error{Code: "insufficient_scope", Description: "the openid scope is required",
			Status: http.StatusForbidden, WWWAuthenticate: `Bearer realm="fake-idp", error="insufficient_scope", scope="openid"`}
	}
	out := map[string]any{"sub": t.subject}
	p.mu.Lock()
	u := p.users[t.username]
	p.mu.Unlock()
	if u != nil && u.Subject == t.subject {
		if slices.Contains(t.scopes, scopes.Profile) {
			out["preferred_username"] = u.Username
			if u.Name != "" {
				out["name"] = u.Name
			}
		}
		if slices.Contains(t.scopes, scopes.Email) && u.Email != "" {
			out["email"] = u.Email
			out["email_verified"] = true
		}
	}
	return out, nil
}
