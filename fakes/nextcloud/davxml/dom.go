// Package davxml parses the XML bodies WebDAV clients send (PROPFIND,
// PROPPATCH, extended MKCOL, SEARCH, REPORT) and writes multistatus responses,
// with the strictness of sabre/xml (libxml): undeclared prefixes, empty prefix
// declarations (litmus propfind_invalid2), DTDs and mismatched tags are parse
// errors, which the server answers with 400.
//
// encoding/xml alone is too lenient for that (it accepts xmlns:p="" and
// leaves undeclared prefixes unresolved), so this package reads raw tokens and
// resolves namespaces itself into a small element tree.
package davxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"encoding/xml"
)

// Name is an XML name in Clark terms: {Space}Local.
type Name struct{ Space, Local string }

// Clark renders n as "{Space}Local".
func (n Name) Clark() string { return "{" + n.Space + "}" + n.Local }

// ParseClark is the inverse of Clark.
func ParseClark(s string) (Name, bool) {
	if !strings.HasPrefix(s, "{") {
		return Name{}, false
	}
	i := strings.IndexByte(s, '}')
	if i < 0 {
		return Name{}, false
	}
	return Name{Space: s[1:i], Local: s[i+1:]}, true
}

// Well-known namespaces.
const (
	NSDAV       = "DAV:"
	NSSabre     = "http://sabredav.org/ns"
	NSOwnCloud  = "http://owncloud.org/ns"
	NSNextcloud = "http://nextcloud.org/ns"
	NSOCS       = "http://open-collaboration-services.org/ns"
	NSOCM       = "http://open-cloud-mesh.org/ns"
	nsXML       = "http://www.w3.org/XML/1998/namespace"
)

// Attr is a namespace-resolved attribute.
type Attr struct {
	Name  Name
	Value string
}

// Element is a parsed element. Content holds its children in document
// order: *Element or string (character data).
type Element struct {
	Name    Name
	Attrs   []Attr
	Content []any
}

// Elements returns the child elements.
func (e *Element) Elements() []*Element {
	var out []*Element
	for _, c := range e.Content {
		if el, ok := c.(*Element); ok {
			out = append(out, el)
		}
	}
	return out
}

// Child returns the first child element called n, or nil.
func (e *Element) Child(n Name) *Element {
	for _, c := range e.Content {
		if el, ok := c.(*Element); ok && el.Name == n {
			return el
		}
	}
	return nil
}

