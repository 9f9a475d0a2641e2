package smoketest

import (
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
)

// wrongAudienceResult is the tool error the server returns when it was told
// the wrong Nextcloud audience (NEXTCLOUD_OIDC_AUDIENCE=not-nextcloud), as
// recorded from a smoke run.
var wrongAudienceResult = &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "token exchange with the identity provider failed: " +
	"token exchange failed: the IdP will not issue tokens for audience not-nextcloud to client nextcloud-mcp-server: " +
	"token endpoint refused the request: invalid_target: unknown audience not-nextcloud (HTTP 400) " +
	"(this server's client may not obtain tokens for Nextcloud's audience; grant it the token-exchange permission at the identity provider)"}}}

// TestFailureMessageWrongAudience feeds the helper the failure a server
// with the wrong Nextcloud audience produces and checks that the message
// names the step, the tool, the server's own explanation, what the fakes
// saw, and the setting to fix.
func TestFailureMessageWrongAudience(t *testing.T) {
	f := Failure{
		Step:   "create a note",
		Tool:   "nc_notes_create_note",
		Result: wrongAudienceResult,
		Evidence: Evidence{Available: true, IdP: []IdPLogEntry{
			{Endpoint: "token", Method: "POST", GrantType: GrantTokenExchange, ClientID: "nextcloud-mcp-server", Subject: "alice", Status: 400, Outcome: "invalid_target"},
		}},
	}
	want := `step "create a note" failed: nc_notes_create_note returned a tool error:
    token exchange with the identity provider failed: token exchange failed: the IdP will not issue tokens for audience not-nextcloud to client nextcloud-mcp-server: token endpoint refused the request: invalid_target: unknown audience not-nextcloud (HTTP 400) (this server's client may not obtain tokens for Nextcloud's audience; grant it the token-exchange permission at the identity provider)
what the fakes recorded during the step:
    fake IdP: POST token grant=token-exchange client=nextcloud-mcp-server sub=alice → 400 invalid_target
    fake Nextcloud: no request
likely cause:
  - the IdP refused the token exchange's audience (invalid_target): the server's NEXTCLOUD_OIDC_AUDIENCE must be Nextcloud's client id at the IdP, and the server's client (OIDC_CLIENT_ID) needs the token-exchange permission for that audience`
	assert.Equal(t, want, f.Message())
}

func TestFailureMessages(t *testing.T) {
	passthroughRefused := Evidence{Available: true, Nextcloud: []NCLogEntry{{
		Method: "GET", Path: "/apps/notes/api/v1/notes/7", Status: 401, AuthKind: "bearer",
		Claims: &NCClaims{Sub: "alice", Aud: []string{"nextcloud-mcp-server"}}, AuthError: "token audience does not contain nextcloud",
	}}}
	tests := []struct {
		name string
		f    Failure
		want []string
		not  []string
	}{
		{
			name: "pass-through token without Nextcloud's audience",
			f: Failure{Step: "get a note", Tool: "nc_notes_get_note", Evidence: passthroughRefused,
				Result: &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "Nextcloud refused the request (401)"}}}},
			want: []string{
				"fake IdP: no request",
				"fake Nextcloud: GET /apps/notes/api/v1/notes/7 auth=bearer aud=nextcloud-mcp-server → 401 (token audience does not contain nextcloud)",
				"lacks Nextcloud's client id: in pass-through mode the client's token must carry Nextcloud's audience",
			},
		},
		{
			name: "basic credentials refused",
			f: Failure{Step: "create a note", Tool: "nc_notes_create_note",
				Evidence: Evidence{Available: true, Nextcloud: []NCLogEntry{{Method: "POST", Path: "/apps/notes/api/v1/notes", Status: 401, AuthKind: "basic"}}},
				Result:   &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "401"}}}},
			want: []string{"check NEXTCLOUD_USERNAME and NEXTCLOUD_PASSWORD"},
		},
		{
			name: "protocol error with an HTTP refusal",
			f: Failure{Step: "create a note", Tool: "nc_notes_create_note", Err: errors.New("calling \"tools/call\": Forbidden"),
				Rejection: &Rejection{RPCMethod: "tools/call", Status: 403, WWWAuthenticate: `Bearer error="insufficient_scope"`}},
			want: []string{"nc_notes_create_note could not be called: calling", `HTTP 403 for tools/call, WWW-Authenticate: "Bearer error=\"insufficient_scope\""`},
			not:  []string{"what the fakes recorded", "likely cause"},
		},
		{
			name: "refused before Nextcloud without a known cause",
			f: Failure{Step: "get a note", Tool: "nc_notes_get_note", Evidence: Evidence{Available: true},
				Result: &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "something odd"}}}},
			want: []string{"the call never reached Nextcloud"},
		},
		{
			name: "unprovisioned user",
			f: Failure{Step: "get a note", Tool: "nc_notes_get_note",
				Result: &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "call provision_nextcloud_access first"}}}},
			want: []string{"progressive consent is on and the user has not provisioned access yet"},
			not:  []string{"what the fakes recorded"},
		},
		{
			name: "wrong outcome of a successful call",
			f:    Failure{Step: "read back", Tool: "nc_notes_get_note", Want: "the content should end with the appended text"},
			want: []string{`step "read back" failed: nc_notes_get_note: the content should end with the appended text`},
		},
		{
			name: "exchange refused for the client's credentials",
			f: Failure{Step: "s", Tool: "t", Result: &mcp.CallToolResult{IsError: true},
				Evidence: Evidence{Available: true, IdP: []IdPLogEntry{{Endpoint: "token", Method: "POST", GrantType: GrantTokenExchange, ClientID: "nextcloud-mcp-server", Status: 401, Outcome: "invalid_client"}}}},
			want: []string{`check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET`},
		},
		{
			name: "IdP without token exchange",
			f: Failure{Step: "s", Tool: "t", Result: &mcp.CallToolResult{IsError: true},
				Evidence: Evidence{Available: true, IdP: []IdPLogEntry{{Endpoint: "token", Method: "POST", GrantType: GrantTokenExchange, Status: 400, Outcome: "unsupported_grant_type"}}}},
			want: []string{"ENABLE_TOKEN_EXCHANGE=false"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.f.Message()
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
			for _, n := range tc.not {
				assert.NotContains(t, msg, n)
			}
			assert.False(t, strings.HasSuffix(msg, "\n"))
		})
	}
}
