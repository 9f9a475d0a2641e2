package fakectl

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

func hc() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

func TestIdPControl(t *testing.T) {
	s := idptest.Start(t, func(c *idp.Config) { c.SigningAlg = "ES256" })
	ctx := context.Background()
	c := NewIdP(s.URL, hc())
	if err := c.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := c.Issue(ctx, IssueRequest{ClientID: "mcp-client", Username: "alice", Scopes: []string{"openid"}, Offline: true})
	if err != nil || res.AccessToken == "" || res.RefreshToken == "" {
		t.Fatalf("Issue = %+v, %v", res, err)
	}
	exp := int64(-60)
	tok, err := c.Mint(ctx, MintRequest{Claims: map[string]any{"sub": "alice"}, Key: KeyNone, ExpiresIn: &exp})
	if err != nil || !strings.HasSuffix(tok, ".") {
		t.Fatalf("Mint(none) = %q, %v", tok, err)
	}
	if err := c.ResetLog(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetTokenExchange(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := c.InjectFault(ctx, Fault{Endpoint: "token", Status: 503}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	require.NoError(t, resp.Body.Close())
	log, err := c.Log(ctx)
	if err != nil || len(log) != 1 || log[0].Endpoint != "token" || log[0].Status != 503 {
		t.Fatalf("Log = %+v, %v", log, err)
	}
	if err := c.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	var se *StatusError
	if err := c.InjectFault(ctx, Fault{Endpoint: "nope", Status: 500}); !errors.As(err, &se) || se.Status != 400 {
		t.Fatalf("bad fault: %v", err)
	}
}

func TestNextcloudControl(t *testing.T) {
	s := nctest.Start(t)
	ctx := context.Background()
	c := NewNextcloud(s.URL, hc())
	if err := c.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", s.URL+"/ocs/v2.php/cloud/user?format=json", nil)
	req.SetBasicAuth("alice", "alice-password")
	req.Header.Set("OCS-APIRequest", "true")
	resp, err := hc().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	require.NoError(t, resp.Body.Close())
	log, err := c.Log(ctx)
	if err != nil || len(log) != 1 || log[0].AuthKind != "basic" || log[0].UID != "alice" {
		t.Fatalf("Log = %+v, %v", log, err)
	}
	if err := c.ResetLog(ctx); err != nil {
		t.Fatal(err)
	}
	if log, _ := c.Log(ctx); len(log) != 0 {
		t.Fatalf("log after reset: %+v", log)
	}
}

func TestProbeWithoutControlAPI(t *testing.T) {
	n, err := nextcloud.New(nextcloud.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { assert.NoError(t, n.Close()) }()
	hs := httptest.NewServer(n)
	defer hs.Close()
	if err := NewNextcloud(hs.URL, hc()).Probe(context.Background()); !errors.Is(err, ErrNoControlAPI) {
		t.Fatalf("Probe = %v, want ErrNoControlAPI", err)
	}
	if err := NewIdP(hs.URL, hc()).Probe(context.Background()); !errors.Is(err, ErrNoControlAPI) {
		t.Fatalf("IdP Probe = %v, want ErrNoControlAPI", err)
	}
}
