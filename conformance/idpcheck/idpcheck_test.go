package idpcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
)

// tamper rewrites one response of the real fake IdP: it gets the request
// and the recorded answer and may change either, or answer by itself
// (handled = true).
type tamper func(r *http.Request, body []byte, rec *httptest.ResponseRecorder) (handled bool)

// startIdP runs the fake IdP behind a proxy that applies t (nil = none),
// so each check can be shown to fail on an IdP that breaks its rule.
func startIdP(t *testing.T, tm tamper) *grade.Target {
	t.Helper()
	var p *idp.IdP
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		if tm != nil {
			if tm(r, body, nil) {
				return
			}
		}
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		p.ServeHTTP(rec, r2)
		if tm != nil {
			tm(r, body, rec)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes()) // a failed write shows up as the client's error
	}))
	t.Cleanup(hs.Close)
	cfg := idp.DefaultConfig()
	cfg.ControlAPI = true
	cfg.AutoApprove = true
	cfg.SigningAlg = "ES256"
	var err error
	if p, err = idp.New(cfg); err != nil {
		t.Fatal(err)
	}
	if err := p.SetIssuer(hs.URL); err != nil {
		t.Fatal(err)
	}
	hc := grade.NewHTTPClient(10 * time.Second)
	ctl := fakectl.NewIdP(hs.URL, hc)
	issue := func(ctx context.Context, offline bool) (*fakectl.TokenResponse, error) {
		return ctl.Issue(ctx, fakectl.IssueRequest{ClientID: "mcp-client", Username: "alice", Scopes: []string{"openid", "notes:read"}, Offline: offline})
	}
	return &grade.Target{Name: "idp", HTTP: hc, IdP: &grade.IdP{
		Issuer: hs.URL, PublicClientID: "mcp-client", RedirectURI: "http://127.0.0.1:53682/callback",
		Confidential:     &grade.ClientCredentials{ID: "nextcloud-mcp-server", Secret: "nextcloud-mcp-server-secret"},
		ExchangeAudience: "nextcloud",
		SubjectToken: func(ctx context.Context) (string, error) {
			r, err := issue(ctx, false)
			if err != nil {
				return "", err
			}
			return r.AccessToken, nil
		},
		RefreshToken: func(ctx context.Context) (string, error) {
			r, err := issue(ctx, true)
			if err != nil {
				return "", err
			}
			return r.RefreshToken, nil
		},
		Control: ctl,
	}}
}

// rewriteJSON edits the recorded JSON answer of matching requests.
func rewriteJSON(match func(r *http.Request, body []byte) bool, edit func(m map[string]any)) tamper {
	return func(r *http.Request, body []byte, rec *httptest.ResponseRecorder) bool {
		if rec == nil || !match(r, body) {
			return false
		}
		var m map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &m) != nil {
			return false
		}
		edit(m)
		b, _ := json.Marshal(m)
		rec.Body.Reset()
		rec.Body.Write(b)
		rec.Header().Del("Content-Length")
		return false
	}
}

// answer replaces the answer to matching requests.
func answer(match func(r *http.Request, body []byte) bool, status int, hdr map[string]string, body string) tamper {
	return func(r *http.Request, b []byte, rec *httptest.ResponseRecorder) bool {
		if !match(r, b) {
			return false
		}
		if rec == nil {
			return false
		}
		rec.Body.Reset()
		for k := range rec.Header() {
			rec.Header().Del(k)
		}
		for k, v := range hdr {
			rec.Header().Set(k, v)
		}
		rec.Code = status
		rec.Body.WriteString(body)
		return false
	}
}

func path(p string) func(*http.Request, []byte) bool {
	return func(r *http.Request, _ []byte) bool { return strings.HasPrefix(r.URL.Path, p) }
}

func form(p, kv string) func(*http.Request, []byte) bool {
	return func(r *http.Request, b []byte) bool {
		return strings.HasPrefix(r.URL.Path, p) && (strings.Contains(string(b), kv) || strings.Contains(r.URL.RawQuery, kv))
	}
}

func noAuth(p string) func(*http.Request, []byte) bool {
	return func(r *http.Request, _ []byte) bool { return r.URL.Path == p && r.Header.Get("Authorization") == "" }
}

func TestChecksAgainstTheFakeIdP(t *testing.T) {
	tg := startIdP(t, nil)
	ctx := context.Background()
	for name, check := range map[string]grade.Func{
		"MetadataIssuer": MetadataIssuer, "MetadataRequired": MetadataRequired, "MetadataS256": MetadataS256,
		"MetadataRecommended": MetadataRecommended, "PlainRefused": PlainRefused, "PKCERequired": PKCERequired,
		"UnsupportedGrant": UnsupportedGrant, "InvalidClient": InvalidClient, "ExchangeResponse": ExchangeResponse,
		"NoStore": NoStore, "InvalidTarget": InvalidTarget, "ExchangeUnsupported": ExchangeUnsupported,
		"IntrospectionActive": IntrospectionActive, "IntrospectionAuth": IntrospectionAuth,
		"RefreshRotation": RefreshRotation, "RefreshReuse": RefreshReuse,
	} {
		if o := check(ctx, tg); o.Status != grade.Pass {
			t.Errorf("%s against the fake IdP: %s: %s", name, o.Status, o.Evidence)
		}
	}
}

