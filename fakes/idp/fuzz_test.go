package idp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
)

// FuzzTokenEndpoint throws arbitrary bodies, content types and
// Authorization headers at the token endpoint. Whatever comes in, the
// answer is a JSON token response or an RFC 6749 §5.2 error with a 4xx
// status: never a 5xx, never a panic, and never a token unless a
// confidential client really authenticated. "$SUBJECT" in the body is
// replaced by a valid exchange subject token, so the exchange grant is
// reachable.
func FuzzTokenEndpoint(f *testing.F) {
	cfg := idp.DefaultConfig()
	cfg.Issuer = "http://idp.test"
	p, err := idp.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	sub, err := p.IssueAccessToken(context.Background(), idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"notes:read"}})
	if err != nil {
		f.Fatal(err)
	}
	basic := func(u, pw string) string {
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(u, pw)
		return r.Header.Get("Authorization")
	}
	ct := "application/x-www-form-urlencoded"
	seeds := []struct{ body, contentType, authz string }{
		{"grant_type=client_credentials", ct, basic(idp.ClientNextcloud, nextcloudSecret)},
		{"grant_type=client_credentials&client_id=nextcloud&client_secret=nextcloud-secret&scope=notes:read", ct, ""},
		{"grant_type=" + url.QueryEscape(idp.GrantTokenExchange) + "&subject_token=$SUBJECT&subject_token_type=" + url.QueryEscape(idp.TokenTypeAccessToken) + "&audience=nextcloud", ct, basic(idp.ClientMCPServer, serverSecret)},
		{"grant_type=authorization_code&code=abc&redirect_uri=http://127.0.0.1/cb&code_verifier=" + testVerifier + "&client_id=mcp-client", ct, ""},
		{"grant_type=refresh_token&refresh_token=abc&client_id=mcp-client&scope=openid", ct, ""},
		{"grant_type=client_credentials&grant_type=client_credentials", ct, basic(idp.ClientNextcloud, nextcloudSecret)},
		{"grant_type=%zz", ct, ""},
		{`{"grant_type":"client_credentials"}`, "application/json", ""},
		{"grant_type=client_credentials", ct + "; charset=UTF-8", "Basic !!!"},
		{"grant_type=client_credentials", ct, "Bearer abc"},
		{"", "", ""},
		{"grant_type=password&username=alice&password=alice-password", ct, basic(idp.ClientNextcloud, nextcloudSecret)},
	}
	for _, s := range seeds {
		f.Add(s.body, s.contentType, s.authz)
	}
	secrets := map[string]string{idp.ClientNextcloud: nextcloudSecret, idp.ClientMCPServer: serverSecret}
	f.Fuzz(func(t *testing.T, body, contentType, authz string) {
		body = strings.ReplaceAll(body, "$SUBJECT", sub.AccessToken)
		req := httptest.NewRequest(http.MethodPost, "http://idp.test/token", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		var resp map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("status %d, body is not JSON: %q", rec.Code, rec.Body.String())
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("no Cache-Control: no-store")
		}
		switch rec.Code {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusMethodNotAllowed:
			if _, ok := resp["error"].(string); !ok || resp["access_token"] != nil {
				t.Fatalf("error status %d without error code or with a token: %v", rec.Code, resp)
			}
		case http.StatusOK:
			if resp["access_token"] == nil {
				t.Fatalf("200 without a token: %v", resp)
			}
			// A token requires a real confidential client authentication.
			form, _ := url.ParseQuery(body)
			id, secret := form.Get("client_id"), form.Get("client_secret")
			if u, pw, ok := req.BasicAuth(); ok {
				id, _ = url.QueryUnescape(u)
				secret, _ = url.QueryUnescape(pw)
			}
			if want, ok := secrets[id]; !ok || want != secret {
				t.Fatalf("token issued without valid client authentication (client %q)", id)
			}
		default:
			t.Fatalf("unexpected status %d: %v", rec.Code, resp)
		}
	})
}
