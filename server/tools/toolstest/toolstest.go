// Package toolstest holds what every module's tests need to read tool
// results: the text of a result, its structured content as a typed
// output, and the assertion that a call ended in a tool error. Module
// tests import it instead of keeping copies.
package toolstest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Text joins a result's text content.
func Text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// Decode returns a successful result's structured content as T; a tool
// error fails the test.
func Decode[T any](t testing.TB, res *mcp.CallToolResult) T {
	t.Helper()
	require.False(t, res.IsError, "tool error: %s", Text(res))
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// AssertToolError asserts that res is a tool error whose text contains
// want, and returns the text.
func AssertToolError(t testing.TB, res *mcp.CallToolResult, want string) string {
	t.Helper()
	got := Text(res)
	if assert.True(t, res.IsError, "expected the tool error %q, got success %v", want, res.StructuredContent) {
		assert.Contains(t, got, want)
	}
	return got
}
