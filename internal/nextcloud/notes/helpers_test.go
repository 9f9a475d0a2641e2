package notes

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

const (
	testUser     = "alice"
	testPassword = "s3cret-app-password"
	testToken    = "eyJhbGciOiJSUzI1NiJ9.secret-bearer-token.sig"
)

// fixture reads a wire body from testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// seen is one request as the test server received it.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// recorder is an httptest server that records requests and answers with h.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func (r *recorder) requests() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

func newRecorder(t testing.TB, h http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), string(body)})
		rec.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// newTestClient returns a core client for rec with Basic credentials and
// backoff too short to slow tests down.
func newTestClient(t testing.TB, rec *recorder, opts ...nextcloud.Option) *nextcloud.Client {
	t.Helper()
	all := append([]nextcloud.Option{nextcloud.WithRetry(3, time.Microsecond, time.Microsecond)}, opts...)
	c, err := nextcloud.New(rec.URL, nextcloud.Basic(testUser, testPassword), all...)
	require.NoError(t, err)
	return c
}

// writeJSON answers with a JSON body the way Nextcloud's AppFramework does.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
