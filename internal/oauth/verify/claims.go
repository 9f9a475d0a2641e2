package verify

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// claims are the JWT (RFC 9068 §2.2) and introspection fields the server
// uses. Strings that arrive with another JSON type make the token invalid.
type claims struct {
	Iss               string           `json:"iss"`
	Sub               string           `json:"sub"`
	Aud               jwt.Audience     `json:"aud"`
	Exp               *jwt.NumericDate `json:"exp"`
	Nbf               *jwt.NumericDate `json:"nbf"`
	Iat               *jwt.NumericDate `json:"iat"`
	Jti               string           `json:"jti"`
	Scope             json.RawMessage  `json:"scope"`
	Scp               json.RawMessage  `json:"scp"`
	ClientID          string           `json:"client_id"`
	Azp               string           `json:"azp"`
	PreferredUsername string           `json:"preferred_username"`
	Username          string           `json:"username"`
	Email             string           `json:"email"`
	Act               map[string]any   `json:"act"`

	// expOverride stands in for a missing exp of an introspection result.
	expOverride time.Time
}

func (v *Verifier) checkClaims(c *claims, now time.Time) (*Result, error) {
	leeway := v.cfg.Leeway
	if c.Iss != v.cfg.Issuer {
		if c.Iss == "" {
			return nil, invalid("no iss claim")
		}
		return nil, invalid("issued by %s, not by %s", sanitize(c.Iss), v.cfg.Issuer)
	}
	exp := c.Exp.Time()
	if c.Exp == nil {
		if c.expOverride.IsZero() {
			return nil, invalid("no exp claim")
		}
		exp = c.expOverride
	}
	if !now.Before(exp.Add(leeway)) {
		return nil, invalid("expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if c.Nbf != nil && now.Add(leeway).Before(c.Nbf.Time()) {
		return nil, invalid("not valid before %s", c.Nbf.Time().UTC().Format(time.RFC3339))
	}
	if c.Iat != nil && now.Add(leeway).Before(c.Iat.Time()) {
		return nil, invalid("issued in the future (%s)", c.Iat.Time().UTC().Format(time.RFC3339))
	}
	if !v.audienceMatches(c.Aud) {
		if len(c.Aud) == 0 {
			return nil, invalid("no aud claim; this server accepts only tokens issued for %s", strings.Join(v.cfg.Audiences, " or "))
		}
		return nil, invalid("audience %s does not include %s", sanitize(strings.Join(c.Aud, " ")), strings.Join(v.cfg.Audiences, " or "))
	}
	if strings.TrimSpace(c.Sub) == "" {
		return nil, invalid("no sub claim")
	}
	sc, ok := parseScopes(c.Scope, c.Scp)
	if !ok {
		return nil, invalid("scope claim is neither a string nor a list of strings")
	}
	r := &Result{
		Subject:      c.Sub,
		Issuer:       c.Iss,
		Audience:     []string(c.Aud),
		Scopes:       sc,
		Expiry:       exp,
		IssuedAt:     c.Iat.Time(),
		ClientID:     c.ClientID,
		AuthorizedBy: c.Azp,
		Username:     c.PreferredUsername,
		Email:        c.Email,
		Act:          c.Act,
		TokenID:      c.Jti,
	}
	if r.ClientID == "" {
		r.ClientID = c.Azp
	}
	if r.Username == "" {
		r.Username = c.Username
	}
	if v.cfg.RequireUser {
		if why, ok := namesNoUser(c); ok {
			return nil, invalid("token names no user (%s); this server acts only for users", why)
		}
	}
	return r, nil
}

// serviceAccountPrefix starts the username Keycloak gives every client's
// service-account user ("service-account-<client id>").
const serviceAccountPrefix = "service-account-"

// namesNoUser reports whether a token was issued to a client for itself
// rather than to a user (docs/architecture.md §1.1):
//
//   - its sub equals its client_id or azp: the client-credentials grant
//     of RFC 9068 §2.2 ("sub" is the client when no resource owner is
//     involved), as the fake IdP and many IdPs issue it;
//   - its preferred_username (or introspection username) starts with
//     "service-account-": Keycloak gives a service-account token the sub
//     of a user it creates for the client, named that way, so the first
//     rule does not see it.
func namesNoUser(c *claims) (string, bool) {
	if c.Sub == c.ClientID || c.Sub == c.Azp {
		return "its sub is the client " + sanitize(c.Sub) + ": a client-credentials grant", true
	}
	for _, name := range []string{c.PreferredUsername, c.Username} {
		if len(name) >= len(serviceAccountPrefix) && strings.EqualFold(name[:len(serviceAccountPrefix)], serviceAccountPrefix) {
			return "it belongs to the service account " + sanitize(name), true
		}
	}
	return "", false
}

func (v *Verifier) audienceMatches(aud jwt.Audience) bool {
	if v.cfg.InsecureSkipAudienceCheck {
		return true
	}
	for _, want := range v.cfg.Audiences {
		if oauthex.MatchesResource(aud, want) {
			return true
		}
	}
	return false
}

// parseScopes reads the space-separated scope claim (RFC 9068 §2.2.3,
// RFC 8693 §4.2) or, failing that, scp as a list (Okta, Entra) or a
// string.
func parseScopes(scope, scp json.RawMessage) ([]string, bool) {
	for _, raw := range []json.RawMessage{scope, scp} {
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return scopes.Parse(s), true
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			return scopes.Parse(strings.Join(list, " ")), true
		}
		return nil, false
	}
	return nil, true
}
