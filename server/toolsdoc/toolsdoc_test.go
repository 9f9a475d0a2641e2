package toolsdoc_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/toolsdoc"
)

// TestReadmeIsCurrent fails while README.md's tool tables differ from the
// registry: run `go generate ./server/toolsdoc` and commit the result.
func TestReadmeIsCurrent(t *testing.T) {
	doc, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	want, err := toolsdoc.Splice(string(doc), toolsdoc.Render(server.Catalogue()))
	require.NoError(t, err)
	assert.True(t, want == string(doc), "README.md's tool tables are stale: run go generate ./server/toolsdoc")
}

// TestRenderListsEveryTool: every tool and resource of the catalogue has a
// row, with its scopes.
func TestRenderListsEveryTool(t *testing.T) {
	cat := server.Catalogue()
	out := toolsdoc.Render(cat)
	for _, m := range cat {
		for _, tl := range m.Tools {
			assert.Contains(t, out, "| `"+tl.Name+"` | ", tl.Name)
			for _, sc := range tl.Scopes {
				assert.Contains(t, out, "`"+sc+"`")
			}
			assert.NotContains(t, out, "Requires the", "the scope sentence is in its own column")
		}
		for _, r := range m.Resources {
			assert.Contains(t, out, "| `"+r.URI+"` | ", r.URI)
		}
	}
}

func TestSplice(t *testing.T) {
	doc := "intro\n" + toolsdoc.Begin + "\nold\n" + toolsdoc.End + "\noutro\n"
	got, err := toolsdoc.Splice(doc, "new")
	require.NoError(t, err)
	assert.Equal(t, "intro\n"+toolsdoc.Begin+"\n\nnew\n\n"+toolsdoc.End+"\noutro\n", got)
	_, err = toolsdoc.Splice("no markers", "new")
	assert.Error(t, err)
	assert.False(t, strings.Contains(got, "old"))
}
