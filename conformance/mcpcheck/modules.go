package mcpcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/mcpwire"
)

// ModuleProbe is one registry module's share of the conformance suite: a
// writing tool call, then a reading one that must see what was written
// (docs/architecture.md §4.6). The smoke suites have the same table
// (smoke/smoketest/modules.go); TestModuleProbesCoverRegistry keeps this
// one in step with the registry.
type ModuleProbe struct {
	// ID is the module's registry id (tools.Module.ID).
	ID                  string
	WriteTool, ReadTool string
	// Write makes the write call and returns what Read needs to find it.
	Write func(ctx context.Context, c *mcpwire.Client) (written any, err error)
	// Read makes the read call and checks that it sees what was written.
	Read func(ctx context.Context, c *mcpwire.Client, written any) error
	// Clean, when set, removes what Write left (best effort).
	Clean func(ctx context.Context, c *mcpwire.Client, written any)
}

// ModuleProbes lists one row per module of the registry that has tools.
var ModuleProbes = []ModuleProbe{
	{
		ID:        "notes",
		WriteTool: toolCreateNote,
		ReadTool:  toolGetNote,
		Write: func(ctx context.Context, c *mcpwire.Client) (any, error) {
			co, err := mustCall(ctx, c, toolCreateNote, map[string]any{"title": "conformance module probe", "content": "written by the conformance suite", "category": ""})
			if err != nil {
				return nil, err
			}
			return noteID(co)
		},
		Read: func(ctx context.Context, c *mcpwire.Client, written any) error {
			co, err := mustCall(ctx, c, toolGetNote, map[string]any{"note_id": written.(int64)})
			if err != nil {
				return err
			}
			if !strings.Contains(co.Text+string(co.Structured), "written by the conformance suite") {
				return fmt.Errorf("%s answered without the content written: %s", toolGetNote, truncate(co.Text, 160))
			}
			return nil
		},
		Clean: func(ctx context.Context, c *mcpwire.Client, written any) {
			_, _ = callTool(ctx, c, toolDeleteNote, map[string]any{"note_id": written.(int64)})
		},
	},
	{
		ID:        "files",
		WriteTool: toolWriteFile,
		ReadTool:  toolReadFile,
		Write: func(ctx context.Context, c *mcpwire.Client) (any, error) {
			const p = "nextcloud-mcp-conformance-probe.txt"
			_, err := mustCall(ctx, c, toolWriteFile, map[string]any{"path": p, "content": "written by the conformance suite"})
			return p, err
		},
		Read: func(ctx context.Context, c *mcpwire.Client, written any) error {
			co, err := mustCall(ctx, c, toolReadFile, map[string]any{"path": written.(string)})
			if err != nil {
				return err
			}
			if !strings.Contains(co.Text+string(co.Structured), "written by the conformance suite") {
				return fmt.Errorf("%s answered without the content written: %s", toolReadFile, truncate(co.Text, 160))
			}
			return nil
		},
		Clean: func(ctx context.Context, c *mcpwire.Client, written any) {
			_, _ = callTool(ctx, c, toolDeleteResource, map[string]any{"path": written.(string)})
		},
	},
	{
		ID:        "sharing",
		WriteTool: "nc_share_create",
		ReadTool:  "nc_share_get",
		// A public link of the readme Nextcloud's skeleton gives every new
		// account (core/skeleton/Readme.md): a file may carry any number
		// of links, so repeated runs do not collide.
		Write: func(ctx context.Context, c *mcpwire.Client) (any, error) {
			co, err := mustCall(ctx, c, "nc_share_create", map[string]any{"path": "/Readme.md", "share_type": 3, "note": "conformance module probe"})
			if err != nil {
				return nil, err
			}
			var v struct {
				Share struct {
					ID int64 `json:"id"`
				} `json:"share"`
			}
			if err := jsonUnmarshalLoose(string(co.Structured), &v); err != nil || v.Share.ID == 0 {
				return nil, fmt.Errorf("reading the created share's id from %q: %v", truncate(string(co.Structured), 120), err)
			}
			return v.Share.ID, nil
		},
		Read: func(ctx context.Context, c *mcpwire.Client, written any) error {
			co, err := mustCall(ctx, c, "nc_share_get", map[string]any{"share_id": written.(int64)})
			if err != nil {
				return err
			}
			if !strings.Contains(string(co.Structured), "conformance module probe") {
				return fmt.Errorf("nc_share_get answered without the note written: %s", truncate(string(co.Structured), 160))
			}
			return nil
		},
		Clean: func(ctx context.Context, c *mcpwire.Client, written any) {
			_, _ = callTool(ctx, c, "nc_share_delete", map[string]any{"share_id": written.(int64)})
		},
	},
}

// The Files module's probe tools.
const (
	toolWriteFile      = "nc_webdav_write_file"
	toolReadFile       = "nc_webdav_read_file"
	toolDeleteResource = "nc_webdav_delete_resource"
)

// mustCall is callTool where anything but a successful result is an error
// naming the tool and what it answered.
func mustCall(ctx context.Context, c *mcpwire.Client, name string, args map[string]any) (callOutcome, error) {
	co, err := callTool(ctx, c, name, args)
	if err != nil {
		return co, fmt.Errorf("%s: %w", name, err)
	}
	if !co.OK {
		return co, fmt.Errorf("%s failed: %s %s", name, co.Summary, truncate(co.Text, 200))
	}
	return co, nil
}

// ModuleRoundTrip: every module the server lists tools of answers one
// write call and then one read call that sees what was written, as the
// primary user with every scope (provisioned first where progressive
// consent is on). Modules whose probe tools the server does not list are
// not graded; a server listing none of them is N/A.
func ModuleRoundTrip(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needMCP(t); !ok {
		return o
	}
	c, tok, _, err := ready(ctx, t)
	if err != nil {
		return grade.Errorf("session", err)
	}
	list, err := tools(ctx, t, tok)
	if err != nil {
		return grade.Errorf("tools/list", err)
	}
	var done, skipped []string
	for _, m := range ModuleProbes {
		_, w := findTool(list, m.WriteTool)
		_, r := findTool(list, m.ReadTool)
		if !w || !r {
			skipped = append(skipped, m.ID)
			continue
		}
		written, err := m.Write(ctx, c)
		if err != nil {
			return grade.Failf("module %s: %v", m.ID, err)
		}
		err = m.Read(ctx, c, written)
		if m.Clean != nil {
			m.Clean(ctx, c, written)
		}
		if err != nil {
			return grade.Failf("module %s: %s then %s: %v", m.ID, m.WriteTool, m.ReadTool, err)
		}
		done = append(done, fmt.Sprintf("%s (%s → %s)", m.ID, m.WriteTool, m.ReadTool))
	}
	if len(done) == 0 {
		return grade.NAf("the server lists none of the modules' probe tools (%d tools listed)", len(list))
	}
	msg := "write then read: " + strings.Join(done, ", ")
	if len(skipped) > 0 {
		msg += "; not listed: " + strings.Join(skipped, ", ")
	}
	return grade.Passf("%s", msg)
}
