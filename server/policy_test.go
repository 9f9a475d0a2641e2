package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/bearer"
)

type noArgs struct{}

// policyServer serves two tools and a notes resource behind the bearer
// middleware; the token's text is its space-separated scope list.
func policyServer(t *testing.T, enforceInMCP, enforceInHTTP bool) (string, *int) {
	t.Helper()
	calls := new(int)
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "0"}, nil)
	p := newScopePolicy()
	for _, tool := range []struct{ name, scope string }{{"read_tool", "notes:read"}, {"write_tool", "notes:write"}, {"free_tool", ""}} {
		var need []string
		if tool.scope != "" {
			need = []string{tool.scope}
		}
		p.setTool(tool.name, need)
		mcp.AddTool(s, &mcp.Tool{Name: tool.name, Description: "d"}, func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			*calls++
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
		})
	}
	s.AddResource(&mcp.Resource{URI: "notes://settings", Name: "settings"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		*calls++
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: "notes://settings", Text: "{}"}}}, nil
	})
	s.AddResource(&mcp.Resource{URI: "nc://capabilities", Name: "caps"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: "nc://capabilities", Text: "{}"}}}, nil
	})
	s.AddReceivingMiddleware(p.middleware(true, enforceInMCP))
	var h http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	opts := bearer.Options{ResourceMetadataURL: "http://x/prm"}
	if enforceInHTTP {
		opts.Required = p.required
	}
	h = bearer.Middleware(func(_ context.Context, tok string) (*auth.TokenInfo, error) {
		return &auth.TokenInfo{UserID: "alice", Scopes: strings.Split(tok, "+"), Expiration: time.Now().Add(time.Hour)}, nil
	}, opts)(h)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

type tokenTransport struct{ token string }

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return http.DefaultTransport.RoundTrip(r)
}

func connect(t *testing.T, url, token string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "0"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: tokenTransport{token}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestPolicyFiltersLists(t *testing.T) {
	url, _ := policyServer(t, true, true)
	cs := connect(t, url, "notes:read+openid")
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"free_tool", "read_tool"}) {
		t.Errorf("tools = %v", names)
	}
	cs2 := connect(t, url, "openid")
	res, err := cs2.ListResources(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Resources) != 1 || res.Resources[0].URI != "nc://capabilities" {
		t.Errorf("resources without notes:read = %+v", res.Resources)
	}
}

func TestPolicyRefusesCallsInHTTPLayer(t *testing.T) {
	url, calls := policyServer(t, true, true)
	cs := connect(t, url, "notes:read")
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "read_tool"}); err != nil {
		t.Fatalf("read_tool: %v", err)
	}
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "write_tool"})
	if err == nil || !strings.Contains(err.Error(), "insufficient_scope") || !strings.Contains(err.Error(), "notes:read notes:write") {
		t.Fatalf("write_tool err = %v, want a 403 insufficient_scope refusal", err)
	}
	if *calls != 1 {
		t.Errorf("handler ran %d times, want 1", *calls)
	}
}

// TestPolicyRefusesCallsInMCPLayer proves the defence in depth: with the
// HTTP check off, the MCP middleware still refuses.
func TestPolicyRefusesCallsInMCPLayer(t *testing.T) {
	url, calls := policyServer(t, true, false)
	cs := connect(t, url, "notes:read")
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "write_tool"})
	if err == nil || !strings.Contains(err.Error(), "insufficient_scope") || !strings.Contains(err.Error(), "notes:read notes:write") {
		t.Fatalf("write_tool err = %v", err)
	}
	_, err = cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "notes://settings"})
	if err != nil {
		t.Fatalf("notes://settings with notes:read: %v", err)
	}
	cs2 := connect(t, url, "openid")
	if _, err := cs2.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "notes://settings"}); err == nil || !strings.Contains(err.Error(), "insufficient_scope") {
		t.Fatalf("notes://settings without notes:read: err = %v", err)
	}
	if *calls != 1 {
		t.Errorf("handlers ran %d times, want 1", *calls)
	}
}
