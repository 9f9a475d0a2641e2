package nextcloud_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

// TestStateFileSections: every app with state writes a section of its own
// under "apps" (version 2): notes with the oc_notes_meta rows, which
// survive a restart, and files_sharing with the shares.
func TestStateFileSections(t *testing.T) {
	dir := t.TempDir()
	cfg := func(c *nextcloud.Config) { c.DataDir = dir }
	s1 := nctest.Start(t, cfg)
	list := do(t, s1, "GET", "/index.php/apps/notes/api/v1/notes", "", alice)
	require.Equal(t, 200, list.status, list.String())
	created := do(t, s1, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/Readme.md&shareType=0&shareWith=bob", "", alice, ocsHeader())
	require.Equal(t, 200, created.status, created.String())
	require.NoError(t, s1.Close())

	raw, err := os.ReadFile(filepath.Join(dir, "state.json"))
	require.NoError(t, err)
	var doc struct {
		Version int                        `json:"version"`
		Apps    map[string]json.RawMessage `json:"apps"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, 2, doc.Version)
	require.Contains(t, doc.Apps, "notes")
	var notes struct {
		Meta map[string]map[string]struct {
			ETag string `json:"etag"`
		} `json:"meta"`
	}
	require.NoError(t, json.Unmarshal(doc.Apps["notes"], &notes))
	assert.Len(t, notes.Meta["alice"], 3, "one oc_notes_meta row per seeded note")
	require.Contains(t, doc.Apps, "files_sharing")
	var sharing struct {
		Shares []struct {
			ShareWith string `json:"share_with"`
		} `json:"shares"`
		NextShare int `json:"next_share"`
	}
	require.NoError(t, json.Unmarshal(doc.Apps["files_sharing"], &sharing))
	require.Len(t, sharing.Shares, 1)
	assert.Equal(t, "bob", sharing.Shares[0].ShareWith)
	assert.Equal(t, 2, sharing.NextShare)

	s2 := nctest.Start(t, cfg)
	again := do(t, s2, "GET", "/index.php/apps/notes/api/v1/notes", "", alice)
	assert.Equal(t, list.header.Get("ETag"), again.header.Get("ETag"), "same notes, same meta rows, same list ETag")
}

// TestStateFileRefused: a state file this version cannot read stops the
// fake with an error that says why, instead of starting from a half-read
// state.
func TestStateFileRefused(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{name: "version 1 (before app sections)", content: `{"version":1,"instance_id":"ocabc","notes_meta":{},"notes_settings":{}}`,
			wantErr: "format version 1"},
		{name: "section of an unknown app", content: `{"version":2,"instance_id":"ocabc","apps":{"nope":{}}}`,
			wantErr: `section for app "nope"`},
		{name: "broken app section", content: `{"version":2,"instance_id":"ocabc","apps":{"notes":{"meta":{"alice":{"x":{}}}}}}`,
			wantErr: "app notes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "state.json"), []byte(tt.content), 0o600))
			cfg := nextcloud.DefaultConfig()
			cfg.DataDir = dir
			_, err := nextcloud.New(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
