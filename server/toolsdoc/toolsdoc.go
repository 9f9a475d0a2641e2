// Package toolsdoc renders the README's tool and resource tables from the
// registry's own definitions, so the documentation cannot drift from what
// tools/list shows (`go generate ./server/toolsdoc` rewrites the README
// section; a test fails while it is stale).
package toolsdoc

//go:generate go run ./gen -readme ../../README.md

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// The markers around the generated section of README.md.
const (
	Begin = "<!-- BEGIN GENERATED: tool tables (go generate ./server/toolsdoc) -->"
	End   = "<!-- END GENERATED: tool tables -->"
)

// Render returns the Markdown tables of mods: one section per module with
// tools or resources, each tool with its scopes, its hints and what it
// does.
func Render(mods []tools.ModuleInfo) string {
	var b strings.Builder
	for _, m := range mods {
		if len(m.Tools)+len(m.Resources) == 0 {
			continue
		}
		fmt.Fprintf(&b, "#### %s (module `%s`)\n\n", m.Title, m.ID)
		if len(m.Tools) > 0 {
			b.WriteString("| tool | scopes | hints | what it does |\n|---|---|---|---|\n")
			for _, t := range m.Tools {
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", t.Name, scopeCell(t.Scopes), hints(t), cell(withoutScopeSentence(t.Description)))
			}
			b.WriteString("\n")
		}
		if len(m.Resources) > 0 {
			b.WriteString("| resource | scopes | name |\n|---|---|---|\n")
			for _, r := range m.Resources {
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.URI, scopeCell(r.Scopes), cell(r.Title))
			}
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func scopeCell(s []string) string {
	if len(s) == 0 {
		return "none (public)"
	}
	return "`" + strings.Join(s, "`, `") + "`"
}

func hints(t tools.ToolInfo) string {
	if t.ReadOnly {
		return "read-only"
	}
	return "writes"
}

// withoutScopeSentence drops the "Requires the … scope." sentence the kit
// appends: the scopes have their own column.
func withoutScopeSentence(d string) string {
	if i := strings.LastIndex(d, " Requires the "); i >= 0 && strings.HasSuffix(d, ".") {
		return d[:i]
	}
	return d
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// Splice replaces the generated section of doc (between Begin and End)
// with section.
func Splice(doc, section string) (string, error) {
	i := strings.Index(doc, Begin)
	j := strings.Index(doc, End)
	if i < 0 || j < i {
		return "", errors.New("toolsdoc: the README has no generated section (markers " + Begin + " … " + End + ")")
	}
	return doc[:i+len(Begin)] + "\n\n" + section + "\n\n" + doc[j:], nil
}
