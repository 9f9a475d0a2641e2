//go:build smoke

package smoke

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/smoke/smoketest"
)

// TestModes runs one deployment per token mode, in parallel: three
// containers each, driven by go-sdk's MCP client over HTTP.
func TestModes(t *testing.T) {
	for _, tc := range []struct {
		mode    smoketest.Mode
		consent bool
	}{
		{smoketest.ModeBasic, false},
		{smoketest.ModePassthrough, false},
		// Exchange is the recommended OAuth mode; progressive consent runs
		// on top of it (docs/architecture.md §4.7) where the IdP can approve without a
		// login page.
		{smoketest.ModeExchange, !external.RealIdP()},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			runModeSuite(t, tc.mode, tc.consent)
		})
	}
	if external.RealIdP() {
		t.Run("exchange/progressive consent", func(t *testing.T) {
			t.Skip("progressive consent needs an IdP that approves without a login page (the fake IdP's --auto-approve); with SMOKE_IDP_IMAGE the exchange suite runs without it")
		})
	}
}

func runModeSuite(t *testing.T, mode smoketest.Mode, consent bool) {
	ctx := testContext(t)
	s := smoketest.StartStack(ctx, t, options(mode, consent))

	var granted []string // nil in basic mode: no token, no filtering
	token, jti := "", ""
	if mode != smoketest.ModeBasic {
		granted = smoketest.AllScopes()
		tok, err := s.Token(ctx, granted...)
		require.NoError(t, err)
		token = tok.AccessToken
		if claims, err := smoketest.JWTClaims(token); err == nil {
			jti, _ = claims["jti"].(string)
		}
	}
	c, err := s.Connect(ctx, token)
	require.NoError(t, err)
	closeOnCleanup(t, c)

	auth := smoketest.CallAuth{Mode: mode, User: s.User, ClientJTI: jti, ServerClientID: s.ServerClientID,
		NextcloudAudience: s.NextcloudAudience, Background: mode == smoketest.ModeBasic || consent}
	var calls []smoketest.Evidence // every call that must have reached Nextcloud

	if !t.Run("connectivity", func(t *testing.T) {
		status, _, err := smoketest.HTTPGet(ctx, s.BaseURL+"/healthz")
		require.NoError(t, err)
		assert.Equal(t, 200, status, "GET /healthz")
		assert.Equal(t, "nextcloud-mcp", c.Session.InitializeResult().ServerInfo.Name)
		names, err := c.ToolNames(ctx)
		require.NoError(t, err)
		assert.Equal(t, smoketest.ExpectedTools(granted, consent), names, "tools/list for a full-scope token (basic: every tool)")
	}) {
		return
	}

	if consent {
		if !t.Run("progressive consent: provision", func(t *testing.T) {
			provision(ctx, t, s, c)
		}) {
			return
		}
	}

	if !t.Run("notes CRUD", func(t *testing.T) {
		calls = append(calls, notesCRUD(ctx, t, s, c)...)
	}) {
		return
	}

	for _, m := range smoketest.Modules {
		t.Run("module "+m.ID, func(t *testing.T) {
			written, ev := m.Write(ctx, t, s, c)
			calls = append(calls, ev, m.Read(ctx, t, s, c, written))
		})
	}

	t.Run("credentials reaching Nextcloud", func(t *testing.T) {
		needFakes(t, s, "checking the credentials Nextcloud received")
		for i, ev := range calls {
			assert.NoError(t, auth.Check(ev), "call %d", i+1)
		}
	})

	if consent {
		t.Run("progressive consent: revoke", func(t *testing.T) {
			res, _ := s.Call(ctx, t, c, "revoke Nextcloud access", smoketest.ToolRevoke, nil)
			var out struct {
				Deleted      bool `json:"deleted"`
				RevokedAtIdP bool `json:"revoked_at_idp"`
			}
			require.NoError(t, smoketest.Structured(res, &out))
			assert.True(t, out.Deleted, "the grant should have been deleted")
			assert.True(t, out.RevokedAtIdP, "the IdP should have confirmed the revocation (RFC 7009)")
			refusedUnprovisioned(ctx, t, s, c)
		})
	}
}

// authURLPattern finds the authorization URL in a tool's error text.
var authURLPattern = regexp.MustCompile(`https?://[^\s"'<>)]+`)

// refusedUnprovisioned checks that a notes call is refused with a pointer
// to provision_nextcloud_access and an authorization URL at the IdP, and
// that nothing reached Nextcloud. It returns that URL.
func refusedUnprovisioned(ctx context.Context, t *testing.T, s *smoketest.Stack, c *smoketest.Client) string {
	t.Helper()
	m := s.Mark(ctx)
	res, err := c.Call(ctx, "nc_notes_get_note", map[string]any{"note_id": 1})
	require.NoError(t, err, "an unprovisioned call is a tool error, not a protocol error")
	text := smoketest.ResultText(res)
	require.True(t, res.IsError, "an unprovisioned user's call must be refused; got %q", text)
	assert.Contains(t, text, smoketest.ToolProvision, "the refusal should name the provisioning tool")
	var link string
	for _, u := range authURLPattern.FindAllString(text, -1) {
		if strings.HasPrefix(u, s.IssuerURL) {
			link = u
		}
	}
	require.NotEmpty(t, link, "the refusal should carry an authorization URL at the IdP %s; got %q", s.IssuerURL, text)
	if ev := s.Since(ctx, m); ev.Available {
		assert.Empty(t, ev.Nextcloud, "an unprovisioned call must not reach Nextcloud")
	}
	return strings.TrimRight(link, ".,;")
}

