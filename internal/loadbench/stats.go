package loadbench

import (
	"math"
	"slices"
	"time"
)

// Cell is one measurement: a target under a number of concurrent
// sessions for a while.
type Cell struct {
	Target Target
	// Pair, on a bare server's cell, is the target whose cell at the same
	// session count was measured right after it (the ratio's baseline).
	Pair     Target
	Sessions int
	// Calls is how many calls succeeded in Elapsed; Errors how many failed.
	Calls, Errors int
	// FirstError is the first failed call's error, when one failed.
	FirstError string
	Elapsed    time.Duration
	// P50 and P99 are call latencies as the load client saw them.
	P50, P99 time.Duration
	// CPU is what the measured process (the server; the whole process for
	// the dev stack) used during Elapsed.
	CPU time.Duration
	// Other is the CPU time the rest of the machine (other processes, the
	// hypervisor's steal) used during Elapsed: a measure of the noise.
	Other time.Duration
	// UpstreamConns counts the connections opened from the server to the
	// fake Nextcloud and the fake IdP during Elapsed; ClientConns those
	// opened from the load client to the server. -1: not measured.
	UpstreamConns, ClientConns int
}

// CallsPerSec is the cell's throughput.
func (c Cell) CallsPerSec() float64 {
	if c.Elapsed <= 0 {
		return 0
	}
	return float64(c.Calls) / c.Elapsed.Seconds()
}

// CPUPerCall is the measured process's CPU time per successful call.
func (c Cell) CPUPerCall() time.Duration {
	if c.Calls == 0 {
		return 0
	}
	return c.CPU / time.Duration(c.Calls)
}

// UpstreamConnsPerCall is the rate of new upstream connections per call,
// or NaN when not measured.
func (c Cell) UpstreamConnsPerCall() float64 {
	if c.UpstreamConns < 0 || c.Calls == 0 {
		return math.NaN()
	}
	return float64(c.UpstreamConns) / float64(c.Calls)
}

// Ratio is a/b, or NaN when b is not positive (no baseline).
func Ratio(a, b float64) float64 {
	if b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// Percentile returns the p-th percentile (0 < p <= 100) of latencies by
// the nearest-rank method; it sorts latencies in place. Zero for none.
func Percentile(latencies []time.Duration, p float64) time.Duration {
	if len(latencies) == 0 {
		return 0
	}
	if !slices.IsSorted(latencies) {
		slices.Sort(latencies)
	}
	rank := int(math.Ceil(p / 100 * float64(len(latencies))))
	rank = min(max(rank, 1), len(latencies))
	return latencies[rank-1]
}
