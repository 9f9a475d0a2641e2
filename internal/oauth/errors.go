// Package oauth holds what every token-related part of the server shares
// when it talks to the OAuth authorization server (the IdP): the typed
// RFC 6749 §5.2 error, the sentinel errors that let callers tell a bad
// token from an unreachable IdP, authorization-server metadata discovery
// (RFC 8414 / OpenID Connect Discovery), client authentication
// (client_secret_basic), and the two small endpoint clients that do not
// deserve a package of their own: RFC 7662 introspection and RFC 7009
// revocation.
//
// The sub-packages build on it: verify (inbound access tokens), exchange
// (RFC 8693), consent (Flow 2: state, PKCE, code exchange), tokenstore
// (encrypted SQLite) and broker (background refresh grants).
//
// Nothing in these packages logs or returns a token, secret or code in an
// error message.
package oauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// ErrInvalidToken is wrapped by every error that means "this token is not
// acceptable" (bad signature, expired, wrong audience, inactive, ...). It
// wraps go-sdk's auth.ErrInvalidToken, so errors.Is(err, auth.ErrInvalidToken)
// holds too and go-sdk's middleware answers 401 for it.
var ErrInvalidToken = fmt.Errorf("%w", auth.ErrInvalidToken)

// ErrUnavailable is wrapped by every error that means the authorization
// server could not be asked (network error, timeout, 5xx, 429, a response
// that is not the protocol's). The token may well be fine: answer 503, not
// 401.
var ErrUnavailable = errors.New("authorization server unavailable")

// RFC 6749 §5.2, RFC 8693 §2.2.2 and RFC 7009 §2.2.1 error codes.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
	CodeInvalidTarget        = "invalid_target"
	CodeUnsupportedTokenType = "unsupported_token_type"
	CodeAccessDenied         = "access_denied"
	CodeServerError          = "server_error"
	CodeTemporarilyUnavail   = "temporarily_unavailable"
)

// Error is an authorization server's refusal: the RFC 6749 §5.2 error
// response of a token, introspection or revocation endpoint, or the error
// parameters of an authorization response (RFC 6749 §4.1.2.1). Code is the
// protocol's error code ("" when the server answered an HTTP error without
// an OAuth body). 5xx and 429 answers unwrap to ErrUnavailable.
type Error struct {
	// Endpoint names the endpoint ("token endpoint", "introspection
	// endpoint", "authorization endpoint"), never its URL's query.
	Endpoint string
	// Status is the HTTP status (0 for authorization responses, which
	// arrive as redirect parameters).
	Status      int
	Code        string
	Description string
	URI         string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Endpoint)
	b.WriteString(" refused the request")
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	return b.String()
}

// Unwrap makes server-side failures match ErrUnavailable.
func (e *Error) Unwrap() error {
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests ||
		e.Code == CodeServerError || e.Code == CodeTemporarilyUnavail {
		return ErrUnavailable
	}
	return nil
}

// ErrorCode returns the OAuth error code carried by err ("" if none).
func ErrorCode(err error) string {
	var oe *Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return ""
}

// HasCode reports whether err carries the OAuth error code.
func HasCode(err error, code string) bool {
	return code != "" && ErrorCode(err) == code
}

// cleanDescription keeps an authorization server's free text printable and
// short: it ends up in tool errors and logs.
func cleanDescription(s string) string {
	const limit = 300
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
