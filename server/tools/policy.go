package tools

import (
	"regexp"
	"slices"

	"github.com/yosida95/uritemplate/v3"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// Policy answers which soft scopes a tool or resource needs, from the
// definitions of one Set. It fails closed: a name or URI the set does not
// define is unknown, and every layer that asks (the HTTP step-up check,
// the list filter, the call-time check) refuses what is unknown.
type Policy struct {
	tools     map[string][]string
	static    map[string][]string
	templates []templateRule
	all       []string
}

type templateRule struct {
	template string
	re       *regexp.Regexp
	scopes   []string
}

// compileTemplate parses an RFC 6570 template into the regular expression
// the SDK itself matches resource URIs with (go-sdk mcp/resource.go), so
// the policy and the SDK agree on which template a URI belongs to.
func compileTemplate(t string) (*regexp.Regexp, error) {
	tmpl, err := uritemplate.New(t)
	if err != nil {
		return nil, err
	}
	return tmpl.Regexp(), nil
}

func newPolicy(s *Set) *Policy {
	p := &Policy{tools: map[string][]string{}, static: map[string][]string{}}
	for _, m := range s.modules {
		for _, t := range m.tools {
			p.tools[t.final.Name] = t.scopes
			p.all = scopes.Union(p.all, t.scopes)
		}
		for _, r := range m.resources {
			if r.static != nil {
				p.static[r.static.URI] = r.scopes
			} else {
				re, _ := compileTemplate(r.template.URITemplate) // checked by NewSet
				p.templates = append(p.templates, templateRule{template: r.template.URITemplate, re: re, scopes: r.scopes})
			}
			p.all = scopes.Union(p.all, r.scopes)
		}
	}
	return p
}

// Tool returns the scopes a tool needs; known=false for a name the set
// does not define, which must be refused.
func (p *Policy) Tool(name string) (required []string, known bool) {
	required, known = p.tools[name]
	return slices.Clone(required), known
}

// Resource returns the scopes reading uri needs: those of the static
// resource with that URI and of every template that matches it (all of
// them, should templates overlap). known=false when nothing matches.
func (p *Policy) Resource(uri string) (required []string, known bool) {
	if need, ok := p.static[uri]; ok {
		required, known = scopes.Union(nil, need), true
	}
	for _, t := range p.templates {
		if t.re.MatchString(uri) {
			required, known = scopes.Union(required, t.scopes), true
		}
	}
	if known && required == nil {
		required = []string{}
	}
	return required, known
}

// Template returns the scopes of a resource template, by its exact
// template string (as resources/templates/list shows it).
func (p *Policy) Template(uriTemplate string) (required []string, known bool) {
	for _, t := range p.templates {
		if t.template == uriTemplate {
			return slices.Clone(t.scopes), true
		}
	}
	return nil, false
}

// Scopes is every scope some tool or resource needs, sorted: what
// Protected Resource Metadata advertises.
func (p *Policy) Scopes() []string { return slices.Clone(p.all) }
