package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/stretchr/testify/assert"
)

const prm = "http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp"

func testVerifier(_ context.Context, token string) (*auth.TokenInfo, error) {
	switch token {
	case "read":
		return &auth.TokenInfo{UserID: "alice", Scopes: []string{"notes:read", "openid"}, Expiration: time.Now().Add(time.Hour)}, nil
	case "write":
		return &auth.TokenInfo{UserID: "alice", Scopes: []string{"notes:read", "notes:write"}, Expiration: time.Now().Add(time.Hour)}, nil
	case "nosub":
		return &auth.TokenInfo{Scopes: []string{"notes:read"}, Expiration: time.Now().Add(time.Hour)}, nil
	case "down":
		return nil, errors.New("jwks endpoint unreachable")
	}
	return nil, fmt.Errorf("%w: token expired", ErrInvalidToken)
}

// required knows read_tool, write_tool and free_tool; any other tool is
// refused as unknown, as the server's registry-built policy does.
func required(method string, params json.RawMessage) Requirement {
	if method != "tools/call" {
		return Requirement{}
	}
	var name string
	if f, err := Fields(params); err != nil || json.Unmarshal(f["name"], &name) != nil {
		return Requirement{}
	}
	switch name {
	case "read_tool":
		return Requirement{Scopes: []string{"notes:read"}}
	case "write_tool":
		return Requirement{Scopes: []string{"notes:write"}}
	case "free_tool":
		return Requirement{}
	}
	return Requirement{Refusal: &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: `unknown tool "` + name + `"`}}
}

