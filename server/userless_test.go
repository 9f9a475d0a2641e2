package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
)

// TestUserlessTokensAreRefused: a token issued to a client for itself
// (client credentials: sub = the client) or to a Keycloak service account
// is refused with 401 invalid_token before anything runs: no tool call,
// no pending consent link, and Nextcloud never sees (and so never
// auto-provisions) a user named after the client.
func TestUserlessTokensAreRefused(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true})
	require.NoError(t, st.IdP.UpsertClient(idp.Client{
		ID: "svc-client", Secret: "svc-client-secret", GrantTypes: []string{idp.GrantClientCredentials},
		DefaultAudiences: []string{st.MCPURL, devstack.ServerClientID, devstack.NextcloudClientID},
	}))
	ctx := context.Background()
	cc, err := st.IdP.IssueAccessToken(ctx, idp.IssueRequest{ClientID: "svc-client", Scopes: readOnlyScopesNoOpenID(), Resource: st.MCPURL})
	require.NoError(t, err)
	keycloak, err := st.IdP.Mint(idp.MintRequest{Claims: map[string]any{
		"sub": "0b9c2a1e-5d4f-4c1a-9e7b-3f2d1c0b9a88", "azp": "svc-client", "client_id": "svc-client",
		"preferred_username": "service-account-svc-client", "aud": st.MCPURL, "scope": "notes:read notes:write",
	}})
	require.NoError(t, err)
	user, err := st.Token(ctx, "alice", allScopes)
	require.NoError(t, err)

	st.Nextcloud.ResetLog()
	tests := []struct {
		name, token string
	}{
		{name: "client credentials", token: cc.AccessToken},
		{name: "Keycloak service account", token: keycloak},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, st.MCPURL, tt.token, initBody)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "names no user")
		})
	}
	assert.Empty(t, st.Nextcloud.RequestLog(), "a user-less token reached Nextcloud")
	_, provisioned := st.Nextcloud.AppPassword("svc-client")
	assert.False(t, provisioned, "Nextcloud provisioned a user named after the client")

	// Positive control: a user's token from the same IdP is served.
	assert.Equal(t, http.StatusOK, post(t, st.MCPURL, user, initBody).StatusCode)
}

// readOnlyScopesNoOpenID are the read scopes a client-credentials grant
// may carry (no openid, no offline_access).
func readOnlyScopesNoOpenID() []string {
	var out []string
	for _, s := range readOnlyScopes {
		if s != "openid" && s != "profile" && s != "email" {
			out = append(out, s)
		}
	}
	return out
}
