package smoketest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// TestModulesCoverCatalogue makes the module table follow the catalogue:
// a new app's tools fail this test until Modules has its row, with one
// writing and one reading tool of that app.
func TestModulesCoverCatalogue(t *testing.T) {
	byName := map[string]tools.Tool{}
	apps := map[string]bool{}
	for _, tl := range tools.Catalogue() {
		byName[tl.Name] = tl
		rest, ok := strings.CutPrefix(tl.Name, "nc_")
		require.True(t, ok, "tool %s is not named nc_<app>_…", tl.Name)
		app, _, _ := strings.Cut(rest, "_")
		apps[app] = true
	}
	rows := map[string]Module{}
	for _, m := range Modules {
		assert.NotContains(t, rows, m.App, "two rows for %s", m.App)
		rows[m.App] = m
	}
	for app := range apps {
		m, ok := rows[app]
		if !assert.True(t, ok, "the catalogue has %s tools but smoketest.Modules has no row for %q: add one write and one read call", app, app) {
			continue
		}
		w, ok := byName[m.WriteTool]
		if assert.True(t, ok, "%s: write tool %s is not in the catalogue", app, m.WriteTool) {
			assert.False(t, w.ReadOnly, "%s: %s should be a writing tool", app, m.WriteTool)
			assert.True(t, strings.HasPrefix(m.WriteTool, "nc_"+app+"_"))
		}
		r, ok := byName[m.ReadTool]
		if assert.True(t, ok, "%s: read tool %s is not in the catalogue", app, m.ReadTool) {
			assert.True(t, r.ReadOnly, "%s: %s should be a read-only tool", app, m.ReadTool)
			assert.True(t, strings.HasPrefix(m.ReadTool, "nc_"+app+"_"))
		}
		assert.NotNil(t, m.Write)
		assert.NotNil(t, m.Read)
	}
	for app := range rows {
		assert.True(t, apps[app], "Modules has a row for %q, which the catalogue does not have", app)
	}
}

func TestExpectedTools(t *testing.T) {
	all := ExpectedTools(nil, false)
	require.Len(t, all, len(tools.Catalogue()))
	assert.Equal(t, all, ExpectedTools(AllScopes(), false), "a full-scope token sees every tool")
	read := ExpectedTools([]string{"notes:read"}, false)
	assert.NotEmpty(t, read)
	assert.Less(t, len(read), len(all))
	for _, name := range read {
		for _, tl := range tools.Catalogue() {
			if tl.Name == name {
				assert.True(t, tl.ReadOnly, "%s is listed for a read-only token", name)
			}
		}
	}
	withConsent := ExpectedTools(nil, true)
	assert.Len(t, withConsent, len(all)+3)
	assert.Contains(t, withConsent, ToolProvision)
	assert.Empty(t, ExpectedTools([]string{}, false), "no scope, no Nextcloud tool")
}
