package notes

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/wiretest"
)

const (
	testUser     = "alice"
	testPassword = "s3cret-app-password"
	testToken    = "eyJhbGciOiJSUzI1NiJ9.secret-bearer-token.sig"
)

// fixture reads a wire body from testdata, or from the core's testdata
// for the bodies both packages' tests use (kept in one place).
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join("..", "testdata", name)
	}
	return wiretest.Fixture(t, path)
}

// The test server and its writers are shared with the other client
// packages' tests.
type (
	seen     = wiretest.Request
	recorder = wiretest.Recorder
)

var (
	newRecorder = wiretest.NewRecorder
	writeJSON   = wiretest.WriteJSON
	writeXML    = wiretest.WriteXML
)

// newTestClient returns a core client for rec with Basic credentials and
// backoff too short to slow tests down.
func newTestClient(t testing.TB, rec *recorder, opts ...nextcloud.Option) *nextcloud.Client {
	t.Helper()
	all := append([]nextcloud.Option{nextcloud.WithRetry(3, time.Microsecond, time.Microsecond)}, opts...)
	c, err := nextcloud.New(rec.URL, nextcloud.Basic(testUser, testPassword), all...)
	require.NoError(t, err)
	return c
}
