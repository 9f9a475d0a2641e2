package loadbench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Summary is one (target, sessions) cell over every round: medians of
// the per-round values, the spread between rounds, and sums.
type Summary struct {
	Target   Target
	Sessions int
	Rounds   int

	CallsPerSec float64
	CPUPerCall  time.Duration
	P50, P99    time.Duration
	// CallsSpread and CPUSpread are half the range between rounds,
	// relative to the median (0 with one round).
	CallsSpread, CPUSpread float64

	Calls, Errors int
	// UpstreamConns and ClientConns are summed over rounds; -1 if any
	// round did not measure them.
	UpstreamConns, ClientConns int
	// OtherLoad is the average number of cores the rest of the machine
	// kept busy during the cells.
	OtherLoad float64
	// PairedCPU and PairedCalls are the medians over rounds of this
	// target's CPU per call and calls/s over those of the bare cell
	// measured right before it (Cell.Pair); NaN (or 0 in a literal)
	// without paired cells.
	PairedCPU, PairedCalls float64
}

// Summarize groups the rounds' cells by target and session count, in
// report order.
func Summarize(rounds [][]Cell) []Summary {
	type key struct {
		t Target
		n int
	}
	groups := map[key][]Cell{}
	var keys []key
	pairedCPU, pairedCalls := map[key][]float64{}, map[key][]float64{}
	for _, cells := range rounds {
		for _, c := range cells {
			if c.Target != Bare {
				for _, b := range cells {
					if b.Target == Bare && b.Pair == c.Target && b.Sessions == c.Sessions {
						k := key{c.Target, c.Sessions}
						pairedCPU[k] = append(pairedCPU[k], Ratio(float64(c.CPUPerCall()), float64(b.CPUPerCall())))
						pairedCalls[k] = append(pairedCalls[k], Ratio(c.CallsPerSec(), b.CallsPerSec()))
						break
					}
				}
			}
			k := key{c.Target, c.Sessions}
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], c)
		}
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		if d := targetIndex(a.t) - targetIndex(b.t); d != 0 {
			return d
		}
		return a.n - b.n
	})
	out := make([]Summary, 0, len(keys))
	for _, k := range keys {
		cells := groups[k]
		s := Summary{Target: k.t, Sessions: k.n, Rounds: len(cells)}
		var calls, cpu, p50, p99 []float64
		var other, elapsed time.Duration
		for _, c := range cells {
			calls = append(calls, c.CallsPerSec())
			cpu = append(cpu, float64(c.CPUPerCall()))
			p50 = append(p50, float64(c.P50))
			p99 = append(p99, float64(c.P99))
			s.Calls += c.Calls
			s.Errors += c.Errors
			s.UpstreamConns = addConns(s.UpstreamConns, c.UpstreamConns)
			s.ClientConns = addConns(s.ClientConns, c.ClientConns)
			other += c.Other
			elapsed += c.Elapsed
		}
		s.CallsPerSec, s.CallsSpread = medianSpread(calls)
		var cpuMed float64
		cpuMed, s.CPUSpread = medianSpread(cpu)
		s.CPUPerCall = time.Duration(cpuMed)
		m50, _ := medianSpread(p50)
		m99, _ := medianSpread(p99)
		s.P50, s.P99 = time.Duration(m50), time.Duration(m99)
		if elapsed > 0 {
			s.OtherLoad = other.Seconds() / elapsed.Seconds()
		}
		s.PairedCPU, s.PairedCalls = math.NaN(), math.NaN()
		if r := pairedCPU[k]; len(r) > 0 {
			s.PairedCPU, _ = medianSpread(r)
			s.PairedCalls, _ = medianSpread(pairedCalls[k])
		}
		out = append(out, s)
	}
	return out
}

func addConns(sum, n int) int {
	if sum < 0 || n < 0 {
		return -1
	}
	return sum + n
}

func targetIndex(t Target) int { return slices.Index(AllTargets, t) }

// medianSpread returns the median of xs and half their range relative to
// it.
func medianSpread(xs []float64) (median, spread float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		median = s[n/2]
	} else {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	if median == 0 {
		return 0, 0
	}
	return median, (s[len(s)-1] - s[0]) / 2 / median
}

// find returns the summary of t at n sessions.
func find(sums []Summary, t Target, n int) (Summary, bool) {
	for _, s := range sums {
		if s.Target == t && s.Sessions == n {
			return s, true
		}
	}
	return Summary{}, false
}

// CPURatio is s's server CPU per call over the bare server's at the same
// session count: the median of the ratios to the paired bare cells when
// there are any, else the ratio of the medians (NaN without a bare cell).
func CPURatio(sums []Summary, s Summary) float64 {
	if s.Target == Bare {
		return 1
	}
	if s.PairedCPU > 0 {
		return s.PairedCPU
	}
	b, ok := find(sums, Bare, s.Sessions)
	if !ok {
		return math.NaN()
	}
	return Ratio(float64(s.CPUPerCall), float64(b.CPUPerCall))
}

