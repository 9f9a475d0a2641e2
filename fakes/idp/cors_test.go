package idp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

// TestCORS: browser clients (the MCP Inspector) may call the metadata,
// token and registration endpoints from JavaScript; the authorization page
// is not offered cross-origin.
func TestCORS(t *testing.T) {
	s := idptest.Start(t)
	tests := []struct {
		name, method, path string
		preflight          bool
		wantStatus         int
		wantAllowOrigin    string
	}{
		{"discovery", "GET", "/.well-known/oauth-authorization-server", false, 200, "*"},
		{"jwks", "GET", "/jwks", false, 200, "*"},
		{"token preflight", "OPTIONS", "/token", true, 204, "*"},
		{"register preflight", "OPTIONS", "/register", true, 204, "*"},
		{"token without origin has no CORS", "POST", "/token", false, 400, ""},
		{"authorize gets no CORS", "GET", "/authorize?client_id=mcp-client", false, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.path, nil)
			if tt.wantAllowOrigin != "" || strings.HasPrefix(tt.path, "/authorize") {
				req.Header.Set("Origin", "http://localhost:6274")
			}
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Access-Control-Allow-Origin") != tt.wantAllowOrigin {
				t.Errorf("status %d, Allow-Origin %q; want %d, %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), tt.wantStatus, tt.wantAllowOrigin)
			}
			if tt.preflight && !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
				t.Errorf("preflight Allow-Headers = %q", resp.Header.Get("Access-Control-Allow-Headers"))
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials must never be allowed")
			}
		})
	}
}
