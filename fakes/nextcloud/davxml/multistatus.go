package davxml

import (
	"bytes"
	"net/http"
	"strconv"
)

// Prop is one property of a response. XML is the property's inner XML,
// already escaped; it may use the prefixes declared on the multistatus root
// (d, s and those of the Namespaces rendering it). An empty XML renders an
// empty element.
type Prop struct {
	Name Name
	XML  string
}

// TextProp is a property whose value is character data.
func TextProp(n Name, s string) Prop { return Prop{Name: n, XML: EscapeText(s)} }

// Propstat groups properties by status.
type Propstat struct {
	Status int
	Props  []Prop
}

// Response is one <d:response>.
type Response struct {
	Href      string // already percent-encoded
	Propstats []Propstat
	Status    int // optional <d:status> instead of propstats
}

// Namespace is a namespace a server maps to a fixed prefix.
type Namespace struct {
	Prefix string
	URI    string
}

// coreNamespaces are sabre's own, always declared first: the multistatus
// elements themselves use d, and errors use s (Sabre\DAV\Server's
// $xml->namespaceMap starts with them).
var coreNamespaces = Namespaces{{Prefix: "d", URI: NSDAV}, {Prefix: "s", URI: NSSabre}}

// Namespaces are the prefixes a server declares on every multistatus root
// beyond d and s, in order: sabre's namespaceMap, to which each plugin
// adds its own (Nextcloud's FilesPlugin adds oc and nc, CalDAV's plugin cal
// and cs). A URI or prefix listed twice keeps its first mapping.
type Namespaces []Namespace

// all returns d, s and ns without duplicate URIs or prefixes.
func (ns Namespaces) all() Namespaces {
	out := append(Namespaces{}, coreNamespaces...)
	for _, n := range ns {
		dup := false
		for _, o := range out {
			if o.URI == n.URI || o.Prefix == n.Prefix {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}

func (ns Namespaces) prefixFor(uri string) (string, bool) {
	for _, p := range ns {
		if p.URI == uri {
			return p.Prefix, true
		}
	}
	return "", false
}

// StatusLine renders "HTTP/1.1 200 OK".
func StatusLine(code int) string {
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code)
}

// Multistatus renders a 207 body the way sabre does: XML declaration, then
// the whole document on one line, d, s and ns declared on the root, empty
// propstat groups left out. A property in a namespace without a prefix
// declares its own (x1, x2, … by position).
func (ns Namespaces) Multistatus(responses []Response) []byte {
	all := ns.all()
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<d:multistatus`)
	for _, p := range all {
		b.WriteString(` xmlns:` + p.Prefix + `="` + EscapeAttr(p.URI) + `"`)
	}
	b.WriteString(">")
	for _, r := range responses {
		b.WriteString("<d:response><d:href>")
		b.WriteString(EscapeText(r.Href))
		b.WriteString("</d:href>")
		for _, ps := range r.Propstats {
			if len(ps.Props) == 0 {
				continue
			}
			b.WriteString("<d:propstat><d:prop>")
			for i, p := range ps.Props {
				writeProp(&b, all, p, i)
			}
			b.WriteString("</d:prop><d:status>" + StatusLine(ps.Status) + "</d:status></d:propstat>")
		}
		if r.Status != 0 {
			b.WriteString("<d:status>" + StatusLine(r.Status) + "</d:status>")
		}
		b.WriteString("</d:response>")
	}
	b.WriteString("</d:multistatus>\n")
	return b.Bytes()
}

func writeProp(b *bytes.Buffer, ns Namespaces, p Prop, i int) {
	var open, close string
	if prefix, ok := ns.prefixFor(p.Name.Space); ok {
		open = "<" + prefix + ":" + p.Name.Local
		close = "</" + prefix + ":" + p.Name.Local + ">"
	} else if p.Name.Space == "" {
		open = "<" + p.Name.Local + ` xmlns=""`
		close = "</" + p.Name.Local + ">"
	} else {
		prefix := "x" + strconv.Itoa(i+1)
		open = "<" + prefix + ":" + p.Name.Local + ` xmlns:` + prefix + `="` + EscapeAttr(p.Name.Space) + `"`
		close = "</" + prefix + ":" + p.Name.Local + ">"
	}
	b.WriteString(open)
	if p.XML == "" {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	b.WriteString(p.XML)
	b.WriteString(close)
}

// ErrorBody renders sabre's <d:error> document (Server::exec with
// exposeVersion off, as Nextcloud runs it): DOMDocument with formatOutput,
// so two-space indentation. extra is inserted after <s:message> verbatim
// (e.g. PreconditionFailed's <s:header>); rootAttrs adds namespace
// declarations to the root.
func ErrorBody(exception, message, extra, rootAttrs string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"` + rootAttrs + ">\n")
	b.WriteString("  <s:exception>" + EscapeText(exception) + "</s:exception>\n")
	b.WriteString("  <s:message>" + EscapeText(message) + "</s:message>\n")
	b.WriteString(extra)
	b.WriteString("</d:error>\n")
	return b.Bytes()
}
