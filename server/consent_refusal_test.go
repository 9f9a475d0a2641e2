package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
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
// audience of its own id, as a misconfigured audience mapper does, with no
// resource indicator sent), the callback refuses it — the Nextcloud-side
// verifier accepts Nextcloud's audience only, never the server's — says
// what the IdP granted, what was asked and what to configure, revokes it
// at the IdP and leaves the user unprovisioned.
func TestConsentRefusesGrantNotForNextcloud(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour,
		MutateIdP: func(c *idp.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == idp.ClientMCPServer {
					c.Clients[i].DefaultAudiences = []string{idp.ClientMCPServer}
				}
			}
		},
		MutateServer: func(c *server.Config) { c.NextcloudResource = server.ResourceNone }})
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
	assert.Contains(t, page, "the IdP granted an access token for audience "+idp.ClientMCPServer+", not Nextcloud&#39;s &#34;"+devstack.NextcloudClientID+"&#34;")
	assert.Contains(t, page, "the authorization asked for resource (none) and audience &#34;"+devstack.NextcloudClientID+"&#34;")
	assert.Contains(t, page, "NEXTCLOUD_RESOURCE")
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

// TestConsentExplainsOpaqueGrant: a resource-indicator IdP that does not
// know the resource it was asked for issues an opaque token for its own
// userinfo endpoint (modelled by the fake issuing the server's client
// opaque tokens). The callback refuses the grant and says exactly that:
// an opaque token, the resource and audience the server asked for, and the
// settings to change — not a misleading "no introspection endpoint".
func TestConsentExplainsOpaqueGrant(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour,
		MutateIdP: func(c *idp.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == idp.ClientMCPServer {
					c.Clients[i].OpaqueAccessTokens = true
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

	path, status, page := openLink(t, out.URL)
	assert.Equal(t, "/oauth/callback", path)
	assert.Equal(t, http.StatusBadRequest, status, page)
	for _, want := range []string{
		"the IdP granted an opaque access token (not a JWT)",
		"the authorization asked for resource &#34;" + st.NextcloudURL + "&#34; and audience &#34;" + devstack.NextcloudClientID + "&#34;",
		"NEXTCLOUD_RESOURCE", "NEXTCLOUD_OIDC_AUDIENCE",
		"was revoked at the identity provider",
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "introspection")
}

// TestResourceIndicatorSentForNextcloud: Flow 2 (authorization, code and
// refresh requests) and every token exchange name Nextcloud by its RFC 8707
// resource (NEXTCLOUD_RESOURCE, by default NEXTCLOUD_HOST) besides its
// audience, so a resource-indicator IdP issues Nextcloud's token. The fake
// IdP adds a requested resource to the token's aud, which its request log
// shows.
func TestResourceIndicatorSentForNextcloud(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setting  string
		resource func(st *devstack.Stack) string
	}{
		{"default is the Nextcloud URL", "", func(st *devstack.Stack) string { return st.NextcloudURL }},
		{"configured", "https://cloud.example.com/", func(*devstack.Stack) string { return "https://cloud.example.com/" }},
		{"none", server.ResourceNone, func(*devstack.Stack) string { return "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, ProgressiveConsent: true, AutoApprove: true, SyncInterval: time.Hour,
				MutateServer: func(c *server.Config) { c.NextcloudResource = tc.setting }})
			ctx := context.Background()
			tok, err := st.Token(ctx, "alice", allScopes)
			require.NoError(t, err)
			cs := connect(t, st.MCPURL, tok)
			var out struct {
				URL string `json:"authorization_url"`
			}
			mustCall(t, cs, "provision_nextcloud_access", nil, &out)
			link, err := url.Parse(out.URL)
			require.NoError(t, err)
			want := tc.resource(st)
			assert.Equal(t, want, link.Query().Get("resource"), "the authorization request's resource")
			assert.Equal(t, devstack.NextcloudClientID, link.Query().Get("audience"))
			st.IdP.ResetLog()
			_, status, page := openLink(t, out.URL)
			require.Equal(t, http.StatusOK, status, page)
			mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, nil)

			// The worker refreshes the new grant at once (to build the
			// user's index): the broker's refresh grant.
			grants := map[string][]string{}
			require.Eventually(t, func() bool {
				for _, e := range st.IdP.RequestLog() {
					if e.Endpoint == "token" && e.ClientID == devstack.ServerClientID && e.Status == http.StatusOK {
						grants[e.GrantType] = e.Audience
					}
				}
				_, ok := grants[idp.GrantRefreshToken]
				return ok
			}, 10*time.Second, 20*time.Millisecond, "the worker made no refresh grant")
			for _, g := range []string{idp.GrantAuthorizationCode, idp.GrantTokenExchange, idp.GrantRefreshToken} {
				require.Contains(t, grants, g)
				assert.Contains(t, grants[g], devstack.NextcloudClientID, g)
				if want == "" {
					assert.NotContains(t, strings.Join(grants[g], " "), "://", "%s: no resource was to be sent", g)
				} else {
					assert.Contains(t, grants[g], want, "%s: the token's aud lacks the resource, so none was sent", g)
				}
			}
		})
	}
}
