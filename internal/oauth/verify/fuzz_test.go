package verify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
)

// FuzzVerify: whatever arrives as a bearer token, Verify neither panics
// nor accepts it, classifies the failure, and never echoes the input.
func FuzzVerify(f *testing.F) {
	as := testas.New(f)
	v, err := New(Config{Issuer: as.Issuer, Audiences: []string{serverClientID}, Keys: NewKeySet(as.URL+"/jwks", KeySetOptions{})})
	if err != nil {
		f.Fatal(err)
	}
	good := as.Claims("alice", serverClientID)
	for _, seed := range []string{
		"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJ9.e30.x", "{\"payload\":\"e30\",\"signatures\":[]}",
		testas.AlgNone(good), testas.HS256WithPublicKey(as.SigningKey(), good),
		testas.Tamper(as.AccessToken("alice", serverClientID), map[string]any{"sub": 1}),
		as.Mint(map[string]any{"aud": 5}, testas.MintOptions{}),
		as.Mint(map[string]any{"exp": "soon"}, testas.MintOptions{Typ: "JWT"}),
		as.Mint(map[string]any{"exp": 1e300}, testas.MintOptions{}),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		r, err := v.Verify(context.Background(), token)
		if err == nil {
			t.Fatalf("accepted %q as %+v", token, r)
		}
		if !errors.Is(err, oauth.ErrInvalidToken) && !errors.Is(err, oauth.ErrUnavailable) {
			t.Fatalf("unclassified error %v", err)
		}
		if len(token) >= 16 && strings.Contains(err.Error(), token) {
			t.Fatalf("error echoes the input")
		}
	})
}
