// Package report renders a conformance run: a table on stdout, and
// conformance-report.json and conformance-report.md.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one requirement graded on one target.
type Result struct {
	ID        string   `json:"id"`
	Level     string   `json:"level"`
	Area      string   `json:"area"`
	Module    string   `json:"module,omitempty"` // registry id of the module the requirement is about
	Statement string   `json:"statement"`
	Source    string   `json:"source"`
	Status    string   `json:"status"`
	Evidence  string   `json:"evidence"`
	Details   []string `json:"details,omitempty"`
	Millis    int64    `json:"duration_ms"`
}

// Target is one graded deployment.
type Target struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Error       string   `json:"error,omitempty"` // the target could not be started
	Millis      int64    `json:"duration_ms"`
	Results     []Result `json:"results"`
}

// Report is a whole run.
type Report struct {
	Suite    string    `json:"suite"`
	Started  time.Time `json:"started"`
	Millis   int64     `json:"duration_ms"`
	Targets  []Target  `json:"targets"`
	Blocking []string  `json:"blocking_failures"` // "target/ID" of MUST/INVARIANT failures
}

// Hard reports whether a level makes a failure fatal.
func Hard(level string) bool { return level == "MUST" || level == "INVARIANT" }

// Finish computes the blocking failures (MUST or INVARIANT levels that
// FAILed, and targets that could not start).
func (r *Report) Finish() {
	r.Blocking = []string{}
	for _, t := range r.Targets {
		if t.Error != "" {
			r.Blocking = append(r.Blocking, t.Name+"/(start)")
		}
		for _, res := range t.Results {
			if res.Status == "FAIL" && Hard(res.Level) {
				r.Blocking = append(r.Blocking, t.Name+"/"+res.ID)
			}
		}
	}
}

// Counts tallies statuses per level for a target.
func (t Target) Counts() map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, r := range t.Results {
		if out[r.Level] == nil {
			out[r.Level] = map[string]int{}
		}
		out[r.Level][r.Status]++
	}
	return out
}

var statuses = []string{"PASS", "FAIL", "WARN", "N/A"}
var levels = []string{"MUST", "INVARIANT", "SHOULD"}

func countLine(t Target) string {
	c := t.Counts()
	var parts []string
	for _, l := range levels {
		if c[l] == nil {
			continue
		}
		var s []string
		for _, st := range statuses {
			if n := c[l][st]; n > 0 {
				s = append(s, fmt.Sprintf("%d %s", n, st))
			}
		}
		parts = append(parts, l+": "+strings.Join(s, ", "))
	}
	return strings.Join(parts, "; ")
}

// WriteTable writes the human-readable table: one block per target. The
// table is composed in memory and written with one Write, whose error is
// the one that matters (a closed pipe, a full disk).
func (r *Report) WriteTable(w io.Writer) error {
	var b bytes.Buffer
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "\n== %s — %s (%.1fs)\n", t.Name, t.Description, float64(t.Millis)/1000)
		if t.Error != "" {
			fmt.Fprintf(&b, "   could not start: %s\n", t.Error)
			continue
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		// The tabwriter only reports its writer's errors, and a
		// bytes.Buffer has none: these rows cannot fail.
		_, _ = fmt.Fprintln(tw, "ID\tLEVEL\tRESULT\tEVIDENCE")
		for _, res := range t.Results {
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.ID, res.Level, res.Status, oneLine(res.Evidence, 220))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(&b, "   %s\n", countLine(t))
	}
	fmt.Fprintf(&b, "\nconformance: %d target(s) in %.1fs; ", len(r.Targets), float64(r.Millis)/1000)
	if len(r.Blocking) == 0 {
		b.WriteString("no MUST or INVARIANT failure\n")
	} else {
		fmt.Fprintf(&b, "%d MUST/INVARIANT failure(s): %s\n", len(r.Blocking), strings.Join(r.Blocking, ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

// WriteMarkdown writes the report as Markdown: a summary, then one table
// per target, then the details of results that have any.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Conformance report\n\n%s, started %s, %.1f s.\n\n", r.Suite, r.Started.UTC().Format(time.RFC3339), float64(r.Millis)/1000)
	if len(r.Blocking) == 0 {
		b.WriteString("**No MUST or INVARIANT failure.**\n\n")
	} else {
		fmt.Fprintf(&b, "**%d MUST/INVARIANT failure(s):** %s\n\n", len(r.Blocking), strings.Join(r.Blocking, ", "))
	}
	b.WriteString("| target | description | results |\n|---|---|---|\n")
	for _, t := range r.Targets {
		res := countLine(t)
		if t.Error != "" {
			res = "could not start: " + t.Error
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", mdEscape(t.Name), mdEscape(t.Description), mdEscape(res))
	}
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", t.Name, t.Description)
		if t.Error != "" {
			fmt.Fprintf(&b, "Could not start: %s\n", t.Error)
			continue
		}
		b.WriteString("| ID | level | result | evidence |\n|---|---|---|---|\n")
		for _, res := range t.Results {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", res.ID, res.Level, res.Status, mdEscape(res.Evidence))
		}
		for _, res := range t.Results {
			if len(res.Details) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n### %s details\n\n", res.ID)
			for _, d := range res.Details {
				fmt.Fprintf(&b, "- %s\n", mdEscape(d))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFiles writes conformance-report.json and conformance-report.md into
// dir and returns their paths.
func (r *Report) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for name, write := range map[string]func(io.Writer) error{
		"conformance-report.json": r.WriteJSON,
		"conformance-report.md":   r.WriteMarkdown,
	} {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			return nil, err
		}
		if err := write(f); err != nil {
			return nil, errors.Join(err, f.Close())
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}
