package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample() *Report {
	r := &Report{Suite: "s", Started: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Millis: 1500, Targets: []Target{
		{Name: "exchange", Description: "d", Results: []Result{
			{ID: "A-1", Level: "MUST", Status: "PASS", Evidence: "ok | piped"},
			{ID: "A-2", Level: "SHOULD", Status: "FAIL", Evidence: "should failed"},
			{ID: "A-3", Level: "INVARIANT", Status: "FAIL", Evidence: "broken\nacross lines", Details: []string{"x"}},
			{ID: "A-4", Level: "MUST", Status: "WARN", Evidence: "passthrough"},
			{ID: "A-5", Level: "MUST", Status: "N/A", Evidence: "no control API"},
		}},
		{Name: "down", Error: "address in use"},
	}}
	r.Finish()
	return r
}

func TestFinishBlocksOnlyHardFailures(t *testing.T) {
	r := sample()
	want := []string{"exchange/A-3", "down/(start)"}
	if strings.Join(r.Blocking, ",") != strings.Join(want, ",") {
		t.Fatalf("Blocking = %v, want %v (SHOULD failures, WARN and N/A never block)", r.Blocking, want)
	}
}

func TestWriters(t *testing.T) {
	r := sample()
	var tab bytes.Buffer
	if err := r.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"A-3", "INVARIANT", "FAIL", "broken across lines", "could not start: address in use", "2 MUST/INVARIANT failure(s)"} {
		if !strings.Contains(tab.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, tab.String())
		}
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), `ok \| piped`) || !strings.Contains(md.String(), "### A-3 details") {
		t.Errorf("markdown:\n%s", md.String())
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Targets) != 2 || back.Targets[0].Results[2].Details[0] != "x" {
		t.Fatalf("JSON round trip: %v %+v", err, back)
	}
	dir := t.TempDir()
	paths, err := r.WriteFiles(dir)
	if err != nil || len(paths) != 2 {
		t.Fatal(paths, err)
	}
	for _, p := range []string{"conformance-report.json", "conformance-report.md"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
}

// failingWriter refuses every write, like stdout piped into a closed reader.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestWriteTableReportsWriteErrors: a table that could not be written must
// not look like success to the command, which exits 2 on this error.
func TestWriteTableReportsWriteErrors(t *testing.T) {
	err := sample().WriteTable(failingWriter{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken pipe")
}
