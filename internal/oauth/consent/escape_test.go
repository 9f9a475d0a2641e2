package consent

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCallbackTextIsEscapedAndTruncated: the callback's error,
// error_description and iss are whatever the caller of /oauth/callback
// put in the URL. They reach the error text (the callback page, the log)
// and the audit row only Go-quoted — no raw line breaks, no bidi or other
// format characters that could forge a line or reorder text — and cut
// short.
func TestCallbackTextIsEscapedAndTruncated(t *testing.T) {
	forged := "x\nconsent_succeeded alice\r\u202egnp.exe\u2028\x00<script>" + strings.Repeat("A", 5000)
	tests := []struct {
		name string
		cb   func(state string) Callback
	}{
		{name: "error_description", cb: func(s string) Callback {
			return Callback{State: s, Error: "access_denied", ErrorDescription: forged}
		}},
		{name: "error", cb: func(s string) Callback { return Callback{State: s, Error: forged} }},
		{name: "iss", cb: func(s string) Callback { return Callback{State: s, Iss: forged, Code: "c"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx := context.Background()
			a, err := f.flow.Begin(ctx, "alice")
			require.NoError(t, err)
			u, err := url.Parse(a.URL)
			require.NoError(t, err)
			_, err = f.flow.Complete(ctx, tt.cb(u.Query().Get("state")))
			require.Error(t, err)
			ev, aerr := f.store.AuditEvents(ctx, "alice", 1)
			require.NoError(t, aerr)
			require.Equal(t, 1, len(ev))
			for where, text := range map[string]string{"error text": err.Error(), "audit detail": ev[0].Detail} {
				assert.NotContains(t, text, "\n", where)
				assert.NotContains(t, text, "\r", where)
				assert.NotContains(t, text, "\u202e", where)
				assert.NotContains(t, text, "\u2028", where)
				assert.NotContains(t, text, "\x00", where)
				assert.Contains(t, text, `\n`, "%s shows the line break escaped", where)
				assert.Contains(t, text, `\u202e`, "%s shows the override escaped", where)
				assert.LessOrEqual(t, utf8.RuneCountInString(text), 500, where)
			}
		})
	}
}
