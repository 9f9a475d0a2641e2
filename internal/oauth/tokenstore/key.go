package tokenstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of TOKEN_ENCRYPTION_KEY once decoded: AES-256.
const KeySize = 32

// Key is the AES-256-GCM key that encrypts every secret in the store.
// Its String and GoString never show it.
type Key struct{ b [KeySize]byte }

// String hides the key.
func (Key) String() string { return "tokenstore.Key(redacted)" }

// GoString hides the key from %#v.
func (Key) GoString() string { return "tokenstore.Key(redacted)" }

// GenerateKey returns a new random key in the TOKEN_ENCRYPTION_KEY format:
// 32 bytes from crypto/rand, standard base64 with padding (44 characters).
// `nextcloud-mcp keygen` prints this.
func GenerateKey() (string, error) {
	var b [KeySize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// ParseKey decodes TOKEN_ENCRYPTION_KEY: base64 of exactly 32 bytes, in
// the standard or URL-safe alphabet, padded or not (so a key from
// `openssl rand -base64 32` or a Fernet key works too). Errors never echo
// the value.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, errors.New("TOKEN_ENCRYPTION_KEY is empty; generate one with `nextcloud-mcp keygen`")
	}
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return Key{}, errors.New("TOKEN_ENCRYPTION_KEY is not base64; generate one with `nextcloud-mcp keygen`")
	}
	if len(raw) != KeySize {
		return Key{}, fmt.Errorf("TOKEN_ENCRYPTION_KEY decodes to %d bytes, want %d (AES-256); generate one with `nextcloud-mcp keygen`", len(raw), KeySize)
	}
	var k Key
	copy(k.b[:], raw)
	return k, nil
}

// Ciphertext layout: version byte, 12-byte random nonce, GCM sealed data
// (which ends with the 16-byte tag).
const sealVersion = 1

// aad binds a ciphertext to what it is and whom it belongs to, so a row's
// secret cannot be moved to another user or column without failing
// authentication.
func aad(purpose, subject string) []byte {
	return []byte("nextcloud-mcp-go/tokenstore/v1\x00" + purpose + "\x00" + subject)
}

func (k Key) aead() cipher.AEAD {
	block, err := aes.NewCipher(k.b[:])
	if err != nil {
		panic(err) // a 32-byte key cannot fail
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return g
}

func (k Key) seal(plaintext []byte, ad []byte) ([]byte, error) {
	g := k.aead()
	out := make([]byte, 1+g.NonceSize(), 1+g.NonceSize()+len(plaintext)+g.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return g.Seal(out, out[1:1+g.NonceSize()], plaintext, ad), nil
}

var errOpen = errors.New("ciphertext does not authenticate")

func (k Key) open(ciphertext []byte, ad []byte) ([]byte, error) {
	g := k.aead()
	if len(ciphertext) < 1+g.NonceSize()+g.Overhead() || ciphertext[0] != sealVersion {
		return nil, errOpen
	}
	nonce := ciphertext[1 : 1+g.NonceSize()]
	pt, err := g.Open(nil, nonce, ciphertext[1+g.NonceSize():], ad)
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}
