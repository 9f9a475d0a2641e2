package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
)

const inspectorOrigin = "http://localhost:6274"

// originRequest sends an initialize (or a CORS preflight) to url with the
// given Origin headers and returns the response with its body read.
func originRequest(t *testing.T, method, url, token string, origins ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(initBody)
	}
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if method == http.MethodOptions {
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, o := range origins {
		req.Header.Add("Origin", o)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp, string(b)
}

// TestOriginValidation: MCP 2025-11-25 (transports, security warning)
// requires servers to validate Origin and answer 403 when it is present
// and invalid. Valid are the server's own origin and MCP_ALLOWED_ORIGINS,
// in every mode; a request without Origin (a non-browser client) passes.
func TestOriginValidation(t *testing.T) {
	for _, mode := range []server.Mode{server.ModeBasic, server.ModeExchange} {
		t.Run(string(mode), func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: mode, MutateServer: func(c *server.Config) {
				c.AllowedOrigins = []string{inspectorOrigin}
			}})
			token := ""
			if mode != server.ModeBasic {
				var err error
				token, err = st.Token(context.Background(), "alice", allScopes)
				require.NoError(t, err)
			}
			tests := []struct {
				name    string
				origins []string
				allowed bool
			}{
				{name: "no Origin", allowed: true},
				{name: "own origin", origins: []string{st.BaseURL}, allowed: true},
				{name: "own origin in other case", origins: []string{strings.ToUpper(st.BaseURL)}, allowed: true},
				{name: "allow-listed origin", origins: []string{inspectorOrigin}, allowed: true},
				{name: "foreign origin", origins: []string{"http://evil.example"}},
				{name: "null origin", origins: []string{"null"}},
				{name: "allow-listed host on another port", origins: []string{"http://localhost:6275"}},
				{name: "allow-listed host over https", origins: []string{"https://localhost:6274"}},
				{name: "origin with a path", origins: []string{inspectorOrigin + "/x"}},
				{name: "garbage", origins: []string{"not an origin"}},
				{name: "two origins", origins: []string{inspectorOrigin, "http://evil.example"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := originRequest(t, http.MethodPost, st.MCPURL, token, tt.origins...)
					if !tt.allowed {
						assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
						var rpc struct {
							JSONRPC string `json:"jsonrpc"`
							Error   struct {
								Code    int    `json:"code"`
								Message string `json:"message"`
							} `json:"error"`
						}
						require.NoError(t, json.Unmarshal([]byte(body), &rpc), "the 403 body is a JSON-RPC error: %s", body)
						assert.Equal(t, "2.0", rpc.JSONRPC)
						assert.Contains(t, rpc.Error.Message, "Origin")
						assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
						pre, _ := originRequest(t, http.MethodOptions, st.MCPURL, "", tt.origins...)
						assert.Equal(t, http.StatusForbidden, pre.StatusCode, "preflight")
						return
					}
					assert.Equal(t, http.StatusOK, resp.StatusCode, body)
				})
			}
		})
	}
}
