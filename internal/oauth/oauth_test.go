package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/upstream"
)

func TestErrInvalidTokenWrapsSDKSentinel(t *testing.T) {
	err := fmt.Errorf("%w: expired", oauth.ErrInvalidToken)
	if !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatal("ErrInvalidToken must match both sentinels")
	}
	if errors.Is(oauth.ErrUnavailable, auth.ErrInvalidToken) {
		t.Fatal("ErrUnavailable must not be an invalid token")
	}
}

func TestMetadataURLs(t *testing.T) {
	cases := []struct {
		issuer string
		want   []string
	}{
		{"https://as.example", []string{"https://as.example/.well-known/oauth-authorization-server", "https://as.example/.well-known/openid-configuration"}},
		{"https://as.example/", []string{"https://as.example/.well-known/oauth-authorization-server", "https://as.example/.well-known/openid-configuration"}},
		{"https://kc.example/realms/mcp", []string{
			"https://kc.example/.well-known/oauth-authorization-server/realms/mcp",
			"https://kc.example/.well-known/openid-configuration/realms/mcp",
			"https://kc.example/realms/mcp/.well-known/openid-configuration",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.issuer, func(t *testing.T) {
			got, err := oauth.MetadataURLs(tc.issuer)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v %v", got, err)
			}
			for _, u := range got {
				if iss, ok := oauth.IssuerFromMetadataURL(u); !ok || iss != strings.TrimSuffix(tc.issuer, "/") {
					t.Errorf("IssuerFromMetadataURL(%s) = %s %v", u, iss, ok)
				}
			}
		})
	}
	for _, bad := range []string{"", "as.example", "ftp://as.example", "https://as.example?x=1", "https://as.example#f"} {
		if _, err := oauth.MetadataURLs(bad); err == nil {
			t.Errorf("MetadataURLs(%q) accepted", bad)
		}
	}
	if _, ok := oauth.IssuerFromMetadataURL("https://as.example/metadata.json"); ok {
		t.Error("a non-well-known URL has no derivable issuer")
	}
}

func TestDiscover(t *testing.T) {
	as := testas.New(t, testas.WithIssParameter())
	m, err := oauth.Discover(context.Background(), nil, as.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	if m.TokenEndpoint != as.URL+"/token" || m.JWKSURI != as.URL+"/jwks" || !m.SupportsPKCE() ||
		!m.SupportsGrant(oauth.GrantTypeTokenExchange) || !m.AuthorizationResponseIssParameterSupported {
		t.Fatalf("metadata %+v", m)
	}
	// FetchMetadata with the OIDC URL derives and checks the issuer.
	if _, err := oauth.FetchMetadata(context.Background(), nil, as.URL+"/.well-known/openid-configuration", ""); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoverFallsBackToOIDC(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/realms/x/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, srv.URL+"/realms/x", srv.URL+"/token") // a failed write shows up as the client's error
	}))
	t.Cleanup(srv.Close)
	m, err := oauth.Discover(context.Background(), nil, srv.URL+"/realms/x")
	if err != nil || m.Issuer != srv.URL+"/realms/x" {
		t.Fatalf("%+v %v", m, err)
	}
	if m.SupportsPKCE() || m.SupportsGrant(oauth.GrantTypeTokenExchange) || !m.SupportsGrant("authorization_code") {
		t.Fatal("defaults of RFC 8414 §2 not applied")
	}
}

func TestDiscoverRefuses(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		status  int
		want    string
		outage  bool
		issuerX bool
	}{
		{"issuer mismatch", `{"issuer":"http://evil","token_endpoint":"http://evil/token"}`, 200, "names issuer http://evil", false, false},
		{"no token endpoint", `{"issuer":"%s"}`, 200, "no token_endpoint", false, true},
		{"javascript endpoint", `{"issuer":"%s","token_endpoint":"javascript:alert(1)"}`, 200, "not an absolute http(s) URL", false, true},
		{"not json", `<html>`, 200, "not valid JSON", true, false},
		{"server error", `oops`, 500, "HTTP 500", true, false},
		{"not found anywhere", ``, 404, "no metadata found", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				if tc.issuerX {
					_, _ = fmt.Fprintf(w, tc.body, srv.URL) // a failed write shows up as the client's error
					return
				}
				_, _ = fmt.Fprint(w, tc.body) // a failed write shows up as the client's error
			}))
			t.Cleanup(srv.Close)
			_, err := oauth.Discover(context.Background(), nil, srv.URL)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, oauth.ErrUnavailable) != tc.outage {
				t.Fatalf("ErrUnavailable = %v, want %v (%v)", !tc.outage, tc.outage, err)
			}
		})
	}
}

func TestDiscoverUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := oauth.Discover(context.Background(), oauth.NewHTTPClient(time.Second), url)
	if !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestEndpointPost(t *testing.T) {
	const secret = "s3cret: with+special&chars"
	cases := []struct {
		name    string
		status  int
		body    string
		wantErr string
		code    string
		outage  bool
	}{
		{"ok", 200, `{"value":"v"}`, "", "", false},
		{"oauth error", 400, `{"error":"invalid_grant","error_description":"gone\nnow"}`, "token endpoint refused the request: invalid_grant: gone now (HTTP 400)", "invalid_grant", false},
		{"invalid client", 401, `{"error":"invalid_client"}`, "invalid_client", "invalid_client", false},
		{"4xx without body", 404, `not here`, "token endpoint refused the request (HTTP 404)", "", false},
		{"redirect", 302, ``, "unexpected redirect", "", false},
		{"5xx with oauth body", 503, `{"error":"temporarily_unavailable"}`, "temporarily_unavailable", "temporarily_unavailable", true},
		{"429", 429, ``, "HTTP 429", "", true},
		{"garbage 200", 200, `{"value":`, "not the expected JSON", "", true},
		{"huge", 200, strings.Repeat(" ", 1<<20+10), "larger than", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, sec, ok := r.BasicAuth()
				if !ok || id != "my+client" {
					t.Errorf("basic auth id = %q", id)
				}
				if dec, _ := url.QueryUnescape(sec); dec != secret {
					t.Errorf("secret not form-encoded per RFC 6749 §2.3.1: %q", sec)
				}
				if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.FormValue("token") != "tok-SECRET-9f2" {
					t.Errorf("bad request form")
				}
				if tc.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.status)
				_, _ = fmt.Fprint(w, tc.body) // a failed write shows up as the client's error
			}))
			t.Cleanup(srv.Close)
			ep := oauth.Endpoint{Name: "token endpoint", URL: srv.URL, Client: oauth.ClientCredentials{ID: "my client", Secret: secret}, HTTPClient: oauth.NewHTTPClient(0)}
			// The id goes through QueryEscape: "my client" → "my+client".
			var out struct{ Value string }
			err := ep.Post(context.Background(), url.Values{"token": {"tok-SECRET-9f2"}}, &out)
			if tc.wantErr == "" {
				if err != nil || out.Value != "v" {
					t.Fatalf("%v %+v", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if oauth.ErrorCode(err) != tc.code || (tc.code != "" && !oauth.HasCode(err, tc.code)) {
				t.Fatalf("code = %q", oauth.ErrorCode(err))
			}
			if errors.Is(err, oauth.ErrUnavailable) != tc.outage {
				t.Fatalf("outage = %v, want %v", !tc.outage, tc.outage)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error leaks the form: %v", err)
			}
		})
	}
}

func TestEndpointPostUnreachableAndTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block); srv.Close() })
	ep := oauth.Endpoint{URL: srv.URL, HTTPClient: oauth.NewHTTPClient(50 * time.Millisecond)}
	if err := ep.Post(context.Background(), nil, nil); !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ep.Post(ctx, nil, nil); !errors.Is(err, oauth.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	if err := (oauth.Endpoint{Name: "revocation endpoint"}).Post(context.Background(), nil, nil); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("unconfigured: %v", err)
	}
	ep = oauth.Endpoint{URL: "http://user:pw@127.0.0.1:1/token"}
	if err := ep.Post(context.Background(), nil, nil); !errors.Is(err, oauth.ErrUnavailable) || strings.Contains(err.Error(), "pw") {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestClientCredentialsNeverPrintSecret(t *testing.T) {
	c := oauth.ClientCredentials{ID: "id", Secret: "very-secret"}
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v", c), c.LogValue().String()} {
		if strings.Contains(s, "very-secret") {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

func TestIntrospectAndRevoke(t *testing.T) {
	as := testas.New(t)
	creds := oauth.ClientCredentials{ID: testas.ServerClientID, Secret: testas.ServerClientSecret}
	ctx := context.Background()
	token := as.Opaque(oauth.Introspection{Active: true, Sub: "alice", Scope: "notes:read"})
	ir, err := oauth.Introspect(ctx, oauth.Endpoint{URL: as.URL + "/introspect", Client: creds}, token, "access_token")
	if err != nil || !ir.Active || ir.Sub != "alice" {
		t.Fatalf("%+v %v", ir, err)
	}
	rt := as.IssueRefresh("alice", "offline_access")
	if err := oauth.Revoke(ctx, oauth.Endpoint{URL: as.URL + "/revoke", Client: creds}, rt, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if !as.IsRevoked(rt) {
		t.Fatal("not revoked at the AS")
	}
	reqs := as.Requests()
	last := reqs[len(reqs)-1]
	if last.Endpoint != "revoke" || last.Form.Get("token_type_hint") != "refresh_token" || last.ClientID != testas.ServerClientID {
		t.Fatalf("revocation request %+v", last)
	}
	err = oauth.Revoke(ctx, oauth.Endpoint{URL: as.URL + "/revoke", Client: oauth.ClientCredentials{ID: testas.ServerClientID, Secret: "x"}}, rt, "")
	if !oauth.HasCode(err, oauth.CodeInvalidClient) || !strings.Contains(err.Error(), "revocation endpoint") {
		t.Fatalf("err = %v", err)
	}
	as.Override("/revoke", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	if err := oauth.Revoke(ctx, oauth.Endpoint{URL: as.URL + "/revoke", Client: creds}, rt, ""); !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("503 revocation: %v", err)
	}
}

// TestNewHTTPClientKeepsConnectionsAlive: the client every OAuth call of
// the server shares has the tuned upstream transport (connections to the
// IdP stay alive between calls) and follows no redirect.
func TestNewHTTPClientKeepsConnectionsAlive(t *testing.T) {
	hc := oauth.NewHTTPClient(0)
	tr, ok := hc.Transport.(*http.Transport)
	require.True(t, ok, "transport %T, want the tuned *http.Transport", hc.Transport)
	assert.Equal(t, upstream.DefaultMaxConns, tr.MaxIdleConnsPerHost)
	assert.False(t, tr.DisableKeepAlives)
	assert.Equal(t, oauth.DefaultTimeout, hc.Timeout)
	assert.NotNil(t, hc.CheckRedirect, "redirects must not be followed")
	assert.NotSame(t, tr, oauth.NewHTTPClient(0).Transport, "one transport per client: share the client per IdP")
}
