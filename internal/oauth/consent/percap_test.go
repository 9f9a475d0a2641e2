package consent

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPendingCapPerUserCountsUsedStates: the per-user cap counts every
// state a user holds, used ones included (a used state is remembered
// until it expires so a replay is reported as such). Otherwise one user
// who asks for links and spends them at once (a declined consent marks
// the state used) fills the global bound and blocks provisioning for
// everyone.
func TestPendingCapPerUserCountsUsedStates(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxPending = 10 })
	ctx := context.Background()
	for range 30 {
		a, err := f.flow.Begin(ctx, "mallory")
		require.NoError(t, err, "one user's own links never block that user")
		u, err := url.Parse(a.URL)
		require.NoError(t, err)
		_, err = f.flow.Complete(ctx, Callback{State: u.Query().Get("state"), Error: "access_denied"})
		require.Error(t, err)
	}
	n, err := f.store.PendingStates(ctx)
	require.NoError(t, err)
	assert.LessOrEqual(t, n, maxPerSubject, "states kept for one user")
	for _, sub := range []string{"alice", "bob"} {
		_, err := f.flow.Begin(ctx, sub)
		assert.NoError(t, err, "%s could not start provisioning after another user's spent links", sub)
	}
}
