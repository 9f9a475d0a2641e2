package stack

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// tap is a reverse proxy in front of the fake IdP that remembers the
// refresh tokens the token endpoint issues, per client. It lets the suite
// look for those exact bytes in the server's token database and check
// them by introspection after revocation — things the IdP's secret-free
// request log cannot show. It sees the wire only, like a network tap.
type tap struct {
	ln    net.Listener
	srv   *http.Server
	mu    sync.Mutex
	byCli map[string][]string
}

func newTap(upstream string) (*tap, error) {
	target, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &tap{ln: ln, byCli: map[string][]string{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = t.capture
	t.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go t.srv.Serve(ln)
	return t, nil
}

// URL is the tap's address; it becomes the IdP's issuer.
func (t *tap) URL() string { return "http://" + t.ln.Addr().String() }

func (t *tap) capture(resp *http.Response) error {
	req := resp.Request
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/token") || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var v struct {
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(body, &v) != nil || v.RefreshToken == "" {
		return nil
	}
	// Confidential clients (the MCP server) authenticate with
	// client_secret_basic; that names the client.
	client, _, _ := req.BasicAuth()
	if c, err := url.QueryUnescape(client); err == nil {
		client = c
	}
	t.mu.Lock()
	t.byCli[client] = append(t.byCli[client], v.RefreshToken)
	t.mu.Unlock()
	return nil
}

// RefreshTokens implements grade.TokenTap.
func (t *tap) RefreshTokens(clientID string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.byCli[clientID]...)
}

func (t *tap) close() error { return t.srv.Close() }

// freeAddr reserves a loopback port for the fake IdP behind the tap. The
// port is released before devstack binds it; Start retries on a clash.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
