package official

import (
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

const mcpURL = "http://127.0.0.1:1/mcp"

func TestGradeTSClient(t *testing.T) {
	good := `{"event":"registered"}
{"result":{"registered":true,"authorizations":[{"scope":"notes:read","resource":"http://127.0.0.1:1/mcp","method":"S256"},{"scope":"notes:read notes:write","resource":"http://127.0.0.1:1/mcp","method":"S256"}],"tools":["nc_notes_get_note","nc_notes_search_notes"],"read":true,"write":true,"stepUp":true}}`
	tests := []struct {
		name   string
		out    string
		status grade.Status
		want   string
	}{
		{"all good", good, grade.Pass, "step-up"},
		{"client error", `{"result":{"error":"boom"}}`, grade.Fail, "boom"},
		{"no registration", strings.Replace(good, `"registered":true`, `"registered":false`, 1), grade.Fail, "registration"},
		{"plain PKCE", strings.Replace(good, `"method":"S256"}`, `"method":"plain"}`, 1), grade.Fail, "code_challenge_method"},
		{"wrong resource", strings.Replace(good, `"resource":"http://127.0.0.1:1/mcp","method":"S256"},{`, `"resource":"http://other/mcp","method":"S256"},{`, 1), grade.Fail, "resource"},
		{"write scope up front", strings.Replace(good, `"scope":"notes:read","resource"`, `"scope":"notes:read notes:write","resource"`, 1), grade.Fail, "already asked"},
		{"step-up dropped the read scope", strings.Replace(good, `"scope":"notes:read notes:write"`, `"scope":"notes:write"`, 1), grade.Fail, "granted ∪ required"},
		{"write tool listed", strings.Replace(good, `"tools":["nc_notes_get_note"`, `"tools":["nc_notes_create_note"`, 1), grade.Fail, "write tool"},
		{"no step-up", strings.Replace(good, `"stepUp":true`, `"stepUp":false`, 1), grade.Fail, "step-up"},
		{"registered scope covers the step-up", strings.Replace(good, `"registered":true`, `"registered":true,"registeredScope":"notes:read notes:write"`, 1), grade.Pass, "step-up"},
		{"step-up beyond the registered scope allowed by a lenient IdP", strings.Replace(good, `"registered":true`, `"registered":true,"registeredScope":"notes:read"`, 1),
			grade.Warn, `registered its client with scope "notes:read"`},
		{"step-up beyond the registered scope refused by a strict IdP", strings.Replace(strings.Replace(good, `"registered":true`, `"registered":true,"registeredScope":"notes:read"`, 1),
			`"method":"S256"}],"tools"`, `"method":"S256","error":"invalid_scope"}],"tools"`, 1),
			grade.Warn, "this IdP refused the step-up (invalid_scope)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := ParseTSClient([]byte(tt.out))
			if !ok {
				t.Fatal("no result parsed")
			}
			got := GradeTSClient(r, mcpURL)
			if got.Status != tt.status || !strings.Contains(got.Evidence, tt.want) {
				t.Errorf("%s %q, want %s mentioning %q", got.Status, got.Evidence, tt.status, tt.want)
			}
		})
	}
	if _, ok := ParseTSClient([]byte("node: not found\n")); ok {
		t.Error("a result was parsed from output without one")
	}
}
