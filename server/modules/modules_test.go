package modules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolsnaps"
)

// TestRegistry walks every module of the registry and checks what the kit
// cannot: each lives in its own folder with a snapshot of every tool,
// read-only tools need only read scopes, writing tools a write scope.
// (NewSet itself refuses duplicate names and unscoped tools.)
func TestRegistry(t *testing.T) {
	set := modules.Set()
	mods := set.Modules()
	require.Len(t, mods, len(modules.All))
	for _, m := range mods {
		t.Run(m.ID, func(t *testing.T) {
			dir := filepath.Join("..", "tools", m.ID)
			info, err := os.Stat(dir)
			require.NoError(t, err, "module %q must live in server/tools/%s", m.ID, m.ID)
			require.True(t, info.IsDir())
			assert.NotEmpty(t, m.Title)
			for _, tl := range m.Tools {
				assert.FileExists(t, filepath.Join(dir, toolsnaps.DefaultDir, tl.Name+".json"),
					"tool %s has no snapshot: the module needs a toolsnaps test (go test ./server/tools/%s -run TestSnapshots -update)", tl.Name, m.ID)
				assert.NotEmpty(t, strings.TrimSpace(tl.Description), tl.Name)
				if tl.Public {
					continue
				}
				require.NotEmpty(t, tl.Scopes, tl.Name)
				if tl.ReadOnly {
					for _, sc := range tl.Scopes {
						assert.True(t, strings.HasSuffix(sc, ":read"), "read-only tool %s needs the write scope %s", tl.Name, sc)
					}
				} else {
					assert.True(t, hasSuffix(tl.Scopes, ":write"), "writing tool %s needs a :write scope, has %v", tl.Name, tl.Scopes)
				}
			}
			if len(m.Resources) > 0 {
				assert.FileExists(t, filepath.Join(dir, toolsnaps.DefaultDir, "resources.json"))
			}
		})
	}
}

// TestNewIsFresh: every call builds new module instances, so two servers
// in one process never share state (a search index, say).
func TestNewIsFresh(t *testing.T) {
	a, b := modules.New(), modules.New()
	require.Len(t, b, len(a))
	for i := range a {
		if a[i].Background != nil {
			assert.NotSame(t, a[i].Background, b[i].Background, a[i].ID)
		}
	}
}

func hasSuffix(ss []string, suffix string) bool {
	for _, s := range ss {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}
