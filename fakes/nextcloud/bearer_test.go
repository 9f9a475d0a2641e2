package nextcloud_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

// keyIssuer is a minimal OIDC issuer for these tests: discovery, a JWKS of
// EC keys, and a signer. (The end-to-end test with the real fake IdP is in
// idp_integration_test.go.)
type keyIssuer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	keys map[string]*ecdsa.PrivateKey
	kid  string
}

func newKeyIssuer(t *testing.T) *keyIssuer {
	t.Helper()
	k := &keyIssuer{keys: map[string]*ecdsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": k.srv.URL, "jwks_uri": k.srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		defer k.mu.Unlock()
		var set jose.JSONWebKeySet
		for kid, key := range k.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	k.srv = httptest.NewServer(mux)
	t.Cleanup(k.srv.Close)
	k.rotate(t)
	return k
}

func (k *keyIssuer) rotate(t *testing.T) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kid = "k" + string(rune('a'+len(k.keys)))
	k.keys[k.kid] = key
}

func (k *keyIssuer) token(t *testing.T, mod func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"iss": k.srv.URL, "sub": "alice", "aud": []string{"nextcloud-mcp-server", "nextcloud"}, "azp": "mcp-client",
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "scope": "openid notes:read", "jti": "jti-1",
		"act": map[string]any{"sub": "nextcloud-mcp-server"}, "preferred_username": "alice", "name": "Alice A.", "email": "alice@example.com"}
	if mod != nil {
		mod(claims)
	}
	k.mu.Lock()
	key, kid := k.keys[k.kid], k.kid
	k.mu.Unlock()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func withIssuer(k *keyIssuer) func(*nextcloud.Config) {
	return func(c *nextcloud.Config) { c.OIDCIssuer = k.srv.URL }
}

// TestBearerDialects checks a valid and an invalid JWT on each entry point.
func TestBearerDialects(t *testing.T) {
	k := newKeyIssuer(t)
	s := nctest.Start(t, withIssuer(k))
	good := k.token(t, nil)
	noAud := k.token(t, func(c map[string]any) { c["aud"] = []string{"nextcloud-mcp-server"} })
	expired := k.token(t, func(c map[string]any) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() })
	withinLeeway := k.token(t, func(c map[string]any) { c["exp"] = time.Now().Add(-30 * time.Second).Unix() })

	tests := []struct {
		name   string
		source string
		tok    string
		method string
		path   string
		opts   []reqOpt
		status int
		check  func(t *testing.T, r *resp)
	}{
		{"ocs without OCS-APIRequest", "SecurityMiddleware isValidOCSRequest (Bearer)", good, "GET", "/ocs/v2.php/cloud/user?format=json", nil, 200,
			func(t *testing.T, r *resp) {
				if jsonAt(t, r.body, "ocs.data.id") != "alice" {
					t.Error("wrong user")
				}
			}},
		{"ocs aud lacks client id", "user_oidc SelfEncodedValidator (aud check) → not logged in → 997", noAud, "GET", "/ocs/v2.php/cloud/user?format=json", nil, 401,
			func(t *testing.T, r *resp) {
				if jsonAt(t, r.body, "ocs.meta.statuscode") != 997.0 {
					t.Error("want 997")
				}
			}},
		{"ocs expired beyond leeway", "php-jwt JWT::$leeway = 60", expired, "GET", "/ocs/v2.php/cloud/user?format=json", nil, 401, nil},
		{"ocs expired within leeway", "php-jwt JWT::$leeway = 60", withinLeeway, "GET", "/ocs/v2.php/cloud/user?format=json", nil, 200, nil},
		{"dav", "apps/dav/lib/Connector/Sabre/Auth.php (handleApacheAuth)", good, "PROPFIND", "/remote.php/dav/files/alice/", []reqOpt{hdr("Depth", "0")}, 207, nil},
		{"dav aud lacks client id", "sabre Auth plugin: Bearer token was incorrect", noAud, "PROPFIND", "/remote.php/dav/files/alice/", nil, 401,
			func(t *testing.T, r *resp) {
				if !strings.Contains(string(r.body), "Bearer token was incorrect") {
					t.Error("want the bearer reason")
				}
			}},
		{"notes accept mode", "patched CORSMiddleware", good, "GET", "/index.php/apps/notes/api/v1/notes", nil, 200, nil},
		{"notes invalid token accept mode", "patched CORSMiddleware → SecurityMiddleware", noAud, "GET", "/index.php/apps/notes/api/v1/notes", nil, 401,
			func(t *testing.T, r *resp) {
				if jsonAt(t, r.body, "message") != "Current user is not logged in" {
					t.Errorf("message %s", r.body)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.method, tc.path, "", append([]reqOpt{bearerTok(tc.tok)}, tc.opts...)...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (source: %s)\n%s", r.status, tc.status, tc.source, r.body)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}

	t.Run("switch to reject at run time", func(t *testing.T) {
		if err := s.SetBearerOnAppRoutes(nextcloud.BearerReject); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.SetBearerOnAppRoutes(nextcloud.BearerAccept) })
		r := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes", "", bearerTok(good))
		if r.status != 401 || jsonAt(t, r.body, "message") != "CORS requires basic auth" {
			t.Fatalf("reject mode: %s", r)
		}
		if r := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes", "", bearerTok(good), ocsHeader()); r.status != 200 {
			t.Fatalf("reject mode with OCS-APIRequest: %s", r)
		}
		if r := do(t, s, "GET", "/remote.php/dav/files/alice/Readme.md", "", bearerTok(good)); r.status != 200 {
			t.Fatalf("DAV is not a CORS route: %s", r)
		}
		if err := s.SetBearerOnAppRoutes("sometimes"); err == nil {
			t.Fatal("invalid mode accepted")
		}
	})
}

