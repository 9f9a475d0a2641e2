package server_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// openLink plays the browser on an authorization link and returns where
// it ended, the status and the page.
func openLink(t *testing.T, link string) (string, int, string) {
	t.Helper()
	resp, err := http.Get(link)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.Request.URL.Path, resp.StatusCode, string(b)
}

// revocations are the IdP's successful RFC 7009 revocations by the
// server's client.
func revocations(st *devstack.Stack) int {
	n := 0
	for _, e := range st.IdP.RequestLog() {
		if e.Endpoint == "revoke" && e.ClientID == devstack.ServerClientID && e.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// TestConsentRefusesGrantNotForNextcloud: when the IdP issues the Flow 2
// grant for the server's own client id instead of Nextcloud's (a default
// audience of its own id, as a misconfigured audience mapper does), the
// callback refuses it — the Nextcloud-side verifier accepts Nextcloud's
// audience only, never the server's — revokes it at the IdP and leaves the
// user unprovisioned.
func TestConsentRefusesGrantNotForNextcloud(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour,
		MutateIdP: func(c *idp.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == idp.ClientMCPServer {
					c.Clients[i].DefaultAudiences = []string{idp.ClientMCPServer}
				}
			}
		}})
	ctx := context.Background()
	tok, err := st.Token(ctx, "alice", allScopes)
	require.NoError(t, err)
	cs := connect(t, st.MCPURL, tok)
	var out struct {
		URL string `json:"authorization_url"`
	}
	mustCall(t, cs, "provision_nextcloud_access", nil, &out)
	st.IdP.ResetLog()

	path, status, page := openLink(t, out.URL)
	assert.Equal(t, "/oauth/callback", path)
	assert.Equal(t, http.StatusBadRequest, status, page)
	assert.Contains(t, page, "does not include "+devstack.NextcloudClientID)
	assert.Equal(t, 1, revocations(st), "the refused grant was not revoked at the IdP")

	var status2 struct {
		Provisioned bool `json:"provisioned"`
	}
	mustCall(t, cs, "check_provisioning_status", nil, &status2)
	assert.False(t, status2.Provisioned, "a grant for the wrong audience provisioned the user")
	st.Nextcloud.ResetLog()
	res := call(t, cs, notes.ToolSearchNotes, map[string]any{"query": "x"}, nil)
	assert.True(t, res.IsError)
	assert.Empty(t, st.Nextcloud.RequestLog())
}
