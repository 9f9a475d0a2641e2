package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":   {"-nope"},
		"stray argument": {"extra"},
		"bad regexp":     {"-run", "("},
		"unknown target": {"-targets", "exchange,nope"},
		"missing script": {"-official", "-official-script", "/nonexistent/run.sh"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb, noEnv); code != 2 {
			t.Errorf("%s: exit %d, want 2 (stderr %q)", name, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-targets", "exchange"}, &out, &errb, func(k string) string {
		if k == "CONFORMANCE_MCP_URL" {
			return "https://mcp.example.com/mcp"
		}
		return ""
	}); code != 2 {
		t.Errorf("-targets with an external deployment: exit %d", code)
	}
}

func TestList(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-list"}, &out, &errb, noEnv); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, s := range []string{"MCP-AUTH-001", "INV-1", "CONFORMANCE_MCP_URL", "CONFORMANCE_IDP_ISSUER"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("-list lacks %s", s)
		}
	}
}

// TestRunWritesReports grades one in-process target and checks the table
// and both report files.
func TestRunWritesReports(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run([]string{"-targets", "passthrough", "-run", "^(MCP-AUTH-00[1-4]|MCP-AUTH-010|INV-3)$", "-o", dir}, &out, &errb, noEnv)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, s := range []string{"== passthrough", "MCP-AUTH-010", "WARN", "INV-3", "no MUST or INVARIANT failure"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "conformance-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Targets []struct {
			Results []struct{ ID, Status string }
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Targets) != 1 || len(rep.Targets[0].Results) != 6 {
		t.Fatalf("report: %v %+v", err, rep)
	}
	if _, err := os.Stat(filepath.Join(dir, "conformance-report.md")); err != nil {
		t.Fatal(err)
	}
}
