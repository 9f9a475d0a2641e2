package server_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
)

// TestReadmeDocumentsEveryVariable keeps README.md's configuration table
// in step with the flags: every flag and its environment variable appear.
func TestReadmeDocumentsEveryVariable(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	names := server.EnvNames()
	require.NotEmpty(t, names)
	for flag, env := range names {
		assert.True(t, strings.Contains(string(doc), "`--"+flag+"`"), "README.md does not document the flag --%s", flag)
		assert.True(t, strings.Contains(string(doc), "`"+env+"`"), "README.md does not document %s (--%s)", env, flag)
	}
}