// reuseTolerant answers a reused refresh token as if it were fine.
func reuseTolerant() tamper {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(r *http.Request, b []byte, rec *httptest.ResponseRecorder) bool {
		if rec == nil || !strings.Contains(string(b), "grant_type=refresh_token") {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		key := string(b)
		if seen[key] {
			rec.Body.Reset()
			rec.Code = 200
			rec.Body.WriteString(`{"access_token":"a","token_type":"Bearer","refresh_token":"r2"}`)
		}
		seen[key] = true
		return false
	}
}

func TestChecksFailOnBrokenIdPs(t *testing.T) {
	tokenPath := "/token"
	tests := []struct {
		name   string
		check  grade.Func
		tamper tamper
	}{
		{"issuer differs", MetadataIssuer, rewriteJSON(path("/.well-known/"), func(m map[string]any) { m["issuer"] = m["issuer"].(string) + "/" })},
		{"no response types", MetadataRequired, rewriteJSON(path("/.well-known/"), func(m map[string]any) { delete(m, "response_types_supported") })},
		{"relative token endpoint", MetadataRequired, rewriteJSON(path("/.well-known/"), func(m map[string]any) { m["token_endpoint"] = "/token" })},
		{"no S256", MetadataS256, rewriteJSON(path("/.well-known/"), func(m map[string]any) { m["code_challenge_methods_supported"] = []string{"plain"} })},
		{"no introspection endpoint", MetadataRecommended, rewriteJSON(path("/.well-known/"), func(m map[string]any) { delete(m, "introspection_endpoint") })},
		{"plain accepted", PlainRefused, answer(form("/authorize", "code_challenge_method=plain"), 200, nil, "<html>login</html>")},
		{"no PKCE accepted", PKCERequired, answer(func(r *http.Request, _ []byte) bool {
			return r.URL.Path == "/authorize" && !strings.Contains(r.URL.RawQuery, "code_challenge")
		}, 200, nil, "<html>login</html>")},
		{"unknown grant", UnsupportedGrant, rewriteJSON(form(tokenPath, "no-such-grant"), func(m map[string]any) { m["error"] = "invalid_grant" })},
		{"invalid_client without challenge", InvalidClient, func(r *http.Request, b []byte, rec *httptest.ResponseRecorder) bool {
			if rec != nil && r.URL.Path == tokenPath {
				rec.Header().Del("WWW-Authenticate")
			}
			return false
		}},
		{"invalid_client as 400", InvalidClient, func(r *http.Request, b []byte, rec *httptest.ResponseRecorder) bool {
			if rec != nil && r.URL.Path == tokenPath && rec.Code == 401 {
				rec.Code = 400
			}
			return false
		}},
		{"no issued_token_type", ExchangeResponse, rewriteJSON(form(tokenPath, "token-exchange"), func(m map[string]any) { delete(m, "issued_token_type") })},
		{"no-store missing", NoStore, func(r *http.Request, b []byte, rec *httptest.ResponseRecorder) bool {
			if rec != nil && r.URL.Path == tokenPath {
				rec.Header().Set("Cache-Control", "max-age=60")
			}
			return false
		}},
		{"invalid_target as invalid_request", InvalidTarget, rewriteJSON(form(tokenPath, "conformance-unknown"), func(m map[string]any) { m["error"] = "invalid_request" })},
		{"exchange advertised while off", ExchangeUnsupported, rewriteJSON(path("/.well-known/"), func(m map[string]any) {
			m["grant_types_supported"] = []string{"authorization_code", "urn:ietf:params:oauth:grant-type:token-exchange"}
		})},
		{"unknown token introspects active", IntrospectionActive, rewriteJSON(form("/introspect", "conformance-"), func(m map[string]any) { m["active"] = true })},
		{"unknown token introspection says more", IntrospectionActive, rewriteJSON(form("/introspect", "conformance-"), func(m map[string]any) { m["client_id"] = "x" })},
		{"unauthenticated introspection", IntrospectionAuth, answer(noAuth("/introspect"), 200, map[string]string{"Content-Type": "application/json"}, `{"active":true,"sub":"alice"}`)},
		{"no rotation", RefreshRotation, rewriteJSON(form(tokenPath, "grant_type=refresh_token"), func(m map[string]any) { delete(m, "refresh_token") })},
		{"reuse accepted", RefreshReuse, reuseTolerant()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := startIdP(t, tt.tamper)
			o := tt.check(context.Background(), tg)
			if o.Status != grade.Fail {
				t.Fatalf("%s, want FAIL: %s", o.Status, o.Evidence)
			}
			t.Logf("FAIL as expected: %s", o.Evidence)
		})
	}
}

