package stack

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// tap wraps the fake IdP's handler and remembers the refresh tokens the
// token endpoint issues, per client. It lets the suite look for those exact
// bytes in the server's token database and check them by introspection
// after revocation — things the IdP's secret-free request log cannot show.
// It sees the wire only, like a network tap.
type tap struct {
	mu    sync.Mutex
	byCli map[string][]string
}

func newTap() *tap { return &tap{byCli: map[string][]string{}} }

// wrap is devstack.Options.WrapIdP.
func (t *tap) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/token") {
			next.ServeHTTP(w, r)
			return
		}
		cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(cw, r)
		if cw.status != http.StatusOK {
			return
		}
		var v struct {
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(cw.body.Bytes(), &v) != nil || v.RefreshToken == "" {
			return
		}
		// Confidential clients (the MCP server) authenticate with
		// client_secret_basic; that names the client.
		client, _, _ := r.BasicAuth()
		if c, err := url.QueryUnescape(client); err == nil {
			client = c
		}
		t.mu.Lock()
		t.byCli[client] = append(t.byCli[client], v.RefreshToken)
		t.mu.Unlock()
	})
}

// captureWriter passes a response through and keeps a copy of its body.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

// RefreshTokens implements grade.TokenTap.
func (t *tap) RefreshTokens(clientID string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.byCli[clientID]...)
}
