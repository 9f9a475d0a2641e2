package idp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// MintKey chooses how Mint signs.
type MintKey string

// Mint keys.
const (
	// KeyCurrent signs with the current published key (the default). Such
	// tokens are recorded when they carry a jti, so introspection and token
	// exchange treat them as issued here.
	KeyCurrent MintKey = "current"
	// KeyUnknown signs with a key of the current algorithm that is never
	// published; the kid is that key's own thumbprint.
	KeyUnknown MintKey = "unknown"
	// KeyNone produces an unsigned token with alg "none".
	KeyNone MintKey = "none"
	// KeyHS256Public signs with HS256 keyed by the current public key's PEM
	// (PKIX) bytes: the algorithm-confusion attack a verifier must refuse.
	KeyHS256Public MintKey = "hs256-public"
)

// MintRequest describes an arbitrary token for negative tests.
type MintRequest struct {
	// Claims are merged over the defaults (iss, iat, nbf, exp, jti); a nil
	// value removes a default claim.
	Claims map[string]any
	// Header fields are merged over the JOSE header (alg, kid, typ =
	// "at+jwt"); e.g. {"typ": "JWT"} or {"kid": "nope"}.
	Header map[string]any
	Key    MintKey
	// ExpiresIn sets exp relative to now; zero means the access-token TTL,
	// negative an already expired token.
	ExpiresIn time.Duration
	// NoDefaults signs Claims exactly as given.
	NoDefaults bool
}

// Mint signs an arbitrary token. It never validates the claims: minting an
// expired, wrong-audience or wrong-issuer token is the point.
func (p *IdP) Mint(m MintRequest) (string, error) {
	key := m.Key
	if key == "" {
		key = KeyCurrent
	}
	p.mu.Lock()
	now := p.nowLocked().Truncate(time.Second)
	issuer := p.issuer
	current := p.keys.current
	p.mu.Unlock()

	claims := map[string]any{}
	if !m.NoDefaults {
		ttl := m.ExpiresIn
		if ttl == 0 {
			ttl = p.accessTTL
		}
		claims["iss"] = issuer
		claims["iat"] = now.Unix()
		claims["nbf"] = now.Unix()
		claims["exp"] = now.Add(ttl).Unix()
		claims["jti"] = randomToken(16)
	}
	for k, v := range m.Claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("idp: mint: encode claims: %w", err)
	}

	var signer *signingKey
	header := map[string]any{"typ": "at+jwt"}
	switch key {
	case KeyCurrent:
		signer = current
	case KeyUnknown:
		if signer, err = p.unknownSigningKey(string(current.alg)); err != nil {
			return "", err
		}
	case KeyNone:
		header["alg"] = "none"
	case KeyHS256Public:
		header["alg"] = "HS256"
		header["kid"] = current.kid
	default:
		return "", fmt.Errorf("idp: mint: unknown key %q (want current, unknown, none or hs256-public)", key)
	}
	if signer != nil {
		header["alg"] = string(signer.alg)
		header["kid"] = signer.kid
	}
	for k, v := range m.Header {
		if v == nil {
			delete(header, k)
		} else {
			header[k] = v
		}
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("idp: mint: encode header: %w", err)
	}
	input := b64(hb) + "." + b64(payload)
	var sig []byte
	switch key {
	case KeyNone:
	case KeyHS256Public:
		pemKey, perr := publicPEM(current.priv.Public())
		if perr != nil {
			return "", perr
		}
		mac := hmac.New(sha256.New, pemKey)
		mac.Write([]byte(input))
		sig = mac.Sum(nil)
	default:
		if sig, err = rawSign(signer.priv, []byte(input)); err != nil {
			return "", err
		}
	}
	token := input + "." + b64(sig)
	if key == KeyCurrent {
		p.recordMinted(claims)
	}
	return token, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rawSign is JWS RS256 / ES256 over input (RFC 7518 §3.3, §3.4).
func rawSign(priv crypto.Signer, input []byte) ([]byte, error) {
	h := sha256.Sum256(input)
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out, nil
	}
	return nil, fmt.Errorf("idp: unsupported key type %T", priv)
}

func publicPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("idp: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PublicKeyPEM returns the current public key as PEM (the key bytes an
// HS256 algorithm-confusion token is keyed with).
func (p *IdP) PublicKeyPEM() ([]byte, error) {
	p.mu.Lock()
	k := p.keys.current
	p.mu.Unlock()
	return publicPEM(k.priv.Public())
}

// unknownSigningKey returns a cached never-published key of alg.
func (p *IdP) unknownSigningKey(alg string) (*signingKey, error) {
	p.mu.Lock()
	k := p.unknownKey
	p.mu.Unlock()
	if k != nil && string(k.alg) == alg {
		return k, nil
	}
	k, err := newSigningKey(alg)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.unknownKey = k
	p.mu.Unlock()
	return k, nil
}

// recordMinted remembers a token minted with the current key, so that
// introspection and exchange know it.
func (p *IdP) recordMinted(claims map[string]any) {
	raw, err := json.Marshal(claims)
	if err != nil {
		return
	}
	var c map[string]any // normalise numbers to float64 as after parsing
	if json.Unmarshal(raw, &c) != nil {
		return
	}
	jti, _ := c["jti"].(string)
	if jti == "" {
		return
	}
	t := &tokenRecord{kind: kindAccess, key: "jti:" + jti, claims: c}
	t.clientID, _ = c["client_id"].(string)
	if t.clientID == "" {
		t.clientID, _ = c["azp"].(string)
	}
	t.subject, _ = c["sub"].(string)
	t.username, _ = c["preferred_username"].(string)
	sc, _ := c["scope"].(string)
	t.scopes = scopes.Parse(sc)
	t.aud = claimStrings(c["aud"])
	t.issuedAt, _ = claimTime(c["iat"])
	t.expiresAt, _ = claimTime(c["exp"])
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.init()
	p.state.tokens[t.key] = t
	p.sweepLocked()
}
