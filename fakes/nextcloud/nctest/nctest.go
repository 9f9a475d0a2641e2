// Package nctest starts the fake Nextcloud on an httptest server for Go
// tests.
package nctest

import (
	"net/http/httptest"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
)

// Server is a running fake Nextcloud.
type Server struct {
	*nextcloud.Nextcloud
	// URL is the base URL, e.g. http://127.0.0.1:PORT.
	URL string
	// HTTP is the underlying test server.
	HTTP *httptest.Server
}

// Start runs a fake Nextcloud with nextcloud.DefaultConfig (control API
// enabled, default seed), modified by each mutate in order, on a loopback
// httptest server that t.Cleanup closes.
func Start(t testing.TB, mutate ...func(*nextcloud.Config)) *Server {
	t.Helper()
	cfg := nextcloud.DefaultConfig()
	cfg.ControlAPI = true
	for _, m := range mutate {
		m(&cfg)
	}
	n, err := nextcloud.New(cfg)
	if err != nil {
		t.Fatalf("nctest: %v", err)
	}
	hs := httptest.NewServer(n)
	t.Cleanup(func() {
		hs.Close()
		_ = n.Close()
	})
	return &Server{Nextcloud: n, URL: hs.URL, HTTP: hs}
}
