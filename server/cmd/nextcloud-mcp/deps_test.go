package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinaryDoesNotLinkTesting guards the production binary's dependency
// graph: test helpers (devstacktest, nctest, idptest, ...) import the
// testing package, which has no business in a server binary (it registers
// test flags and pulls in code a deployment never runs).
func TestBinaryDoesNotLinkTesting(t *testing.T) {
	// go test puts GOROOT/bin first on the test's PATH.
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "go list -deps: %s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/nextcloud-mcp-go/nextcloud-mcp-go/server", "go list printed no dependency graph")
	for _, d := range deps {
		assert.False(t, d == "testing" || strings.HasPrefix(d, "testing/"), "the nextcloud-mcp binary links %s", d)
	}
}