// provision follows progressive consent end to end: refused → the IdP
// approves (auto-approve) → /oauth/callback stores the grant → status
// says provisioned.
func provision(ctx context.Context, t *testing.T, s *smoketest.Stack, c *smoketest.Client) {
	t.Helper()
	link := refusedUnprovisioned(ctx, t, s, c)
	if s.IdPControl == nil {
		t.Skip("following the authorization URL needs an IdP that approves without a login page (the fake IdP's --auto-approve)")
	}
	u, err := url.Parse(link)
	require.NoError(t, err)
	assert.Equal(t, s.ServerClientID, u.Query().Get("client_id"), "Flow 2 runs as the server's client")
	assert.Equal(t, "S256", u.Query().Get("code_challenge_method"), "Flow 2 uses PKCE")
	assert.Contains(t, u.Query().Get("scope"), "offline_access", "Flow 2 asks for offline access")

	hops, status, body, err := smoketest.FollowAuthorization(ctx, link, func(code string) {
		s.Secrets.Add("a Flow 2 authorization code", code)
	})
	require.NoError(t, err)
	require.NotEmpty(t, hops)
	last := hops[len(hops)-1]
	require.Equal(t, s.BaseURL+"/oauth/callback", last.URL, "the IdP should redirect to the server's callback; hops %+v", hops)
	require.Equal(t, 200, status, "the callback should store the grant; its page: %s", s.Secrets.Redact(body))

	res, _ := s.Call(ctx, t, c, "check provisioning status", smoketest.ToolStatus, nil)
	var st struct {
		Provisioned bool `json:"provisioned"`
	}
	require.NoError(t, smoketest.Structured(res, &st))
	require.True(t, st.Provisioned, "check_provisioning_status after the callback")
}

// noteWrite and note are the fields of the notes tools' results the suite
// reads.
type noteWrite struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	ETag  string `json:"etag"`
}

type note struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Content string `json:"content"`
	ETag    string `json:"etag"`
}

// notesCRUD: create → get → update with the etag → a stale-etag update is
// refused → delete → gone. It returns the evidence of every call that
// reached Nextcloud.
func notesCRUD(ctx context.Context, t *testing.T, s *smoketest.Stack, c *smoketest.Client) []smoketest.Evidence {
	t.Helper()
	var evs []smoketest.Evidence
	title := "Smoke " + string(s.Mode)

	res, ev := s.Call(ctx, t, c, "create a note", "nc_notes_create_note",
		map[string]any{"title": title, "content": "created by the smoke suite", "category": "smoke"})
	evs = append(evs, ev)
	var created noteWrite
	require.NoError(t, smoketest.Structured(res, &created))
	require.NotZero(t, created.ID)
	require.NotEmpty(t, created.ETag)

	res, ev = s.Call(ctx, t, c, "get the note", "nc_notes_get_note", map[string]any{"note_id": created.ID})
	evs = append(evs, ev)
	var got note
	require.NoError(t, smoketest.Structured(res, &got))
	assert.Equal(t, created.ID, got.ID)
	assert.Equal(t, "created by the smoke suite", got.Content)
	assert.Equal(t, created.ETag, got.ETag, "get should report the etag create returned")

	res, ev = s.Call(ctx, t, c, "update the note with its etag", "nc_notes_update_note",
		map[string]any{"note_id": created.ID, "etag": got.ETag, "content": "updated by the smoke suite"})
	evs = append(evs, ev)
	var updated noteWrite
	require.NoError(t, smoketest.Structured(res, &updated))
	require.NotEqual(t, got.ETag, updated.ETag, "an update must change the etag")

	m := s.Mark(ctx)
	res, err := c.Call(ctx, "nc_notes_update_note",
		map[string]any{"note_id": created.ID, "etag": got.ETag, "content": "a stale write"})
	require.NoError(t, err, "a stale update is a tool error, not a protocol error")
	stale := s.Since(ctx, m)
	require.True(t, res.IsError, "an update with a stale etag must be refused; got %q", smoketest.ResultText(res))
	assert.Contains(t, strings.ToLower(smoketest.ResultText(res)), "etag", "the refusal should say the etag is stale")
	if stale.Available {
		saw412 := false
		for _, e := range stale.Nextcloud {
			saw412 = saw412 || e.Status == 412
		}
		assert.True(t, saw412, "Nextcloud should have answered 412 Precondition Failed")
		evs = append(evs, stale)
	}

	res, ev = s.Call(ctx, t, c, "get the note after the refused update", "nc_notes_get_note", map[string]any{"note_id": created.ID})
	evs = append(evs, ev)
	require.NoError(t, smoketest.Structured(res, &got))
	assert.Equal(t, "updated by the smoke suite", got.Content, "the stale update must not have changed the note")

	_, ev = s.Call(ctx, t, c, "delete the note", "nc_notes_delete_note", map[string]any{"note_id": created.ID})
	evs = append(evs, ev)

	res, err = c.Call(ctx, "nc_notes_get_note", map[string]any{"note_id": created.ID})
	require.NoError(t, err)
	require.True(t, res.IsError, "a deleted note must be gone; got %q", smoketest.ResultText(res))
	assert.Contains(t, strings.ToLower(smoketest.ResultText(res)), "not found")
	return evs
}
