package verify

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// Result describes a verified token. It never holds the token itself.
type Result struct {
	// Subject is sub: the user, and go-sdk's TokenInfo.UserID.
	Subject  string
	Issuer   string
	Audience []string
	// Scopes come from the space-separated scope claim (or scp).
	Scopes   []string
	Expiry   time.Time
	IssuedAt time.Time
	// ClientID is client_id (RFC 9068), else azp: the client the token
	// was issued to.
	ClientID string
	// AuthorizedBy is azp as sent.
	AuthorizedBy string
	// Username is preferred_username, else username.
	Username string
	Email    string
	// Act is the RFC 8693 §4.1 actor claim of an exchanged token.
	Act     map[string]any
	TokenID string
	// Introspected is true for opaque tokens checked by RFC 7662.
	Introspected bool
}

func (r *Result) clone() *Result {
	c := *r
	c.Audience = slices.Clone(r.Audience)
	c.Scopes = slices.Clone(r.Scopes)
	c.Act = maps.Clone(r.Act)
	return &c
}

// ActorSubject returns act.sub, the party acting for Subject ("" when the
// token carries no act claim).
func (r *Result) ActorSubject() string {
	s, _ := r.Act["sub"].(string)
	return s
}

// extraKey is the TokenInfo.Extra key under which TokenInfo stores the
// Result.
const extraKey = "nextcloud-mcp/verify.Result"

// TokenInfo converts r for go-sdk: UserID = sub (the streamable transport
// binds sessions to it), Scopes, Expiration; Extra carries the Result
// (FromTokenInfo gets it back) and, for convenience, "client_id",
// "username" and "email".
func (r *Result) TokenInfo() *auth.TokenInfo {
	return &auth.TokenInfo{
		Scopes:     slices.Clone(r.Scopes),
		Expiration: r.Expiry,
		UserID:     r.Subject,
		Extra: map[string]any{
			extraKey:    r.clone(),
			"client_id": r.ClientID,
			"username":  r.Username,
			"email":     r.Email,
		},
	}
}

// FromTokenInfo returns the Result a TokenInfo was made from.
func FromTokenInfo(ti *auth.TokenInfo) (*Result, bool) {
	if ti == nil {
		return nil, false
	}
	r, ok := ti.Extra[extraKey].(*Result)
	return r, ok
}

// VerifyTokenInfo is Verify returning go-sdk's TokenInfo.
func (v *Verifier) VerifyTokenInfo(ctx context.Context, token string) (*auth.TokenInfo, error) {
	r, err := v.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	return r.TokenInfo(), nil
}

// TokenVerifier adapts v to go-sdk's auth.TokenVerifier. Invalid tokens
// wrap auth.ErrInvalidToken (401 in auth.RequireBearerToken); note that
// go-sdk answers 500 for the other errors (IdP unavailable).
func (v *Verifier) TokenVerifier() auth.TokenVerifier {
	return func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		return v.VerifyTokenInfo(ctx, token)
	}
}
