package smoketest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		scheme  string
		params  map[string]string
		wantErr bool
	}{
		{"bare scheme", "Bearer", "Bearer", map[string]string{}, false},
		{"step-up", `Bearer error="insufficient_scope", scope="notes:read notes:write", resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp"`,
			"Bearer", map[string]string{"error": "insufficient_scope", "scope": "notes:read notes:write",
				"resource_metadata": "http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp"}, false},
		{"token values and odd spacing", `Bearer  error=invalid_token ,Realm = "x, y"`, "Bearer", map[string]string{"error": "invalid_token", "realm": "x, y"}, false},
		{"escaped quote", `Bearer error_description="a \"quoted\" word"`, "Bearer", map[string]string{"error_description": `a "quoted" word`}, false},
		{"unterminated quote", `Bearer scope="notes:read`, "", nil, true},
		{"parameter without value", `Bearer error`, "", nil, true},
		{"empty", ``, "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseChallenge(tc.in)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.scheme, c.Scheme)
			assert.Equal(t, tc.params, c.Params)
		})
	}
}
