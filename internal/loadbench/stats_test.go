package loadbench

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{name: "none", in: nil, p: 50, want: 0},
		{name: "one", in: ms(7), p: 99, want: 7 * time.Millisecond},
		{name: "median of unsorted", in: ms(5, 1, 4, 2, 3), p: 50, want: 3 * time.Millisecond},
		{name: "nearest rank p50 of four", in: ms(4, 3, 2, 1), p: 50, want: 2 * time.Millisecond},
		{name: "p99 of a hundred", in: ms(func() []int {
			s := make([]int, 100)
			for i := range s {
				s[i] = 100 - i
			}
			return s
		}()...), p: 99, want: 99 * time.Millisecond},
		{name: "p100 is the maximum", in: ms(1, 9, 5), p: 100, want: 9 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Percentile(tc.in, tc.p))
		})
	}
}

func TestCellMaths(t *testing.T) {
	c := Cell{Calls: 2000, Elapsed: 4 * time.Second, CPU: 3 * time.Second, UpstreamConns: 20}
	assert.InDelta(t, 500.0, c.CallsPerSec(), 1e-9)
	assert.Equal(t, 1500*time.Microsecond, c.CPUPerCall())
	assert.InDelta(t, 0.01, c.UpstreamConnsPerCall(), 1e-12)

	var empty Cell
	assert.Zero(t, empty.CallsPerSec())
	assert.Zero(t, empty.CPUPerCall())
	assert.True(t, math.IsNaN(Cell{Calls: 5, UpstreamConns: -1}.UpstreamConnsPerCall()))
}

func TestRatio(t *testing.T) {
	tests := []struct {
		name string
		a, b float64
		want float64 // NaN: unknown
	}{
		{name: "plain", a: 3, b: 2, want: 1.5},
		{name: "no baseline", a: 3, b: 0, want: math.NaN()},
		{name: "NaN in", a: math.NaN(), b: 2, want: math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Ratio(tc.a, tc.b)
			if math.IsNaN(tc.want) {
				assert.True(t, math.IsNaN(got), "got %v", got)
				return
			}
			assert.InDelta(t, tc.want, got, 1e-12)
		})
	}
}
