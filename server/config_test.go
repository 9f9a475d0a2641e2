package server

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func parseConfig(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := ApplyEnv(fs); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestConfigModes(t *testing.T) {
	oauth := map[string]string{
		"NEXTCLOUD_HOST":     "http://127.0.0.1:8080",
		"OIDC_DISCOVERY_URL": "http://127.0.0.1:9090",
		"OIDC_CLIENT_ID":     "nextcloud-mcp-server",
		"OIDC_CLIENT_SECRET": "s3cret-value",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range oauth {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	basicEnv := map[string]string{"NEXTCLOUD_HOST": "http://127.0.0.1:8080", "NEXTCLOUD_USERNAME": "alice", "NEXTCLOUD_PASSWORD": "pw"}
	withBasic := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range basicEnv {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantMode Mode
		wantErr  []string
	}{
		{name: "basic", env: map[string]string{"NEXTCLOUD_HOST": "http://127.0.0.1:8080", "NEXTCLOUD_USERNAME": "alice", "NEXTCLOUD_PASSWORD": "pw"}, wantMode: ModeBasic},
		{name: "basic over stdio", args: []string{"--transport", "stdio"}, env: map[string]string{"NEXTCLOUD_HOST": "http://127.0.0.1:8080", "NEXTCLOUD_USERNAME": "alice", "NEXTCLOUD_PASSWORD": "pw"}, wantMode: ModeBasic},
		{name: "passthrough is the OAuth default", env: oauth, wantMode: ModePassthrough},
		{name: "exchange", env: with(map[string]string{"ENABLE_TOKEN_EXCHANGE": "true"}), wantMode: ModeExchange},
		{name: "flag wins over env", args: []string{"--enable-token-exchange=false"}, env: with(map[string]string{"ENABLE_TOKEN_EXCHANGE": "true"}), wantMode: ModePassthrough},
		{name: "nothing configured", env: map[string]string{"NEXTCLOUD_HOST": "http://127.0.0.1:8080"}, wantErr: []string{"no credentials configured"}},
		{name: "missing host", env: map[string]string{"NEXTCLOUD_USERNAME": "a", "NEXTCLOUD_PASSWORD": "b"}, wantErr: []string{"NEXTCLOUD_HOST"}},
		{name: "half basic", env: with(map[string]string{"NEXTCLOUD_USERNAME": "alice"}), wantErr: []string{"must be set together"}},
		{name: "basic and OIDC together", env: with(map[string]string{"NEXTCLOUD_USERNAME": "alice", "NEXTCLOUD_PASSWORD": "pw"}), wantErr: []string{"mutually exclusive"}},
		{name: "stdio needs basic", args: []string{"--transport=stdio"}, env: oauth, wantErr: []string{"stdio transport works in basic mode only"}},
		{name: "exchange needs secret", env: with(map[string]string{"ENABLE_TOKEN_EXCHANGE": "1", "OIDC_CLIENT_SECRET": ""}), wantErr: []string{"OIDC_CLIENT_SECRET"}},
		{name: "consent needs key", env: with(map[string]string{"ENABLE_PROGRESSIVE_CONSENT": "true"}), wantErr: []string{"TOKEN_ENCRYPTION_KEY"}},
		{name: "fallback needs exchange and consent", env: with(map[string]string{"TOKEN_EXCHANGE_REFRESH_FALLBACK": "true"}), wantErr: []string{"TOKEN_EXCHANGE_REFRESH_FALLBACK needs"}},
		{name: "bad transport", args: []string{"--transport=sse"}, env: oauth, wantErr: []string{"must be http or stdio"}},
		{name: "bad bool in env", env: with(map[string]string{"ENABLE_TOKEN_EXCHANGE": "maybe"}), wantErr: []string{"ENABLE_TOKEN_EXCHANGE"}},
		{name: "URL with credentials is refused without echo", env: with(map[string]string{"NEXTCLOUD_HOST": "http://bob:hunter2@127.0.0.1"}), wantErr: []string{"must not contain credentials"}},
		{name: "basic on loopback IPv6", args: []string{"--listen", "[::1]:0"}, env: basicEnv, wantMode: ModeBasic},
		{name: "basic on localhost", args: []string{"--listen", "localhost:8000"}, env: basicEnv, wantMode: ModeBasic},
		{name: "basic on every interface is refused", args: []string{"--listen", "0.0.0.0:8000"}, env: basicEnv, wantErr: []string{"MCP_LISTEN", "MCP_ALLOW_REMOTE_BASIC", "loopback"}},
		{name: "basic on an empty host is refused", args: []string{"--listen", ":8000"}, env: basicEnv, wantErr: []string{"MCP_ALLOW_REMOTE_BASIC"}},
		{name: "basic on IPv6 any is refused", env: withBasic(map[string]string{"MCP_LISTEN": "[::]:8000"}), wantErr: []string{"MCP_ALLOW_REMOTE_BASIC"}},
		{name: "basic on a LAN address is refused", args: []string{"--listen", "192.168.1.5:8000"}, env: basicEnv, wantErr: []string{"MCP_ALLOW_REMOTE_BASIC"}},
		{name: "basic on a host name is refused", args: []string{"--listen", "mcp.example.com:8000"}, env: basicEnv, wantErr: []string{"MCP_ALLOW_REMOTE_BASIC"}},
		{name: "basic on the network with the opt-in", args: []string{"--listen", "0.0.0.0:8000"}, env: withBasic(map[string]string{"MCP_ALLOW_REMOTE_BASIC": "true"}), wantMode: ModeBasic},
		{name: "basic over stdio listens nowhere", args: []string{"--transport", "stdio", "--listen", "0.0.0.0:8000"}, env: basicEnv, wantMode: ModeBasic},
		{name: "OAuth on every interface", args: []string{"--listen", "0.0.0.0:8000"}, env: oauth, wantMode: ModePassthrough},
		{name: "allowed origins", env: with(map[string]string{"MCP_ALLOWED_ORIGINS": "http://localhost:6274, https://app.example.com"}), wantMode: ModePassthrough},
		{name: "wildcard origin is refused", env: with(map[string]string{"MCP_ALLOWED_ORIGINS": "*"}), wantErr: []string{"MCP_ALLOWED_ORIGINS", `"*"`}},
		{name: "null origin is refused", env: with(map[string]string{"MCP_ALLOWED_ORIGINS": "null"}), wantErr: []string{"MCP_ALLOWED_ORIGINS"}},
		{name: "origin with a path is refused", args: []string{"--allowed-origins", "https://app.example.com/mcp"}, env: oauth, wantErr: []string{"MCP_ALLOWED_ORIGINS"}},
		{name: "session caps", args: []string{"--max-sessions=50", "--max-sessions-per-user=5", "--max-batch=2"}, env: oauth, wantMode: ModePassthrough},
		{name: "per-user cap above the global one", env: with(map[string]string{"MCP_MAX_SESSIONS": "10", "MCP_MAX_SESSIONS_PER_USER": "11"}), wantErr: []string{"MCP_MAX_SESSIONS_PER_USER"}},
		{name: "negative batch cap", env: with(map[string]string{"MCP_MAX_BATCH": "-1"}), wantErr: []string{"MCP_MAX_BATCH"}},
		{name: "file settings", env: with(map[string]string{"MCP_MAX_BODY_BYTES": "100663296", "FILES_MAX_READ_BYTES": "1048576", "FILES_CHUNK_SIZE": "5242880"}), wantMode: ModePassthrough},
		{name: "negative body bound", args: []string{"--max-body-bytes=-1"}, env: oauth, wantErr: []string{"MCP_MAX_BODY_BYTES"}},
		{name: "negative read limit", env: with(map[string]string{"FILES_MAX_READ_BYTES": "-1"}), wantErr: []string{"FILES_MAX_READ_BYTES"}},
		{name: "chunk below Nextcloud's minimum", env: with(map[string]string{"FILES_CHUNK_SIZE": "5242879"}), wantErr: []string{"FILES_CHUNK_SIZE", "5 MiB"}},
		{name: "chunk above a gibibyte", args: []string{"--files-chunk-size=1073741825"}, env: oauth, wantErr: []string{"FILES_CHUNK_SIZE"}},
		{name: "negative body timeout", env: with(map[string]string{"MCP_BODY_TIMEOUT": "-1s"}), wantErr: []string{"MCP_BODY_TIMEOUT"}},
		{name: "negative idle timeout", args: []string{"--idle-timeout=-5s"}, env: oauth, wantErr: []string{"MCP_IDLE_TIMEOUT"}},
		{name: "negative connection bound", env: with(map[string]string{"MCP_MAX_CONNECTIONS": "-3"}), wantErr: []string{"MCP_MAX_CONNECTIONS"}},
		{name: "PostgreSQL token store", env: with(map[string]string{"TOKEN_STORAGE_URL": "postgres://mcp:hunter2@127.0.0.1:5432/mcp", "MCP_SESSION_MODE": "stateless"}), wantMode: ModePassthrough},
		{name: "token store URL of another kind is refused without echo", env: with(map[string]string{"TOKEN_STORAGE_URL": "mysql://mcp:hunter2@127.0.0.1/mcp"}), wantErr: []string{"TOKEN_STORAGE_URL", "postgres://"}},
		{name: "one store connection is too few", env: with(map[string]string{"TOKEN_STORAGE_MAX_CONNS": "1"}), wantErr: []string{"TOKEN_STORAGE_MAX_CONNS"}},
		{name: "unknown session mode", env: with(map[string]string{"MCP_SESSION_MODE": "sticky"}), wantErr: []string{"MCP_SESSION_MODE", "stateful or stateless"}},
		{name: "Nextcloud resource indicator", env: with(map[string]string{"NEXTCLOUD_RESOURCE": "https://cloud.example.com"}), wantMode: ModePassthrough},
		{name: "no Nextcloud resource indicator", env: with(map[string]string{"NEXTCLOUD_RESOURCE": "none"}), wantMode: ModePassthrough},
		{name: "relative Nextcloud resource is refused", env: with(map[string]string{"NEXTCLOUD_RESOURCE": "nextcloud"}), wantErr: []string{"NEXTCLOUD_RESOURCE", "absolute URI", "RFC 8707"}},
		{name: "Nextcloud resource with a fragment is refused", env: with(map[string]string{"NEXTCLOUD_RESOURCE": "https://cloud.example.com/#x"}), wantErr: []string{"NEXTCLOUD_RESOURCE"}},
		{name: "several problems at once", env: map[string]string{"NEXTCLOUD_HOST": "ftp://x", "MCP_TRANSPORT": "pipe"}, wantErr: []string{"NEXTCLOUD_HOST", "MCP_TRANSPORT", "no credentials"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(t, tt.args, tt.env)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				for _, secret := range []string{"hunter2", "s3cret-value"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error leaks a secret: %q", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Mode(); got != tt.wantMode {
				t.Errorf("Mode() = %s, want %s", got, tt.wantMode)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Bind(fs)
	if c.Listen != "127.0.0.1:8000" || c.NextcloudAudience != "nextcloud" || c.HTTPTimeout != 30*time.Second || c.Transport != "http" {
		t.Errorf("defaults = %+v", c)
	}
	if c.MaxSessions != 1000 || c.MaxSessionsPerUser != 20 || c.MaxBatch != 10 {
		t.Errorf("session and batch caps = %d, %d, %d", c.MaxSessions, c.MaxSessionsPerUser, c.MaxBatch)
	}
	if c.MaxBodyBytes != 4<<20 || c.FilesMaxReadBytes != 10<<20 || c.FilesChunkSize != 10<<20 {
		t.Errorf("body and file limits = %d, %d, %d", c.MaxBodyBytes, c.FilesMaxReadBytes, c.FilesChunkSize)
	}
	if l := c.Limits(); l.BodyTimeout != 30*time.Second || l.IdleTimeout != time.Minute || l.MaxConnections != 1024 || l.ReadHeaderTimeout != 10*time.Second {
		t.Errorf("limits = %+v", l)
	}
	c.PublicURL = "http://127.0.0.1:8000/"
	if got := c.MCPURL(); got != "http://127.0.0.1:8000/mcp" {
		t.Errorf("MCPURL = %q", got)
	}
	// Every flag has an environment equivalent.
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := envNames[f.Name]; !ok {
			t.Errorf("flag --%s has no environment variable", f.Name)
		}
	})
}

// TestNextcloudResource: the resource indicator sent for Nextcloud is
// NEXTCLOUD_RESOURCE, by default NEXTCLOUD_HOST without a trailing slash,
// and none for "none".
func TestNextcloudResource(t *testing.T) {
	for _, tc := range []struct{ name, host, setting, want string }{
		{"default", "https://cloud.example.com/", "", "https://cloud.example.com"},
		{"default with a path", "https://example.com/nextcloud", "", "https://example.com/nextcloud"},
		{"configured", "https://cloud.example.com", "urn:nextcloud", "urn:nextcloud"},
		{"none", "https://cloud.example.com", ResourceNone, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{NextcloudHost: tc.host, NextcloudResource: tc.setting}
			if got := c.Resource(); got != tc.want {
				t.Errorf("Resource() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSessionModeDefault: stateful for one process; stateless when the
// token store is PostgreSQL (several replicas), unless set.
func TestSessionModeDefault(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "one process", cfg: Config{}, want: SessionsStateful},
		{name: "PostgreSQL store", cfg: Config{TokenStorageURL: "postgres://127.0.0.1/mcp"}, want: SessionsStateless},
		{name: "set explicitly", cfg: Config{TokenStorageURL: "postgres://127.0.0.1/mcp", SessionMode: SessionsStateful}, want: SessionsStateful},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.applyDefaults()
			if tt.cfg.SessionMode != tt.want {
				t.Errorf("SessionMode = %q, want %q", tt.cfg.SessionMode, tt.want)
			}
		})
	}
}
