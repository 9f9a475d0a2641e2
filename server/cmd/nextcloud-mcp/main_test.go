package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
)

type readyLine struct {
	Ready        bool   `json:"ready"`
	URL          string `json:"url"`
	MCPURL       string `json:"mcp_url"`
	IdPURL       string `json:"idp_url"`
	NextcloudURL string `json:"nextcloud_url"`
	Mode         string `json:"mode"`
}

// lockedBuffer collects stderr from a goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs a subcommand in-process and returns its ready line; cancel
// stops it and the returned func waits for its exit code.
func start(t *testing.T, args ...string) (readyLine, *bufio.Reader, context.CancelFunc, func() int, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args, pw, stderr)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("%v: no ready line (%v); stderr:\n%s", args, err, stderr)
	}
	var rl readyLine
	if err := json.Unmarshal([]byte(line), &rl); err != nil || !rl.Ready {
		cancel()
		t.Fatalf("ready line %q: %v", line, err)
	}
	// Drain the rest of stdout so the process never blocks on a full pipe.
	go func() { _, _ = io.Copy(io.Discard, br) }()
	var (
		once sync.Once
		code int
	)
	wait := func() int {
		once.Do(func() {
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				code = -1
				t.Error("the command did not stop")
			}
		})
		return code
	}
	t.Cleanup(func() { cancel(); wait() })
	return rl, br, cancel, wait, stderr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeBasicMode(t *testing.T) {
	nc := nctest.Start(t)
	t.Setenv("NEXTCLOUD_HOST", nc.URL)
	t.Setenv("NEXTCLOUD_USERNAME", "alice")
	t.Setenv("NEXTCLOUD_PASSWORD", fakenc.DefaultAppPassword("alice"))
	rl, _, cancel, wait, stderr := start(t, "serve", "--listen", "127.0.0.1:0", "--log-format", "json")
	if rl.Mode != "basic" || rl.MCPURL != rl.URL+"/mcp" {
		t.Errorf("ready line %+v", rl)
	}
	if code, _ := get(t, rl.URL+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get(t, rl.URL+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %s", code, body)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "0"}, nil).Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: rl.MCPURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "nc_notes_search_notes", Arguments: map[string]any{"query": "welcome"}}); err != nil {
		t.Fatal(err)
	}
	cs.Close()
	cancel()
	if code := wait(); code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", code, stderr)
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"mode":"basic"`) {
		t.Errorf("the mode is not logged at start:\n%s", logs)
	}
	if strings.Contains(logs, fakenc.DefaultAppPassword("alice")) {
		t.Error("the app password is in the logs")
	}
}

func TestServeRefusesBadConfiguration(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no credentials": {args: []string{"serve"}, env: map[string]string{"NEXTCLOUD_HOST": "http://127.0.0.1:1"}, want: "no credentials configured"},
		"unknown flag":   {args: []string{"serve", "--nope"}, want: "flag provided but not defined"},
		"extra argument": {args: []string{"keygen", "x"}, want: "unexpected arguments"},
		"unknown mode":   {args: []string{"dev", "--mode", "magic", "--listen", "127.0.0.1:0", "--idp-listen", "127.0.0.1:0", "--nextcloud-listen", "127.0.0.1:0"}, want: "unknown mode"},
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code == 0 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q, want failure mentioning %q", code, stderr.String(), tc.want)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"bogus"}, &stdout, &stderr); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}

func TestKeygen(t *testing.T) {
	var a, b, stderr bytes.Buffer
	if run(context.Background(), []string{"keygen"}, &a, &stderr) != 0 || run(context.Background(), []string{"keygen"}, &b, &stderr) != 0 {
		t.Fatalf("keygen failed: %s", stderr.String())
	}
	ka, kb := strings.TrimSpace(a.String()), strings.TrimSpace(b.String())
	if ka == kb {
		t.Fatal("two keys are equal")
	}
	if _, err := tokenstore.ParseKey(ka); err != nil {
		t.Fatalf("keygen printed an unusable key: %v", err)
	}
}

func TestDevPrintsEverythingAClientNeeds(t *testing.T) {
	rl, br, cancel, wait, stderr := start(t, "dev", "--listen", "127.0.0.1:0", "--idp-listen", "127.0.0.1:0", "--nextcloud-listen", "127.0.0.1:0", "--auto-approve")
	if rl.Mode != "exchange" || rl.IdPURL == "" || rl.NextcloudURL == "" || rl.MCPURL != rl.URL+"/mcp" {
		t.Fatalf("ready line %+v", rl)
	}
	_ = br
	for _, u := range []string{rl.URL + "/healthz", rl.IdPURL + "/.well-known/openid-configuration", rl.NextcloudURL + "/status.php", rl.URL + "/.well-known/oauth-protected-resource/mcp"} {
		if code, body := get(t, u); code != 200 {
			t.Errorf("GET %s = %d %s", u, code, body)
		}
	}
	cancel()
	if code := wait(); code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", code, stderr)
	}
}

// buildBinary compiles the command once per test run.
var buildOnce sync.Once
var binPath string

func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nextcloud-mcp-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binPath = filepath.Join(dir, "nextcloud-mcp")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	})
	if binPath == "" {
		t.Fatal("build failed earlier")
	}
	return binPath
}

// TestDevBinaryBannerAndSIGTERM runs the real binary: ready line first,
// then the banner with the MCP URL, a client configuration and a sample
// token; SIGTERM ends it with status 0.
func TestDevBinaryBannerAndSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin, "dev", "--listen", "127.0.0.1:0", "--idp-listen", "127.0.0.1:0", "--nextcloud-listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }() // already gone when the test passed
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	all := strings.Join(lines, "\n")
	var rl readyLine
	if len(lines) == 0 || json.Unmarshal([]byte(lines[0]), &rl) != nil || !rl.Ready {
		t.Fatalf("first line is not the ready line:\n%s\nstderr:\n%s", all, stderr.String())
	}
	for _, want := range []string{rl.MCPURL, rl.IdPURL, rl.NextcloudURL, `"mcpServers"`, "Sample access token", "provision_nextcloud_access"} {
		if !strings.Contains(all, want) {
			t.Errorf("banner lacks %q:\n%s", want, all)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

// TestStdioTransport runs `serve --transport stdio` as a child process
// and talks MCP over its stdin/stdout.
func TestStdioTransport(t *testing.T) {
	bin := buildBinary(t)
	nc := nctest.Start(t)
	cmd := exec.Command(bin, "serve", "--transport", "stdio")
	cmd.Env = append(os.Environ(), "NEXTCLOUD_HOST="+nc.URL, "NEXTCLOUD_USERNAME=alice", "NEXTCLOUD_PASSWORD="+fakenc.DefaultAppPassword("alice"))
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "0"}, nil).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\nstderr:\n%s", err, stderr.String())
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "nc_notes_search_notes", Arguments: map[string]any{"query": "welcome"}})
	if err != nil || res.IsError {
		t.Fatalf("search over stdio: %v %+v\nstderr:\n%s", err, res, stderr.String())
	}
	if err := cs.Close(); err != nil {
		t.Logf("close: %v", err)
	}
}
