package verify

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// CheckIssued checks a JWT this server has just received in the body of
// the IdP's answer to its own request to the token endpoint — an RFC 8693
// exchange result — and describes it. Everything Verify checks of a JWT's
// content is checked: the structure of a compact JWS with an allowed
// algorithm and an access-token typ, iss, exp/nbf/iat with leeway, aud
// against the Verifier's audiences, sub, the shape of scope.
//
// The signature is not checked, on purpose (docs/architecture.md §2.1.1):
// the token did not come from a client but from the token endpoint the
// server discovered from its configured issuer, over a connection the
// server opened and authenticated itself on (TLS in production), so the
// channel already proves who issued it — the rule OpenID Connect Core 1.0
// §3.1.3.7 (6) states for ID tokens received the same way. Checking the
// signature would prove it a second time, with keys fetched over that
// same kind of connection, and the token's audience, Nextcloud, verifies
// the signature itself before honouring it. What the channel does not
// prove is that the IdP issued what was asked for, which the claims
// checks do. Opaque tokens are refused: nothing about them can be
// checked without asking the IdP again.
//
// Nothing is cached. Errors wrap oauth.ErrInvalidToken.
func (v *Verifier) CheckIssued(token string) (*Result, error) {
	if token == "" {
		return nil, invalid("empty token")
	}
	if len(token) > MaxTokenBytes {
		return nil, invalid("token longer than %d bytes", MaxTokenBytes)
	}
	h, ok := parseHeader(token)
	if !ok {
		return nil, invalid("not a JWT; its audience and subject cannot be checked")
	}
	if !slices.Contains(v.algs, jose.SignatureAlgorithm(h.Alg)) {
		return nil, invalid("signature algorithm %s is not allowed", sanitize(h.Alg))
	}
	if !acceptedTyp(h.Typ) {
		return nil, invalid("token type %s is not an access token", sanitize(h.Typ))
	}
	_, rest, _ := strings.Cut(token, ".")
	payloadPart, _, _ := strings.Cut(rest, ".")
	payload, err := base64.RawURLEncoding.DecodeString(payloadPart)
	if err != nil {
		return nil, invalid("malformed JWT")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalid("malformed claims: %s", claimError(err))
	}
	return v.checkClaims(&c, v.cfg.Now())
}
