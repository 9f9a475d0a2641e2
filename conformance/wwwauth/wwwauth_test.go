package wwwauth

import (
	"net/http"
	"reflect"
	"testing"
)

func TestParseValue(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Challenge
	}{
		{"bare scheme", "Bearer", []Challenge{{Scheme: "Bearer", Params: map[string]string{}}}},
		{"rfc6750 example", `Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "example", "error": "invalid_token", "error_description": "The access token expired"}}}},
		{"mcp step-up", `Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"`,
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"error": "insufficient_scope", "scope": "files:read files:write", "resource_metadata": "https://mcp.example.com/.well-known/oauth-protected-resource"}}}},
		{"token value and case", `bearer ERROR=invalid_token`,
			[]Challenge{{Scheme: "bearer", Params: map[string]string{"error": "invalid_token"}}}},
		{"two challenges", `Basic realm="nc", Bearer scope="a b"`,
			[]Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "nc"}}, {Scheme: "Bearer", Params: map[string]string{"scope": "a b"}}}},
		{"token68 then challenge", `Negotiate abc=, Bearer error="x"`,
			[]Challenge{{Scheme: "Negotiate", Params: map[string]string{}, Token68: "abc="}, {Scheme: "Bearer", Params: map[string]string{"error": "x"}}}},
		{"escaped quote", `Bearer error_description="a \"b\" c"`,
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"error_description": `a "b" c`}}}},
		{"spaces around equals", `Bearer  scope = "x"`,
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseValue(tt.in)
			if err != nil {
				t.Fatalf("ParseValue(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseValue(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseValueErrors(t *testing.T) {
	for name, in := range map[string]string{
		"unterminated": `Bearer error="x`,
		"repeated":     `Bearer scope="a", scope="b"`,
		"empty value":  `Bearer scope=, error="x"`,
		"junk":         `Bearer error="x" "y"`,
		"leading junk": `"Bearer"`,
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := ParseValue(in); err == nil {
				t.Fatalf("ParseValue(%q) = %#v, want an error", in, got)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	h := http.Header{}
	h.Add("WWW-Authenticate", `Basic realm="x"`)
	h.Add("WWW-Authenticate", `Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"`)
	c, err := Bearer(h)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Param("RESOURCE_METADATA"); !ok || v != "https://h/.well-known/oauth-protected-resource/mcp" {
		t.Fatalf("resource_metadata = %q, %v", v, ok)
	}
	if _, err := Bearer(http.Header{}); err == nil {
		t.Fatal("Bearer of an empty header: want an error")
	}
	only := http.Header{"Www-Authenticate": {`Basic realm="x"`}}
	if _, err := Bearer(only); err == nil {
		t.Fatal("Bearer without a Bearer challenge: want an error")
	}
}
