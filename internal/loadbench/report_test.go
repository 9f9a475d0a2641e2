package loadbench

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/report.golden")

// cell builds a cell: calls in one second, CPU per call in µs.
func cell(t Target, sessions, calls int, cpuPerCallUS float64, conns int) Cell {
	return Cell{
		Target: t, Sessions: sessions, Calls: calls, Elapsed: time.Second,
		CPU: time.Duration(float64(calls) * cpuPerCallUS * float64(time.Microsecond)),
		P50: time.Duration(sessions) * time.Millisecond, P99: time.Duration(sessions) * 3 * time.Millisecond,
		UpstreamConns: conns, ClientConns: 0, Other: 100 * time.Millisecond,
	}
}

func TestSummarize(t *testing.T) {
	rounds := [][]Cell{
		{cell(Basic, 8, 900, 600, 0), cell(Bare, 8, 2000, 400, 0), cell(Bare, 1, 1000, 500, 0)},
		{cell(Basic, 8, 1100, 700, 2), cell(Bare, 8, 2200, 400, 0), cell(Bare, 1, 1000, 500, 0)},
		{cell(Basic, 8, 1000, 650, -1), cell(Bare, 8, 1800, 400, 0), cell(Bare, 1, 1000, 500, 0)},
	}
	rounds[0][0].Errors = 3
	sums := Summarize(rounds)
	require.Len(t, sums, 3)
	// Report order: bare before basic, fewer sessions first.
	assert.Equal(t, []Target{Bare, Bare, Basic}, []Target{sums[0].Target, sums[1].Target, sums[2].Target})
	assert.Equal(t, []int{1, 8, 8}, []int{sums[0].Sessions, sums[1].Sessions, sums[2].Sessions})

	basic := sums[2]
	assert.Equal(t, 3, basic.Rounds)
	assert.InDelta(t, 1000, basic.CallsPerSec, 1e-9, "median")
	assert.InDelta(t, 0.1, basic.CallsSpread, 1e-9, "half of (1100-900), over 1000")
	assert.Equal(t, 650*time.Microsecond, basic.CPUPerCall)
	assert.InDelta(t, 50.0/650, basic.CPUSpread, 1e-9)
	assert.Equal(t, 3000, basic.Calls)
	assert.Equal(t, 3, basic.Errors)
	assert.Equal(t, -1, basic.UpstreamConns, "one round did not measure connections")
	assert.InDelta(t, 0.1, basic.OtherLoad, 1e-9)
	assert.Zero(t, sums[0].CallsSpread, "identical rounds have no spread")

	assert.InDelta(t, 650.0/400, CPURatio(sums, basic), 1e-9)
	assert.InDelta(t, 1000.0/2000, ThroughputRatio(sums, basic), 1e-9)
	assert.True(t, math.IsNaN(CPURatio(sums, Summary{Target: Basic, Sessions: 4})), "no bare cell at 4 sessions")
}

// TestPairedRatios: a target's ratio is the median of its ratios to the
// bare cell measured right before it, not the ratio of the medians, so a
// machine that got busier between the cells of a round does not move it.
func TestPairedRatios(t *testing.T) {
	pair := func(c Cell, with Target) Cell { c.Pair = with; return c }
	rounds := [][]Cell{
		// The bare server alone was measured while the machine was quiet;
		// basic twice while it was busy, when the bare server measured
		// right before it was slowed down as much: the paired ratio stays
		// 1.5 where the ratio of the medians would say 3.
		{cell(Bare, 8, 2000, 400, 0), pair(cell(Bare, 8, 2000, 400, 0), Basic), cell(Basic, 8, 1000, 600, 0)},
		{cell(Bare, 8, 2000, 400, 0), pair(cell(Bare, 8, 1000, 800, 0), Basic), cell(Basic, 8, 500, 1200, 0)},
		{cell(Bare, 8, 2000, 400, 0), pair(cell(Bare, 8, 1000, 800, 0), Basic), cell(Basic, 8, 500, 1200, 0)},
	}
	sums := Summarize(rounds)
	basic, ok := find(sums, Basic, 8)
	require.True(t, ok)
	assert.InDelta(t, 1.5, CPURatio(sums, basic), 1e-9)
	assert.InDelta(t, 0.5, ThroughputRatio(sums, basic), 1e-9)
	bare, _ := find(sums, Bare, 8)
	assert.Equal(t, 6, bare.Rounds, "the bare rows summarize every bare cell, paired or not")
	assert.InDelta(t, 3.0, Ratio(float64(basic.CPUPerCall), float64(bare.CPUPerCall)), 1e-9, "what the medians alone would say")
	assert.InDelta(t, 1.0, CPURatio(sums, bare), 1e-9)

	unpaired := Summarize([][]Cell{{cell(Bare, 8, 2000, 400, 0), cell(Basic, 8, 1000, 600, 0)}})
	b2, _ := find(unpaired, Basic, 8)
	assert.True(t, math.IsNaN(b2.PairedCPU))
	assert.InDelta(t, 1.5, CPURatio(unpaired, b2), 1e-9, "without pairs: the ratio of the medians")
}

func TestMedianSpread(t *testing.T) {
	tests := []struct {
		name           string
		in             []float64
		median, spread float64
	}{
		{name: "none", in: nil},
		{name: "one", in: []float64{4}, median: 4},
		{name: "even count averages the middle two", in: []float64{1, 4, 2, 3}, median: 2.5, spread: 1.5 / 2.5},
		{name: "zero median", in: []float64{0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, s := medianSpread(tc.in)
			assert.InDelta(t, tc.median, m, 1e-12)
			assert.InDelta(t, tc.spread, s, 1e-12)
		})
	}
}

