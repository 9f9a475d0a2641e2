// Package devstacktest starts a devstack for a Go test. It lives apart
// from devstack so that the production binary, which links devstack for
// `nextcloud-mcp dev`, does not link the testing package.
package devstacktest

import (
	"context"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
)

// Start starts a stack for t and closes it in t.Cleanup.
func Start(t testing.TB, opts devstack.Options) *devstack.Stack {
	t.Helper()
	st, err := devstack.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("devstack: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("devstack close: %v", err)
		}
	})
	return st
}
