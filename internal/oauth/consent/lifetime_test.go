package consent

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stateLifetime is the documented lifetime of an authorization link
// (docs/architecture.md §1.2), written out rather than taken from the
// constant, so that a change of the constant turns this test red.
const stateLifetime = 10 * time.Minute

// TestStateLifetimeIsTenMinutes: a link used one second before its ten
// minutes are up completes; one second after, it is refused as expired
// and nothing reaches the IdP's token endpoint.
func TestStateLifetimeIsTenMinutes(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration
		expired bool
	}{
		{name: "10 min - 1 s", after: stateLifetime - time.Second},
		{name: "10 min + 1 s", after: stateLifetime + time.Second, expired: true},
		{name: "exactly 10 min", after: stateLifetime, expired: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			a, err := f.flow.Begin(context.Background(), "alice")
			require.NoError(t, err)
			assert.Equal(t, stateLifetime, a.ExpiresAt.Sub(f.clk.Now()), "the link's advertised expiry")
			cb := approve(t, a.URL)
			f.clk.Advance(tt.after)
			_, err = f.flow.Complete(context.Background(), cb)
			if tt.expired {
				assert.ErrorIs(t, err, ErrStateExpired)
				assert.Zero(t, f.as.CountGrant("authorization_code"), "an expired state reached the IdP")
				return
			}
			assert.NoError(t, err)
		})
	}
}
