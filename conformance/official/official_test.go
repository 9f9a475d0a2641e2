package official

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// TestBaselineIsExplained: every baseline entry has a reason, every reason
// names an entry, and every reason names a fixture of the suite (test_* or
// test://): only fixture scenarios may be expected failures.
func TestBaselineIsExplained(t *testing.T) {
	data, err := os.ReadFile("baseline.yml")
	if err != nil {
		t.Fatal(err)
	}
	bl, err := ParseBaseline(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(bl) == 0 {
		t.Fatal("empty baseline parsed")
	}
	for _, e := range bl {
		if !strings.Contains(e.Reason, "test_") && !strings.Contains(e.Reason, "test://") {
			t.Errorf("%s: reason %q names no suite fixture", e.Scenario, e.Reason)
		}
	}
}

func TestParseBaselineErrors(t *testing.T) {
	for name, in := range map[string]string{
		"entry without reason": "# x\nserver:\n  - ping\n",
		"reason without entry": "#   ping          needs tool test_x\nserver:\n  - tools-list\n#   tools-list    needs test_y\n",
	} {
		if _, err := ParseBaseline([]byte(in)); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	got, err := ParseBaseline([]byte("#   a-b          needs tool test_x and\n#                                  more words\nserver:\n  - a-b\nclient:\n  - c\n"))
	if err != nil || len(got) != 1 || got[0].Reason != "needs tool test_x and more words" {
		t.Fatalf("ParseBaseline = %+v, %v", got, err)
	}
}

func TestParseSummaryOfARealRun(t *testing.T) {
	out, err := os.ReadFile("testdata/run-0.1.16.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc := ParseSummary(out)
	if len(sc) != 30 {
		t.Fatalf("%d scenarios parsed, want the 30 active ones", len(sc))
	}
	if sc[0].Name != "server-initialize" || sc[0].Passed != 1 || sc[0].Failed != 0 {
		t.Errorf("first scenario %+v", sc[0])
	}
	data, _ := os.ReadFile("baseline.yml")
	bl, _ := ParseBaseline(data)
	if o := Grade(sc, bl, nil, out); o.Status != grade.Pass {
		t.Errorf("the recorded run grades %s: %s", o.Status, o.Evidence)
	}
}

func TestGrade(t *testing.T) {
	bl := []Expected{{"tools-call-image", "needs tool test_image_content"}}
	pass := Scenario{Name: "ping", Passed: 1}
	tests := []struct {
		name string
		sc   []Scenario
		err  error
		want grade.Status
		has  string
	}{
		{"all as expected", []Scenario{pass, {Name: "tools-call-image", Failed: 1}}, nil, grade.Pass, "1 scenarios pass"},
		{"unexpected failure", []Scenario{{Name: "ping", Failed: 1}, {Name: "tools-call-image", Failed: 1}}, errors.New("exit 1"), grade.Fail, "unexpected failures ping"},
		{"stale entry", []Scenario{pass, {Name: "tools-call-image", Passed: 1}}, errors.New("exit 1"), grade.Fail, "now pass"},
		{"entry not run", []Scenario{pass}, nil, grade.Fail, "did not run"},
		{"exit disagrees", []Scenario{pass, {Name: "tools-call-image", Failed: 1}}, errors.New("exit 1"), grade.Fail, "exited"},
		{"no summary", nil, errors.New("exit 2"), grade.Fail, "no summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Grade(tt.sc, bl, tt.err, []byte("npm is needed"))
			if o.Status != tt.want || !strings.Contains(o.Evidence, tt.has) {
				t.Fatalf("Grade = %s %q, want %s containing %q", o.Status, o.Evidence, tt.want, tt.has)
			}
		})
	}
}

func TestCheckNotRequested(t *testing.T) {
	if o := Check(t.Context(), &grade.Target{}); o.Status != grade.NA {
		t.Fatalf("%s", o.Status)
	}
	if o := Check(t.Context(), &grade.Target{Official: &grade.Official{Script: "run.sh"}}); o.Status != grade.NA {
		t.Fatalf("without an unauthenticated URL: %s", o.Status)
	}
}

// TestParseSummaryHugeFailureCountStillFails: a count too large for an int
// saturates instead of reading as zero, so the scenario still fails.
func TestParseSummaryHugeFailureCountStillFails(t *testing.T) {
	out := []byte("=== SUMMARY ===\n✗ tools-call: 1 passed, 99999999999999999999999 failed\n")
	got := ParseSummary(out)
	require.Len(t, got, 1)
	assert.Equal(t, "tools-call", got[0].Name)
	assert.Equal(t, 1, got[0].Passed)
	assert.Positive(t, got[0].Failed)
}
