package smoketest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallAuthCheck(t *testing.T) {
	const clientJTI = "client-jti"
	exchanged := func(jti string) NCLogEntry {
		return NCLogEntry{Method: "GET", Path: "/apps/notes/api/v1/notes/1", Status: 200, AuthKind: "bearer", UID: "alice",
			Claims: &NCClaims{Sub: "alice", Aud: []string{"nextcloud"}, Azp: "nextcloud-mcp-server", Jti: jti, Act: map[string]any{"sub": "nextcloud-mcp-server"}}}
	}
	exchange := IdPLogEntry{Endpoint: "token", Method: "POST", GrantType: GrantTokenExchange, ClientID: "nextcloud-mcp-server", Status: 200, Outcome: "ok"}
	flow2 := NCLogEntry{Method: "GET", Path: "/apps/notes/api/v1/notes", Status: 200, AuthKind: "bearer", UID: "alice",
		Claims: &NCClaims{Sub: "alice", Aud: []string{"nextcloud"}, Azp: "nextcloud-mcp-server", Jti: "flow2"}}
	passed := NCLogEntry{Method: "GET", Path: "/apps/notes/api/v1/notes/1", Status: 200, AuthKind: "bearer", UID: "alice",
		Claims: &NCClaims{Sub: "alice", Aud: []string{"nextcloud-mcp-server", "nextcloud"}, Azp: "mcp-client", Jti: clientJTI}}
	basic := NCLogEntry{Method: "GET", Path: "/apps/notes/api/v1/notes/1", Status: 200, AuthKind: "basic", UID: "alice"}

	base := CallAuth{User: "alice", ClientJTI: clientJTI, ServerClientID: "nextcloud-mcp-server", NextcloudAudience: "nextcloud"}
	with := func(m Mode, background bool) CallAuth { a := base; a.Mode = m; a.Background = background; return a }
	tests := []struct {
		name    string
		auth    CallAuth
		ev      Evidence
		wantErr string // empty: must pass
	}{
		{"basic ok", with(ModeBasic, true), Evidence{Available: true, Nextcloud: []NCLogEntry{basic}}, ""},
		{"basic mode sent a bearer token", with(ModeBasic, true), Evidence{Available: true, Nextcloud: []NCLogEntry{passed}}, "auth bearer, want basic"},
		{"basic as another user", with(ModeBasic, true), Evidence{Available: true, Nextcloud: []NCLogEntry{{Method: "GET", Path: "/x", AuthKind: "basic", UID: "bob"}}}, `uid "bob", want "alice"`},
		{"passthrough ok", with(ModePassthrough, false), Evidence{Available: true, Nextcloud: []NCLogEntry{passed}}, ""},
		{"passthrough forwarded another token", with(ModePassthrough, false), Evidence{Available: true, Nextcloud: []NCLogEntry{exchanged("other")}}, `jti "other" reached Nextcloud, not the client's token`},
		{"exchange ok", with(ModeExchange, false), Evidence{Available: true, IdP: []IdPLogEntry{exchange}, Nextcloud: []NCLogEntry{exchanged("x1"), exchanged("x1")}}, ""},
		{"exchange forwarded the client's token", with(ModeExchange, false), Evidence{Available: true, IdP: []IdPLogEntry{exchange}, Nextcloud: []NCLogEntry{passed}}, "the client's own token reached Nextcloud"},
		{"exchange without act", with(ModeExchange, false), Evidence{Available: true, IdP: []IdPLogEntry{exchange}, Nextcloud: []NCLogEntry{flow2}}, `act.sub "", want "nextcloud-mcp-server"`},
		{"exchange with the worker's Flow 2 token alongside", with(ModeExchange, true), Evidence{Available: true, IdP: []IdPLogEntry{exchange}, Nextcloud: []NCLogEntry{flow2, exchanged("x1")}}, ""},
		{"exchange with only the worker's traffic", with(ModeExchange, true), Evidence{Available: true, IdP: []IdPLogEntry{exchange}, Nextcloud: []NCLogEntry{flow2}}, "no request of the call reached Nextcloud"},
		{"two exchanges for one call", with(ModeExchange, false), Evidence{Available: true, IdP: []IdPLogEntry{exchange, exchange}, Nextcloud: []NCLogEntry{exchanged("x1")}}, "saw 2 token exchanges during the call, want exactly 1"},
		{"no exchange at all", with(ModeExchange, false), Evidence{Available: true, Nextcloud: []NCLogEntry{exchanged("x1")}}, "saw 0 token exchanges"},
		{"exchanged token for the wrong audience", with(ModeExchange, false), Evidence{Available: true, IdP: []IdPLogEntry{exchange}, Nextcloud: []NCLogEntry{func() NCLogEntry {
			e := exchanged("x1")
			e.Claims.Aud = []string{"files"}
			return e
		}()}}, `lacks "nextcloud"`},
		{"nothing reached Nextcloud", with(ModePassthrough, false), Evidence{Available: true}, "no request of the call reached Nextcloud"},
		{"no evidence", with(ModeBasic, false), Evidence{}, "no evidence"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.auth.Check(tc.ev)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}
