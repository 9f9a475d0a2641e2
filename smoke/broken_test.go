//go:build smoke

package smoke

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/smoke/smoketest"
)

// fatalRecorder is a testing.TB whose Fatal records the message and ends
// the goroutine, so a test can look at the failure a suite step would
// report.
type fatalRecorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatal(args ...any) {
	r.mu.Lock()
	r.msg = strings.TrimSuffix(fmt.Sprintln(args...), "\n")
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *fatalRecorder) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }

// runRecorded runs step as t's stand-in and returns its fatal message, or
// "" when it did not fail.
func runRecorded(t *testing.T, step func(tb testing.TB)) string {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		step(rec)
	}()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.msg
}

// TestBrokenConfigurationIsReadable deploys a server told the wrong
// Nextcloud audience and checks that the suite's failure says what went
// wrong and which setting to fix — in a real deployment, not only in the
// helpers' unit test.
func TestBrokenConfigurationIsReadable(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	o := options(smoketest.ModeExchange, false)
	o.ServerEnv = map[string]string{"NEXTCLOUD_OIDC_AUDIENCE": "not-nextcloud"}
	s := smoketest.StartStack(ctx, t, o)
	needFakes(t, s, "the broken-configuration check (it reads the fakes' request logs)")
	tok, err := s.Token(ctx, smoketest.AllScopes()...)
	require.NoError(t, err)
	c, err := s.Connect(ctx, tok.AccessToken)
	require.NoError(t, err)
	closeOnCleanup(t, c)

	msg := runRecorded(t, func(tb testing.TB) {
		s.Call(ctx, tb, c, "create a note", "nc_notes_create_note",
			map[string]any{"title": "never", "content": "", "category": ""})
	})
	require.NotEmpty(t, msg, "the call should have failed with the wrong audience")
	t.Logf("the suite would report:\n%s", msg)
	for _, want := range []string{
		`step "create a note" failed: nc_notes_create_note returned a tool error`,
		"token exchange",
		"fake IdP: POST token grant=token-exchange client=nextcloud-mcp-server",
		"invalid_target",
		"fake Nextcloud: no request",
		"likely cause:",
		"NEXTCLOUD_OIDC_AUDIENCE",
	} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, tok.AccessToken, "the failure message must not print the token")
}
