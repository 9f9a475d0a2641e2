package mcpwire

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Text string `json:"text" jsonschema:"what to echo"`
}

func startServer(t *testing.T, jsonResponse bool) string {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "echo", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			if in.Text == "fail" {
				return nil, nil, errTool
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Text}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{JSONResponse: jsonResponse})
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs.URL
}

type toolErr string

func (e toolErr) Error() string { return string(e) }

const errTool = toolErr("the tool failed")

func TestClientRoundTrip(t *testing.T) {
	for _, jsonResponse := range []bool{false, true} {
		name := "sse"
		if jsonResponse {
			name = "json"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := &Client{URL: startServer(t, jsonResponse), HTTP: &http.Client{Timeout: 5 * time.Second}}
			resp, err := c.Initialize(ctx)
			if err != nil || !resp.OK() {
				t.Fatalf("Initialize: %v %+v", err, resp)
			}
			if c.SessionID == "" || c.Protocol == "" {
				t.Fatalf("session %q protocol %q", c.SessionID, c.Protocol)
			}
			tools, _, err := c.ListTools(ctx)
			if err != nil || len(tools) != 1 || tools[0].Name != "echo" || tools[0].Annotations == nil || !tools[0].Annotations.ReadOnlyHint {
				t.Fatalf("ListTools = %+v, %v", tools, err)
			}
			res, _, err := c.CallTool(ctx, "echo", map[string]any{"text": "hi"})
			if err != nil || res == nil || res.IsError || res.Text() != "echo: hi" {
				t.Fatalf("CallTool = %+v, %v", res, err)
			}
			res, _, err = c.CallTool(ctx, "echo", map[string]any{"text": "fail"})
			if err != nil || res == nil || !res.IsError || !strings.Contains(res.Text(), "the tool failed") {
				t.Fatalf("CallTool(fail) = %+v, %v", res, err)
			}
			res, resp, err = c.CallTool(ctx, "nope", nil)
			if err != nil || res != nil || resp.Reply == nil || resp.Reply.Error == nil {
				t.Fatalf("CallTool(unknown) = %+v, %+v, %v", res, resp, err)
			}
			if !strings.Contains(resp.Summary(), "JSON-RPC") {
				t.Fatalf("Summary = %q", resp.Summary())
			}
		})
	}
}

func TestNonOKStatusIsNotAnError(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("access_token") != "" || r.Header.Get("Authorization") != "Bearer good" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	defer hs.Close()
	c := &Client{URL: hs.URL, HTTP: hs.Client(), Token: "bad"}
	resp, err := c.Initialize(context.Background())
	if err != nil || resp.Status != http.StatusUnauthorized || c.SessionID != "" {
		t.Fatalf("Initialize = %+v, %v", resp, err)
	}
	c.Token = "good"
	resp, err = c.Send(context.Background(), "ping", nil, func(r *http.Request) {
		q := r.URL.Query()
		q.Set("access_token", "good")
		r.URL.RawQuery = q.Encode()
	})
	if err != nil || resp.Status != http.StatusUnauthorized {
		t.Fatalf("tweaked Send = %+v, %v", resp, err)
	}
}
