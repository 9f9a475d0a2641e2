package tools

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// Set is the modules one server serves, checked and resolved: every tool
// and resource knows its scopes, names are unique, and the Policy is built
// from exactly these definitions. NewSet panics on a definition that
// cannot be served safely — at start-up, never on a request.
type Set struct {
	modules []*resolvedModule
	policy  *Policy
}

type resolvedModule struct {
	Module
	tools     []resolvedTool
	resources []resolvedResource
}

type resolvedTool struct {
	Tool
	final    mcp.Tool
	scopes   []string
	readOnly bool
}

type resolvedResource struct {
	Resource
	scopes []string
}

// ToolInfo describes a resolved tool, for the catalogue, the policy, the
// smoke suites and the README tables.
type ToolInfo struct {
	Module      string
	Name        string
	Title       string
	Description string   // as listed, with the scope sentence
	Scopes      []string // all required; empty for Public tools
	Public      bool
	ReadOnly    bool
}

// ResourceInfo describes a resolved resource or template.
type ResourceInfo struct {
	Module   string
	URI      string // the URI, or the RFC 6570 template
	Template bool
	Name     string
	Title    string
	Scopes   []string
	Public   bool
}

// ModuleInfo describes a module of a Set.
type ModuleInfo struct {
	ID, Title   string
	Read, Write string
	Tools       []ToolInfo
	Resources   []ResourceInfo
	Background  bool
}

var moduleID = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// NewSet checks and resolves mods. It panics when a module has no valid
// ID, two modules or tools share a name, a tool or resource has neither
// scopes nor the Public marker, a Public one also names scopes, a tool has
// no title or description, or a URI template does not parse.
func NewSet(mods ...Module) *Set {
	s := &Set{}
	ids := map[string]bool{}
	names := map[string]string{}
	uris := map[string]string{}
	for _, m := range mods {
		if !moduleID.MatchString(m.ID) {
			panic(fmt.Sprintf("tools: module id %q must match %s", m.ID, moduleID))
		}
		if ids[m.ID] {
			panic(fmt.Sprintf("tools: two modules have the id %q", m.ID))
		}
		ids[m.ID] = true
		rm := &resolvedModule{Module: m}
		for _, t := range m.Tools {
			rt := resolveTool(m, t)
			if other, dup := names[rt.final.Name]; dup {
				panic(fmt.Sprintf("tools: tool %q is defined by module %q and by module %q", rt.final.Name, other, m.ID))
			}
			names[rt.final.Name] = m.ID
			rm.tools = append(rm.tools, rt)
		}
		for _, r := range m.Resources {
			rr := resolveResource(m, r)
			if other, dup := uris[r.uri()]; dup {
				panic(fmt.Sprintf("tools: resource %q is defined by module %q and by module %q", r.uri(), other, m.ID))
			}
			uris[r.uri()] = m.ID
			rm.resources = append(rm.resources, rr)
		}
		s.modules = append(s.modules, rm)
	}
	s.policy = newPolicy(s)
	return s
}

func resolveTool(m Module, t Tool) resolvedTool {
	def := t.def
	where := fmt.Sprintf("tool %q of module %q", def.Name, m.ID)
	switch {
	case def.Name == "":
		panic(fmt.Sprintf("tools: a tool of module %q has no name", m.ID))
	case t.install == nil:
		panic(fmt.Sprintf("tools: %s was not built with NC or Func", where))
	case strings.TrimSpace(def.Title) == "":
		panic(fmt.Sprintf("tools: %s has no title", where))
	case strings.TrimSpace(def.Description) == "":
		panic(fmt.Sprintf("tools: %s has no description", where))
	}
	readOnly := def.Annotations != nil && def.Annotations.ReadOnlyHint
	need := requiredScopes(where, t.scopes, t.public, func() string {
		if readOnly {
			return m.Read
		}
		return m.Write
	})
	if def.Annotations == nil {
		def.Annotations = &mcp.ToolAnnotations{}
	} else {
		a := *def.Annotations
		def.Annotations = &a
	}
	if def.Annotations.Title == "" {
		def.Annotations.Title = def.Title
	}
	if len(need) > 0 {
		def.Description = strings.TrimSpace(def.Description) + " " + scopeSentence(need)
	}
	return resolvedTool{Tool: t, final: def, scopes: need, readOnly: readOnly}
}

