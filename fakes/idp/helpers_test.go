package idp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

const (
	serverSecret    = "nextcloud-mcp-server-secret"
	nextcloudSecret = "nextcloud-secret"
	loopbackCB      = "http://127.0.0.1:5555/callback"
	testVerifier    = "dBjftJeZ4CVP-mJ92K9p5S4BRs3ox9ga1xL0n6aVvJ4Qx7"
)

func challengeOf(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// noRedirect is an HTTP client that returns redirects instead of following
// them.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// autoApprove starts an IdP in auto-approve mode.
func autoApprove(t testing.TB, mutate ...func(*idp.Config)) *idptest.Server {
	return idptest.Start(t, append([]func(*idp.Config){func(c *idp.Config) { c.AutoApprove = true }}, mutate...)...)
}

// authorizeURL builds an authorization URL from key/value pairs.
func authorizeURL(s *idptest.Server, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return s.URL + "/authorize?" + q.Encode()
}

// getCode runs an auto-approved authorization request for mcp-client and
// returns the code.
func getCode(t testing.TB, s *idptest.Server, extra ...string) string {
	t.Helper()
	kv := append([]string{
		"response_type", "code", "client_id", idp.ClientMCP, "redirect_uri", loopbackCB,
		"code_challenge", challengeOf(testVerifier), "code_challenge_method", "S256", "state", "st",
	}, extra...)
	resp, err := noRedirect.Get(authorizeURL(s, kv...))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("authorize: no code in %s", loc)
	}
	return code
}

type result struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r result) str(k string) string { s, _ := r.Body[k].(string); return s }

// post sends a form to path with optional Basic credentials.
func post(t testing.TB, s *idptest.Server, path string, form url.Values, user, pass string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) result {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	r := result{Status: resp.StatusCode, Header: resp.Header, Raw: string(b)}
	_ = json.Unmarshal(b, &r.Body)
	return r
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// claims decodes a JWT's payload without verification (tests verify
// signatures separately with go-oidc).
func claims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func header(t testing.TB, jwt string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// exchangeCode redeems a code for mcp-client.
func exchangeCode(t testing.TB, s *idptest.Server, code string, extra ...string) result {
	t.Helper()
	f := form(append([]string{"grant_type", "authorization_code", "code", code, "redirect_uri", loopbackCB,
		"code_verifier", testVerifier, "client_id", idp.ClientMCP}, extra...)...)
	return post(t, s, "/token", f, "", "")
}

var errNoKey = errors.New("no key with that kid")

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustReq(method, target string) *http.Request { return httptest.NewRequest(method, target, nil) }

func jsonEq(v any) string { b, _ := json.Marshal(v); return string(b) }

// userinfo calls the userinfo endpoint with a bearer token.
func userinfo(t testing.TB, s *idptest.Server, token string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/userinfo", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}