func TestMiddleware(t *testing.T) {
	call := func(tool string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
	}
	tests := []struct {
		name       string
		method     string
		target     string
		header     []string
		body       string
		wantStatus int
		wantAuth   string // exact WWW-Authenticate, "" = must be absent
		wantNext   bool
		wantRPC    string // exact JSON-RPC error body, when set
	}{
		{name: "no token", method: "POST", body: call("read_tool"), wantStatus: 401,
			wantAuth: `Bearer scope="notes:read", resource_metadata="` + prm + `"`},
		{name: "basic scheme counts as no token", method: "POST", header: []string{"Basic YWxpY2U6eA=="}, wantStatus: 401,
			wantAuth: `Bearer scope="notes:read", resource_metadata="` + prm + `"`},
		{name: "empty bearer", method: "POST", header: []string{"Bearer "}, wantStatus: 400,
			wantAuth: `Bearer error="invalid_request", error_description="malformed Bearer credentials", scope="notes:read", resource_metadata="` + prm + `"`},
		{name: "two headers", method: "POST", header: []string{"Bearer read", "Bearer write"}, wantStatus: 400,
			wantAuth: `Bearer error="invalid_request", error_description="more than one Authorization header", scope="notes:read", resource_metadata="` + prm + `"`},
		{name: "token in query string", method: "POST", target: "/mcp?access_token=read", header: []string{"Bearer read"}, wantStatus: 400,
			wantAuth: `Bearer error="invalid_request", error_description="access tokens are accepted only in the Authorization header", scope="notes:read", resource_metadata="` + prm + `"`},
		{name: "invalid token", method: "POST", header: []string{"Bearer expired"}, body: call("read_tool"), wantStatus: 401,
			wantAuth: `Bearer error="invalid_token", error_description="invalid token: token expired", scope="notes:read", resource_metadata="` + prm + `"`},
		{name: "token without subject", method: "POST", header: []string{"Bearer nosub"}, wantStatus: 401,
			wantAuth: `Bearer error="invalid_token", error_description="token has no subject", scope="notes:read", resource_metadata="` + prm + `"`},
		{name: "verifier unavailable is 503 not 401", method: "POST", header: []string{"bearer down"}, wantStatus: 503},
		{name: "scheme is case-insensitive", method: "POST", header: []string{"bEaReR read"}, body: call("read_tool"), wantStatus: 200, wantNext: true},
		{name: "write tool without write scope", method: "POST", header: []string{"Bearer read"}, body: call("write_tool"), wantStatus: 403,
			wantAuth: `Bearer error="insufficient_scope", error_description="tools/call write_tool requires scope notes:write", scope="notes:read notes:write openid", resource_metadata="` + prm + `"`},
		{name: "write tool inside a batch", method: "POST", header: []string{"Bearer read"}, body: "[" + call("read_tool") + "," + call("write_tool") + "]", wantStatus: 403,
			wantAuth: `Bearer error="insufficient_scope", error_description="tools/call write_tool requires scope notes:write", scope="notes:read notes:write openid", resource_metadata="` + prm + `"`},
		{name: "write tool with write scope", method: "POST", header: []string{"Bearer write"}, body: call("write_tool"), wantStatus: 200, wantNext: true},
		{name: "tool needing no scope", method: "POST", header: []string{"Bearer read"}, body: call("free_tool"), wantStatus: 200, wantNext: true},
		{name: "unknown tool is refused with the JSON-RPC error", method: "POST", header: []string{"Bearer write"}, body: call("nope"), wantStatus: 200,
			wantRPC: `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool \"nope\""}}`},
		{name: "unknown tool inside a batch", method: "POST", header: []string{"Bearer write"}, body: "[" + call("read_tool") + "," + call("nope") + "]", wantStatus: 200,
			wantRPC: `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool \"nope\""}}`},
		{name: "unknown tool in a notification gets no body", method: "POST", header: []string{"Bearer write"},
			body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"nope"}}`, wantStatus: 202},
		{name: "non-JSON body passes to the server", method: "POST", header: []string{"Bearer read"}, body: "{oops", wantStatus: 200, wantNext: true},
		{name: "GET stream", method: "GET", header: []string{"Bearer read"}, wantStatus: 200, wantNext: true},
		// One reading of the request (go-sdk decodes with case-sensitive
		// keys, the last duplicate winning): a body the two readings could
		// disagree on is refused before anything runs.
		{name: "case-variant duplicate of name", method: "POST", header: []string{"Bearer read"},
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_tool","NAME":"read_tool"}}`, wantStatus: 400,
			wantRPC: `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"Invalid Request: params has the keys \"name\" and \"NAME\"; keys must be unique and exactly cased"}}`},
		{name: "duplicate name", method: "POST", header: []string{"Bearer read"},
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_tool","name":"read_tool"}}`, wantStatus: 400},
		{name: "lone upper-case name", method: "POST", header: []string{"Bearer read"},
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"write_tool"}}`, wantStatus: 400},
		{name: "case-variant method", method: "POST", header: []string{"Bearer read"},
			body: `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call","params":{"name":"write_tool"}}`, wantStatus: 400},
		{name: "params spelled with a long s", method: "POST", header: []string{"Bearer read"},
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_tool"},"param\u017f":{"name":"write_tool"}}`, wantStatus: 400},
		{name: "escaped duplicate", method: "POST", header: []string{"Bearer read"},
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_tool","n\u0061me":"read_tool"}}`, wantStatus: 400},
		{name: "duplicate inside a batch", method: "POST", header: []string{"Bearer read"},
			body: "[" + call("read_tool") + `,{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"write_tool","Name":"read_tool"}}]`, wantStatus: 400},
		{name: "duplicates inside arguments are the tool's business", method: "POST", header: []string{"Bearer read"},
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_tool","arguments":{"q":"a","Q":"b"}}}`, wantStatus: 200, wantNext: true},
		{name: "oversized body", method: "POST", header: []string{"Bearer read"}, body: `{"x":"` + strings.Repeat("a", 2000) + `"}`, wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotBody string
			var gotInfo *auth.TokenInfo
			reached := false
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				b, _ := io.ReadAll(r.Body)
				gotBody = string(b)
				gotInfo = auth.TokenInfoFromContext(r.Context())
			})
			h := Middleware(testVerifier, Options{
				ResourceMetadataURL: prm,
				Scope:               []string{"notes:read"},
				Required:            required,
				MaxBodyBytes:        1024,
			})(next)
			target := tt.target
			if target == "" {
				target = "/mcp"
			}
			req := httptest.NewRequest(tt.method, target, strings.NewReader(tt.body))
			for _, v := range tt.header {
				req.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.wantAuth {
				t.Errorf("WWW-Authenticate =\n  %s\nwant\n  %s", got, tt.wantAuth)
			}
			if reached != tt.wantNext {
				t.Fatalf("next reached = %v, want %v", reached, tt.wantNext)
			}
			if tt.wantNext {
				if gotBody != tt.body {
					t.Errorf("body seen by next = %q, want %q", gotBody, tt.body)
				}
				if gotInfo == nil || gotInfo.UserID != "alice" {
					t.Errorf("TokenInfo in context = %+v", gotInfo)
				}
			}
			if tt.wantRPC != "" {
				assert.JSONEq(t, tt.wantRPC, rec.Body.String())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			}
			if strings.Contains(rec.Body.String(), "Bearer read") {
				t.Error("response echoes the token")
			}
			if rec.Code == 401 || rec.Code == 403 {
				var body map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == nil {
					t.Errorf("error body %q is not JSON with an error field", rec.Body)
				}
				if rec.Code == 403 && (body["jsonrpc"] != "2.0" || body["id"] != float64(1)) {
					t.Errorf("403 body %q is not a JSON-RPC error for id 1", rec.Body)
				}
			}
		})
	}
}

