package idp_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

var (
	reqField    = regexp.MustCompile(`name="req" value="([^"]+)"`)
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	scopeChecks = regexp.MustCompile(`name="scope" value="([^"]+)" checked`)
)

type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) page(resp *http.Response, err error) (int, string, string) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header.Get("Location")
}

func (b *browser) get(u string) (int, string, string) { return b.page(b.c.Get(u)) }

func (b *browser) submit(html string, fields url.Values) (int, string, string) {
	b.t.Helper()
	a, r := formAction.FindStringSubmatch(html), reqField.FindStringSubmatch(html)
	if a == nil || r == nil {
		b.t.Fatalf("no form in page:\n%s", html)
	}
	fields.Set("req", r[1])
	return b.page(b.c.PostForm(strings.ReplaceAll(a[1], "&#43;", "+"), fields))
}

func interactiveAuthURL(s *idptest.Server, sc string, extra ...string) string {
	return authorizeURL(s, append([]string{"response_type", "code", "client_id", idp.ClientMCP, "redirect_uri", loopbackCB,
		"code_challenge", challengeOf(testVerifier), "code_challenge_method", "S256", "state", "st-1", "scope", sc,
		"login_hint", "alice"}, extra...)...)
}

// TestLoginAndConsentPages drives the HTML pages with plain form posts:
// a wrong password, a successful login, unticking a scope, and the
// resulting token's narrower scope.
func TestLoginAndConsentPages(t *testing.T) {
	s := idptest.Start(t)
	b := newBrowser(t)
	status, html, _ := b.get(interactiveAuthURL(s, "openid profile notes:read notes:write"))
	if status != 200 || !strings.Contains(html, `name="password"`) || !strings.Contains(html, `value="alice"`) {
		t.Fatalf("login page: %d\n%s", status, html)
	}
	status, html, _ = b.submit(html, url.Values{"username": {"alice"}, "password": {"wrong"}})
	if status != 200 || !strings.Contains(html, "Invalid username or password") {
		t.Fatalf("wrong password: %d\n%s", status, html)
	}
	status, html, _ = b.submit(html, url.Values{"username": {"alice"}, "password": {"alice-password"}})
	if status != 200 {
		t.Fatalf("login: %d\n%s", status, html)
	}
	var offered []string
	for _, m := range scopeChecks.FindAllStringSubmatch(html, -1) {
		offered = append(offered, m[1])
	}
	if strings.Join(offered, " ") != "openid profile notes:read notes:write" {
		t.Fatalf("consent offers %v", offered)
	}
	// Untick notes:write.
	status, _, loc := b.submit(html, url.Values{"action": {"approve"}, "scope": {"openid", "profile", "notes:read"}})
	u, _ := url.Parse(loc)
	if status != http.StatusSeeOther || u.Query().Get("code") == "" || u.Query().Get("state") != "st-1" || u.Query().Get("iss") != s.URL {
		t.Fatalf("consent: %d %s", status, loc)
	}
	tr := exchangeCode(t, s, u.Query().Get("code"))
	if tr.Status != 200 || tr.str("scope") != "openid profile notes:read" {
		t.Fatalf("token: %s", tr.Raw)
	}
	if c := claims(t, tr.str("access_token")); c["scope"] != "openid profile notes:read" || c["sub"] != "alice" {
		t.Errorf("access token claims %v", c)
	}

	// The session cookie skips the login page next time; deny at consent.
	status, html, _ = b.get(interactiveAuthURL(s, "openid notes:write"))
	if status != 200 || strings.Contains(html, `name="password"`) || !strings.Contains(html, "notes:write") {
		t.Fatalf("second authorization did not go straight to consent: %d\n%s", status, html)
	}
	_, _, loc = b.submit(html, url.Values{"action": {"deny"}})
	if u, _ := url.Parse(loc); u.Query().Get("error") != "access_denied" || u.Query().Get("state") != "st-1" {
		t.Errorf("deny: %s", loc)
	}
	// prompt=login forces the login page despite the session.
	if _, html, _ = b.get(interactiveAuthURL(s, "openid", "prompt", "login")); !strings.Contains(html, `name="password"`) {
		t.Error("prompt=login did not show the login page")
	}
	// prompt=none: consent is always interactive here.
	if _, _, loc = b.get(interactiveAuthURL(s, "openid", "prompt", "none")); !strings.Contains(loc, "error=consent_required") {
		t.Errorf("prompt=none with session: %s", loc)
	}
	if _, _, loc = newBrowser(t).get(interactiveAuthURL(s, "openid", "prompt", "none")); !strings.Contains(loc, "error=login_required") {
		t.Errorf("prompt=none without session: %s", loc)
	}
}

func TestPagesRejectTampering(t *testing.T) {
	s := idptest.Start(t)
	b := newBrowser(t)
	_, loginHTML, _ := b.get(interactiveAuthURL(s, "openid notes:read"))
	// Consent before login.
	if status, _, _ := b.submit(strings.Replace(loginHTML, "/authorize/login", "/authorize/consent", 1), url.Values{"action": {"approve"}}); status != 400 {
		t.Errorf("consent before login: %d", status)
	}
	_, html, _ := b.submit(loginHTML, url.Values{"username": {"alice"}, "password": {"alice-password"}})
	cases := map[string]url.Values{
		"scope not requested": {"action": {"approve"}, "scope": {"notes:write"}},
		"no action":           {"scope": {"openid"}},
		"repeated action":     {"action": {"approve", "deny"}},
	}
	for name, fields := range cases {
		t.Run(name, func(t *testing.T) {
			if status, _, _ := b.submit(html, fields); status != 400 {
				t.Errorf("status %d", status)
			}
		})
	}
	for name, target := range map[string]string{"unknown req login": "/authorize/login", "unknown req consent": "/authorize/consent"} {
		t.Run(name, func(t *testing.T) {
			if status, _, _ := b.page(b.c.PostForm(s.URL+target, url.Values{"req": {"nope"}, "username": {"alice"}, "password": {"alice-password"}})); status != 400 {
				t.Errorf("status %d", status)
			}
		})
	}
	if status, _, _ := b.get(s.URL + "/authorize/login"); status != 400 {
		t.Errorf("GET login: %d", status)
	}
	// Unticking everything is allowed and yields a token without scope.
	_, html, _ = b.get(interactiveAuthURL(s, "notes:read"))
	_, _, loc := b.submit(html, url.Values{"action": {"approve"}})
	u, _ := url.Parse(loc)
	if tr := exchangeCode(t, s, u.Query().Get("code")); tr.Status != 200 || tr.str("scope") != "" || tr.str("id_token") != "" {
		t.Errorf("empty consent: %s", tr.Raw)
	}
}
