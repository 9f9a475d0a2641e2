// Package idptest starts the fake IdP on an httptest server for Go tests.
package idptest

import (
	"net/http/httptest"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
)

// Server is a running fake IdP whose issuer is URL.
type Server struct {
	*idp.IdP
	// URL is the base URL and the issuer, e.g. http://127.0.0.1:PORT.
	URL string
	// HTTP is the underlying test server (for its Client, TLS config, …).
	HTTP *httptest.Server
}

// Start runs a fake IdP with idp.DefaultConfig (the control API enabled),
// modified by each mutate in order, on a loopback httptest server. The
// issuer is the server's URL. The server is closed by t.Cleanup.
func Start(t testing.TB, mutate ...func(*idp.Config)) *Server {
	t.Helper()
	cfg := idp.DefaultConfig()
	cfg.ControlAPI = true
	for _, m := range mutate {
		m(&cfg)
	}
	cfg.Issuer = ""
	p, err := idp.New(cfg)
	if err != nil {
		t.Fatalf("idptest: %v", err)
	}
	hs := httptest.NewServer(p)
	t.Cleanup(hs.Close)
	if err := p.SetIssuer(hs.URL); err != nil {
		t.Fatalf("idptest: %v", err)
	}
	return &Server{IdP: p, URL: hs.URL, HTTP: hs}
}