func sampleResults() *Results {
	o := DefaultOptions()
	o.Rounds = 1
	return &Results{
		Machine: Machine{CPU: "AMD EPYC", Cores: 2, Kernel: "Linux 6.1", Go: "go1.26.8", LoadAvg: "0.10 0.20 0.30"},
		Options: o,
		Rounds: [][]Cell{{
			cell(Bare, 1, 1600, 500, 0), cell(Bare, 8, 2500, 400, 0),
			cell(Basic, 1, 1100, 700, 0), cell(Basic, 8, 1500, 560, 0),
			cell(Passthrough, 1, 1000, 750, 0), cell(Passthrough, 8, 1400, 620, 1234),
			cell(Exchange, 1, 500, 1100, 0), cell(Exchange, 8, 700, 1040, 0),
			cell(DevBasic, 1, 1200, 900, 0), cell(DevBasic, 8, 1800, 700, 0),
			cell(DevPassthrough, 1, 1100, 950, 0), cell(DevPassthrough, 8, 1450, 750, 0),
			cell(DevExchange, 1, 600, 2000, 0), cell(DevExchange, 8, 850, 1900, 0),
		}},
		RSS: map[Target][]int64{
			Bare: {10e6, 15e6, 40e6}, Basic: {16e6, 22e6, 55e6}, Passthrough: {16e6, 23e6, 59.9e6}, Exchange: {16e6, 23e6, 61e6},
		},
		Notes: []string{"perf profile of exchange at 8 sessions (round 1): p/exchange-round1.perf.data"},
	}
}

func TestGoals(t *testing.T) {
	got := map[string]Goal{}
	for _, g := range Goals(sampleResults()) {
		got[g.Name] = g
	}
	tests := []struct {
		name, measured string
		met            bool
	}{
		{"server CPU per call ≤ 1.5× bare (basic, 8 sessions)", "1.40×", true},
		{"server CPU per call ≤ 1.5× bare (passthrough, 8 sessions)", "1.55×", false},
		{"server CPU per call ≤ 2.5× bare (exchange, 8 sessions)", "2.60×", false},
		{"no new upstream connection at steady state (basic, 8 sessions)", "0 in 1,500 calls", true},
		{"no new upstream connection at steady state (passthrough, 8 sessions)", "1,234 in 1,400 calls", false},
		{"dev-stack throughput ≥ 0.7× bare (basic, 8 sessions)", "0.72×", true},
		{"dev-stack throughput ≥ 0.6× bare (passthrough, 8 sessions)", "0.58×", false},
		{"dev-stack throughput ≥ 0.35× bare (exchange, 8 sessions)", "0.34×", false},
		{"server RSS < 60 MB at 1,000 idle sessions (basic)", "55.0 MB", true},
		{"server RSS < 60 MB at 1,000 idle sessions (passthrough)", "59.9 MB", true},
		{"server RSS < 60 MB at 1,000 idle sessions (exchange)", "61.0 MB", false},
	}
	assert.Len(t, got, len(tests)+1, "plus exchange's connection goal")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := got[tc.name]
			require.True(t, ok, "goal missing; have %v", got)
			assert.Equal(t, tc.measured, g.Measured)
			assert.Equal(t, tc.met, g.Met)
		})
	}
}

func TestGoalsLeaveOutWhatWasNotMeasured(t *testing.T) {
	r := sampleResults()
	r.Options.Idle = []int{1, 100}
	r.Rounds = [][]Cell{{cell(Bare, 1, 1600, 500, 0), cell(Bare, 8, 2500, 400, 0)}}
	assert.Empty(t, Goals(r))
}

func TestWriteReport(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteReport(&b, sampleResults()))
	golden := filepath.Join("testdata", "report.golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./internal/loadbench -run TestWriteReport -update")
	assert.Equal(t, string(want), b.String())
}

func TestWriteReportShowsSpreadAndFailures(t *testing.T) {
	r := sampleResults()
	r.Options.Rounds = 2
	second := cell(Bare, 1, 1800, 500, 0)
	second.Errors = 4
	r.Rounds = append(r.Rounds, []Cell{second})
	var b strings.Builder
	require.NoError(t, WriteReport(&b, r))
	out := b.String()
	assert.Contains(t, out, "2 round(s); figures are medians, ± half the range between repeated cells.")
	assert.Contains(t, out, "| bare go-sdk (echo tool) | 1 | 1,700 ±6% |")
	assert.Contains(t, out, "Failed calls: bare at 1 session: 4 of 3,404")
	assert.NotContains(t, out, "ran with")

	r.Options.ServerEnv = []string{"GOMEMLIMIT=48MiB"}
	b.Reset()
	require.NoError(t, WriteReport(&b, r))
	assert.Contains(t, b.String(), "Every measured server process (the bare one included) ran with `GOMEMLIMIT=48MiB`.")
}

func TestFormatting(t *testing.T) {
	assert.Equal(t, "0", formatInt(0))
	assert.Equal(t, "999", formatInt(999))
	assert.Equal(t, "1,841", formatInt(1841))
	assert.Equal(t, "-1,234,567", formatInt(-1234567))
	assert.Equal(t, "0.49 ms", formatMS(490*time.Microsecond))
	assert.Equal(t, "1.53×", formatRatio(1.5312))
	assert.Equal(t, "–", formatRatio(math.NaN()))
	assert.Equal(t, "59.9 MB", formatMB(59_900_000))
	assert.Equal(t, "–", formatConns(-1))
	assert.Equal(t, "7 ±12%", withSpread("7", 0.123))
	assert.Equal(t, "7", withSpread("7", 0))
}
