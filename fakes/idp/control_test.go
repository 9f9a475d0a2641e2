package idp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

// TestMintVerifiedIndependently: go-oidc accepts a token minted with the
// current key and refuses each defective one for the right reason.
func TestMintVerifiedIndependently(t *testing.T) {
	s := idptest.Start(t)
	ctx := oidc.ClientContext(context.Background(), noRedirect)
	v := oidc.NewVerifier(s.URL, oidc.NewRemoteKeySet(ctx, s.URL+"/jwks"), &oidc.Config{ClientID: "nextcloud", SupportedSigningAlgs: []string{"RS256", "ES256", "HS256"}})
	base := map[string]any{"sub": "alice", "aud": "nextcloud", "scope": "notes:read"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, x := range base {
			m[k] = x
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name    string
		req     idp.MintRequest
		wantErr string // substring of go-oidc's error; "" = valid
	}{
		{"current", idp.MintRequest{Claims: base}, ""},
		{"expired", idp.MintRequest{Claims: base, ExpiresIn: -time.Minute}, "expired"},
		{"wrong audience", idp.MintRequest{Claims: with("aud", "someone-else")}, "audience"},
		{"wrong issuer", idp.MintRequest{Claims: with("iss", "http://evil.example")}, "different provider"},
		{"unknown key", idp.MintRequest{Claims: base, Key: idp.KeyUnknown}, "signature"},
		{"alg none", idp.MintRequest{Claims: base, Key: idp.KeyNone}, "malformed"},
		{"hs256 with public key", idp.MintRequest{Claims: base, Key: idp.KeyHS256Public}, "signature"},
		{"not yet valid", idp.MintRequest{Claims: with("nbf", time.Now().Add(time.Hour).Unix())}, "before"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := s.Mint(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(ctx, tok)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("valid token refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.wantErr)):
				t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
	t.Run("header override", func(t *testing.T) {
		tok, _ := s.Mint(idp.MintRequest{Claims: base, Header: map[string]any{"typ": "JWT", "kid": "bogus"}})
		if h := header(t, tok); h["typ"] != "JWT" || h["kid"] != "bogus" {
			t.Errorf("header %v", h)
		}
	})
	t.Run("no defaults", func(t *testing.T) {
		tok, _ := s.Mint(idp.MintRequest{Claims: map[string]any{"sub": "x"}, NoDefaults: true})
		if c := claims(t, tok); len(c) != 1 {
			t.Errorf("claims %v", c)
		}
	})
	t.Run("unknown key name", func(t *testing.T) {
		if _, err := s.Mint(idp.MintRequest{Key: "bogus"}); err == nil {
			t.Error("accepted")
		}
	})
}

func controlJSON(t *testing.T, s *idptest.Server, method, path, body string) result {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+"/_fake"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

func TestControlAPI(t *testing.T) {
	s := autoApprove(t)
	r := controlJSON(t, s, http.MethodPost, "/mint", `{"claims":{"sub":"bob","aud":"nextcloud"},"key":"unknown","expires_in":-30}`)
	if r.Status != 200 || r.str("token") == "" {
		t.Fatalf("mint: %s", r.Raw)
	}
	if c := claims(t, r.str("token")); c["sub"] != "bob" || c["exp"].(float64) > float64(time.Now().Unix()) {
		t.Errorf("minted claims %v", c)
	}
	r = controlJSON(t, s, http.MethodPost, "/issue", `{"client_id":"mcp-client","username":"alice","scopes":["notes:read"],"resource":"http://127.0.0.1:1/mcp"}`)
	if r.Status != 200 || r.str("access_token") == "" {
		t.Fatalf("issue: %s", r.Raw)
	}
	if r := controlJSON(t, s, http.MethodPost, "/issue", `{"client_id":"mcp-client","username":"mallory"}`); r.Status != 400 {
		t.Errorf("issue unknown user: %s", r.Raw)
	}
	before := s.KeyIDs()
	r = controlJSON(t, s, http.MethodPost, "/keys/rotate", `{"alg":"ES256"}`)
	if r.Status != 200 || r.str("kid") == before[0] || len(s.KeyIDs()) != 2 {
		t.Fatalf("rotate: %s", r.Raw)
	}
	if r := controlJSON(t, s, http.MethodPost, "/keys/rotate", ""); r.Status != 200 {
		t.Errorf("rotate without body: %s", r.Raw)
	}
	r = controlJSON(t, s, http.MethodPost, "/clock", `{"offset_seconds":3600}`)
	if r.Status != 200 || s.ClockOffset() != time.Hour {
		t.Fatalf("clock: %s", r.Raw)
	}
	s.SetClockOffset(0)
	if r := controlJSON(t, s, http.MethodPost, "/exchange", `{"enabled":false}`); r.Status != 204 {
		t.Errorf("exchange toggle: %s", r.Raw)
	}
	if m := get(t, s.URL+"/.well-known/openid-configuration"); strings.Contains(m.Raw, "token-exchange") {
		t.Error("exchange still advertised")
	}
	// Client upsert over HTTP (the dev stack sets the server's resource URI).
	if r := controlJSON(t, s, http.MethodPut, "/clients/nextcloud-mcp-server", `{"id":"nextcloud-mcp-server","secret":"s2","resource_uris":["http://127.0.0.1:9/mcp"],"exchange_audiences":["nextcloud"]}`); r.Status != 204 {
		t.Fatalf("upsert: %s", r.Raw)
	}
	if r := controlJSON(t, s, http.MethodGet, "/clients/nextcloud-mcp-server", ""); r.Status != 200 || r.str("secret") != "" || !strings.Contains(r.Raw, "9/mcp") {
		t.Errorf("client read: %s", r.Raw)
	}
	bad := []struct{ method, path, body string }{
		{http.MethodPost, "/mint", `{"claims":{},"bogus":1}`},
		{http.MethodPost, "/mint", `{"key":"bogus"}`},
		{http.MethodPost, "/mint", `not json`},
		{http.MethodPost, "/clock", `{"offset_seconds":"x"}`},
		{http.MethodPost, "/faults", `{"endpoint":"nope","status":500}`},
		{http.MethodPost, "/faults", `{"endpoint":"token"}`},
		{http.MethodPost, "/keys/rotate", `{"alg":"none"}`},
		{http.MethodPut, "/clients/x", `{"id":"y","secret":"s"}`},
		{http.MethodPut, "/clients/x", `{"id":"x"}`},
		{http.MethodPost, "/exchange", `{}`},
	}
	for _, tc := range bad {
		if r := controlJSON(t, s, tc.method, tc.path, tc.body); r.Status != 400 {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, r.Status, r.Raw)
		}
	}
	if r := controlJSON(t, s, http.MethodGet, "/nope", ""); r.Status != 404 {
		t.Errorf("unknown control path: %d", r.Status)
	}
	if r := controlJSON(t, s, http.MethodPost, "/reset", ""); r.Status != 204 {
		t.Fatalf("reset: %s", r.Raw)
	}
	if c, _ := s.Client(idp.ClientMCPServer); len(c.ResourceURIs) != 0 || c.Secret != serverSecret {
		t.Errorf("reset did not restore clients: %+v", c)
	}
	if m := get(t, s.URL+"/.well-known/openid-configuration"); !strings.Contains(m.Raw, "token-exchange") {
		t.Error("reset did not restore exchange")
	}
}

func TestControlAPIOff(t *testing.T) {
	s := idptest.Start(t, func(c *idp.Config) { c.ControlAPI = false })
	if r := controlJSON(t, s, http.MethodPost, "/mint", `{}`); r.Status != 404 {
		t.Errorf("control API without --control-api: %d", r.Status)
	}
}

func TestFaults(t *testing.T) {
	s := autoApprove(t)
	if r := controlJSON(t, s, http.MethodPost, "/faults", `{"endpoint":"token","status":503,"count":2}`); r.Status != 204 {
		t.Fatal(r.Raw)
	}
	cc := form("grant_type", "client_credentials")
	for i := range 2 {
		if r := post(t, s, "/token", cc, idp.ClientNextcloud, nextcloudSecret); r.Status != 503 || r.str("error") != "temporarily_unavailable" {
			t.Fatalf("fault %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if r := post(t, s, "/token", cc, idp.ClientNextcloud, nextcloudSecret); r.Status != 200 {
		t.Fatalf("after faults: %s", r.Raw)
	}
	s.InjectFault(idp.Fault{Endpoint: "jwks", Delay: 50 * time.Millisecond})
	start := time.Now()
	if r := get(t, s.URL+"/jwks"); r.Status != 200 || time.Since(start) < 50*time.Millisecond {
		t.Errorf("delay fault: %d after %v", r.Status, time.Since(start))
	}
	s.InjectFault(idp.Fault{Endpoint: "*", Status: 500, Error: "server_error"})
	if r := get(t, s.URL+"/.well-known/openid-configuration"); r.Status != 500 || r.str("error") != "server_error" {
		t.Errorf("wildcard fault: %d %s", r.Status, r.Raw)
	}
	s.InjectFault(idp.Fault{Endpoint: "token", Status: 500, Count: 5})
	if r := controlJSON(t, s, http.MethodDelete, "/faults", ""); r.Status != 204 {
		t.Fatal(r.Raw)
	}
	if r := post(t, s, "/token", cc, idp.ClientNextcloud, nextcloudSecret); r.Status != 200 {
		t.Errorf("cleared fault still active: %d", r.Status)
	}
}

// TestRequestLogHasNoSecrets runs every kind of request and checks the log
// records who did what, and holds no secret, password, code or token.
func TestRequestLogHasNoSecrets(t *testing.T) {
	s := autoApprove(t)
	c, _ := s.Client(idp.ClientMCPServer)
	c.ResourceURIs = []string{mcpResource}
	_ = s.UpsertClient(c)
	code := getCode(t, s, "scope", "openid offline_access notes:read", "resource", mcpResource)
	tr := exchangeCode(t, s, code)
	ex := postMap(t, s, exchangeForm(tr.str("access_token")), idp.ClientMCPServer, serverSecret)
	rt := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", tr.str("refresh_token"), "client_id", idp.ClientMCP), "", "")
	post(t, s, "/introspect", form("token", ex.str("access_token")), idp.ClientNextcloud, nextcloudSecret)
	post(t, s, "/revoke", form("token", rt.str("refresh_token"), "client_id", idp.ClientMCP), "", "")
	post(t, s, "/token", form("grant_type", "client_credentials"), idp.ClientNextcloud, "wrong-secret")
	userinfo(t, s, tr.str("access_token"))

	r := controlJSON(t, s, http.MethodGet, "/log", "")
	var entries []idp.LogEntry
	if err := json.Unmarshal([]byte(r.Raw), &entries); err != nil {
		t.Fatal(err)
	}
	secrets := []string{serverSecret, nextcloudSecret, "wrong-secret", code, testVerifier, tr.str("access_token"), tr.str("refresh_token"),
		tr.str("id_token"), ex.str("access_token"), rt.str("access_token"), rt.str("refresh_token")}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(r.Raw, sec) {
			t.Errorf("request log contains a secret or token: %.12s…", sec)
		}
	}
	var sawExchange, sawFailure bool
	for _, e := range entries {
		if e.Endpoint == "token" && e.GrantType == idp.GrantTokenExchange {
			sawExchange = e.ClientID == idp.ClientMCPServer && e.Subject == "alice" && len(e.Audience) == 1 && e.Audience[0] == idp.ClientNextcloud && e.Outcome == "ok"
		}
		if e.Endpoint == "token" && e.Outcome == "invalid_client" && e.Status == 401 {
			sawFailure = true
		}
	}
	if !sawExchange || !sawFailure {
		t.Errorf("log lacks the exchange or the failed auth: %s", r.Raw)
	}
	if r := controlJSON(t, s, http.MethodDelete, "/log", ""); r.Status != 204 || len(s.RequestLog()) != 0 {
		t.Errorf("log reset: %d %d", r.Status, len(s.RequestLog()))
	}
}

func TestRequestLogBounded(t *testing.T) {
	s := idptest.Start(t, func(c *idp.Config) { c.RequestLogSize = 3 })
	for range 5 {
		get(t, s.URL+"/jwks")
	}
	if n := len(s.RequestLog()); n != 3 {
		t.Errorf("log size %d, want 3", n)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := map[string]func(*idp.Config){
		"dup user":         func(c *idp.Config) { c.Users = append(c.Users, c.Users[0]) },
		"dup client":       func(c *idp.Config) { c.Clients = append(c.Clients, c.Clients[0]) },
		"public w/ secret": func(c *idp.Config) { c.Clients = append(c.Clients, idp.Client{ID: "x", Public: true, Secret: "s"}) },
		"conf w/o secret":  func(c *idp.Config) { c.Clients = append(c.Clients, idp.Client{ID: "x"}) },
		"bad redirect": func(c *idp.Config) {
			c.Clients = append(c.Clients, idp.Client{ID: "x", Public: true, RedirectURIs: []string{"http://evil.example/cb"}})
		},
		"bad grant": func(c *idp.Config) {
			c.Clients = append(c.Clients, idp.Client{ID: "x", Public: true, GrantTypes: []string{"password"}})
		},
		"unknown scope": func(c *idp.Config) {
			c.Clients = append(c.Clients, idp.Client{ID: "x", Public: true, Scopes: []string{"nope"}})
		},
		"bad alg":           func(c *idp.Config) { c.SigningAlg = "HS256" },
		"negative ttl":      func(c *idp.Config) { c.AccessTokenTTL = -1 },
		"bad issuer":        func(c *idp.Config) { c.Issuer = "not a url" },
		"malformed scope":   func(c *idp.Config) { c.Scopes = append(c.Scopes, "a\"b") },
		"user w/o username": func(c *idp.Config) { c.Users = append(c.Users, idp.User{}) },
	}
	for name, m := range bad {
		t.Run(name, func(t *testing.T) {
			cfg := idp.DefaultConfig()
			m(&cfg)
			if _, err := idp.New(cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestConfigFile(t *testing.T) {
	base := idp.DefaultConfig()
	cfg, err := idp.ApplyConfigJSON([]byte(`{"users":[{"username":"alice","password":"new"},{"username":"dave","password":"d"}],
		"clients":[{"id":"app","public":true,"redirect_uris":["http://127.0.0.1/cb"]}],"scopes":["extra:read","openid"]}`), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Users) != 4 || cfg.Users[0].Password != "new" || len(cfg.Clients) != 4 || cfg.Scopes[len(cfg.Scopes)-1] != "extra:read" || len(cfg.Scopes) != len(base.Scopes)+1 {
		t.Errorf("merged %+v", cfg)
	}
	if base.Users[0].Password != "alice-password" {
		t.Error("base modified")
	}
	cfg, err = idp.ApplyConfigJSON([]byte(`{"replace_defaults":true,"users":[{"username":"z","password":"p"}],"scopes":["openid"]}`), base)
	if err != nil || len(cfg.Users) != 1 || len(cfg.Clients) != 0 || len(cfg.Scopes) != 1 {
		t.Errorf("replace: %+v %v", cfg, err)
	}
	for _, bad := range []string{`{"userz":[]}`, `{}{}`, `[`, `{"users":"x"}`} {
		if _, err := idp.ApplyConfigJSON([]byte(bad), base); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestControlAPIAnswersLoopbackHostsOnly: a web page that rebinds its own
// DNS name to 127.0.0.1 reaches the fake IdP with its own Host header;
// the control API (minting tokens, faults, the clock) refuses it, while
// the OAuth endpoints, which a real IdP serves to anyone, still answer.
func TestControlAPIAnswersLoopbackHostsOnly(t *testing.T) {
	s := idptest.Start(t)
	tests := []struct {
		host string
		want int
	}{
		{host: "evil.example", want: http.StatusForbidden},
		{host: "127.0.0.1.nip.io", want: http.StatusForbidden},
		{host: strings.TrimPrefix(s.URL, "http://"), want: http.StatusOK},
		{host: "localhost", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, s.URL+"/_fake/mint", strings.NewReader(`{"claims":{"sub":"alice"}}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close() // only the status matters
			if resp.StatusCode != tt.want {
				t.Errorf("POST /_fake/mint with Host %s: %d, want %d", tt.host, resp.StatusCode, tt.want)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/.well-known/openid-configuration", nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != http.StatusOK {
		t.Errorf("discovery with a foreign Host: %d", resp.StatusCode)
	}
}
