package loadbench

import (
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary stand in for `bench-load bare`, so the
// child-process code is tested against a real process.
func TestMain(m *testing.M) {
	if os.Getenv("LOADBENCH_TEST_BARE") == "1" {
		if err := ServeBare(context.Background(), "127.0.0.1:0", os.Stdout, os.Stderr); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestDriveTheBareServer(t *testing.T) {
	srv := httptest.NewServer(BareHandler())
	t.Cleanup(srv.Close)
	tr := clientTransport(8)
	t.Cleanup(tr.CloseIdleConnections)
	ctx := context.Background()

	sessions, err := newClient(srv.URL+"/mcp", "any-token", tr).open(ctx, 3)
	require.NoError(t, err)
	t.Cleanup(func() { closeSessions(sessions) })
	require.Len(t, sessions, 3)

	params, err := callFor(ctx, Bare, sessions[0])
	require.NoError(t, err)
	res, err := sessions[0].CallTool(ctx, params)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"note_id": float64(1)}, res.StructuredContent, "the echo")

	l := drive(ctx, sessions, params, 200*time.Millisecond)
	assert.Zero(t, l.errors, "first error: %v", l.firstErr)
	assert.NotEmpty(t, l.latencies)
	assert.GreaterOrEqual(t, l.elapsed, 200*time.Millisecond)

	bad := drive(ctx, sessions[:1], &mcp.CallToolParams{Name: "no-such-tool"}, 50*time.Millisecond)
	assert.Empty(t, bad.latencies)
	assert.Positive(t, bad.errors)
	assert.ErrorContains(t, bad.firstErr, "no-such-tool")
}

func TestOpenFailsOnAnUnreachableServer(t *testing.T) {
	port, err := freePort()
	require.NoError(t, err)
	_, err = newClient("http://127.0.0.1:"+strconv.Itoa(port)+"/mcp", "", clientTransport(2)).open(context.Background(), 2)
	assert.ErrorContains(t, err, "opening session")
}

func TestFirstNoteID(t *testing.T) {
	tests := []struct {
		name       string
		structured any
		want       int64
		wantErr    string
	}{
		{name: "first result", structured: map[string]any{"results": []any{map[string]any{"id": float64(42)}, map[string]any{"id": float64(7)}}}, want: 42},
		{name: "no results", structured: map[string]any{"results": []any{}}, wantErr: "alice has no notes"},
		{name: "no structured content", structured: nil, wantErr: "alice has no notes"},
		{name: "id not a number", structured: map[string]any{"results": []any{map[string]any{"id": "42"}}}, wantErr: "no numeric id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := firstNoteID(tc.structured)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestChildProcess(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	ctx := context.Background()

	t.Run("ready line, then SIGTERM stops it", func(t *testing.T) {
		c, err := startChild(ctx, dir, "bare", self, []string{"-test.run=^$"}, []string{"LOADBENCH_TEST_BARE=1"})
		require.NoError(t, err)
		assert.Positive(t, c.Pid())
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+/mcp$`, c.URL("mcp_url"))
		assert.Empty(t, c.URL("no-such-field"))
		rss, err := ProcessRSS(c.Pid())
		require.NoError(t, err)
		assert.Positive(t, rss)
		require.NoError(t, c.stop())
		require.NoError(t, c.stop(), "stopping twice is harmless")
	})
	t.Run("exits before it is ready", func(t *testing.T) {
		// Without the variable the test binary runs no test and exits.
		_, err := startChild(ctx, dir, "quitter", self, []string{"-test.run=^$"}, nil)
		assert.ErrorContains(t, err, "quitter")
	})
	t.Run("not a program", func(t *testing.T) {
		_, err := startChild(ctx, dir, "missing", dir+"/no-such-binary", nil, nil)
		assert.ErrorContains(t, err, "starting missing")
	})
}

func TestFindBinaries(t *testing.T) {
	dir := t.TempDir()
	_, err := findBinaries(dir)
	assert.ErrorContains(t, err, "run `make build` first")
	for _, name := range []string{"nextcloud-mcp", "fake-idp", "fake-nextcloud"} {
		require.NoError(t, os.WriteFile(dir+"/"+name, []byte("#!/bin/sh\n"), 0o755))
	}
	b, err := findBinaries(dir)
	require.NoError(t, err)
	assert.Equal(t, dir+"/nextcloud-mcp", b.server)
}

func TestURLPort(t *testing.T) {
	assert.Equal(t, 8080, urlPort("http://127.0.0.1:8080/mcp"))
	assert.Zero(t, urlPort("http://127.0.0.1/mcp"))
	assert.Zero(t, urlPort("::not a url"))
}