func TestChecksWithoutTokensAreNotApplicable(t *testing.T) {
	tg := startIdP(t, nil)
	tg.IdP.SubjectToken, tg.IdP.RefreshToken, tg.IdP.Confidential = nil, nil, nil
	for name, check := range map[string]grade.Func{"ExchangeResponse": ExchangeResponse, "RefreshRotation": RefreshRotation,
		"InvalidTarget": InvalidTarget, "UnsupportedGrant": UnsupportedGrant} {
		if o := check(context.Background(), tg); o.Status != grade.NA {
			t.Errorf("%s without tokens or client: %s, want N/A (%s)", name, o.Status, o.Evidence)
		}
	}
	if o := MetadataIssuer(context.Background(), &grade.Target{HTTP: tg.HTTP}); o.Status != grade.NA {
		t.Errorf("without an IdP: %s", o.Status)
	}
}

// TestChecksAreFairToOtherIdPs: an IdP without RFC 8693 (pass-through mode
// exists for it) gets N/A with the reason on the exchange checks, not a
// FAIL; an IdP that refuses to introspect its JWTs (RFC 7662 §2.3
// unsupported_token_type, oidc-provider's design) is graded with an opaque
// token when one is given, and is N/A with the reason otherwise.
func TestChecksAreFairToOtherIdPs(t *testing.T) {
	exchangeOff := func(r *http.Request, b []byte, rec *httptest.ResponseRecorder) bool {
		if rec == nil {
			return false
		}
		if strings.HasPrefix(r.URL.Path, "/.well-known/") {
			rewriteJSON(path("/.well-known/"), func(m map[string]any) {
				m["grant_types_supported"] = []string{"authorization_code", "refresh_token"}
			})(r, b, rec)
		}
		if r.URL.Path == "/token" && strings.Contains(string(b), "token-exchange") && rec.Code != 401 {
			answer(path("/token"), 400, map[string]string{"Content-Type": "application/json"}, `{"error":"unsupported_grant_type"}`)(r, b, rec)
		}
		return false
	}
	unadvertisedButRefused := answer(form("/token", "token-exchange"), 400, map[string]string{"Content-Type": "application/json"}, `{"error":"unsupported_grant_type"}`)
	jwtNotIntrospected := func(r *http.Request, b []byte, rec *httptest.ResponseRecorder) bool {
		if rec != nil && r.URL.Path == "/introspect" && strings.Contains(string(b), "token=ey") {
			answer(path("/introspect"), 400, map[string]string{"Content-Type": "application/json"},
				`{"error":"unsupported_token_type","error_description":"structured JWT Tokens cannot be introspected via the introspection_endpoint"}`)(r, b, rec)
		}
		return false
	}
	tests := []struct {
		name   string
		check  grade.Func
		tamper tamper
		opaque bool
		want   grade.Status
		says   string
	}{
		{"exchange not advertised: RFC8693-001", ExchangeResponse, exchangeOff, false, grade.NA, "does not advertise RFC 8693"},
		{"exchange not advertised: RFC8693-002", InvalidTarget, exchangeOff, false, grade.NA, "does not advertise RFC 8693"},
		{"exchange refused though listed: RFC8693-001", ExchangeResponse, unadvertisedButRefused, false, grade.NA, "unsupported_grant_type"},
		{"exchange refused though listed: RFC8693-002", InvalidTarget, unadvertisedButRefused, false, grade.NA, "unsupported_grant_type"},
		{"exchange refused though listed: RFC8693-003", InvalidClient, unadvertisedButRefused, false, grade.NA, "unsupported_grant_type"},
		{"JWT not introspected, no opaque token", IntrospectionActive, jwtNotIntrospected, false, grade.NA, "unsupported_token_type"},
		{"JWT not introspected, opaque token given", IntrospectionActive, jwtNotIntrospected, true, grade.Pass, "live opaque access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := startIdP(t, tt.tamper)
			if tt.opaque {
				// An opaque token of the fake (its refresh tokens are
				// opaque; the tamper refuses only JWTs).
				tg.IdP.OpaqueToken = tg.IdP.RefreshToken
			}
			o := tt.check(context.Background(), tg)
			if o.Status != tt.want || !strings.Contains(o.Evidence, tt.says) {
				t.Fatalf("%s %q, want %s saying %q", o.Status, o.Evidence, tt.want, tt.says)
			}
		})
	}
}