// Text returns the concatenated character data directly inside e.
func (e *Element) Text() string {
	var b strings.Builder
	for _, c := range e.Content {
		if s, ok := c.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

// Limits that keep a hostile body from costing more than a parse should.
const (
	maxDepth    = 128
	maxElements = 100_000
)

// ErrEmpty is returned by Parse for a body without any element.
var ErrEmpty = errors.New("davxml: the request body contains no XML element")

// Parse reads a whole XML document and returns its root element.
func Parse(body []byte) (*Element, error) {
	if !utf8.Valid(body) {
		return nil, errors.New("davxml: the request body is not valid UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	// Documents declaring another encoding are refused rather than silently
	// misread (encoding/xml knows only UTF-8).
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
			return in, nil
		}
		return nil, fmt.Errorf("davxml: unsupported encoding %q", label)
	}
	type frame struct {
		raw   xml.Name
		el    *Element
		scope map[string]string
	}
	var (
		stack    []frame
		root     *Element
		elements int
	)
	resolve := func(prefix string, scopes []frame, local map[string]string, isAttr bool) (string, error) {
		if prefix == "xml" {
			return nsXML, nil
		}
		if isAttr && prefix == "" {
			return "", nil
		}
		if ns, ok := local[prefix]; ok {
			return ns, nil
		}
		for i := len(scopes) - 1; i >= 0; i-- {
			if ns, ok := scopes[i].scope[prefix]; ok {
				return ns, nil
			}
		}
		if prefix == "" {
			return "", nil
		}
		return "", fmt.Errorf("davxml: namespace prefix %q is not defined", prefix)
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("davxml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errors.New("davxml: more than one root element")
			}
			if len(stack) >= maxDepth {
				return nil, errors.New("davxml: elements nested too deeply")
			}
			elements++
			if elements > maxElements {
				return nil, errors.New("davxml: too many elements")
			}
			scope := map[string]string{}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					scope[""] = a.Value
				case a.Name.Space == "xmlns":
					if a.Value == "" {
						return nil, fmt.Errorf("davxml: empty namespace declaration for prefix %q", a.Name.Local)
					}
					if a.Name.Local == "xmlns" || (a.Name.Local == "xml" && a.Value != nsXML) {
						return nil, fmt.Errorf("davxml: reserved prefix %q redeclared", a.Name.Local)
					}
					scope[a.Name.Local] = a.Value
				}
			}
			ns, err := resolve(t.Name.Space, stack, scope, false)
			if err != nil {
				return nil, err
			}
			el := &Element{Name: Name{Space: ns, Local: t.Name.Local}}
			seen := map[Name]bool{}
			for _, a := range t.Attr {
				if (a.Name.Space == "" && a.Name.Local == "xmlns") || a.Name.Space == "xmlns" {
					continue
				}
				ans, err := resolve(a.Name.Space, stack, scope, true)
				if err != nil {
					return nil, err
				}
				n := Name{Space: ans, Local: a.Name.Local}
				if seen[n] {
					return nil, fmt.Errorf("davxml: duplicate attribute %s", n.Clark())
				}
				seen[n] = true
				el.Attrs = append(el.Attrs, Attr{Name: n, Value: a.Value})
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1].el
				parent.Content = append(parent.Content, el)
			} else {
				root = el
			}
			stack = append(stack, frame{raw: t.Name, el: el, scope: scope})
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errors.New("davxml: unexpected end element")
			}
			top := stack[len(stack)-1]
			if top.raw != t.Name {
				return nil, fmt.Errorf("davxml: element <%s> closed by </%s>", rawName(top.raw), rawName(t.Name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("davxml: text outside the root element")
				}
				continue
			}
			top := stack[len(stack)-1].el
			s := string(t)
			if n := len(top.Content); n > 0 {
				if prev, ok := top.Content[n-1].(string); ok {
					top.Content[n-1] = prev + s
					continue
				}
			}
			top.Content = append(top.Content, s)
		case xml.Directive:
			return nil, errors.New("davxml: document type declarations are not accepted")
		case xml.Comment, xml.ProcInst:
			// ignored, as libxml does for our purposes
		}
	}
	if len(stack) != 0 {
		return nil, errors.New("davxml: premature end of document")
	}
	if root == nil {
		return nil, ErrEmpty
	}
	return root, nil
}

func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// Canonical serialises the content of e (not e itself) as a self-contained
// XML fragment: every element carries its own default-namespace
// declaration, so the fragment means the same wherever it is embedded.
// Dead property values are stored in this form.
func Canonical(e *Element) string {
	var b strings.Builder
	writeContent(&b, e.Content)
	return b.String()
}

func writeContent(b *strings.Builder, content []any) {
	for _, c := range content {
		switch v := c.(type) {
		case string:
			b.WriteString(EscapeText(v))
		case *Element:
			b.WriteString("<")
			b.WriteString(v.Name.Local)
			b.WriteString(` xmlns="`)
			b.WriteString(EscapeAttr(v.Name.Space))
			b.WriteString(`"`)
			for i, a := range v.Attrs {
				if a.Name.Space == "" {
					fmt.Fprintf(b, ` %s="%s"`, a.Name.Local, EscapeAttr(a.Value))
					continue
				}
				fmt.Fprintf(b, ` xmlns:a%d="%s" a%d:%s="%s"`, i, EscapeAttr(a.Name.Space), i, a.Name.Local, EscapeAttr(a.Value))
			}
			if len(v.Content) == 0 {
				b.WriteString("/>")
				continue
			}
			b.WriteString(">")
			writeContent(b, v.Content)
			b.WriteString("</")
			b.WriteString(v.Name.Local)
			b.WriteString(">")
		}
	}
}

// EscapeText escapes character data.
func EscapeText(s string) string {
	if !strings.ContainsAny(s, "&<>\r") {
		return s
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")
	return r.Replace(s)
}

// EscapeAttr escapes an attribute value (double-quoted).
func EscapeAttr(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#10;", "\r", "&#13;", "\t", "&#9;")
	return r.Replace(s)
}