func TestBearerLogKeepsClaimsNotToken(t *testing.T) {
	k := newKeyIssuer(t)
	s := nctest.Start(t, withIssuer(k))
	tok := k.token(t, nil)
	do(t, s, "GET", "/ocs/v2.php/cloud/user", "", bearerTok(tok))
	do(t, s, "GET", "/ocs/v2.php/cloud/user", "", basic("alice", "alice-password"), ocsHeader())
	log := s.RequestLog()
	if len(log) != 2 {
		t.Fatalf("%d log entries", len(log))
	}
	e := log[0]
	if e.AuthKind != "bearer" || e.UID != "alice" || e.Token == nil || e.Token.Sub != "alice" || e.Token.Azp != "mcp-client" ||
		e.Token.Scope != "openid notes:read" || e.Token.Jti != "jti-1" || e.Token.Act["sub"] != "nextcloud-mcp-server" ||
		strings.Join(e.Token.Aud, ",") != "nextcloud-mcp-server,nextcloud" || e.Status != 200 || e.Path != "/ocs/v2.php/cloud/user" {
		t.Fatalf("bearer entry %+v %+v", e, e.Token)
	}
	if log[1].AuthKind != "basic" || log[1].UID != "alice" || log[1].Token != nil || !log[1].OCSAPIRequest {
		t.Fatalf("basic entry %+v", log[1])
	}
	// The control API log never carries the token or the password.
	r := do(t, s, "GET", "/_fake/log", "")
	if strings.Contains(string(r.body), tok) || strings.Contains(string(r.body), "alice-password") || strings.Contains(string(r.body), strings.Split(tok, ".")[2]) {
		t.Fatal("secret in the control log")
	}
	for _, f := range []string{`"method"`, `"path"`, `"status"`, `"auth_kind"`, `"uid"`, `"claims"`, `"sub"`, `"aud"`, `"azp"`, `"act"`, `"scope"`, `"jti"`} {
		if !strings.Contains(string(r.body), f) {
			t.Errorf("log JSON lacks %s", f)
		}
	}
}

func TestBearerUIDMapping(t *testing.T) {
	k := newKeyIssuer(t)
	sum := sha256.Sum256([]byte("1_0_carol-sub"))
	hashed := hex.EncodeToString(sum[:])
	tests := []struct {
		name    string
		mapping string
		claims  func(map[string]any)
		wantUID string
		backend string
	}{
		{"sub, existing user", nextcloud.UIDFromSub, nil, "alice", "Database"},
		{"sub, provisioned", nextcloud.UIDFromSub, func(c map[string]any) { c["sub"] = "carol" }, "carol", "user_oidc"},
		{"preferred_username", nextcloud.UIDFromPreferredUsername, func(c map[string]any) { c["sub"] = "opaque-123"; c["preferred_username"] = "bob" }, "bob", "Database"},
		{"hashed (user_oidc unique uid)", nextcloud.UIDHashed, func(c map[string]any) { c["sub"] = "carol-sub" }, hashed, "user_oidc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := nctest.Start(t, withIssuer(k), func(c *nextcloud.Config) { c.UIDMapping = tc.mapping })
			r := do(t, s, "GET", "/ocs/v2.php/cloud/user?format=json", "", bearerTok(k.token(t, tc.claims)))
			if r.status != 200 {
				t.Fatalf("%s", r)
			}
			if got := jsonAt(t, r.body, "ocs.data.id"); got != tc.wantUID {
				t.Fatalf("uid %v, want %s", got, tc.wantUID)
			}
			if got := jsonAt(t, r.body, "ocs.data.backend"); got != tc.backend {
				t.Fatalf("backend %v, want %s", got, tc.backend)
			}
			// The uid, not the sub, names the DAV home.
			if r := do(t, s, "PROPFIND", "/remote.php/dav/files/"+tc.wantUID+"/", "", bearerTok(k.token(t, tc.claims)), hdr("Depth", "0")); r.status != 207 {
				t.Fatalf("home of %s: %s", tc.wantUID, r)
			}
		})
	}
	t.Run("auto-provisioning off", func(t *testing.T) {
		s := nctest.Start(t, withIssuer(k), func(c *nextcloud.Config) { c.DisableAutoProvision = true })
		r := do(t, s, "GET", "/ocs/v2.php/cloud/user?format=json", "", bearerTok(k.token(t, func(c map[string]any) { c["sub"] = "dave" })))
		if r.status != 401 {
			t.Fatalf("%s", r)
		}
		if e := s.RequestLog()[0]; e.UID != "" || !strings.Contains(e.AuthError, "auto-provisioning") {
			t.Fatalf("log %+v", e)
		}
	})
	t.Run("audience check off", func(t *testing.T) {
		s := nctest.Start(t, withIssuer(k), func(c *nextcloud.Config) { c.SkipAudienceCheck = true })
		r := do(t, s, "GET", "/ocs/v2.php/cloud/user?format=json", "", bearerTok(k.token(t, func(c map[string]any) { c["aud"] = "somebody-else" })))
		if r.status != 200 {
			t.Fatalf("%s", r)
		}
	})
}

func TestBearerKeyRotation(t *testing.T) {
	k := newKeyIssuer(t)
	s := nctest.Start(t, withIssuer(k))
	if r := do(t, s, "GET", "/ocs/v2.php/cloud/user", "", bearerTok(k.token(t, nil))); r.status != 200 {
		t.Fatalf("%s", r)
	}
	k.rotate(t) // new kid: the cached JWKS does not know it
	if r := do(t, s, "GET", "/ocs/v2.php/cloud/user", "", bearerTok(k.token(t, nil))); r.status != 200 {
		t.Fatalf("token of the rotated key: %s", r)
	}
}