func TestChallengeDropsForbiddenCharacters(t *testing.T) {
	c := Challenge{Error: "invalid_token", ErrorDescription: "bad \"quote\" \\ and\nnewline é"}
	if got, want := c.String(), `Bearer error="invalid_token", error_description="bad quote  andnewline "`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestMetadataPath(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8000/mcp":    "/.well-known/oauth-protected-resource/mcp",
		"http://127.0.0.1:8000/mcp/":   "/.well-known/oauth-protected-resource/mcp",
		"http://127.0.0.1:8000":        "/.well-known/oauth-protected-resource",
		"https://h.example/public/mcp": "/.well-known/oauth-protected-resource/public/mcp",
	} {
		if got, err := MetadataPath(in); err != nil || got != want {
			t.Errorf("MetadataPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestMetadataHandler(t *testing.T) {
	h := MetadataHandler("http://127.0.0.1:8000/mcp", "http://127.0.0.1:9090", []string{"notes:read"}, "Nextcloud MCP")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/oauth-protected-resource/mcp", nil))
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["resource"] != "http://127.0.0.1:8000/mcp" || fmt.Sprint(got["authorization_servers"]) != "[http://127.0.0.1:9090]" ||
		fmt.Sprint(got["bearer_methods_supported"]) != "[header]" || fmt.Sprint(got["scopes_supported"]) != "[notes:read]" {
		t.Errorf("metadata = %v", got)
	}
}

// TestRejectToken: a handler behind Middleware that learns the token is
// bad before it answers turns the answer into a 401 invalid_token
// challenge with a JSON-RPC error for the request's id; once the answer
// has begun it cannot, and says so; without Middleware there is nothing to
// reject.
func TestRejectToken(t *testing.T) {
	const body = `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"read_tool","arguments":{}}}`
	cases := []struct {
		name       string
		handler    func(w http.ResponseWriter, ti *auth.TokenInfo) bool
		wantStatus int
		wantReject bool
	}{
		{"before the answer", func(w http.ResponseWriter, ti *auth.TokenInfo) bool {
			ok := RejectToken(ti, "the IdP refused it")
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte("event: message\ndata: {}\n\n"))
			return ok
		}, http.StatusUnauthorized, true},
		{"after the answer began", func(w http.ResponseWriter, ti *auth.TokenInfo) bool {
			_, _ = w.Write([]byte("event: message\ndata: {}\n\n"))
			return RejectToken(ti, "too late")
		}, http.StatusOK, false},
		{"flush before the answer commits nothing", func(w http.ResponseWriter, ti *auth.TokenInfo) bool {
			w.(http.Flusher).Flush()
			ok := RejectToken(ti, "the IdP refused it")
			_, _ = w.Write([]byte("data: {}\n\n"))
			return ok
		}, http.StatusUnauthorized, true},
		{"no token info", func(w http.ResponseWriter, _ *auth.TokenInfo) bool {
			return RejectToken(&auth.TokenInfo{UserID: "alice"}, "x")
		}, http.StatusOK, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rejected bool
			h := Middleware(testVerifier, Options{ResourceMetadataURL: prm, Required: required})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ti := auth.TokenInfoFromContext(r.Context())
				rejected = tc.handler(w, ti)
			}))
			req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer read")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.wantReject, rejected)
			assert.Equal(t, tc.wantStatus, rec.Code)
			if tc.wantStatus != http.StatusUnauthorized {
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
				return
			}
			assert.Equal(t, `Bearer error="invalid_token", error_description="the IdP refused it", resource_metadata="`+prm+`"`, rec.Header().Get("WWW-Authenticate"))
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.JSONEq(t, `{"jsonrpc":"2.0","id":42,"error":{"code":-32600,"message":"invalid_token: the IdP refused it"}}`, rec.Body.String())
		})
	}
}
