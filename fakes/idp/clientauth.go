package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// Client authentication methods (RFC 7591 §2 names).
const (
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
	authNone  = "none"
)

// authenticateClient identifies and authenticates the client of a token,
// introspection or revocation request: client_secret_basic,
// client_secret_post, or none for public clients. Using two methods at once
// is refused (RFC 6749 §2.3).
func (p *IdP) authenticateClient(r *http.Request, form params) (*Client, string, *Error) {
	id, secret, method, err := clientCredentials(r, form)
	if err != nil {
		return nil, "", err
	}
	p.mu.Lock()
	c, ok := p.clients[id]
	if ok {
		c = cloneClient(c)
	}
	p.mu.Unlock()
	if !ok {
		// Spend the time a comparison would, so unknown ids are not faster.
		secretEqual(secret, "unknown-client")
		return nil, "", errInvalidClient("client authentication failed")
	}
	if c.Public {
		if method != authNone {
			return nil, "", errInvalidClient("public client must not send a secret")
		}
		return c, method, nil
	}
	if method == authNone {
		return nil, "", errInvalidClient("client authentication required")
	}
	if !secretEqual(secret, c.Secret) {
		return nil, "", errInvalidClient("client authentication failed")
	}
	return c, method, nil
}

// clientCredentials extracts the client id and secret from the
// Authorization header or the form.
func clientCredentials(r *http.Request, form params) (id, secret, method string, err *Error) {
	authz := r.Header.Values("Authorization")
	formID, formSecret := form.get("client_id"), form.get("client_secret")
	if len(authz) > 1 {
		return "", "", "", errInvalidRequest("the Authorization header must not be repeated")
	}
	if len(authz) == 1 {
		scheme, rest, _ := strings.Cut(authz[0], " ")
		if !strings.EqualFold(scheme, "Basic") {
			return "", "", "", errInvalidClient("unsupported authorization scheme")
		}
		u, pw, ok := parseBasic(strings.TrimSpace(rest))
		if !ok {
			return "", "", "", errInvalidClient("malformed Basic credentials")
		}
		if formSecret != "" {
			return "", "", "", errInvalidRequest("use only one client authentication method")
		}
		if formID != "" && formID != u {
			return "", "", "", errInvalidRequest("client_id does not match the authenticated client")
		}
		return u, pw, authBasic, nil
	}
	if formID == "" {
		return "", "", "", errInvalidClient("client authentication required")
	}
	if formSecret != "" {
		return formID, formSecret, authPost, nil
	}
	return formID, "", authNone, nil
}

// parseBasic decodes RFC 6749 §2.3.1 Basic credentials, whose id and secret
// are form-urlencoded before base64.
func parseBasic(v string) (id, secret string, ok bool) {
	r := &http.Request{Header: http.Header{"Authorization": {"Basic " + v}}}
	u, pw, ok := r.BasicAuth()
	if !ok || u == "" {
		return "", "", false
	}
	var err error
	if id, err = url.QueryUnescape(u); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(pw); err != nil {
		return "", "", false
	}
	return id, secret, true
}

// secretEqual compares secrets in constant time, hashing first so that the
// length of the expected secret does not leak either.
func secretEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
