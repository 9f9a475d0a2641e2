package oauth

import (
	"context"
	"net/url"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Introspection is an RFC 7662 §2.2 introspection response. Only Active is
// mandatory in the RFC; the verifier decides which of the others it needs.
type Introspection struct {
	Active            bool             `json:"active"`
	Scope             string           `json:"scope,omitempty"`
	ClientID          string           `json:"client_id,omitempty"`
	Username          string           `json:"username,omitempty"`
	TokenType         string           `json:"token_type,omitempty"`
	Exp               *jwt.NumericDate `json:"exp,omitempty"`
	Iat               *jwt.NumericDate `json:"iat,omitempty"`
	Nbf               *jwt.NumericDate `json:"nbf,omitempty"`
	Sub               string           `json:"sub,omitempty"`
	Aud               jwt.Audience     `json:"aud,omitempty"`
	Iss               string           `json:"iss,omitempty"`
	Jti               string           `json:"jti,omitempty"`
	PreferredUsername string           `json:"preferred_username,omitempty"`
	Email             string           `json:"email,omitempty"`
	Azp               string           `json:"azp,omitempty"`
	Act               map[string]any   `json:"act,omitempty"`
}

// Introspect asks the RFC 7662 introspection endpoint about token. hint is
// the optional token_type_hint ("access_token", "refresh_token" or "").
// The endpoint's client credentials authenticate the call
// (client_secret_basic). A refusal of this server's credentials comes back
// as *Error; it says nothing about the token.
func Introspect(ctx context.Context, ep Endpoint, token, hint string) (*Introspection, error) {
	if ep.Name == "" {
		ep.Name = "introspection endpoint"
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	var out Introspection
	if err := ep.Post(ctx, form, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
