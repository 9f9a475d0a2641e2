package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/bearer"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

type noArgs struct{}

type okOut struct {
	OK bool `json:"ok"`
}

// policyModule is a throw-away module: a read tool, a write tool, a public
// tool, a static resource and a template, all counting their calls.
func policyModule(calls *atomic.Int32) tools.Module {
	tool := func(name string, readOnly bool, opts ...tools.Option) tools.Tool {
		return tools.Func(mcp.Tool{Name: name, Title: name, Description: "d", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: readOnly}},
			func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, okOut, error) {
				calls.Add(1)
				return nil, okOut{OK: true}, nil
			}, opts...)
	}
	read := func(_ context.Context, _ *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		calls.Add(1)
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "{}"}}}, nil
	}
	return tools.Module{
		ID: "probe", Title: "Probe", Read: "notes:read", Write: "notes:write",
		Tools: []tools.Tool{tool("read_tool", true), tool("write_tool", false), tool("free_tool", false, tools.Public())},
		Resources: []tools.Resource{
			tools.StaticResource(mcp.Resource{URI: "notes://settings", Name: "settings"}, read),
			tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://Probe/{id}", Name: "probe"}, read),
			tools.StaticResource(mcp.Resource{URI: "nc://capabilities", Name: "caps"}, read, tools.Public()),
		},
	}
}

// policyServer serves policyModule behind the bearer middleware, plus one
// tool and one resource added to the MCP server behind the registry's
// back (as a forgotten registration would). The token's text is its
// "+"-separated scope list.
func policyServer(t *testing.T, enforceInMCP, enforceInHTTP bool) (string, *atomic.Int32) {
	t.Helper()
	calls := new(atomic.Int32)
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "0"}, nil)
	set := tools.NewSet(policyModule(calls))
	set.Register(s, &tools.Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) {
		return nextcloud.New("http://127.0.0.1:1", nil)
	}})
	mcp.AddTool(s, &mcp.Tool{Name: "rogue_tool", Description: "registered without the kit"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			calls.Add(1)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ran"}}}, nil, nil
		})
	s.AddResource(&mcp.Resource{URI: "nc://rogue", Name: "rogue"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		calls.Add(1)
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: "nc://rogue", Text: "leak"}}}, nil
	})
	sp := scopePolicy{p: set.Policy()}
	s.AddReceivingMiddleware(sp.middleware(true, enforceInMCP))
	var h http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	opts := bearer.Options{ResourceMetadataURL: "http://x/prm"}
	if enforceInHTTP {
		opts.Required = sp.required
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
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func listedTools(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

func TestPolicyFiltersLists(t *testing.T) {
	url, _ := policyServer(t, true, true)
	ctx := context.Background()

	cs := connect(t, url, "notes:read+openid")
	assert.Equal(t, []string{"free_tool", "read_tool"}, listedTools(t, cs), "the write tool and the unregistered tool are hidden")

	cs2 := connect(t, url, "openid")
	assert.Equal(t, []string{"free_tool"}, listedTools(t, cs2))
	res, err := cs2.ListResources(ctx, nil)
	require.NoError(t, err)
	require.Len(t, res.Resources, 1, "without notes:read only the public resource is listed (and never the unregistered one)")
	assert.Equal(t, "nc://capabilities", res.Resources[0].URI)
	tmpl, err := cs2.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, tmpl.ResourceTemplates)

	tmpl, err = cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	require.Len(t, tmpl.ResourceTemplates, 1)
	assert.Equal(t, "nc://Probe/{id}", tmpl.ResourceTemplates[0].URITemplate)
}

func TestPolicyRefusesCallsInHTTPLayer(t *testing.T) {
	url, calls := policyServer(t, true, true)
	cs := connect(t, url, "notes:read")
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "read_tool"})
	require.NoError(t, err)
	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "write_tool"})
	require.Error(t, err, "a 403 insufficient_scope refusal")
	assert.Contains(t, err.Error(), "insufficient_scope")
	assert.Contains(t, err.Error(), "notes:read notes:write")
	assert.EqualValues(t, 1, calls.Load(), "only read_tool ran")
}

// TestPolicyRefusesCallsInMCPLayer proves the defence in depth: with the
// HTTP check off, the MCP middleware still refuses.
func TestPolicyRefusesCallsInMCPLayer(t *testing.T) {
	url, calls := policyServer(t, true, false)
	ctx := context.Background()
	cs := connect(t, url, "notes:read")
	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "write_tool"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "insufficient_scope")
	assert.Contains(t, err.Error(), "notes:read notes:write")
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notes://settings"})
	require.NoError(t, err, "notes://settings with notes:read")
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "nc://Probe/7"})
	require.NoError(t, err, "a URI of the template with notes:read")

	cs2 := connect(t, url, "openid")
	for _, uri := range []string{"notes://settings", "nc://Probe/7"} {
		_, err = cs2.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		require.Error(t, err, uri)
		assert.Contains(t, err.Error(), "insufficient_scope", uri)
	}
	assert.EqualValues(t, 2, calls.Load(), "handlers ran only for the two allowed reads")
}

// TestPolicyRefusesUnknownAtEveryLayer: a tool or resource on the MCP
// server that the registry does not define is refused with every layer on,
// with only the HTTP layer, and with only the MCP layer — also for a token
// holding every scope.
func TestPolicyRefusesUnknownAtEveryLayer(t *testing.T) {
	layers := []struct {
		name           string
		inMCP, inHTTP  bool
		wantToolErrMsg string
	}{
		{name: "both layers", inMCP: true, inHTTP: true},
		{name: "HTTP layer only", inMCP: false, inHTTP: true},
		{name: "MCP layer only", inMCP: true, inHTTP: false},
	}
	for _, l := range layers {
		t.Run(l.name, func(t *testing.T) {
			ctx := context.Background()
			url, calls := policyServer(t, l.inMCP, l.inHTTP)
			cs := connect(t, url, "notes:read+notes:write+openid")
			_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "rogue_tool"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `unknown tool "rogue_tool"`)
			_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "nc://rogue"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Resource not found")
			_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "nc://Probe/7/extra"})
			require.Error(t, err, "a URI no template matches")
			assert.NotContains(t, listedTools(t, cs), "rogue_tool")
			assert.Zero(t, calls.Load(), "nothing unknown ran")
		})
	}
}

// TestPolicyUnknownInBasicMode: without a token (basic mode, stdio) no
// scope is checked, but what the registry does not define is still
// refused and unlisted.
func TestPolicyUnknownInBasicMode(t *testing.T) {
	calls := new(atomic.Int32)
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "0"}, nil)
	set := tools.NewSet(policyModule(calls))
	set.Register(s, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "rogue_tool", Description: "registered without the kit"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			calls.Add(1)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ran"}}}, nil, nil
		})
	s.AddReceivingMiddleware(scopePolicy{p: set.Policy()}.middleware(false, true))
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	require.NoError(t, err)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "0"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close(); _ = ss.Wait() })

	assert.Equal(t, []string{"free_tool", "read_tool", "write_tool"}, listedTools(t, cs))
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "write_tool"})
	require.NoError(t, err, "no scopes in basic mode")
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "rogue_tool"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown tool "rogue_tool"`)
	assert.EqualValues(t, 1, calls.Load())
}