// ThroughputRatio is s's calls/s over the bare server's at the same
// session count, paired like CPURatio (NaN without a bare cell).
func ThroughputRatio(sums []Summary, s Summary) float64 {
	if s.Target == Bare {
		return 1
	}
	if s.PairedCalls > 0 {
		return s.PairedCalls
	}
	b, ok := find(sums, Bare, s.Sessions)
	if !ok {
		return math.NaN()
	}
	return Ratio(s.CallsPerSec, b.CallsPerSec)
}

// Goal is one of the performance goals, judged on a run.
type Goal struct {
	Name     string
	Measured string
	Met      bool
}

// goalSpec is a ratio goal on one target.
type goalSpec struct {
	target Target
	limit  float64
	atMost bool // the ratio must be at most limit (else at least)
}

// The goals: CPU per call relative to the bare server, and the dev
// stack's throughput relative to it.
var (
	cpuGoals = []goalSpec{{Basic, 1.5, true}, {Passthrough, 1.5, true}, {Exchange, 2.5, true}}
	devGoals = []goalSpec{{DevBasic, 0.7, false}, {DevPassthrough, 0.6, false}, {DevExchange, 0.35, false}}
)

// rssGoalSessions and rssGoalBytes: the RSS goal at 1,000 idle sessions.
const (
	rssGoalSessions = 1000
	rssGoalBytes    = 60e6
)

// Goals judges the run against the performance goals, at the largest
// session count measured. Goals whose targets were not measured are
// left out.
func Goals(r *Results) []Goal {
	sums := Summarize(r.Rounds)
	n := r.Options.MaxSessions()
	var out []Goal
	for _, g := range cpuGoals {
		s, ok := find(sums, g.target, n)
		if !ok {
			continue
		}
		ratio := CPURatio(sums, s)
		out = append(out, Goal{
			Name:     fmt.Sprintf("server CPU per call ≤ %s× bare (%s, %s)", trimFloat(g.limit), g.target.Mode(), sessionsText(n)),
			Measured: formatRatio(ratio),
			Met:      !math.IsNaN(ratio) && ratio <= g.limit,
		})
	}
	for _, t := range []Target{Basic, Passthrough, Exchange} {
		s, ok := find(sums, t, n)
		if !ok || s.UpstreamConns < 0 {
			continue
		}
		out = append(out, Goal{
			Name:     fmt.Sprintf("no new upstream connection at steady state (%s, %s)", t.Mode(), sessionsText(n)),
			Measured: fmt.Sprintf("%s in %s calls", formatInt(s.UpstreamConns), formatInt(s.Calls)),
			Met:      s.UpstreamConns == 0,
		})
	}
	for _, g := range devGoals {
		s, ok := find(sums, g.target, n)
		if !ok {
			continue
		}
		ratio := ThroughputRatio(sums, s)
		out = append(out, Goal{
			Name:     fmt.Sprintf("dev-stack throughput ≥ %s× bare (%s, %s)", trimFloat(g.limit), g.target.Mode(), sessionsText(n)),
			Measured: formatRatio(ratio),
			Met:      !math.IsNaN(ratio) && ratio >= g.limit,
		})
	}
	if i := slices.Index(r.Options.Idle, rssGoalSessions); i >= 0 {
		for _, t := range r.Options.Targets {
			rss, ok := r.RSS[t]
			if !ok || t == Bare || i >= len(rss) {
				continue
			}
			out = append(out, Goal{
				Name:     fmt.Sprintf("server RSS < 60 MB at 1,000 idle sessions (%s)", t.Mode()),
				Measured: formatMB(rss[i]),
				Met:      float64(rss[i]) < rssGoalBytes,
			})
		}
	}
	return out
}