func resolveResource(m Module, r Resource) resolvedResource {
	where := fmt.Sprintf("resource %q of module %q", r.uri(), m.ID)
	switch {
	case r.static == nil && r.template == nil, r.uri() == "":
		panic(fmt.Sprintf("tools: a resource of module %q has no URI", m.ID))
	case r.read == nil:
		panic(fmt.Sprintf("tools: %s has no reader", where))
	}
	if r.template != nil {
		if _, err := compileTemplate(r.template.URITemplate); err != nil {
			panic(fmt.Sprintf("tools: %s: %v", where, err))
		}
	}
	need := requiredScopes(where, r.scopes, r.public, func() string { return m.Read })
	return resolvedResource{Resource: r, scopes: need}
}

// requiredScopes settles what a tool or resource needs: explicit scopes,
// else the module default, else nothing for Public, else a panic.
func requiredScopes(where string, explicit []string, public bool, moduleDefault func() string) []string {
	switch {
	case public && len(explicit) > 0:
		panic(fmt.Sprintf("tools: %s is marked Public but also names scopes %v", where, explicit))
	case public:
		return []string{}
	case len(explicit) > 0:
		for _, sc := range explicit {
			if strings.TrimSpace(sc) == "" || strings.ContainsAny(sc, " \t\"\\") {
				panic(fmt.Sprintf("tools: %s names the invalid scope %q", where, sc))
			}
		}
		return scopes.Union(nil, explicit)
	}
	if d := moduleDefault(); d != "" {
		return []string{d}
	}
	panic(fmt.Sprintf("tools: %s has no scopes: give its module a Read/Write scope, the tool Scopes(...), or mark it Public()", where))
}

// scopeSentence is the sentence the kit appends to a scoped tool's
// description, so a model reading the list knows what each tool needs.
func scopeSentence(need []string) string {
	if len(need) == 1 {
		return "Requires the " + need[0] + " scope."
	}
	return "Requires the " + strings.Join(need[:len(need)-1], ", ") + " and " + need[len(need)-1] + " scopes."
}

// Register adds every tool and resource of the set to srv; handlers use d
// (nil: no Nextcloud, every call fails with a clear error).
func (s *Set) Register(srv *mcp.Server, d *Deps) {
	if d == nil {
		d = &Deps{}
	}
	for _, m := range s.modules {
		for _, t := range m.tools {
			def := t.final
			t.install(srv, &def, &hooks{d: d, readOnly: t.readOnly, bg: m.Background})
		}
		for _, r := range m.resources {
			r.install(srv, d)
		}
	}
}

// Policy is the scope policy of the set's definitions.
func (s *Set) Policy() *Policy { return s.policy }

// Modules describes the set's modules, in registration order.
func (s *Set) Modules() []ModuleInfo {
	out := make([]ModuleInfo, 0, len(s.modules))
	for _, m := range s.modules {
		mi := ModuleInfo{ID: m.ID, Title: m.Title, Read: m.Read, Write: m.Write, Background: m.Background != nil}
		for _, t := range m.tools {
			mi.Tools = append(mi.Tools, t.info(m.ID))
		}
		for _, r := range m.resources {
			mi.Resources = append(mi.Resources, r.info(m.ID))
		}
		out = append(out, mi)
	}
	return out
}

// Tools lists every tool of the set, in registration order.
func (s *Set) Tools() []ToolInfo {
	var out []ToolInfo
	for _, m := range s.Modules() {
		out = append(out, m.Tools...)
	}
	return out
}

// Backgrounds returns the background work of the set's modules, keyed by
// module id.
func (s *Set) Backgrounds() map[string]*Background {
	out := map[string]*Background{}
	for _, m := range s.modules {
		if m.Background != nil {
			out[m.ID] = m.Background
		}
	}
	return out
}

// Instructions composes the server instructions from the modules'
// fragments.
func (s *Set) Instructions() string {
	var parts []string
	for _, m := range s.modules {
		if m.Instructions != "" {
			parts = append(parts, m.Instructions)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Tools for a Nextcloud account: " + strings.Join(parts, "; ") + ". Errors name what went wrong."
}

func (t resolvedTool) info(module string) ToolInfo {
	return ToolInfo{Module: module, Name: t.final.Name, Title: t.final.Title, Description: t.final.Description,
		Scopes: slices.Clone(t.scopes), Public: t.public, ReadOnly: t.readOnly}
}

func (r resolvedResource) info(module string) ResourceInfo {
	ri := ResourceInfo{Module: module, URI: r.uri(), Scopes: slices.Clone(r.scopes), Public: r.public}
	if r.static != nil {
		ri.Name, ri.Title = r.static.Name, r.static.Title
	} else {
		ri.Template, ri.Name, ri.Title = true, r.template.Name, r.template.Title
	}
	return ri
}
