package smoketest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExternalFromEnv(t *testing.T) {
	keycloak := map[string]string{
		"SMOKE_IDP_IMAGE":                "quay.io/keycloak/keycloak:26.4",
		"SMOKE_IDP_ISSUER":               "http://127.0.0.1:8180/realms/nextcloud-mcp/",
		"SMOKE_IDP_ARGS":                 `["start-dev","--import-realm","--http-port=8180"]`,
		"SMOKE_IDP_ENV":                  `{"KC_BOOTSTRAP_ADMIN_USERNAME":"admin","KC_FEATURES":"token-exchange,preview"}`,
		"SMOKE_IDP_FILES":                `{"/opt/keycloak/data/import/realm.json":"/tmp/realm.json"}`,
		"SMOKE_IDP_SERVER_CLIENT_SECRET": "server-secret",
		"SMOKE_PASSWORD":                 "alice-password",
	}
	withNC := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range keycloak {
			m[k] = v
		}
		m["SMOKE_NEXTCLOUD_IMAGE"] = "nextcloud:32"
		m["SMOKE_NEXTCLOUD_URL"] = "http://127.0.0.1:8080"
		m["SMOKE_NEXTCLOUD_APP_PASSWORD"] = "app-password"
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, e External)
		wantErr []string
	}{
		{name: "nothing set: the fakes", env: map[string]string{}, check: func(t *testing.T, e External) {
			assert.False(t, e.Any())
			assert.Equal(t, "alice", e.User)
			assert.Equal(t, 5*time.Minute, e.ReadyTimeout)
		}},
		{name: "keycloak", env: keycloak, check: func(t *testing.T, e External) {
			assert.True(t, e.RealIdP())
			assert.False(t, e.RealNextcloud())
			assert.Equal(t, "http://127.0.0.1:8180/realms/nextcloud-mcp", e.IdPIssuer)
			assert.Equal(t, []string{"start-dev", "--import-realm", "--http-port=8180"}, e.IdPArgs)
			assert.Equal(t, "token-exchange,preview", e.IdPEnv["KC_FEATURES"])
			assert.Equal(t, "/tmp/realm.json", e.IdPFiles["/opt/keycloak/data/import/realm.json"])
			assert.Equal(t, "password", e.TokenFlow)
			assert.Equal(t, "nextcloud-mcp-server", e.ServerClientID)
			assert.Equal(t, "mcp-client", e.ClientID)
		}},
		{name: "keycloak and nextcloud", env: withNC(map[string]string{"SMOKE_READY_TIMEOUT": "10m", "SMOKE_NEXTCLOUD_AUDIENCE": "nc"}), check: func(t *testing.T, e External) {
			assert.True(t, e.RealNextcloud())
			assert.Equal(t, 10*time.Minute, e.ReadyTimeout)
			assert.Equal(t, "nc", e.NextcloudAudience)
		}},
		{name: "every problem at once", env: map[string]string{
			"SMOKE_IDP_IMAGE": "kc", "SMOKE_IDP_ISSUER": "https://kc.example", "SMOKE_IDP_ENV": "KC=1",
			"SMOKE_IDP_TOKEN_FLOW": "implicit", "SMOKE_READY_TIMEOUT": "soon",
			"SMOKE_NEXTCLOUD_IMAGE": "nextcloud:32",
		}, wantErr: []string{
			"SMOKE_IDP_ENV must be JSON",
			"SMOKE_IDP_ISSUER (required with SMOKE_IDP_IMAGE) must be an http://127.0.0.1:<port> URL",
			"SMOKE_IDP_SERVER_CLIENT_SECRET is required",
			"SMOKE_IDP_TOKEN_FLOW must be password or code",
			"SMOKE_READY_TIMEOUT must be a positive duration",
			"SMOKE_NEXTCLOUD_URL (required with SMOKE_NEXTCLOUD_IMAGE)",
			"SMOKE_NEXTCLOUD_APP_PASSWORD is required",
		}},
		{name: "password flow needs the password", env: func() map[string]string {
			m := withNC(nil)
			delete(m, "SMOKE_PASSWORD")
			return m
		}(), wantErr: []string{"SMOKE_PASSWORD is required"}},
		{name: "code flow needs no password", env: func() map[string]string {
			m := withNC(map[string]string{"SMOKE_IDP_TOKEN_FLOW": "code"})
			delete(m, "SMOKE_PASSWORD")
			return m
		}(), check: func(t *testing.T, e External) { assert.Equal(t, "code", e.TokenFlow) }},
		{name: "real nextcloud with the fake IdP", env: map[string]string{
			"SMOKE_NEXTCLOUD_IMAGE": "nextcloud:32", "SMOKE_NEXTCLOUD_URL": "http://127.0.0.1:8080", "SMOKE_NEXTCLOUD_APP_PASSWORD": "x",
		}, wantErr: []string{"SMOKE_NEXTCLOUD_IMAGE needs SMOKE_IDP_IMAGE too"}},
		{name: "relative file paths", env: func() map[string]string {
			m := withNC(map[string]string{"SMOKE_NEXTCLOUD_FILES": `{"/docker-entrypoint-hooks.d/post-installation/10-oidc.sh":"hooks/10-oidc.sh"}`})
			return m
		}(), wantErr: []string{"SMOKE_NEXTCLOUD_FILES", "both paths must be absolute"}},
		{name: "issuer without image", env: map[string]string{"SMOKE_IDP_ISSUER": "http://127.0.0.1:1"}, wantErr: []string{"SMOKE_IDP_ISSUER is set without SMOKE_IDP_IMAGE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ExternalFromEnv(func(k string) string { return tc.env[k] })
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				for _, secret := range []string{"server-secret", "alice-password", "app-password"} {
					assert.NotContains(t, err.Error(), secret)
				}
				return
			}
			require.NoError(t, err)
			tc.check(t, e)
		})
	}
}
