package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp/idptest"
)

// TestIdPLogin: -idp-login obtains the external IdP target's tokens by a
// code flow with PKCE (no password grant): a subject token for the MCP
// server's resource and a rotated refresh token, written to a 0600 file
// and never to the terminal. The fake IdP approves at once; the browser is
// a client that stops at the redirect.
func TestIdPLogin(t *testing.T) {
	s := idptest.Start(t, func(c *idp.Config) { c.AutoApprove = true })
	const mcpURL = "http://127.0.0.1:8000/mcp"
	file := filepath.Join(t.TempDir(), "tokens.env")
	env := map[string]string{"CONFORMANCE_IDP_ISSUER": s.URL, "CONFORMANCE_MCP_URL": mcpURL}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	browser := func(ctx context.Context, authURL string) (*url.URL, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
		resp, err := noFollow.Do(req)
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		return url.Parse(resp.Header.Get("Location"))
	}
	var stderr bytes.Buffer
	require.NoError(t, idpLogin(context.Background(), file, func(k string) string { return env[k] }, &stderr, browser))
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	require.NotEmpty(t, vars["CONFORMANCE_IDP_SUBJECT_TOKEN"])
	require.NotEmpty(t, vars["CONFORMANCE_IDP_REFRESH_TOKEN"])
	parts := strings.Split(vars["CONFORMANCE_IDP_SUBJECT_TOKEN"], ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	assert.Contains(t, string(payload), `"aud":"`+mcpURL+`"`, "the subject token is not for the MCP server's resource")
	for _, v := range vars {
		assert.NotContains(t, stderr.String(), v, "a token was printed")
	}
	assert.Contains(t, stderr.String(), "CONFORMANCE_IDP_SUBJECT_TOKEN, CONFORMANCE_IDP_REFRESH_TOKEN")
}
