//go:build smoke

package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/smoke/smoketest"
)

// TestScopes is the scope-enforcement suite on an exchange-mode
// deployment: read-only tokens see read tools only, a write call is
// refused with a 403 step-up challenge before anything reaches Nextcloud,
// a token with the write scope then succeeds in the same session, and bad
// tokens get 401 challenges.
func TestScopes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := smoketest.StartStack(ctx, t, options(smoketest.ModeExchange, false))
	prmURL := s.BaseURL + "/.well-known/oauth-protected-resource/mcp"

	readOnly := []string{"notes:read"}
	tok, err := s.Token(ctx, readOnly...)
	require.NoError(t, err)
	c, err := s.Connect(ctx, tok.AccessToken)
	require.NoError(t, err)
	closeOnCleanup(t, c)

	t.Run("read-only token lists only read tools", func(t *testing.T) {
		names, err := c.ToolNames(ctx)
		require.NoError(t, err)
		want := smoketest.ExpectedTools(readOnly, false)
		require.NotEmpty(t, want)
		assert.Equal(t, want, names)
	})

	t.Run("write call refused with a step-up challenge", func(t *testing.T) {
		m := s.Mark(ctx)
		_, err := c.Call(ctx, "nc_notes_create_note", map[string]any{"title": "refused", "content": "", "category": ""})
		require.Error(t, err, "a write call with a read-only token must be refused")
		rej, ok := c.LastRejection()
		require.True(t, ok, "the refusal should be an HTTP error")
		assert.Equal(t, "tools/call", rej.RPCMethod)
		require.Equal(t, 403, rej.Status, "insufficient scope is HTTP 403 (MCP 2025-11-25 step-up)")
		ch, err := smoketest.ParseChallenge(rej.WWWAuthenticate)
		require.NoError(t, err, "WWW-Authenticate: %q", rej.WWWAuthenticate)
		assert.Equal(t, "Bearer", ch.Scheme)
		assert.Equal(t, "insufficient_scope", ch.Params["error"])
		scope := strings.Fields(ch.Params["scope"])
		assert.Contains(t, scope, "notes:write", "scope must name the missing scope")
		assert.Contains(t, scope, "notes:read", "scope must keep the granted scope (granted ∪ required)")
		assert.Equal(t, prmURL, ch.Params["resource_metadata"])
		if ev := s.Since(ctx, m); ev.Available {
			assert.Empty(t, ev.Nextcloud, "the refusal must come before any Nextcloud request")
		}
	})

	t.Run("protected resource metadata", func(t *testing.T) {
		status, body, err := smoketest.HTTPGet(ctx, prmURL)
		require.NoError(t, err)
		require.Equal(t, 200, status)
		var prm struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			ScopesSupported      []string `json:"scopes_supported"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &prm))
		assert.Equal(t, s.MCPURL, prm.Resource)
		assert.Contains(t, prm.AuthorizationServers, s.IssuerURL)
		assert.Contains(t, prm.ScopesSupported, "notes:write")
	})

	t.Run("step-up: a token with the write scope succeeds", func(t *testing.T) {
		up, err := s.Token(ctx, "notes:read", "notes:write")
		require.NoError(t, err)
		c.SetToken(up.AccessToken) // same session, as a client does after re-authorizing
		res, _ := s.Call(ctx, t, c, "create a note after step-up", "nc_notes_create_note",
			map[string]any{"title": "Stepped up", "content": "written after step-up", "category": ""})
		var out struct {
			ID int64 `json:"id"`
		}
		require.NoError(t, smoketest.Structured(res, &out))
		assert.NotZero(t, out.ID)
		names, err := c.ToolNames(ctx)
		require.NoError(t, err)
		assert.Equal(t, smoketest.ExpectedTools([]string{"notes:read", "notes:write"}, false), names)
	})

	t.Run("no token: 401 challenge without an error code", func(t *testing.T) {
		ch := refusedConnect(ctx, t, s, "")
		_, hasError := ch.Params["error"]
		assert.False(t, hasError, "RFC 6750 §3.1: no error code when the request had no credentials")
	})

	bad := []struct {
		name   string
		mint   smoketest.MintRequest
		reason string
	}{
		{"expired token", smoketest.MintRequest{ExpiresIn: ptr(int64(-300)),
			Claims: map[string]any{"sub": s.User, "aud": s.MCPURL, "scope": "notes:read notes:write", "client_id": "mcp-client"}}, "expired"},
		{"wrong-audience token", smoketest.MintRequest{
			Claims: map[string]any{"sub": s.User, "aud": "https://elsewhere.example/api", "scope": "notes:read notes:write", "client_id": "mcp-client"}}, "audience"},
	}
	for _, b := range bad {
		t.Run(b.name+": 401 invalid_token", func(t *testing.T) {
			needFakes(t, s, "minting the "+b.name)
			tok, err := s.Mint(ctx, b.mint)
			require.NoError(t, err)
			ch := refusedConnect(ctx, t, s, tok)
			assert.Equal(t, "invalid_token", ch.Params["error"])
		})
	}
}

// refusedConnect expects initialize with token to be refused with 401 and
// a Bearer challenge pointing at the metadata; it returns the challenge.
func refusedConnect(ctx context.Context, t *testing.T, s *smoketest.Stack, token string) smoketest.Challenge {
	t.Helper()
	c, err := s.Connect(ctx, token)
	if err == nil {
		_ = c.Close() // the test fails here anyway: the accepted initialize is the news
		t.Fatal("initialize should have been refused")
	}
	var ce *smoketest.ConnectError
	require.True(t, errors.As(err, &ce), "%v", err)
	require.NotNil(t, ce.Rejection, "the refusal should be an HTTP error: %v", err)
	require.Equal(t, 401, ce.Rejection.Status)
	ch, err := smoketest.ParseChallenge(ce.Rejection.WWWAuthenticate)
	require.NoError(t, err, "WWW-Authenticate: %q", ce.Rejection.WWWAuthenticate)
	assert.Equal(t, "Bearer", ch.Scheme)
	assert.Equal(t, s.BaseURL+"/.well-known/oauth-protected-resource/mcp", ch.Params["resource_metadata"])
	assert.NotEmpty(t, ch.Params["scope"], "the challenge should say which scope to ask for")
	return ch
}

func ptr[T any](v T) *T { return &v }
