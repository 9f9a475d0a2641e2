package verify

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
)

// TestUnknownOpaqueTokensAreNegativelyCached: an opaque token the IdP
// calls inactive is refused from memory for a while after, instead of
// costing an authenticated introspection call every time.
func TestUnknownOpaqueTokensAreNegativelyCached(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for range 20 {
		_, err := f.v.Verify(ctx, "garbage-token-value")
		require.ErrorIs(t, err, oauth.ErrInvalidToken)
	}
	assert.Equal(t, 1, countEndpoint(f.as, "introspect"), "introspection calls for one unknown token asked 20 times")
	// After the negative-cache lifetime the IdP is asked again (a token
	// could have been issued meanwhile).
	f.clk.Advance(DefaultIntrospectionCacheTTL + time.Second)
	_, err := f.v.Verify(ctx, "garbage-token-value")
	require.ErrorIs(t, err, oauth.ErrInvalidToken)
	assert.Equal(t, 2, countEndpoint(f.as, "introspect"))
}

// TestIntrospectionIsRateLimited: many distinct unknown tokens cost at
// most the limiter's burst of introspection calls; the rest are answered
// as an outage (503 Retry-After), not as invalid, since they were not
// looked at. Time refills the budget.
func TestIntrospectionIsRateLimited(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.IntrospectionRate, c.IntrospectionBurst = 1, 5 })
	ctx := context.Background()
	var invalid, unavailable int
	for i := range 70 {
		_, err := f.v.Verify(ctx, fmt.Sprintf("garbage-token-%02d", i))
		switch {
		case err == nil:
			t.Fatal("a garbage token was accepted")
		case errorsIs(err, oauth.ErrUnavailable):
			unavailable++
		case errorsIs(err, oauth.ErrInvalidToken):
			invalid++
		}
	}
	assert.Equal(t, 5, countEndpoint(f.as, "introspect"), "introspection calls for 70 garbage tokens")
	assert.Equal(t, 5, invalid)
	assert.Equal(t, 65, unavailable)
	f.clk.Advance(2 * time.Second)
	_, err := f.v.Verify(ctx, f.as.Opaque(introspection(f.as, nil)))
	assert.NoError(t, err, "a live opaque token after the budget refilled")
}

// TestMalformedOpaqueTokensAreNotIntrospected: a credential outside RFC
// 6750 §2.1's b64token syntax cannot be a bearer token; it is refused
// without asking the IdP.
func TestMalformedOpaqueTokensAreNotIntrospected(t *testing.T) {
	f := newFixture(t, nil)
	for _, tok := range []string{"has space", "quote\"d", "semi;colon", "=leading-equals", "ünïcode", "a,b"} {
		_, err := f.v.Verify(context.Background(), tok)
		assert.ErrorIs(t, err, oauth.ErrInvalidToken, tok)
	}
	assert.Zero(t, countEndpoint(f.as, "introspect"))
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