// WriteReport renders r as Markdown.
func WriteReport(w io.Writer, r *Results) error {
	var b strings.Builder
	o := r.Options
	sums := Summarize(r.Rounds)
	m := r.Machine
	fmt.Fprintf(&b, "## make bench-load\n\n")
	fmt.Fprintf(&b, "Measured on %s × %d cores, %s, %s; load average when the run began %s.\n", m.CPU, m.Cores, m.Kernel, m.Go, m.LoadAvg)
	fmt.Fprintf(&b, "Each cell: %s of calls after a %s warm-up at %d sessions; each session calls in a loop, one call at a time; %d round(s)",
		o.Duration, o.Warmup, o.MaxSessions(), o.Rounds)
	b.WriteString("; figures are medians, ± half the range between repeated cells.\n")
	b.WriteString("The bare server runs through each round and is measured again, at the same session count, right before each cell of every other target; a ratio to bare is the median of these paired ratios (the bare rows summarize all its cells).\n")
	if len(o.ServerEnv) > 0 {
		fmt.Fprintf(&b, "Every measured server process (the bare one included) ran with %s.\n", "`"+strings.Join(o.ServerEnv, " ")+"`")
	}
	if other := maxOther(sums); other >= 0 {
		fmt.Fprintf(&b, "Other processes (and the hypervisor's steal) kept up to %.2f cores busy during a cell.\n", other)
	}

	sep := separate(sums)
	if len(sep) > 0 {
		b.WriteString("\nEach component in its own process (fake IdP, fake Nextcloud, server, load client); the call is `nc_notes_get_note` (the bare server: `echo` with the same arguments); CPU is the server process's (`/proc/<pid>/stat`).\n\n")
		b.WriteString("| server | sessions | calls/s | p50 | p99 | server CPU per call | CPU ratio to bare | new upstream connections |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range sep {
			conns := "–"
			if s.Target != Bare {
				conns = formatConns(s.UpstreamConns)
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", s.Target.Label(), s.Sessions,
				withSpread(formatInt(int(math.Round(s.CallsPerSec))), s.CallsSpread), formatMS(s.P50), formatMS(s.P99),
				withSpread(formatMS(s.CPUPerCall), s.CPUSpread), formatRatio(CPURatio(sums, s)), conns)
		}
	}
	var dev []Summary
	for _, s := range sums {
		if s.Target.Dev() {
			dev = append(dev, s)
		}
	}
	if len(dev) > 0 {
		b.WriteString("\nThe one-process dev stack (`nextcloud-mcp dev --progressive-consent=false`: fake IdP, fake Nextcloud and server in one process over loopback HTTP); CPU is the whole process's.\n\n")
		b.WriteString("| mode | sessions | calls/s | throughput ratio to bare | p50 | p99 | process CPU per call |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range dev {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", s.Target.Mode(), s.Sessions,
				withSpread(formatInt(int(math.Round(s.CallsPerSec))), s.CallsSpread), formatRatio(ThroughputRatio(sums, s)),
				formatMS(s.P50), formatMS(s.P99), withSpread(formatMS(s.CPUPerCall), s.CPUSpread))
		}
	}
	if len(o.Idle) > 0 && len(r.RSS) > 0 {
		b.WriteString("\nServer RSS (`VmRSS`) with idle sessions, each an initialized session with go-sdk's standalone SSE stream open, in a fresh process:\n\n")
		b.WriteString("| server |")
		for _, n := range o.Idle {
			fmt.Fprintf(&b, " %s |", sessionsText(n))
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(o.Idle)) + "\n")
		for _, t := range o.Targets {
			rss, ok := r.RSS[t]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %s |", t.Label())
			for _, v := range rss {
				fmt.Fprintf(&b, " %s |", formatMB(v))
			}
			b.WriteString("\n")
		}
	}
	if goals := Goals(r); len(goals) > 0 {
		b.WriteString("\n| goal | measured | |\n|---|---:|---|\n")
		for _, g := range goals {
			verdict := "met"
			if !g.Met {
				verdict = "**not met**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", g.Name, g.Measured, verdict)
		}
	}
	if errs := failedCalls(sums); errs != "" {
		fmt.Fprintf(&b, "\nFailed calls: %s.\n", errs)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n- %s", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func separate(sums []Summary) []Summary {
	var out []Summary
	for _, s := range sums {
		if !s.Target.Dev() {
			out = append(out, s)
		}
	}
	return out
}

func maxOther(sums []Summary) float64 {
	m := -1.0
	for _, s := range sums {
		m = max(m, s.OtherLoad)
	}
	return m
}

func failedCalls(sums []Summary) string {
	var parts []string
	for _, s := range sums {
		if s.Errors > 0 {
			parts = append(parts, fmt.Sprintf("%s at %s: %s of %s", s.Target, sessionsText(s.Sessions), formatInt(s.Errors), formatInt(s.Errors+s.Calls)))
		}
	}
	return strings.Join(parts, "; ")
}

// formatInt writes n with thousands separators: 1,841.
func formatInt(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatMS writes a duration in milliseconds with two decimals.
func formatMS(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// formatRatio writes a ratio as 1.53×, or – when it is unknown.
func formatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

// formatMB writes bytes in megabytes (10^6) with one decimal.
func formatMB(n int64) string {
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}

// sessionsText writes "1 session", "1,000 sessions".
func sessionsText(n int) string {
	if n == 1 {
		return "1 session"
	}
	return formatInt(n) + " sessions"
}

func formatConns(n int) string {
	if n < 0 {
		return "–"
	}
	return formatInt(n)
}

// withSpread appends "±3%" when the rounds differed.
func withSpread(s string, spread float64) string {
	if spread <= 0 || math.IsNaN(spread) {
		return s
	}
	return fmt.Sprintf("%s ±%.0f%%", s, spread*100)
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
