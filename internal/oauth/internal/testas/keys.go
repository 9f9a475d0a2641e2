// Package testas is a small authorization server for the tests of the
// internal/oauth packages: JWKS with rotation, token endpoint (RFC 8693
// exchange, authorization code with PKCE, refresh with rotation and reuse
// detection), RFC 7662 introspection, RFC 7009 revocation, an auto-approving
// authorization endpoint, and a minter for arbitrary (also malicious)
// tokens. It is deliberately independent of fakes/idp so the packages'
// unit tests do not depend on another engineer's work, and small enough to
// read next to the RFCs.
package testas

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// Key is one signing key of the server.
type Key struct {
	ID      string
	Alg     jose.SignatureAlgorithm
	Private crypto.Signer
}

// Public returns the public JWK of k.
func (k Key) Public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"}
}

var (
	poolOnce sync.Once
	rsaPool  []*rsa.PrivateKey
	poolMu   sync.Mutex
	serial   int
)

// rsaKey hands out keys from a small pool generated once per test binary:
// 2048-bit generation is the slowest thing these tests would otherwise do.
func rsaKey(i int) *rsa.PrivateKey {
	poolOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaPool = append(rsaPool, k)
		}
	})
	return rsaPool[i%len(rsaPool)]
}

// NewKey returns a fresh key for alg (RS256/PS256 share the RSA pool,
// ES256 is generated) with a unique kid.
func NewKey(alg jose.SignatureAlgorithm) Key {
	poolMu.Lock()
	serial++
	n := serial
	poolMu.Unlock()
	var priv crypto.Signer
	switch alg {
	case jose.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		priv = k
	case jose.ES384:
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			panic(err)
		}
		priv = k
	default:
		priv = rsaKey(n)
	}
	return Key{ID: fmt.Sprintf("key-%d", n), Alg: alg, Private: priv}
}
