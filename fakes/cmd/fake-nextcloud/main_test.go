package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

// start runs the command in-process and returns its ready line.
func start(t *testing.T, args ...string) (map[string]any, context.CancelFunc, chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, pw, io.Discard)
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no ready line: %v (%v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var ready map[string]any
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		cancel()
		t.Fatalf("ready line %q: %v", line, err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return ready, cancel, done
}

func TestRunReadyLineAndShutdown(t *testing.T) {
	t.Setenv("FAKE_NEXTCLOUD_BEARER_ON_APP_ROUTES", "reject")
	ready, cancel, done := start(t, "--listen", "127.0.0.1:0", "--control-api", "--log-level", "warn")
	url, _ := ready["url"].(string)
	if ready["ready"] != true || !strings.HasPrefix(url, "http://127.0.0.1:") || ready["dav"] != url+"/remote.php/dav" {
		t.Fatalf("ready line %v", ready)
	}
	if ready["bearer_on_app_routes"] != "reject" {
		t.Fatalf("environment not applied: %v", ready)
	}
	for _, p := range []string{"/healthz", "/_fake/log", "/status.php"} {
		resp, err := httpClient.Get(url + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", p, resp, err)
		}
		_ = resp.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"--nope"}, nil, "usage"},
		{"extra argument", []string{"x"}, nil, "usage"},
		{"bad uid mapping", []string{"--listen", "127.0.0.1:0", "--uid-mapping", "email"}, nil, "uid mapping"},
		{"bad mode", []string{"--listen", "127.0.0.1:0", "--bearer-on-app-routes", "sometimes"}, nil, "bearer-on-app-routes"},
		{"bad env", []string{"--listen", "127.0.0.1:0"}, map[string]string{"FAKE_NEXTCLOUD_CONTROL_API": "maybe"}, "FAKE_NEXTCLOUD_CONTROL_API"},
		{"bad upload expiry", []string{"--upload-expiry", "soon"}, nil, "usage"},
		{"bad upload expiry env", []string{"--listen", "127.0.0.1:0"}, map[string]string{"FAKE_NEXTCLOUD_UPLOAD_EXPIRY": "soon"}, "FAKE_NEXTCLOUD_UPLOAD_EXPIRY"},
		{"missing seed file", []string{"--listen", "127.0.0.1:0", "--seed", "/nonexistent/seed.json"}, nil, "--seed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if err := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

func TestSeedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(`{"users":[{"uid":"zoe","password":"zoe-pw"}],"files":[{"owner":"zoe","path":"hello.txt","content":"hi zoe"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ready, _, _ := start(t, "--listen", "127.0.0.1:0", "--seed", path, "--log-level", "error")
	req, _ := http.NewRequest("GET", ready["url"].(string)+"/remote.php/dav/files/zoe/hello.txt", nil)
	req.SetBasicAuth("zoe", "zoe-pw")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "hi zoe" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	// The seed replaces the default one: alice does not exist.
	req, _ = http.NewRequest("PROPFIND", ready["url"].(string)+"/remote.php/dav/files/alice/", nil)
	req.SetBasicAuth("alice", "alice-password")
	if resp, err := httpClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("default seed still loaded: %v %v", resp, err)
	}
}

// goTool is the go command of the toolchain running the test: go test puts
// its GOROOT/bin first on the test's PATH (Go 1.19 release notes).
func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	return p
}

// TestSIGTERM builds the binary and checks it stops cleanly on SIGTERM,
// flushing its state to --data-dir.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-nextcloud")
	build := exec.Command(goTool(t), "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--data-dir", data, "--log-level", "error")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, `"ready":true`) {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(data, "state.json")); err != nil {
		t.Fatalf("state not flushed: %v", err)
	}
}
