package idp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is one key pair with its JWK identity.
type signingKey struct {
	kid       string
	alg       jose.SignatureAlgorithm
	priv      crypto.Signer
	retiredAt time.Time // zero while current
}

// keyRing holds the current signing key and the rotated-out keys that stay
// published for the grace period.
type keyRing struct {
	current *signingKey
	retired []*signingKey
}

// supportedAlgs are the algorithms the IdP signs with and accepts back.
var supportedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

func newSigningKey(alg string) (*signingKey, error) {
	var priv crypto.Signer
	var err error
	switch jose.SignatureAlgorithm(alg) {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("idp: signing algorithm %q is not supported (want RS256 or ES256)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("idp: generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("idp: key thumbprint: %w", err)
	}
	// The RFC 7638 thumbprint is a stable, unique kid.
	return &signingKey{kid: base64.RawURLEncoding.EncodeToString(tp), alg: jose.SignatureAlgorithm(alg), priv: priv}, nil
}

func (k *signingKey) publicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// sign produces a compact JWS of payload with the given typ header.
func (k *signingKey) sign(payload []byte, typ string, extra map[string]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	for h, v := range extra {
		opts = opts.WithHeader(jose.HeaderKey(h), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{
		Algorithm: k.alg,
		Key:       jose.JSONWebKey{Key: k.priv, KeyID: k.kid, Algorithm: string(k.alg)},
	}, opts)
	if err != nil {
		return "", fmt.Errorf("idp: signer: %w", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("idp: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// signJWT marshals claims and signs them with the current key.
func (p *IdP) signJWT(claims any, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("idp: encode claims: %w", err)
	}
	p.mu.Lock()
	k := p.keys.current
	p.mu.Unlock()
	return k.sign(payload, typ, nil)
}

// publishedLocked returns the keys in the JWKS: the current one and the
// retired ones still inside the grace period.
func (p *IdP) publishedLocked() []*signingKey {
	now := p.nowLocked()
	keys := []*signingKey{p.keys.current}
	kept := p.keys.retired[:0]
	for _, k := range p.keys.retired {
		if now.Before(k.retiredAt.Add(p.keyGrace)) {
			keys = append(keys, k)
			kept = append(kept, k)
		}
	}
	p.keys.retired = kept
	return keys
}

// RotateKeys makes a fresh key of the configured algorithm current; the old
// public key stays in the JWKS for the grace period.
func (p *IdP) RotateKeys() error {
	_, err := p.RotateKeysTo("")
	return err
}

// RotateKeysTo is RotateKeys with a chosen algorithm ("" keeps the current
// one). It returns the new key id.
func (p *IdP) RotateKeysTo(alg string) (string, error) {
	p.mu.Lock()
	if alg == "" {
		alg = string(p.keys.current.alg)
	}
	p.mu.Unlock()
	k, err := newSigningKey(alg)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.keys.current
	old.retiredAt = p.nowLocked()
	p.keys.retired = append(p.keys.retired, old)
	p.keys.current = k
	return k.kid, nil
}

// KeyIDs returns the kid of the current key followed by those of the
// published retired keys.
func (p *IdP) KeyIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for _, k := range p.publishedLocked() {
		ids = append(ids, k.kid)
	}
	return ids
}

// handleJWKS serves the JWK set with Cache-Control max-age.
func (p *IdP) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, &Error{Code: "invalid_request", Description: "the method must be GET", Status: http.StatusMethodNotAllowed})
		return
	}
	p.mu.Lock()
	var set jose.JSONWebKeySet
	for _, k := range p.publishedLocked() {
		set.Keys = append(set.Keys, k.publicJWK())
	}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(p.jwksMaxAge/time.Second)))
	writeJSON(w, http.StatusOK, set)
}

// verifiedJWT is a token whose signature checked out against a published
// key.
type verifiedJWT struct {
	claims map[string]any
	typ    string
	kid    string
}

var errBadJWT = errors.New("idp: token is not a valid JWT signed by this issuer")

// verifyJWT checks a compact JWS against the published keys (alg none and
// HMAC are never accepted) and decodes its claims. It checks no claim.
func (p *IdP) verifyJWT(token string) (*verifiedJWT, error) {
	if len(token) > 16<<10 {
		return nil, errBadJWT
	}
	jws, err := jose.ParseSignedCompact(token, supportedAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errBadJWT
	}
	hdr := jws.Signatures[0].Header
	p.mu.Lock()
	var key *signingKey
	for _, k := range p.publishedLocked() {
		if k.kid == hdr.KeyID {
			key = k
			break
		}
	}
	p.mu.Unlock()
	if key == nil || string(key.alg) != hdr.Algorithm {
		return nil, errBadJWT
	}
	payload, err := jws.Verify(key.priv.Public())
	if err != nil {
		return nil, errBadJWT
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, errBadJWT
	}
	typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string)
	return &verifiedJWT{claims: claims, typ: typ, kid: key.kid}, nil
}
