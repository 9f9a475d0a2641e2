package davxml

import (
	"bytes"
	"net/http"
	"strconv"
)

// Prop is one property of a response. XML is the property's inner XML,
// already escaped; it may use the prefixes declared on the multistatus root
// (d, s, oc, nc, ocs, ocm). An empty XML renders an empty element.
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

var rootPrefixes = []struct{ prefix, ns string }{
	{"d", NSDAV}, {"s", NSSabre}, {"oc", NSOwnCloud}, {"nc", NSNextcloud}, {"ocs", NSOCS}, {"ocm", NSOCM},
}

func prefixFor(ns string) (string, bool) {
	for _, p := range rootPrefixes {
		if p.ns == ns {
			return p.prefix, true
		}
	}
	return "", false
}

// StatusLine renders "HTTP/1.1 200 OK".
func StatusLine(code int) string {
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code)
}

// Multistatus renders a 207 body the way sabre does: XML declaration, then
// the whole document on one line, the namespaces sabre and Nextcloud map
// declared on the root, empty propstat groups left out.
func Multistatus(responses []Response) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<d:multistatus`)
	for _, p := range rootPrefixes {
		b.WriteString(` xmlns:` + p.prefix + `="` + p.ns + `"`)
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
				writeProp(&b, p, i)
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

func writeProp(b *bytes.Buffer, p Prop, i int) {
	var open, close string
	if prefix, ok := prefixFor(p.Name.Space); ok {
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
