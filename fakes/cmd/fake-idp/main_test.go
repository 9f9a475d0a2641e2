package main

import (
	"bufio"
	"context"
	"encoding/json"
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

// TestMain lets the test binary act as fake-idp itself (for the SIGTERM
// test), so no separate build is needed.
func TestMain(m *testing.M) {
	if os.Getenv("FAKE_IDP_RUN_MAIN") == "1" {
		os.Args = append([]string{"fake-idp"}, strings.Fields(os.Getenv("FAKE_IDP_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type readyLine struct {
	Ready  bool   `json:"ready"`
	URL    string `json:"url"`
	Issuer string `json:"issuer"`
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readReady(t *testing.T, r io.Reader) readyLine {
	t.Helper()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v", err)
	}
	var rl readyLine
	if err := json.Unmarshal([]byte(line), &rl); err != nil || !rl.Ready || rl.URL == "" {
		t.Fatalf("bad ready line %q: %v", line, err)
	}
	return rl
}

// TestRunInProcess runs the command's run func on a free port, checks the
// ready line, /healthz and discovery, then cancels and expects a clean exit.
func TestRunInProcess(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "idp.json")
	if err := os.WriteFile(cfgFile, []byte(`{"users":[{"username":"carol","password":"carol-password"}],"scopes":["extra:read"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--control-api", "--signing-alg", "ES256",
			"--config", cfgFile, "--server-resource-uri", "http://127.0.0.1:8000/mcp", "--log-level", "error"}, pw, io.Discard)
		_ = pw.Close()
	}()
	rl := readReady(t, pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if rl.Issuer != rl.URL {
		t.Errorf("issuer %q, url %q", rl.Issuer, rl.URL)
	}
	if h := getJSON(t, rl.URL+"/healthz"); h["status"] != "ok" {
		t.Errorf("healthz %v", h)
	}
	for _, wk := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		m := getJSON(t, rl.URL+wk)
		if m["issuer"] != rl.URL || !strings.Contains(m["token_endpoint"].(string), rl.URL) {
			t.Errorf("%s: %v", wk, m)
		}
		if !strings.Contains(jsonString(m["scopes_supported"]), "extra:read") {
			t.Errorf("config file scope missing: %v", m["scopes_supported"])
		}
		if jsonString(m["id_token_signing_alg_values_supported"]) != `["ES256"]` {
			t.Errorf("algs %v", m["id_token_signing_alg_values_supported"])
		}
	}
	if c := getJSON(t, rl.URL+"/_fake/clients/nextcloud-mcp-server"); !strings.Contains(jsonString(c["resource_uris"]), "8000/mcp") {
		t.Errorf("server resource URIs not applied: %v", c)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown after cancel")
	}
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestSIGTERM runs the real main in a child process, with configuration from
// the environment, and checks it exits 0 on SIGTERM.
func TestSIGTERM(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAKE_IDP_RUN_MAIN=1", "FAKE_IDP_ARGS=--log-level error",
		"FAKE_IDP_LISTEN=127.0.0.1:0", "FAKE_IDP_ISSUER=http://idp.example.test:9999", "FAKE_IDP_AUTO_APPROVE=true")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	rl := readReady(t, stdout)
	if rl.Issuer != "http://idp.example.test:9999" {
		t.Errorf("issuer from env: %q", rl.Issuer)
	}
	if m := getJSON(t, rl.URL+"/.well-known/openid-configuration"); m["token_endpoint"] != "http://idp.example.test:9999/token" {
		t.Errorf("discovery with public issuer: %v", m["token_endpoint"])
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

// TestBadFlags refuses bad input with a usage error, never a server.
func TestBadFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":   {"--nope"},
		"extra argument": {"extra"},
		"bad alg":        {"--listen", "127.0.0.1:0", "--signing-alg", "HS256"},
		"missing config": {"--listen", "127.0.0.1:0", "--config", "/nonexistent/idp.json"},
		"bad log level":  {"--log-level", "loud"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
