package mcpcheck

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMetadataURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://mcp.example.com/mcp":         "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
		"https://mcp.example.com/public/mcp/": "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
		"http://127.0.0.1:8000":               "http://127.0.0.1:8000/.well-known/oauth-protected-resource",
	} {
		if got, err := metadataURL(in); err != nil || got != want {
			t.Errorf("metadataURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSynthArgs(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"note_id":{"type":"integer"},"title":{"type":"string"},
		"tags":{"type":"array"},"fav":{"type":["null","boolean"]},"opt":{"type":"string"}},"required":["note_id","title","tags","fav"]}`)
	want := map[string]any{"note_id": probeID, "title": "conformance-probe", "tags": []any{}, "fav": false}
	if got := synthArgs(schema); !reflect.DeepEqual(got, want) {
		t.Errorf("synthArgs = %#v, want %#v", got, want)
	}
	if got := synthAllArgs(schema); got["opt"] != "conformance-probe" || len(got) != 5 {
		t.Errorf("synthAllArgs = %#v", got)
	}
	// Examples declare one valid call: with them, only the exampled and
	// the required properties are filled, with the examples' values.
	exampled := json.RawMessage(`{"type":"object","properties":{"share_id":{"type":"integer"},"permissions":{"type":["null","integer"],"examples":[1]},
		"password":{"type":"string"},"note":{"type":"string","examples":["hi"]}},"required":["share_id"]}`)
	wantEx := map[string]any{"share_id": probeID, "permissions": 1.0, "note": "hi"}
	if got := synthAllArgs(exampled); !reflect.DeepEqual(got, wantEx) {
		t.Errorf("synthAllArgs(exampled) = %#v, want %#v", got, wantEx)
	}
	if got := synthArgs(exampled); !reflect.DeepEqual(got, map[string]any{"share_id": probeID}) {
		t.Errorf("synthArgs(exampled) = %#v", got)
	}
	if got := synthArgs(json.RawMessage(`not json`)); len(got) != 0 {
		t.Errorf("synthArgs(garbage) = %#v", got)
	}
}

func TestAuthorizationURL(t *testing.T) {
	tests := []struct {
		name string
		co   callOutcome
		want string
	}{
		{"structured", callOutcome{Structured: json.RawMessage(`{"authorization_url":"http://idp/authorize?state=a"}`)}, "http://idp/authorize?state=a"},
		{"in prose", callOutcome{Text: "Open this link (valid 10 min): http://idp/authorize?code_challenge=x&state=y. Then retry."}, "http://idp/authorize?code_challenge=x&state=y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := authorizationURL(tt.co); err != nil || got != tt.want {
				t.Errorf("authorizationURL = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := authorizationURL(callOutcome{Text: "see http://example.com/help"}); err == nil {
		t.Error("a URL without state or code_challenge was taken for an authorization URL")
	}
}

func TestTamperKeepsSignature(t *testing.T) {
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	got, err := tamper(tok)
	if err != nil {
		t.Fatal(err)
	}
	m, err := jwtClaims(got)
	if err != nil || m["sub"] != "mallory" {
		t.Fatalf("tampered claims = %v, %v", m, err)
	}
	if got[len(got)-len("c2lnbmF0dXJl"):] != "c2lnbmF0dXJl" {
		t.Fatal("signature changed")
	}
	if _, err := tamper("opaque-token"); err == nil {
		t.Fatal("tampering with an opaque token should be unavailable")
	}
}

func TestNoteID(t *testing.T) {
	for name, co := range map[string]callOutcome{
		"structured": {Structured: json.RawMessage(`{"id": 42, "title": "x"}`)},
		"nested":     {Text: `{"note": {"id": 42}}`},
		"prose":      {Text: `Created note {"id": 42}.`},
	} {
		if id, err := noteID(co); err != nil || id != 42 {
			t.Errorf("%s: noteID = %d, %v", name, id, err)
		}
	}
	if _, err := noteID(callOutcome{Text: "created"}); err == nil {
		t.Error("noteID without an id: want an error")
	}
}
