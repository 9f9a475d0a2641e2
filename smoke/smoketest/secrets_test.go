package smoketest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretsScan(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1hYmNkZWY"
	var s Secrets
	s.AddToken("an access token", jwt)
	s.Add("the server's client secret", "nextcloud-mcp-server-secret")
	s.Add("too short", "abc") // ignored: would match by accident
	s.AddToken("an empty token", "")
	require.Equal(t, 3, s.Len(), "token, its signature, the client secret")

	log := strings.Join([]string{
		`{"level":"INFO","msg":"listening"}`,
		`{"level":"DEBUG","msg":"request","authorization":"Bearer ` + jwt + `"}`,
		`{"msg":"cut token","sig":"c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1hYmNkZWY"}`,
		`{"msg":"config","secret":"nextcloud-mcp-server-secret","abc":"abc"}`,
	}, "\n")
	leaks := s.Scan("nextcloud-mcp", log)
	require.Len(t, leaks, 3, "%v", leaks)
	assert.Equal(t, Leak{Container: "nextcloud-mcp", Label: "an access token", Line: 2,
		Excerpt: `{"level":"DEBUG","msg":"request","authorization":"Bearer [REDACTED an access token]"}`}, leaks[0])
	assert.Equal(t, "an access token (JWT signature)", leaks[1].Label)
	assert.Equal(t, 3, leaks[1].Line)
	assert.Equal(t, "the server's client secret", leaks[2].Label)
	assert.Equal(t, 4, leaks[2].Line)
	for _, l := range leaks {
		assert.NotContains(t, l.String(), "nextcloud-mcp-server-secret", "a report must not print the secret")
		assert.NotContains(t, l.String(), "c2lnbmF0dXJl")
	}
	assert.Empty(t, s.Scan("fake-idp", `{"msg":"listening","url":"http://127.0.0.1:1"}`))
}

func TestSecretsRedact(t *testing.T) {
	var s Secrets
	s.AddToken("a refresh token", "aaa.bbbbbbbbbbbbbbbbbbbbbbbb.cccccccccccccccccccccccc")
	assert.Equal(t, "x [REDACTED a refresh token] y [REDACTED a refresh token (JWT signature)]",
		s.Redact("x aaa.bbbbbbbbbbbbbbbbbbbbbbbb.cccccccccccccccccccccccc y cccccccccccccccccccccccc"))
}
