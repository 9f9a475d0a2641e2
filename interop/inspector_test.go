//go:build interop

package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
)

// readmeInspectorCommand is the README's MCP Inspector CLI command, its
// continuation lines joined.
func readmeInspectorCommand(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "**With the MCP Inspector's CLI**")
	require.True(t, ok, "README.md has no Inspector CLI section")
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(rest)
	require.NotNil(t, m, "no sh block in the Inspector CLI section")
	return strings.TrimSpace(strings.ReplaceAll(m[1], "\\\n", " "))
}

// TestInspectorCLIAsDocumented runs the README's Inspector command, as a
// new user would, against the dev stack as the README starts it
// (`--progressive-consent=false`) with its sample token, on the project's
// Node 22 (the one run-idp.sh installs); only the URL's port and the token
// are filled in.
func TestInspectorCLIAsDocumented(t *testing.T) {
	t.Parallel()
	cmdline := readmeInspectorCommand(t)
	require.Contains(t, cmdline, "npx @modelcontextprotocol/inspector@")
	require.Contains(t, cmdline, "http://127.0.0.1:8000/mcp")
	require.Contains(t, cmdline, "<sample token>")

	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	tok, err := st.Token(context.Background(), "alice", allScopesList)
	require.NoError(t, err)
	cmdline = strings.ReplaceAll(cmdline, "http://127.0.0.1:8000/mcp", st.MCPURL)
	cmdline = strings.ReplaceAll(cmdline, "<sample token>", tok)

	bin, err := filepath.Abs("oidc-provider/node_modules/.bin")
	require.NoError(t, err)
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "npm_config_yes=true", "npm_config_update_notifier=false")
	version, err := exec.Command(filepath.Join(bin, "node"), "--version").Output()
	require.NoError(t, err)
	requireNodeAtLeast(t, strings.TrimSpace(string(version)), 22, 19)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", cmdline)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	shown := strings.ReplaceAll(string(out), tok, "<token>")
	require.NoError(t, err, "the README's Inspector command failed on Node %s:\n%s", version, shown)
	assert.Contains(t, shown, `"title": "Welcome"`, "the Inspector's answer:\n%s", shown)
	assert.Contains(t, shown, `"success": true`)
}

func requireNodeAtLeast(t *testing.T, v string, major, minor int) {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	require.GreaterOrEqual(t, len(parts), 2, "node --version: %q", v)
	ma, _ := strconv.Atoi(parts[0])
	mi, _ := strconv.Atoi(parts[1])
	require.True(t, ma > major || (ma == major && mi >= minor), "Node %s is older than the Inspector's %d.%d", v, major, minor)
}
