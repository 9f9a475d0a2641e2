package conformance_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/report"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/stack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
)

func byID(rs []report.Result) map[string]report.Result {
	m := map[string]report.Result{}
	for _, r := range rs {
		m[r.ID] = r
	}
	return m
}

// TestInProcessStacksPass grades every in-process mode (without the
// official suite, which needs Node) and requires no MUST or INVARIANT
// failure, every exchange-mode MUST and INVARIANT that applies to pass,
// and pass-through to be flagged as token passthrough.
func TestInProcessStacksPass(t *testing.T) {
	var specs []conformance.TargetSpec
	for _, o := range stack.DefaultOptions("") {
		specs = append(specs, conformance.TargetSpec{Name: o.Name, Description: o.Description,
			Start: func(ctx context.Context) (*grade.Target, func() error, error) { return stack.Start(ctx, o) },
			Filter: func(r conformance.Requirement) bool {
				return len(o.Only) == 0 || slices.Contains(o.Only, r.ID)
			}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep := conformance.Run(ctx, specs, conformance.Catalogue(), conformance.Options{Parallel: 3})
	for _, tg := range rep.Targets {
		if tg.Error != "" {
			t.Fatalf("%s: %s", tg.Name, tg.Error)
		}
		for _, r := range tg.Results {
			if r.Status == "FAIL" {
				t.Errorf("%s %s (%s): %s", tg.Name, r.ID, r.Level, r.Evidence)
			}
		}
	}
	if len(rep.Blocking) > 0 {
		t.Errorf("blocking: %v", rep.Blocking)
	}
	ex := byID(rep.Targets[0].Results)
	for _, id := range []string{"SCOPE-2", "MODE-2", "MODE-3", "INV-2", "INV-5", "MCP-AUTH-010", "RFC8693-001", "NC-DAV-005"} {
		if ex[id].Status != "PASS" {
			t.Errorf("exchange %s: %s %s", id, ex[id].Status, ex[id].Evidence)
		}
	}
	consent := byID(rep.Targets[1].Results)
	for _, id := range []string{"INV-1", "CONSENT-1", "CONSENT-2", "CONSENT-5", "CONSENT-6", "CONSENT-7"} {
		if consent[id].Status != "PASS" {
			t.Errorf("consent %s: %s %s", id, consent[id].Status, consent[id].Evidence)
		}
	}
	pt := byID(rep.Targets[3].Results)
	if r := pt["MCP-AUTH-010"]; r.Status != "WARN" || !strings.Contains(r.Evidence, "token passthrough") || !strings.Contains(r.Evidence, "ENABLE_TOKEN_EXCHANGE=true") {
		t.Errorf("pass-through must be reported as WARN with reason and remedy: %s %s", r.Status, r.Evidence)
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestExternalWithoutControlAPIsIsNotApplicable grades a deployment given
// only its MCP URL and a token: every check that needs the fakes' control
// APIs must be N/A, never PASS.
func TestExternalWithoutControlAPIsIsNotApplicable(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	ctx := context.Background()
	full, err := st.Token(ctx, "alice", []string{"notes:read", "notes:write", "files:read", "files:write"})
	if err != nil {
		t.Fatal(err)
	}
	// The read-only token holds every :read scope the server advertises,
	// as the suite assumes of CONFORMANCE_MCP_TOKEN_READONLY.
	read, err := st.Token(ctx, "alice", []string{"notes:read", "files:read"})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := conformance.ExternalSpec(env(map[string]string{
		"CONFORMANCE_MCP_URL": st.MCPURL, "CONFORMANCE_MCP_MODE": "exchange",
		"CONFORMANCE_MCP_TOKEN": full, "CONFORMANCE_MCP_TOKEN_READONLY": read,
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	rep := conformance.Run(ctx, []conformance.TargetSpec{spec}, conformance.Catalogue(), conformance.Options{})
	got := byID(rep.Targets[0].Results)
	for _, id := range []string{"RFC9068-001", "RFC9068-002", "MCP-AUTH-005", "RFC9068-005", "MODE-2", "MODE-3", "INV-2", "INV-5", "MCP-AUTH-010", "MCP-AUTH-008"} {
		if got[id].Status != "N/A" {
			t.Errorf("%s without control APIs: %s (%s), want N/A", id, got[id].Status, got[id].Evidence)
		}
	}
	for _, id := range []string{"MCP-AUTH-001", "RFC9728-001", "MCP-AUTH-002", "SCOPE-3", "RFC9068-004", "MCP-AUTH-006", "SCOPE-1", "SCOPE-2"} {
		if got[id].Status != "PASS" {
			t.Errorf("%s with a static token: %s (%s), want PASS", id, got[id].Status, got[id].Evidence)
		}
	}
	if _, ok := got["RFC8414-001"]; ok {
		t.Error("IdP requirements graded without CONFORMANCE_IDP_ISSUER")
	}
}

// TestExternalWithFakesElsewhere grades the fakes and the server as an
// external deployment (as when they run in containers): the control APIs
// are detected and everything passes as in-process.
func TestExternalWithFakesElsewhere(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	spec, err := conformance.ExternalSpec(env(map[string]string{
		"CONFORMANCE_MCP_URL": st.MCPURL, "CONFORMANCE_MCP_MODE": "exchange",
		"CONFORMANCE_IDP_ISSUER": st.IdPURL, "CONFORMANCE_IDP_CLIENT_ID": devstack.ServerClientID,
		"CONFORMANCE_IDP_CLIENT_SECRET": devstack.ServerClientSecret,
		"CONFORMANCE_NEXTCLOUD_URL":     st.NextcloudURL, "CONFORMANCE_NEXTCLOUD_USER": "alice", "CONFORMANCE_NEXTCLOUD_PASSWORD": "alice-password",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	rep := conformance.Run(context.Background(), []conformance.TargetSpec{spec}, conformance.Catalogue(), conformance.Options{})
	got := byID(rep.Targets[0].Results)
	for _, r := range rep.Targets[0].Results {
		if r.Status == "FAIL" {
			t.Errorf("%s: %s", r.ID, r.Evidence)
		}
	}
	for _, id := range []string{"RFC9068-002", "MODE-2", "INV-2", "RFC8414-001", "RFC8693-001", "RFC9700-004", "NC-OCS-001", "NC-DAV-005"} {
		if got[id].Status != "PASS" {
			t.Errorf("%s: %s (%s), want PASS", id, got[id].Status, got[id].Evidence)
		}
	}
}

// TestExternalNextcloudLogWithoutFakeIdP: a deployment on a real IdP but
// with the fake Nextcloud (the interop suite's): the checks that need only
// Nextcloud's request log (MODE-2, MODE-3) use it and pass; INV-2, which
// must make the IdP refuse exchanges, is N/A with the reason.
func TestExternalNextcloudLogWithoutFakeIdP(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange})
	ctx := context.Background()
	full, err := st.Token(ctx, "alice", []string{"notes:read", "notes:write", "files:read", "files:write"})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := conformance.ExternalSpec(env(map[string]string{
		"CONFORMANCE_MCP_URL": st.MCPURL, "CONFORMANCE_MCP_MODE": "exchange", "CONFORMANCE_MCP_TOKEN": full,
		"CONFORMANCE_NEXTCLOUD_URL": st.NextcloudURL,
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	rep := conformance.Run(ctx, []conformance.TargetSpec{spec}, conformance.Catalogue(), conformance.Options{
		Filter: func(r conformance.Requirement) bool {
			return slices.Contains([]string{"MODE-2", "MODE-3", "INV-2"}, r.ID)
		},
	})
	got := byID(rep.Targets[0].Results)
	for _, id := range []string{"MODE-2", "MODE-3"} {
		if got[id].Status != "PASS" || !strings.Contains(got[id].Evidence, "IdP's") {
			t.Errorf("%s with Nextcloud's log only: %s (%s), want PASS", id, got[id].Status, got[id].Evidence)
		}
	}
	if r := got["INV-2"]; r.Status != "N/A" || !strings.Contains(r.Evidence, "refuse or fail exchanges") {
		t.Errorf("INV-2 without the fake IdP: %s (%s), want N/A with the reason", r.Status, r.Evidence)
	}
}

func TestExternalSpecValidatesEnvironment(t *testing.T) {
	for name, e := range map[string]map[string]string{
		"relative URL": {"CONFORMANCE_MCP_URL": "mcp.example.com/mcp"},
		"bad mode":     {"CONFORMANCE_MCP_URL": "https://mcp.example.com/mcp", "CONFORMANCE_MCP_MODE": "magic"},
		"bad boolean":  {"CONFORMANCE_MCP_URL": "https://mcp.example.com/mcp", "CONFORMANCE_MCP_PROGRESSIVE_CONSENT": "perhaps"},
		"one user":     {"CONFORMANCE_MCP_URL": "https://mcp.example.com/mcp", "CONFORMANCE_MCP_USERS": "alice"},
	} {
		if _, err := conformance.ExternalSpec(env(e), ""); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if conformance.ExternalRequested(env(nil)) {
		t.Error("no variables: not external")
	}
}

// TestRefreshFallbackSettingIsFlagged: the documented, off-by-default
// refresh-grant fallback of exchange mode breaks invariant 2's "never
// silently degrades"; turning it on must make INV-2 fail.
func TestRefreshFallbackSettingIsFlagged(t *testing.T) {
	ctx := context.Background()
	tg, stop, err := stack.Start(ctx, stack.Options{Name: "fallback", Mode: server.ModeExchange, ProgressiveConsent: true,
		MutateServer: func(c *server.Config) { c.ExchangeRefreshFallback = true }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assert.NoError(t, stop()) })
	res := conformance.Grade(ctx, tg, conformance.Catalogue(), conformance.Options{
		Filter: func(r conformance.Requirement) bool { return r.ID == "INV-2" },
	})
	if len(res) != 1 || res[0].Status != "FAIL" || !strings.Contains(res[0].Evidence, "TOKEN_EXCHANGE_REFRESH_FALLBACK") {
		t.Fatalf("INV-2 with TOKEN_EXCHANGE_REFRESH_FALLBACK: %+v", res)
	}
	t.Log(res[0].Evidence)
}
