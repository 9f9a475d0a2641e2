package oauth

import (
	"context"
	"net/url"
)

// Revoke asks the RFC 7009 revocation endpoint to revoke token. hint is the
// optional token_type_hint ("refresh_token", "access_token" or ""). RFC
// 7009 §2.2: the server answers 200 for tokens it does not know or that
// were already revoked, so nil means "this token is no longer usable" as
// far as the server can tell. An unsupported_token_type refusal comes back
// as *Error; 503 and network failures wrap ErrUnavailable and mean the
// caller should keep its state and retry later.
func Revoke(ctx context.Context, ep Endpoint, token, hint string) error {
	if ep.Name == "" {
		ep.Name = "revocation endpoint"
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	return ep.Post(ctx, form, nil)
}
