package idp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
)

// benchIdP is an in-process IdP; benchmarks drive ServeHTTP directly so
// they measure the token endpoint, not the loopback network stack.
func benchIdP(b *testing.B, alg string) *idp.IdP {
	cfg := idp.DefaultConfig()
	cfg.Issuer = "http://idp.test"
	cfg.SigningAlg = alg
	cfg.AutoApprove = true
	p, err := idp.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func serveForm(p *idp.IdP, path string, f url.Values, user, pass string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "http://idp.test"+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	return rec
}

// BenchmarkTokenEndpoint measures token responses per second for the
// authorization-code exchange (PKCE, access + ID token: two signatures) and
// for RFC 8693 token exchange (subject verification + one signature).
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run("code/"+alg, func(b *testing.B) {
			p := benchIdP(b, alg)
			authz := "http://idp.test/authorize?" + url.Values{
				"response_type": {"code"}, "client_id": {idp.ClientMCP}, "redirect_uri": {loopbackCB},
				"code_challenge": {challengeOf(testVerifier)}, "code_challenge_method": {"S256"},
				"scope": {"openid notes:read"}, "resource": {mcpResource},
			}.Encode()
			codes := make([]string, b.N)
			for i := range codes {
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, authz, nil))
				loc, err := url.Parse(rec.Header().Get("Location"))
				if err != nil || loc.Query().Get("code") == "" {
					b.Fatalf("authorize: %d %s", rec.Code, rec.Header().Get("Location"))
				}
				codes[i] = loc.Query().Get("code")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := serveForm(p, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]},
					"redirect_uri": {loopbackCB}, "code_verifier": {testVerifier}, "client_id": {idp.ClientMCP}, "resource": {mcpResource}}, "", "")
				if rec.Code != 200 {
					b.Fatalf("token: %d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
		b.Run("exchange/"+alg, func(b *testing.B) {
			p := benchIdP(b, alg)
			sub, err := p.IssueAccessToken(context.Background(), idp.IssueRequest{ClientID: idp.ClientMCP, Username: "alice", Scopes: []string{"notes:read"}})
			if err != nil {
				b.Fatal(err)
			}
			f := url.Values{"grant_type": {idp.GrantTokenExchange}, "subject_token": {sub.AccessToken},
				"subject_token_type": {idp.TokenTypeAccessToken}, "audience": {idp.ClientNextcloud}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if rec := serveForm(p, "/token", f, idp.ClientMCPServer, serverSecret); rec.Code != 200 {
					b.Fatalf("exchange: %d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
