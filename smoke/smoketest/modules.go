package smoketest

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// Module is one registry module's share of every suite: one writing and
// one reading tool call (docs/architecture.md §4.7). Write runs first and
// hands Read what it needs to find what it wrote. When the registry
// (server/modules) gains a module with tools, add a row here;
// TestModulesCoverRegistry fails until then.
type Module struct {
	// ID is the module's registry id (tools.Module.ID): membership is
	// declared by the registry, never parsed from tool names.
	ID                  string
	WriteTool, ReadTool string
	Write               func(ctx context.Context, t testing.TB, s *Stack, c *Client) (written any, ev Evidence)
	Read                func(ctx context.Context, t testing.TB, s *Stack, c *Client, written any) Evidence
}

// Modules lists the rows, one per module of the registry that has tools.
var Modules = []Module{
	{
		ID:        "notes",
		WriteTool: "nc_notes_append_content",
		ReadTool:  "nc_notes_get_note",
		Write: func(ctx context.Context, t testing.TB, s *Stack, c *Client) (any, Evidence) {
			t.Helper()
			// One note to work on, then the module's write call proper.
			res, _ := s.Call(ctx, t, c, "notes module: create a note to append to", "nc_notes_create_note",
				map[string]any{"title": "Smoke module " + string(s.Mode), "content": "first line", "category": "smoke"})
			var created struct {
				ID int64 `json:"id"`
			}
			if err := Structured(res, &created); err != nil || created.ID == 0 {
				t.Fatalf("notes module: create returned no id (%v)", err)
			}
			_, ev := s.Call(ctx, t, c, "notes module: append to the note", "nc_notes_append_content",
				map[string]any{"note_id": created.ID, "content": "appended by the smoke suite"})
			return created.ID, ev
		},
		Read: func(ctx context.Context, t testing.TB, s *Stack, c *Client, written any) Evidence {
			t.Helper()
			// get, not search: the search may answer from the server's
			// notes index, which the background worker refreshes later.
			id := written.(int64)
			res, ev := s.Call(ctx, t, c, "notes module: read the note back", "nc_notes_get_note", map[string]any{"note_id": id})
			var note struct {
				Content string `json:"content"`
			}
			if err := Structured(res, &note); err != nil {
				t.Fatalf("notes module: get result: %v", err)
			}
			if !strings.Contains(note.Content, "appended by the smoke suite") {
				t.Fatal(Failure{Step: "notes module: read the note back", Tool: "nc_notes_get_note",
					Want: fmt.Sprintf("the content %q should end with the appended text", note.Content), Evidence: ev}.Message())
			}
			return ev
		},
	},
	{
		ID:        "files",
		WriteTool: "nc_webdav_write_file",
		ReadTool:  "nc_webdav_read_file",
		Write: func(ctx context.Context, t testing.TB, s *Stack, c *Client) (any, Evidence) {
			t.Helper()
			p := "smoke-module-" + string(s.Mode) + ".txt"
			_, ev := s.Call(ctx, t, c, "files module: write a file", "nc_webdav_write_file",
				map[string]any{"path": p, "content": "written by the smoke suite"})
			return p, ev
		},
		Read: func(ctx context.Context, t testing.TB, s *Stack, c *Client, written any) Evidence {
			t.Helper()
			res, ev := s.Call(ctx, t, c, "files module: read the file back", "nc_webdav_read_file", map[string]any{"path": written.(string)})
			var file struct {
				Content string `json:"content"`
			}
			if err := Structured(res, &file); err != nil {
				t.Fatalf("files module: read result: %v", err)
			}
			if file.Content != "written by the smoke suite" {
				t.Fatal(Failure{Step: "files module: read the file back", Tool: "nc_webdav_read_file",
					Want: fmt.Sprintf("the content %q should be what was written", file.Content), Evidence: ev}.Message())
			}
			return ev
		},
	},
	{
		ID:        "sharing",
		WriteTool: "nc_share_create",
		ReadTool:  "nc_share_get",
		Write: func(ctx context.Context, t testing.TB, s *Stack, c *Client) (any, Evidence) {
			t.Helper()
			// A public link: a file may carry any number of them, so every
			// mode's run on the same Nextcloud gets its own share.
			res, ev := s.Call(ctx, t, c, "sharing module: share the readme by link", "nc_share_create",
				map[string]any{"path": "/Readme.md", "share_type": 3, "note": "smoke " + string(s.Mode)})
			var created struct {
				Share struct {
					ID int64 `json:"id"`
				} `json:"share"`
			}
			if err := Structured(res, &created); err != nil || created.Share.ID == 0 {
				t.Fatalf("sharing module: create returned no share id (%v)", err)
			}
			return created.Share.ID, ev
		},
		Read: func(ctx context.Context, t testing.TB, s *Stack, c *Client, written any) Evidence {
			t.Helper()
			id := written.(int64)
			res, ev := s.Call(ctx, t, c, "sharing module: read the share back", "nc_share_get", map[string]any{"share_id": id})
			var got struct {
				Share struct {
					Note string `json:"note"`
					URL  string `json:"url"`
				} `json:"share"`
			}
			if err := Structured(res, &got); err != nil {
				t.Fatalf("sharing module: get result: %v", err)
			}
			if got.Share.Note != "smoke "+string(s.Mode) || got.Share.URL == "" {
				t.Fatal(Failure{Step: "sharing module: read the share back", Tool: "nc_share_get",
					Want: fmt.Sprintf("the link share with note %q and a url, got note %q url %q", "smoke "+string(s.Mode), got.Share.Note, got.Share.URL), Evidence: ev}.Message())
			}
			return ev
		},
	},
}
