// Package official runs the official MCP conformance suite
// (@modelcontextprotocol/conformance, pinned in run.sh) against an MCP
// endpoint that needs no token and grades the run against the
// expected-failures baseline in baseline.yml, whose entries may only be
// scenarios that need the suite's own fixtures.
package official

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// Version is the pinned suite version (run.sh installs exactly this).
const Version = "0.1.16"

// Timeout bounds one run, installation included.
const Timeout = 150 * time.Second

// Expected is one baseline entry with the reason from its comment table.
type Expected struct {
	Scenario, Reason string
}

var (
	entryRE  = regexp.MustCompile(`^\s+-\s+([a-z0-9-]+)\s*$`)
	reasonRE = regexp.MustCompile(`^#\s{3}([a-z0-9-]+)\s{2,}(\S.*)$`)
	contRE   = regexp.MustCompile(`^#\s{20,}(\S.*)$`)
)

// ParseBaseline reads the baseline's server entries and the reasons in its
// comment table (lines "#   <scenario>   <reason>", continued by deeper
// indented comment lines).
func ParseBaseline(data []byte) ([]Expected, error) {
	reasons := map[string]string{}
	var names []string
	var last string
	inServer := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if m := reasonRE.FindStringSubmatch(line); m != nil {
			last = m[1]
			reasons[last] = m[2]
			continue
		}
		if m := contRE.FindStringSubmatch(line); m != nil && last != "" {
			reasons[last] += " " + m[1]
			continue
		}
		if !strings.HasPrefix(line, "#") {
			last = ""
		}
		switch {
		case strings.HasPrefix(line, "server:"):
			inServer = true
		case strings.HasPrefix(line, "client:"):
			inServer = false
		case inServer:
			if m := entryRE.FindStringSubmatch(line); m != nil {
				names = append(names, m[1])
			}
		}
	}
	var out []Expected
	for _, n := range names {
		r, ok := reasons[n]
		if !ok {
			return nil, fmt.Errorf("baseline entry %q has no reason in the comment table", n)
		}
		out = append(out, Expected{Scenario: n, Reason: r})
		delete(reasons, n)
	}
	for n := range reasons {
		return nil, fmt.Errorf("the comment table explains %q, which is not a baseline entry", n)
	}
	return out, nil
}

// Scenario is one scenario's line of the suite's summary.
type Scenario struct {
	Name           string
	Passed, Failed int
}

var (
	ansiRE    = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	summaryRE = regexp.MustCompile(`^[✓✗]\s+([a-z0-9-]+):\s+(\d+) passed, (\d+) failed`)
)

// ParseSummary reads the "=== SUMMARY ===" block of the suite's output.
func ParseSummary(out []byte) []Scenario {
	var res []Scenario
	in := false
	sc := bufio.NewScanner(bytes.NewReader(ansiRE.ReplaceAll(out, nil)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "=== SUMMARY ===" {
			in = true
			continue
		}
		if !in {
			continue
		}
		if m := summaryRE.FindStringSubmatch(line); m != nil {
			// summaryRE admits only digits, so the one possible error is
			// ErrRange, and then Atoi saturates: a huge failure count still
			// reads as a failure.
			passed, _ := strconv.Atoi(m[2])
			failed, _ := strconv.Atoi(m[3])
			res = append(res, Scenario{Name: m[1], Passed: passed, Failed: failed})
		}
	}
	return res
}

// Grade turns a run into an outcome: every scenario outside the baseline
// passes, every baseline scenario fails (a passing one is a stale entry),
// and the suite's own exit status agrees.
func Grade(scenarios []Scenario, baseline []Expected, exitErr error, output []byte) grade.Outcome {
	if len(scenarios) == 0 {
		tail := string(ansiRE.ReplaceAll(output, nil))
		if len(tail) > 300 {
			tail = tail[len(tail)-300:]
		}
		return grade.Failf("the suite produced no summary (%v): %s", exitErr, tail)
	}
	expected := map[string]string{}
	for _, e := range baseline {
		expected[e.Scenario] = e.Reason
	}
	var passed, unexpected, stale, details []string
	seen := map[string]bool{}
	for _, s := range scenarios {
		seen[s.Name] = true
		reason, isExpected := expected[s.Name]
		switch {
		case s.Failed == 0 && !isExpected:
			passed = append(passed, s.Name)
			details = append(details, fmt.Sprintf("PASS %s (%d check(s))", s.Name, s.Passed))
		case s.Failed == 0 && isExpected:
			stale = append(stale, s.Name)
			details = append(details, fmt.Sprintf("FAIL %s passes but is in the baseline (stale entry)", s.Name))
		case isExpected:
			details = append(details, fmt.Sprintf("expected failure %s — %s", s.Name, reason))
		default:
			unexpected = append(unexpected, s.Name)
			details = append(details, fmt.Sprintf("FAIL %s: %d check(s) failed", s.Name, s.Failed))
		}
	}
	var missing []string
	for _, e := range baseline {
		if !seen[e.Scenario] {
			missing = append(missing, e.Scenario)
		}
	}
	switch {
	case len(unexpected) > 0:
		return grade.Outcome{Status: grade.Fail, Details: details,
			Evidence: fmt.Sprintf("conformance@%s: unexpected failures %s (run conformance/official/run.sh <url> --scenario <name> --verbose)", Version, strings.Join(unexpected, ", "))}
	case len(stale) > 0:
		return grade.Outcome{Status: grade.Fail, Details: details,
			Evidence: fmt.Sprintf("conformance@%s: baseline entries now pass, remove them: %s", Version, strings.Join(stale, ", "))}
	case len(missing) > 0:
		return grade.Outcome{Status: grade.Fail, Details: details,
			Evidence: fmt.Sprintf("conformance@%s: baseline names scenarios the suite did not run: %s", Version, strings.Join(missing, ", "))}
	case exitErr != nil:
		return grade.Outcome{Status: grade.Fail, Details: details,
			Evidence: fmt.Sprintf("conformance@%s exited with %v although the summary matches the baseline", Version, exitErr)}
	}
	return grade.Outcome{Status: grade.Pass, Details: details,
		Evidence: fmt.Sprintf("conformance@%s: %d scenarios pass (%s); %d expected failures, each needing the suite's own test_* fixtures (baseline.yml)",
			Version, len(passed), strings.Join(passed, ", "), len(baseline))}
}

// Check runs the suite as configured by t.Official.
func Check(ctx context.Context, t *grade.Target) grade.Outcome {
	if t.Official == nil {
		return grade.NAf("the official suite was not requested for this target (-official)")
	}
	if t.Official.URL == "" {
		return grade.NAf("the official suite sends no token: it needs an MCP endpoint without authorization (basic mode)")
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(t.Official.Script), "baseline.yml"))
	if err != nil {
		return grade.Failf("reading the baseline: %v", err)
	}
	baseline, err := ParseBaseline(data)
	if err != nil {
		return grade.Failf("baseline.yml: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", t.Official.Script, t.Official.URL)
	cmd.WaitDelay = 5 * time.Second
	out, runErr := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return grade.Failf("the official suite did not finish within %s", Timeout)
	}
	return Grade(ParseSummary(out), baseline, runErr, out)
}
