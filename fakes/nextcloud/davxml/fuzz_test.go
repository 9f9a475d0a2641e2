package davxml

import (
	"testing"
	"unicode/utf8"
)

// Seeds shared by the fuzz targets: the bodies litmus and real clients send,
// plus the malformed shapes the parser must refuse.
var fuzzSeeds = []string{
	"",
	"<foo>",
	`<D:propfind xmlns:D="DAV:"><D:prop><bar:foo xmlns:bar=""/></D:prop></D:propfind>`,
	`<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><allprop/></propfind>`,
	`<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:getetag/><oc:fileid/></d:prop></d:propfind>`,
	`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Z:x xmlns:Z="urn:z">&#x10000;<y a="1"/></Z:x></D:prop></D:set></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><nul xmlns=""/></D:prop></D:remove></D:propertyupdate>`,
	`<d:mkcol xmlns:d="DAV:"><d:set><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop></d:set></d:mkcol>`,
	`<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:prop><d:displayname/></d:prop></d:select><d:from><d:scope><d:href>/files/a</d:href><d:depth>infinity</d:depth></d:scope></d:from><d:where><d:like><d:prop><d:displayname/></d:prop><d:literal>%</d:literal></d:like></d:where></d:basicsearch></d:searchrequest>`,
	`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`,
	`<a xmlns:p="urn:x" p:b="1" p:b="2"/>`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		root, err := Parse(body)
		if err != nil {
			return
		}
		// Whatever was accepted must survive canonicalisation: the canonical
		// fragment parses again and is a fixed point.
		c := Canonical(root)
		again, err := Parse([]byte(`<w xmlns="urn:w">` + c + `</w>`))
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", c, err)
		}
		if c2 := Canonical(again); c2 != c {
			t.Fatalf("canonical form not stable:\n%q\n%q", c, c2)
		}
	})
}

func FuzzParseRequests(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// None of these may panic; errors are fine.
		if pf, err := ParsePropfind(body); err == nil && !pf.AllProp && !pf.PropName && len(pf.Props) == 0 {
			t.Fatal("propfind with nothing requested")
		}
		_, _ = ParsePropertyUpdate(body)
		_, _ = ParseMkcol(body)
		if s, err := ParseSearch(body); err == nil && s.Limit < 0 {
			t.Fatal("negative limit")
		}
		if root, err := ReportName(body); err == nil {
			_ = ParseFilterFiles(root)
		}
		// A multistatus built from arbitrary text must stay well-formed.
		out := nextcloudNS.Multistatus([]Response{{Href: string(body), Propstats: []Propstat{{Status: 200, Props: []Prop{TextProp(Name{"urn:x", "p"}, string(body))}}}}})
		if !utf8.Valid(body) {
			return
		}
		if _, err := Parse(out); err != nil && !hasInvalidXMLChar(string(body)) {
			t.Fatalf("multistatus not well-formed for %q: %v", body, err)
		}
	})
}

// hasInvalidXMLChar reports characters XML 1.0 cannot carry at all (control
// characters other than tab, CR, LF); a client cannot send them either.
func hasInvalidXMLChar(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			return true
		}
	}
	return false
}
