package davxml

import (
	"fmt"
	"strconv"
	"strings"
)

func dav(local string) Name { return Name{Space: NSDAV, Local: local} }

// ExpectError is sabre/xml's complaint when the root element is not the one
// a method expects; it is a parse error (400) like any other.
type ExpectError struct {
	Want Name
	Got  Name
}

func (e *ExpectError) Error() string {
	return fmt.Sprintf("This XML document is not a %s element. It's a %s", e.Want.Clark(), e.Got.Clark())
}

func expect(body []byte, root Name) (*Element, error) {
	el, err := Parse(body)
	if err != nil {
		return nil, err
	}
	if el.Name != root {
		return nil, &ExpectError{Want: root, Got: el.Name}
	}
	return el, nil
}

// Propfind is a parsed PROPFIND body.
type Propfind struct {
	AllProp  bool
	PropName bool
	Props    []Name // requested properties, in request order
	Include  []Name // <D:include> with allprop
}

// ParsePropfind parses a PROPFIND body; an empty body means allprop
// (RFC 4918 §9.1, sabre CorePlugin::httpPropFind).
func ParsePropfind(body []byte) (*Propfind, error) {
	if len(body) == 0 {
		return &Propfind{AllProp: true}, nil
	}
	root, err := expect(body, dav("propfind"))
	if err != nil {
		return nil, err
	}
	pf := &Propfind{}
	for _, c := range root.Elements() {
		switch c.Name {
		case dav("allprop"):
			pf.AllProp = true
		case dav("propname"):
			pf.PropName = true
		case dav("prop"):
			pf.Props = append(pf.Props, propNames(c)...)
		case dav("include"):
			pf.Include = append(pf.Include, propNames(c)...)
		}
	}
	// A propfind naming no property at all is an allprop request in sabre
	// (getPropertiesForPath with an empty list).
	if !pf.PropName && len(pf.Props) == 0 {
		pf.AllProp = true
	}
	return pf, nil
}

func propNames(prop *Element) []Name {
	var out []Name
	seen := map[Name]bool{}
	for _, p := range prop.Elements() {
		if !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p.Name)
		}
	}
	return out
}

// PropOp is one mutation of a PROPPATCH, in document order.
type PropOp struct {
	Name   Name
	Remove bool
	// Value is the canonical inner XML of the property (see Canonical) and
	// Text its character data; both empty for a removal.
	Value string
	Text  string
	// Elem is the parsed property element, for handlers that need structure.
	Elem *Element
}

// ParsePropertyUpdate parses a PROPPATCH body ({DAV:}propertyupdate).
func ParsePropertyUpdate(body []byte) ([]PropOp, error) {
	root, err := expect(body, dav("propertyupdate"))
	if err != nil {
		return nil, err
	}
	var ops []PropOp
	for _, c := range root.Elements() {
		var remove bool
		switch c.Name {
		case dav("set"):
		case dav("remove"):
			remove = true
		default:
			continue
		}
		for _, prop := range c.Elements() {
			if prop.Name != dav("prop") {
				continue
			}
			for _, p := range prop.Elements() {
				op := PropOp{Name: p.Name, Remove: remove, Elem: p}
				if !remove {
					op.Value = Canonical(p)
					op.Text = p.Text()
				}
				ops = append(ops, op)
			}
		}
	}
	return ops, nil
}

// Mkcol is a parsed extended-MKCOL body (RFC 5689).
type Mkcol struct {
	ResourceType []Name
	Props        []PropOp
}

// MissingResourceTypeError is sabre's 400 for an extended MKCOL without
// {DAV:}resourcetype.
type MissingResourceTypeError struct{}

func (MissingResourceTypeError) Error() string {
	return "The mkcol request must include a {DAV:}resourcetype property"
}

// ParseMkcol parses an extended MKCOL body ({DAV:}mkcol).
func ParseMkcol(body []byte) (*Mkcol, error) {
	root, err := expect(body, dav("mkcol"))
	if err != nil {
		return nil, err
	}
	m := &Mkcol{}
	found := false
	for _, set := range root.Elements() {
		if set.Name != dav("set") {
			continue
		}
		for _, prop := range set.Elements() {
			if prop.Name != dav("prop") {
				continue
			}
			for _, p := range prop.Elements() {
				if p.Name == dav("resourcetype") {
					found = true
					for _, rt := range p.Elements() {
						m.ResourceType = append(m.ResourceType, rt.Name)
					}
					continue
				}
				m.Props = append(m.Props, PropOp{Name: p.Name, Value: Canonical(p), Text: p.Text(), Elem: p})
			}
		}
	}
	if !found {
		return nil, MissingResourceTypeError{}
	}
	return m, nil
}

// Search is a parsed DASL basicsearch (RFC 5323) as Nextcloud's SearchDAV
// understands it.
type Search struct {
	Select   []Name // empty: allprop
	AllProp  bool
	Scopes   []Scope
	Where    *Op
	OrderBy  []Order
	Limit    int // 0: none
	FirstRes int
}

// Scope is one <d:scope> of <d:from>.
type Scope struct {
	Href  string
	Depth string // "0", "1" or "infinity"
}

// Order is one <d:order>.
type Order struct {
	Prop       Name
	Descending bool
}

// Op is a node of the where clause: Kind is the element's local name in DAV:
// (and, or, not, eq, gt, gte, lt, lte, like, is-collection).
type Op struct {
	Kind    string
	Prop    Name
	Literal string
	Args    []*Op
}

// SearchShapeError is a structurally wrong search document; Plain is true
// where SearchDAV answers with a plain-text 400 rather than a sabre error.
type SearchShapeError struct {
	Message string
	Plain   bool
}

