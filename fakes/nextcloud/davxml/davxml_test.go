package davxml

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, body string }{
		// litmus props propfind_invalid: non-well-formed body.
		{"not well formed", "<foo>"},
		// litmus props propfind_invalid2 (and its FAQ): xmlns:bar="" is not
		// a namespace declaration XML Namespaces 1.0 allows.
		{"empty prefix declaration", `<D:propfind xmlns:D="DAV:"><D:prop><bar:foo xmlns:bar=""/></D:prop></D:propfind>`},
		{"undeclared prefix", `<D:propfind xmlns:D="DAV:"><D:prop><x:foo/></D:prop></D:propfind>`},
		{"mismatched end", `<a xmlns="DAV:"><b></a></b>`},
		{"two roots", `<a/><b/>`},
		{"text outside", `<a/>junk`},
		{"doctype", `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`},
		{"whitespace only", "   \n"},
		{"bad encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`},
		{"invalid utf8", "<a>\xff</a>"},
		{"duplicate attribute", `<a xmlns:p="urn:x" xmlns:q="urn:x" p:b="1" q:b="2"/>`},
		{"redeclare xmlns", `<a xmlns:xmlns="urn:x"/>`},
		{"deep", strings.Repeat("<a>", 200) + strings.Repeat("</a>", 200)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if el, err := Parse([]byte(tc.body)); err == nil {
				t.Fatalf("accepted: %+v", el)
			}
		})
	}
}

