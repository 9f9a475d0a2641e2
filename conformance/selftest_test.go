//go:build conformance_selftest

package conformance_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/stack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
)

// TestSelfTestCatchesBrokenVariants runs the suite against deliberately
// broken servers (server.Config.SetBrokenVariant, compiled only with
// -tags conformance_selftest) and requires each defect to be flagged as a
// FAIL of the requirements it breaks — and the same requirements to pass
// on the unbroken server, so the failure is the defect's, not the check's.
func TestSelfTestCatchesBrokenVariants(t *testing.T) {
	tests := []struct {
		variant string
		consent bool
		// mustFail are the requirements the variant breaks; mustPass are
		// neighbours that must still hold (the defect is only that one).
		mustFail, mustPass []string
	}{
		{variant: "no-call-scope-check", mustFail: []string{"SCOPE-2", "MCP-AUTH-009"}, mustPass: []string{"SCOPE-1"}},
		{variant: "exchange-fallback-passthrough", mustFail: []string{"INV-2"}, mustPass: []string{"MODE-2", "MODE-3"}},
		{variant: "no-audience-check", mustFail: []string{"RFC9068-002", "MCP-AUTH-005"}, mustPass: []string{"RFC9068-001", "RFC9068-003"}},
		{variant: "refresh-for-tool-calls", consent: true, mustFail: []string{"INV-1"}, mustPass: []string{"CONSENT-5"}},
		{variant: "accept-userless-tokens", mustFail: []string{"USER-1"}, mustPass: []string{"RFC9068-001", "RFC9068-002"}},
		{variant: "no-session-or-batch-caps", mustFail: []string{"LIMIT-1", "LIMIT-2"}, mustPass: []string{"MCP-TRANS-001"}},
		{variant: "public-cache-scope", mustFail: []string{"MCP-TRANS-002"}, mustPass: []string{"SCOPE-1"}},
		{variant: "session-identity-cache", mustFail: []string{"MCP-AUTH-008", "MCP-AUTH-007"}, mustPass: []string{"SCOPE-1", "MCP-AUTH-002"}},
		{variant: "exchanged-token-reuse", mustFail: []string{"MODE-3"}, mustPass: []string{"INV-2"}},
		{variant: "log-issued-tokens", consent: true, mustFail: []string{"INV-4"}, mustPass: []string{"INV-1", "CONSENT-5"}},
		{variant: "refresh-cached-for-tool-calls", consent: true, mustFail: []string{"INV-1"}, mustPass: []string{"CONSENT-5"}},
		{variant: "query-token-accepted", mustFail: []string{"MCP-AUTH-006"}, mustPass: []string{"MCP-AUTH-002", "MCP-AUTH-004"}},
		{variant: "no-origin-check", mustFail: []string{"MCP-TRANS-001"}, mustPass: []string{"MCP-AUTH-002", "SCOPE-1"}},
	}
	for _, tt := range tests {
		for _, broken := range []bool{true, false} {
			name := tt.variant
			if !broken {
				name += "/control"
			}
			t.Run(name, func(t *testing.T) {
				ids := append(slices.Clone(tt.mustFail), tt.mustPass...)
				o := stack.Options{Name: name, Mode: server.ModeExchange, ProgressiveConsent: tt.consent}
				if broken {
					o.MutateServer = func(c *server.Config) {
						if err := c.SetBrokenVariant(tt.variant); err != nil {
							t.Errorf("SetBrokenVariant: %v", err)
						}
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				target, stop, err := stack.Start(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := stop(); err != nil {
						t.Errorf("stop: %v", err)
					}
				})
				// The catalogue order matters (checks share memoized
				// probes), so the filter keeps it.
				results := conformance.Grade(ctx, target, conformance.Catalogue(), conformance.Options{
					Filter: func(r conformance.Requirement) bool { return slices.Contains(ids, r.ID) },
				})
				got := map[string]string{}
				for _, r := range results {
					got[r.ID] = r.Status
					t.Logf("%s %s: %s", r.ID, r.Status, r.Evidence)
				}
				for _, id := range tt.mustFail {
					want := "FAIL"
					if !broken {
						want = "PASS"
					}
					if got[id] != want {
						t.Errorf("%s with variant %q (broken=%v): %s, want %s", id, tt.variant, broken, got[id], want)
					}
				}
				for _, id := range tt.mustPass {
					if got[id] != "PASS" {
						t.Errorf("%s should be unaffected by %q: %s", id, tt.variant, got[id])
					}
				}
			})
		}
	}
}

// TestBrokenVariantsAreNotConfigurable proves the variants cannot be
// selected except through SetBrokenVariant: an unknown name is refused.
func TestBrokenVariantsAreNotConfigurable(t *testing.T) {
	var c server.Config
	if err := c.SetBrokenVariant("no-such-variant"); err == nil {
		t.Fatal("SetBrokenVariant accepted an unknown variant")
	}
}
