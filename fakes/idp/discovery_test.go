package idp_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

func get(t *testing.T, url string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func strs(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestDiscovery(t *testing.T) {
	s := idptest.Start(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		t.Run(path, func(t *testing.T) {
			r := get(t, s.URL+path)
			if r.Status != 200 {
				t.Fatalf("status %d", r.Status)
			}
			want := map[string]string{
				"issuer": s.URL, "authorization_endpoint": s.URL + "/authorize", "token_endpoint": s.URL + "/token",
				"jwks_uri": s.URL + "/jwks", "userinfo_endpoint": s.URL + "/userinfo", "registration_endpoint": s.URL + "/register",
				"introspection_endpoint": s.URL + "/introspect", "revocation_endpoint": s.URL + "/revoke",
			}
			for k, v := range want {
				if r.str(k) != v {
					t.Errorf("%s = %q, want %q", k, r.str(k), v)
				}
			}
			if got := strs(r.Body["code_challenge_methods_supported"]); !slices.Equal(got, []string{"S256"}) {
				t.Errorf("code_challenge_methods_supported %v", got)
			}
			if r.Body["authorization_response_iss_parameter_supported"] != true {
				t.Error("authorization_response_iss_parameter_supported not true")
			}
			if !slices.Contains(strs(r.Body["grant_types_supported"]), idp.GrantTokenExchange) {
				t.Error("token exchange not advertised")
			}
			for _, m := range []string{"client_secret_basic", "client_secret_post", "none"} {
				if !slices.Contains(strs(r.Body["token_endpoint_auth_methods_supported"]), m) {
					t.Errorf("auth method %s missing", m)
				}
			}
			sc := strs(r.Body["scopes_supported"])
			for _, want := range []string{"openid", "profile", "email", "offline_access", "notes:read", "tables:write"} {
				if !slices.Contains(sc, want) {
					t.Errorf("scope %s missing", want)
				}
			}
			if !slices.Equal(strs(r.Body["response_types_supported"]), []string{"code"}) {
				t.Errorf("response types %v", r.Body["response_types_supported"])
			}
		})
	}
}

func TestDiscoverySwitches(t *testing.T) {
	s := idptest.Start(t, func(c *idp.Config) { c.DisableTokenExchange = true; c.DisableRegistration = true })
	r := get(t, s.URL+"/.well-known/openid-configuration")
	if slices.Contains(strs(r.Body["grant_types_supported"]), idp.GrantTokenExchange) {
		t.Error("exchange advertised while disabled")
	}
	if _, ok := r.Body["registration_endpoint"]; ok {
		t.Error("registration advertised while disabled")
	}
	s.SetTokenExchange(true)
	r = get(t, s.URL+"/.well-known/openid-configuration")
	if !slices.Contains(strs(r.Body["grant_types_supported"]), idp.GrantTokenExchange) {
		t.Error("exchange not advertised after enabling")
	}
	if r := get(t, s.URL+"/register"); r.Status != 404 {
		t.Errorf("register while disabled: %d", r.Status)
	}
}

// TestIssuerWithPath serves endpoints below the issuer path and RFC 8414
// metadata at the inserted well-known location.
func TestIssuerWithPath(t *testing.T) {
	s := idptest.Start(t)
	if err := s.SetIssuer(s.URL + "/realms/dev"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/.well-known/oauth-authorization-server/realms/dev", "/realms/dev/.well-known/openid-configuration", "/realms/dev/.well-known/oauth-authorization-server"} {
		r := get(t, s.URL+path)
		if r.Status != 200 || r.str("issuer") != s.URL+"/realms/dev" || r.str("token_endpoint") != s.URL+"/realms/dev/token" {
			t.Errorf("%s: %d %v", path, r.Status, r.Body["issuer"])
		}
	}
	if r := get(t, s.URL+"/.well-known/openid-configuration"); r.Status != 404 {
		t.Errorf("root discovery outside the issuer path: %d", r.Status)
	}
	if r := get(t, s.URL+"/realms/dev/jwks"); r.Status != 200 {
		t.Errorf("jwks below issuer path: %d", r.Status)
	}
}

func TestSetIssuerRejects(t *testing.T) {
	s := idptest.Start(t)
	for _, bad := range []string{"", "ftp://x", "http://", "http://h/x/", "http://h?x=1", "http://h#f", "/relative"} {
		if err := s.SetIssuer(bad); err == nil {
			t.Errorf("SetIssuer(%q) accepted", bad)
		}
	}
}

func TestNotConfiguredIssuer(t *testing.T) {
	p, err := idp.New(idp.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	p.ServeHTTP(rec, mustReq(http.MethodGet, "/.well-known/openid-configuration"))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d", rec.Code)
	}
	rec = newRecorder()
	p.ServeHTTP(rec, mustReq(http.MethodGet, "/healthz"))
	if rec.Code != 200 {
		t.Errorf("healthz %d", rec.Code)
	}
}

func TestJWKS(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			s := idptest.Start(t, func(c *idp.Config) {
				c.SigningAlg = alg
				c.KeyGracePeriod = 10 * time.Minute
				c.JWKSMaxAge = 120 * time.Second
			})
			set := jwks(t, s)
			if len(set.Keys) != 1 || set.Keys[0].KeyID == "" || set.Keys[0].Algorithm != alg || !set.Keys[0].IsPublic() || set.Keys[0].Use != "sig" {
				t.Fatalf("jwks %+v", set.Keys)
			}
			r := get(t, s.URL+"/jwks")
			if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=120") {
				t.Errorf("Cache-Control %q", cc)
			}
			oldKid := set.Keys[0].KeyID
			old, err := s.Mint(idp.MintRequest{Claims: map[string]any{"sub": "alice", "aud": "x"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RotateKeys(); err != nil {
				t.Fatal(err)
			}
			set = jwks(t, s)
			if len(set.Keys) != 2 || set.Keys[1].KeyID != oldKid || set.Keys[0].KeyID == oldKid {
				t.Fatalf("after rotation: %v", s.KeyIDs())
			}
			newTok, _ := s.Mint(idp.MintRequest{Claims: map[string]any{"sub": "alice"}})
			if header(t, newTok)["kid"] != set.Keys[0].KeyID {
				t.Error("new tokens not signed with the new key")
			}
			if verifyWith(t, set, old) != nil {
				t.Error("old token no longer verifies during the grace period")
			}
			s.SetClockOffset(11 * time.Minute)
			set = jwks(t, s)
			if len(set.Keys) != 1 || set.Keys[0].KeyID == oldKid {
				t.Errorf("old key still published after the grace period: %v", s.KeyIDs())
			}
		})
	}
	t.Run("RotateTo", func(t *testing.T) {
		s := idptest.Start(t)
		if _, err := s.RotateKeysTo("ES256"); err != nil {
			t.Fatal(err)
		}
		if set := jwks(t, s); set.Keys[0].Algorithm != "ES256" || set.Keys[1].Algorithm != "RS256" {
			t.Errorf("algs %s %s", set.Keys[0].Algorithm, set.Keys[1].Algorithm)
		}
		if _, err := s.RotateKeysTo("HS256"); err == nil {
			t.Error("HS256 accepted")
		}
	})
	t.Run("Method", func(t *testing.T) {
		s := idptest.Start(t)
		if r := post(t, s, "/jwks", form(), "", ""); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("POST /jwks: %d", r.Status)
		}
	})
}

func jwks(t *testing.T, s *idptest.Server) jose.JSONWebKeySet {
	t.Helper()
	resp, err := noRedirect.Get(s.URL + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var set jose.JSONWebKeySet
	if err := jsonDecode(resp.Body, &set); err != nil {
		t.Fatal(err)
	}
	return set
}

func verifyWith(t *testing.T, set jose.JSONWebKeySet, tok string) error {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return err
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		return errNoKey
	}
	_, err = jws.Verify(keys[0].Key)
	return err
}