func TestParsePropfind(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		allprop  bool
		propname bool
		props    []string
		wantErr  bool
	}{
		{"empty body", "", true, false, nil, false},
		{"allprop", `<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>`, true, false, nil, false},
		{"propname", `<propfind xmlns="DAV:"><propname/></propfind>`, false, true, nil, false},
		{"props", `<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:getetag/><oc:fileid/><x xmlns=""/><d:getetag/></d:prop></d:propfind>`,
			false, false, []string{"{DAV:}getetag", "{http://owncloud.org/ns}fileid", "{}x"}, false},
		{"empty propfind", `<d:propfind xmlns:d="DAV:"/>`, true, false, nil, false},
		{"wrong root", `<d:propertyupdate xmlns:d="DAV:"/>`, false, false, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pf, err := ParsePropfind([]byte(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				var ee *ExpectError
				if !errors.As(err, &ee) {
					t.Fatalf("error %v is not an ExpectError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pf.AllProp != tc.allprop || pf.PropName != tc.propname {
				t.Fatalf("allprop=%v propname=%v", pf.AllProp, pf.PropName)
			}
			var got []string
			for _, p := range pf.Props {
				got = append(got, p.Clark())
			}
			if strings.Join(got, " ") != strings.Join(tc.props, " ") {
				t.Fatalf("props %v, want %v", got, tc.props)
			}
		})
	}
}

func TestPropertyUpdateCanonical(t *testing.T) {
	body := `<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://example.com/ns/">
 <D:set><D:prop>
  <Z:author>Jim &amp; "Jo" &lt;x&gt;</Z:author>
  <Z:nested><Z:a attr="1" Z:b="2">t</Z:a><b xmlns="">u</b></Z:nested>
  <nullns xmlns="">val</nullns>
 </D:prop></D:set>
 <D:remove><D:prop><Z:gone/></D:prop></D:remove>
</D:propertyupdate>`
	ops, err := ParsePropertyUpdate([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 4 {
		t.Fatalf("%d ops", len(ops))
	}
	if ops[0].Value != `Jim &amp; "Jo" &lt;x&gt;` || ops[0].Text != `Jim & "Jo" <x>` {
		t.Fatalf("text value %q / %q", ops[0].Value, ops[0].Text)
	}
	want := `<a xmlns="http://example.com/ns/" attr="1" xmlns:a1="http://example.com/ns/" a1:b="2">t</a><b xmlns="">u</b>`
	if ops[1].Value != want {
		t.Fatalf("nested value\n got %s\nwant %s", ops[1].Value, want)
	}
	if ops[2].Name != (Name{"", "nullns"}) || ops[2].Value != "val" {
		t.Fatalf("null namespace op %+v", ops[2])
	}
	if !ops[3].Remove || ops[3].Name.Local != "gone" {
		t.Fatalf("remove op %+v", ops[3])
	}
	// The canonical form is itself parseable and stable.
	round, err := Parse([]byte("<w xmlns=\"urn:w\">" + ops[1].Value + "</w>"))
	if err != nil || Canonical(round) != ops[1].Value {
		t.Fatalf("canonical form not stable: %v", err)
	}
}

func TestParseSearch(t *testing.T) {
	body := `<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
 <d:basicsearch>
  <d:select><d:prop><d:displayname/><oc:fileid/></d:prop></d:select>
  <d:from><d:scope><d:href>/files/alice/Docs</d:href><d:depth>infinity</d:depth></d:scope></d:from>
  <d:where><d:and>
    <d:like><d:prop><d:displayname/></d:prop><d:literal>%.md</d:literal></d:like>
    <d:not><d:is-collection/></d:not>
    <d:eq><d:prop><oc:favorite/></d:prop><d:literal>1</d:literal></d:eq>
  </d:and></d:where>
  <d:orderby><d:order><d:prop><d:getlastmodified/></d:prop><d:descending/></d:order></d:orderby>
  <d:limit><d:nresults>10</d:nresults><nc:firstresult xmlns:nc="http://nextcloud.org/ns">5</nc:firstresult></d:limit>
 </d:basicsearch>
</d:searchrequest>`
	s, err := ParseSearch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Select) != 2 || s.AllProp || len(s.Scopes) != 1 || s.Scopes[0].Href != "/files/alice/Docs" || s.Limit != 10 || s.FirstRes != 5 {
		t.Fatalf("search %+v", s)
	}
	if s.Where.Kind != "and" || len(s.Where.Args) != 3 || s.Where.Args[0].Literal != "%.md" || s.Where.Args[1].Args[0].Kind != "is-collection" {
		t.Fatalf("where %+v", s.Where)
	}
	if !s.OrderBy[0].Descending || s.OrderBy[0].Prop.Local != "getlastmodified" {
		t.Fatalf("order %+v", s.OrderBy)
	}

	bad := []struct {
		name, body string
		plain      bool
	}{
		{"wrong root", `<d:propfind xmlns:d="DAV:"/>`, true},
		{"no basicsearch", `<d:searchrequest xmlns:d="DAV:"/>`, false},
		{"no where", `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:allprop/></d:select></d:basicsearch></d:searchrequest>`, true},
		{"no select", `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:where/></d:basicsearch></d:searchrequest>`, true},
		{"bad op", `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:allprop/></d:select><d:where><d:frobnicate/></d:where></d:basicsearch></d:searchrequest>`, false},
		{"bad limit", `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:allprop/></d:select><d:where/><d:limit><d:nresults>-1</d:nresults></d:limit></d:basicsearch></d:searchrequest>`, false},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSearch([]byte(tc.body))
			var se *SearchShapeError
			if !errors.As(err, &se) || se.Plain != tc.plain {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// nextcloudNS is what Nextcloud's server declares beyond d and s.
var nextcloudNS = Namespaces{{"oc", NSOwnCloud}, {"nc", NSNextcloud}, {"ocs", NSOCS}, {"ocm", NSOCM}}

func TestMultistatus(t *testing.T) {
	out := string(nextcloudNS.Multistatus([]Response{{
		Href: "/remote.php/dav/files/alice/a%20b/",
		Propstats: []Propstat{
			{Status: 200, Props: []Prop{TextProp(Name{NSDAV, "getetag"}, `"abc"`), {Name: Name{NSDAV, "resourcetype"}, XML: "<d:collection/>"}, TextProp(Name{"urn:x", "p"}, "v"), TextProp(Name{"", "n"}, "1")}},
			{Status: 404, Props: []Prop{{Name: Name{NSDAV, "getcontentlength"}}}},
			{Status: 403},
		},
	}}))
	for _, want := range []string{
		`<?xml version="1.0"?>` + "\n" + `<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns"`,
		`<d:href>/remote.php/dav/files/alice/a%20b/</d:href>`,
		`<d:getetag>"abc"</d:getetag>`,
		`<x3:p xmlns:x3="urn:x">v</x3:p>`,
		`<n xmlns="">1</n>`,
		`<d:status>HTTP/1.1 200 OK</d:status>`,
		`<d:getcontentlength/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, "403") {
		t.Error("empty propstat rendered")
	}
	if _, err := Parse([]byte(out)); err != nil {
		t.Fatalf("multistatus is not well-formed: %v", err)
	}
}

func TestErrorBody(t *testing.T) {
	got := string(ErrorBody(`Sabre\DAV\Exception\NotFound`, "File with name /x could not be located", "", ""))
	want := `<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
  <s:exception>Sabre\DAV\Exception\NotFound</s:exception>
  <s:message>File with name /x could not be located</s:message>
</d:error>
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestNamespacesPerServer(t *testing.T) {
	cal := Namespaces{{"cal", "urn:ietf:params:xml:ns:caldav"}, {"cs", "http://calendarserver.org/ns/"}}
	tests := []struct {
		name     string
		ns       Namespaces
		wantRoot string
		wantProp string
	}{
		{name: "core only", ns: nil,
			wantRoot: `<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">`,
			wantProp: `<x1:calendar-color xmlns:x1="http://apple.com/ns/ical/">red</x1:calendar-color>`},
		{name: "a collection's own prefixes", ns: append(append(Namespaces{}, cal...), Namespace{"x-apple", "http://apple.com/ns/ical/"}),
			wantRoot: `<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:cal="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:x-apple="http://apple.com/ns/ical/">`,
			wantProp: `<x-apple:calendar-color>red</x-apple:calendar-color>`},
		{name: "duplicates keep the first mapping", ns: Namespaces{{"dav", NSDAV}, {"d", "urn:other"}, {"oc", NSOwnCloud}, {"own", NSOwnCloud}},
			wantRoot: `<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns">`,
			wantProp: `<x1:calendar-color xmlns:x1="http://apple.com/ns/ical/">red</x1:calendar-color>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(tt.ns.Multistatus([]Response{{Href: "/c/", Propstats: []Propstat{{Status: 200,
				Props: []Prop{TextProp(Name{"http://apple.com/ns/ical/", "calendar-color"}, "red")}}}}}))
			assert.Contains(t, out, tt.wantRoot)
			assert.Contains(t, out, tt.wantProp)
			_, err := Parse([]byte(out))
			require.NoError(t, err, "well-formed")
		})
	}
}
