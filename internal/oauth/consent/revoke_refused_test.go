package consent

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/internal/testas"
)

// TestRefusedCallbackRevokesWhatItRedeemed: once the code is redeemed the
// IdP holds an offline grant; a callback refused after that (another
// account approved, the access token is not for Nextcloud, the response
// is unusable) revokes the refresh token at the IdP (RFC 7009) before
// refusing, so no orphaned 30-day grant is left behind.
func TestRefusedCallbackRevokesWhatItRedeemed(t *testing.T) {
	tests := []struct {
		name  string
		opts  []testas.Option
		setup func(f *fixture)
		is    error
	}{
		{name: "another account approved", setup: func(f *fixture) { f.as.SetUser("bob") }, is: ErrSubjectMismatch},
		{name: "access token not for Nextcloud", opts: []testas.Option{testas.WithCodeAudience("mcp-server")}, is: ErrBadGrant},
		{name: "not a bearer token", setup: func(f *fixture) {
			f.as.Override("/token", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprint(w, `{"access_token":"x","token_type":"DPoP","refresh_token":"rt-orphan-0123456789"}`) // a failed write shows up as the client's error
			})
		}, is: ErrBadGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, tt.opts...)
			if tt.setup != nil {
				tt.setup(f)
			}
			cb := f.begin(t, "alice")
			_, err := f.flow.Complete(context.Background(), cb)
			require.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), "revoked at the identity provider")
			var revoked []string
			for _, r := range f.as.Requests() {
				if r.Endpoint == "revoke" {
					assert.Equal(t, testas.ServerClientID, r.ClientID)
					assert.Equal(t, "refresh_token", r.Form.Get("token_type_hint"))
					revoked = append(revoked, r.Form.Get("token"))
				}
			}
			require.Len(t, revoked, 1, "revocations after a refused callback")
			assert.NotContains(t, err.Error(), revoked[0], "the error text carries the refresh token")
			if tt.name != "not a bearer token" {
				assert.True(t, f.as.IsRevoked(revoked[0]), "the redeemed refresh token is still live at the IdP")
			}
		})
	}
}
