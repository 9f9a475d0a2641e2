package server_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
)

// TestRemoteBasicModeWarns: basic mode on a non-loopback address is
// refused by Validate unless MCP_ALLOW_REMOTE_BASIC opts in (config
// tests); with the opt-in the server says at start what it means.
func TestRemoteBasicModeWarns(t *testing.T) {
	tests := []struct {
		name   string
		listen string
		allow  bool
		warns  bool
	}{
		{name: "loopback", listen: "127.0.0.1:8000", warns: false},
		{name: "every interface with the opt-in", listen: "0.0.0.0:8000", allow: true, warns: true},
		{name: "loopback with the opt-in", listen: "[::1]:8000", allow: true, warns: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
			cfg := server.Config{
				Listen: tt.listen, PublicURL: "http://127.0.0.1:8000", Transport: "http",
				NextcloudHost: "http://127.0.0.1:1", NextcloudUsername: "alice", NextcloudPassword: "app-password",
				HTTPTimeout: time.Second, SyncInterval: time.Minute, AllowRemoteBasic: tt.allow,
			}
			s, err := server.New(context.Background(), cfg, logger)
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, s.Close()) })
			out := logs.String()
			if tt.warns {
				assert.Contains(t, out, "level=WARN")
				assert.Contains(t, out, "MCP_ALLOW_REMOTE_BASIC")
				assert.Contains(t, out, "alice")
			} else {
				assert.NotContains(t, out, "MCP_ALLOW_REMOTE_BASIC")
			}
			assert.NotContains(t, out, "app-password")
		})
	}
}
