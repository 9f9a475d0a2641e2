package conformance

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
)

func TestCatalogueWellFormed(t *testing.T) {
	idRE := regexp.MustCompile(`^(MCP-AUTH|MCP-AS|MCP-OFFICIAL|MCP-TRANS|LIMIT|USER|RFC[0-9]{4}|SCOPE|INV|MODE|MOD|CONSENT|NC-OCS|NC-NOTES|NC-DAV|NC-SHARE)-[0-9]{1,3}$`)
	seen := map[string]bool{}
	for _, r := range Catalogue() {
		t.Run(r.ID, func(t *testing.T) {
			if !idRE.MatchString(r.ID) {
				t.Errorf("ID %q does not follow the naming scheme", r.ID)
			}
			if seen[r.ID] {
				t.Errorf("duplicate ID")
			}
			seen[r.ID] = true
			if !slices.Contains([]Level{Must, Should, Invariant}, r.Level) {
				t.Errorf("level %q", r.Level)
			}
			if !slices.Contains(Areas, r.Area) {
				t.Errorf("area %q", r.Area)
			}
			if r.Source == "" || r.Statement == "" || r.Check == nil {
				t.Errorf("incomplete: %+v", r)
			}
			// An INVARIANT is this project's own promise: its source must be
			// a section of the in-repo design, which readers can open.
			if r.Level == Invariant && !regexp.MustCompile(`docs/architecture\.md §\d`).MatchString(r.Source) {
				t.Errorf("an INVARIANT must cite a section of docs/architecture.md: %q", r.Source)
			}
			// Sources are read outside this repository's history (reports,
			// REQUIREMENTS.md): no reference to the issue tracker or to
			// material that is not in the repository.
			if regexp.MustCompile(`(?i)\bissue \d|shared/|nextcloud-wire`).MatchString(r.Source) {
				t.Errorf("source cites something outside the repository: %q", r.Source)
			}
		})
	}
}

// TestRequirementsFileIsCurrent fails when conformance/REQUIREMENTS.md was
// not regenerated after a catalogue change.
func TestRequirementsFileIsCurrent(t *testing.T) {
	got, err := os.ReadFile("REQUIREMENTS.md")
	if err != nil {
		t.Fatal(err)
	}
	want := RenderRequirements(Catalogue())
	if !bytes.Equal(got, want) {
		t.Fatal("conformance/REQUIREMENTS.md is stale: run `go generate ./conformance`")
	}
}

func TestRenderRequirementsListsEveryRequirement(t *testing.T) {
	out := RenderRequirements(Catalogue())
	for _, r := range Catalogue() {
		id := r.ID
		if r.Module != "" {
			id += " (module `" + r.Module + "`)"
		}
		if !bytes.Contains(out, []byte("| "+id+" | "+string(r.Level)+" |")) {
			t.Errorf("%s missing from the rendering", r.ID)
		}
		if !bytes.Contains(out, []byte("`"+r.CheckName()+"`")) {
			t.Errorf("%s: check %s missing", r.ID, r.CheckName())
		}
	}
}

// TestReadmeDocumentsEveryVariable keeps conformance/README.md true.
func TestReadmeDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range EnvVars {
		if !bytes.Contains(readme, []byte("| `"+e.Name+"` |")) {
			t.Errorf("README.md does not document %s", e.Name)
		}
	}
}

// TestModuleRequirements keys the contract rows by the registry: every
// Module a requirement names is a module of server/modules, and every
// module with tools has at least one requirement about its Nextcloud app.
func TestModuleRequirements(t *testing.T) {
	registry := map[string]bool{}
	withTools := map[string]bool{}
	for _, m := range modules.Set().Modules() {
		registry[m.ID] = true
		if len(m.Tools) > 0 {
			withTools[m.ID] = true
		}
	}
	covered := map[string]bool{}
	for _, r := range Catalogue() {
		if r.Module == "" {
			continue
		}
		assert.True(t, registry[r.Module], "%s names module %q, which the registry does not have", r.ID, r.Module)
		assert.Equal(t, AreaNC, r.Area, "%s: module requirements are Nextcloud contract rows", r.ID)
		covered[r.Module] = true
	}
	for id := range withTools {
		assert.True(t, covered[id], "module %q has tools but no conformance requirement about its Nextcloud app: add NC rows with Module %q", id, id)
	}
}

// TestREADMECountsAreCurrent keeps the top-level README's sentence about
// the catalogue's size true.
func TestREADMECountsAreCurrent(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	count := map[Level]int{}
	for _, r := range Catalogue() {
		count[r.Level]++
	}
	want := fmt.Sprintf("The %d requirements (%d MUST, %d INVARIANT, %d SHOULD) are",
		len(Catalogue()), count[Must], count[Invariant], count[Should])
	assert.Contains(t, strings.Join(strings.Fields(string(readme)), " "), want,
		"README.md's conformance section should say: %s", want)
}
