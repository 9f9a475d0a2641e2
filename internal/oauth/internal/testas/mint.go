package testas

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// MintOptions shape the JOSE header of a minted token.
type MintOptions struct {
	// Key signs the token; nil means the server's current signing key.
	Key *Key
	// Typ is the typ header; "" means "at+jwt", "-" omits it.
	Typ string
	// NoKid omits the kid header.
	NoKid bool
}

// Sign signs claims with opts. It panics on programming errors: it is a
// test helper.
func Sign(key Key, claims map[string]any, opts MintOptions) string {
	so := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("typ"), typ(opts.Typ))
	if opts.Typ == "-" {
		so = &jose.SignerOptions{}
	}
	if !opts.NoKid {
		so = so.WithHeader(jose.HeaderKey("kid"), key.ID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.Alg, Key: key.Private}, so)
	if err != nil {
		panic(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return s
}

func typ(t string) string {
	if t == "" {
		return "at+jwt"
	}
	return t
}

func b64(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// AlgNone builds an unsigned token (alg "none", empty signature).
func AlgNone(claims map[string]any) string {
	return b64(map[string]any{"alg": "none", "typ": "at+jwt"}) + "." + b64(claims) + "."
}

// HS256WithPublicKey builds the classic algorithm-confusion token: HS256
// whose HMAC secret is the PEM of the server's RSA public key, with that
// key's kid.
func HS256WithPublicKey(key Key, claims map[string]any) string {
	der, err := x509.MarshalPKIXPublicKey(key.Private.Public())
	if err != nil {
		panic(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	input := b64(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": key.ID}) + "." + b64(claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Tamper replaces the payload of a signed token, keeping header and
// signature.
func Tamper(token string, claims map[string]any) string {
	parts := strings.Split(token, ".")
	parts[1] = b64(claims)
	return strings.Join(parts, ".")
}