func (e *SearchShapeError) Error() string { return e.Message }

// ParseSearch parses a SEARCH body. The root must be {DAV:}searchrequest.
func ParseSearch(body []byte) (*Search, error) {
	root, err := Parse(body)
	if err != nil {
		return nil, err
	}
	if root.Name != dav("searchrequest") {
		return nil, &SearchShapeError{Plain: true, Message: "Unexpected document type: " + root.Name.Clark() +
			" for this Content-Type, expected {DAV:}searchrequest or {DAV:}query-schema-discovery"}
	}
	bs := root.Child(dav("basicsearch"))
	if bs == nil {
		return nil, &SearchShapeError{Message: "Unexpected xml content for searchrequest, expected basicsearch"}
	}
	s := &Search{}
	sel := bs.Child(dav("select"))
	if sel == nil {
		return nil, &SearchShapeError{Plain: true, Message: "Parse error: Missing {DAV:}select from {DAV:}basicsearch"}
	}
	if p := sel.Child(dav("prop")); p != nil {
		s.Select = propNames(p)
	}
	if sel.Child(dav("allprop")) != nil || len(s.Select) == 0 {
		s.AllProp = true
	}
	if from := bs.Child(dav("from")); from != nil {
		for _, sc := range from.Elements() {
			if sc.Name != dav("scope") {
				continue
			}
			scope := Scope{Depth: "infinity"}
			if h := sc.Child(dav("href")); h != nil {
				scope.Href = strings.TrimSpace(h.Text())
			}
			if d := sc.Child(dav("depth")); d != nil {
				scope.Depth = strings.TrimSpace(d.Text())
			}
			s.Scopes = append(s.Scopes, scope)
		}
	}
	where := bs.Child(dav("where"))
	if where == nil {
		return nil, &SearchShapeError{Plain: true, Message: "Parse error: Missing {DAV:}where from {DAV:}basicsearch"}
	}
	if ops := where.Elements(); len(ops) > 0 {
		op, err := parseOp(ops[0], 0)
		if err != nil {
			return nil, err
		}
		s.Where = op
	}
	if ob := bs.Child(dav("orderby")); ob != nil {
		for _, o := range ob.Elements() {
			if o.Name != dav("order") {
				continue
			}
			p := o.Child(dav("prop"))
			if p == nil || len(p.Elements()) == 0 {
				return nil, &SearchShapeError{Message: "order without a property"}
			}
			s.OrderBy = append(s.OrderBy, Order{Prop: p.Elements()[0].Name, Descending: o.Child(dav("descending")) != nil})
		}
	}
	if lim := bs.Child(dav("limit")); lim != nil {
		for _, c := range lim.Elements() {
			v := strings.TrimSpace(c.Text())
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, &SearchShapeError{Message: fmt.Sprintf("invalid %s %q", c.Name.Local, v)}
			}
			switch c.Name.Local {
			case "nresults":
				s.Limit = n
			case "firstresult":
				s.FirstRes = n
			}
		}
	}
	return s, nil
}

func parseOp(e *Element, depth int) (*Op, error) {
	if depth > 64 {
		return nil, &SearchShapeError{Message: "where clause nested too deeply"}
	}
	if e.Name.Space != NSDAV {
		return nil, &SearchShapeError{Message: "Unsupported operator: " + e.Name.Clark()}
	}
	op := &Op{Kind: e.Name.Local}
	switch e.Name.Local {
	case "and", "or", "not":
		for _, c := range e.Elements() {
			a, err := parseOp(c, depth+1)
			if err != nil {
				return nil, err
			}
			op.Args = append(op.Args, a)
		}
		if e.Name.Local == "not" && len(op.Args) != 1 {
			return nil, &SearchShapeError{Message: "{DAV:}not needs exactly one operand"}
		}
	case "eq", "gt", "gte", "lt", "lte", "like":
		p := e.Child(dav("prop"))
		if p == nil || len(p.Elements()) == 0 {
			return nil, &SearchShapeError{Message: "comparison without a property"}
		}
		op.Prop = p.Elements()[0].Name
		lit := e.Child(dav("literal"))
		if lit == nil {
			lit = e.Child(dav("typed-literal"))
		}
		if lit == nil {
			return nil, &SearchShapeError{Message: "comparison without a literal"}
		}
		op.Literal = lit.Text()
	case "is-collection":
	default:
		return nil, &SearchShapeError{Message: "Unsupported operator: " + e.Name.Clark()}
	}
	return op, nil
}

// FilterFiles is a parsed oc:filter-files REPORT.
type FilterFiles struct {
	Props     []Name
	Favorite  bool
	SystemTag []string
}

// ReportName returns the root element of a REPORT body.
func ReportName(body []byte) (*Element, error) { return Parse(body) }

// ParseFilterFiles reads an oc:filter-files REPORT root.
func ParseFilterFiles(root *Element) *FilterFiles {
	ff := &FilterFiles{}
	if p := root.Child(dav("prop")); p != nil {
		ff.Props = propNames(p)
	}
	if rules := root.Child(Name{NSOwnCloud, "filter-rules"}); rules != nil {
		for _, r := range rules.Elements() {
			switch r.Name {
			case Name{NSOwnCloud, "favorite"}:
				v := strings.TrimSpace(r.Text())
				ff.Favorite = v == "1" || strings.EqualFold(v, "true")
			case Name{NSOwnCloud, "systemtag"}:
				ff.SystemTag = append(ff.SystemTag, strings.TrimSpace(r.Text()))
			}
		}
	}
	return ff
}
