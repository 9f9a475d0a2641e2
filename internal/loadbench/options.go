// Package loadbench is `make bench-load`: a load benchmark that starts
// each component in its own process (the fake IdP, the fake Nextcloud and
// nextcloud-mcp from their built binaries, plus a bare go-sdk server whose
// only tool echoes its input, the framework's ceiling), drives them with
// go-sdk's MCP client, and reports per token mode: calls/s, p50/p99
// latency, the server's CPU per call (from /proc/<pid>/stat) and its ratio
// to the bare server (measured again right before each cell, so the ratio
// compares cells seconds apart on a machine whose load drifts), at each
// session count; the throughput of the
// one-process dev stack (`nextcloud-mcp dev`) relative to the bare server;
// the connections the server opened to its upstreams; and the server's RSS
// with many idle sessions.
//
// It is a benchmark, not a test: it asserts nothing about time. Its goals
// are printed for a reader to judge. It needs Linux (/proc) and loopback
// only.
package loadbench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target is what a cell measures: the bare go-sdk server, the server in a
// token mode with each component in its own process, or the one-process
// dev stack in a mode.
type Target string

// The targets, in report order.
const (
	Bare           Target = "bare"
	Basic          Target = "basic"
	Passthrough    Target = "passthrough"
	Exchange       Target = "exchange"
	DevBasic       Target = "dev-basic"
	DevPassthrough Target = "dev-passthrough"
	DevExchange    Target = "dev-exchange"
)

// AllTargets lists every target in report order.
var AllTargets = []Target{Bare, Basic, Passthrough, Exchange, DevBasic, DevPassthrough, DevExchange}

// Dev reports whether t is the one-process dev stack.
func (t Target) Dev() bool { return strings.HasPrefix(string(t), "dev-") }

// Mode is the server's token mode ("" for the bare server).
func (t Target) Mode() string {
	if t == Bare {
		return ""
	}
	return strings.TrimPrefix(string(t), "dev-")
}

// OAuth reports whether t's server verifies bearer tokens.
func (t Target) OAuth() bool { return t.Mode() == string(Passthrough) || t.Mode() == string(Exchange) }

// Label is t's name in the report.
func (t Target) Label() string {
	switch {
	case t == Bare:
		return "bare go-sdk (echo tool)"
	case t.Dev():
		return t.Mode() + " (dev stack, one process)"
	}
	return t.Mode()
}

// Options configure a run.
type Options struct {
	// Bin holds the nextcloud-mcp, fake-idp and fake-nextcloud binaries.
	Bin string
	// Duration is the length of each measured cell; Warmup runs before a
	// target's first cell, at the largest session count.
	Duration, Warmup time.Duration
	// Sessions are the concurrent session counts measured (each session
	// calls in a loop, one call at a time).
	Sessions []int
	// Idle are the idle session counts at which the server's RSS is read
	// (nil: no memory phase).
	Idle []int
	// Targets to measure; the bare server is always among them, as every
	// ratio is to it.
	Targets []Target
	// Rounds repeats the whole load matrix; the report shows medians and
	// the spread between rounds.
	Rounds int
	// Out, when set, also receives the Markdown report.
	Out string
	// Perf, when set, is a directory: `perf record` samples the measured
	// process during each target's largest-session cell, one file per
	// target (perf's own cost then shows in those cells).
	Perf string
	// ServerEnv are KEY=VALUE environment variables given to every
	// measured server process (the bare server, nextcloud-mcp, the dev
	// stack) alike, e.g. GOMEMLIMIT=48MiB or GOGC=200, so runtime settings
	// are compared like for like.
	ServerEnv []string
	// Verbose prints progress on stderr.
	Verbose bool
}

// DefaultOptions are the values `make bench-load` runs with.
func DefaultOptions() Options {
	return Options{
		Bin:      "bin",
		Duration: 5 * time.Second,
		Warmup:   5 * time.Second,
		Sessions: []int{1, 8},
		Idle:     []int{1, 100, 1000},
		Targets:  slices.Clone(AllTargets),
		Rounds:   1,
	}
}

// MaxSessions is the largest session count.
func (o Options) MaxSessions() int { return slices.Max(o.Sessions) }

// ParseArgs reads the command line of a run; usage and errors go to
// stderr. -h returns flag.ErrHelp.
func ParseArgs(args []string, stderr io.Writer) (Options, error) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("bench-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Bin, "bin", o.Bin, "directory of the nextcloud-mcp, fake-idp and fake-nextcloud binaries (make build)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "length of each measured cell")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "warm-up before each target's first cell")
	sessions := fs.String("sessions", joinInts(o.Sessions), "comma-separated concurrent session counts")
	idle := fs.String("idle", joinInts(o.Idle), "comma-separated idle session counts for the RSS phase; empty: skip it")
	targets := fs.String("targets", joinTargets(o.Targets), "comma-separated targets: "+joinTargets(AllTargets))
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "repeat the load matrix this many times; the report shows medians and spread")
	fs.StringVar(&o.Out, "o", "", "also write the Markdown report to this file")
	fs.StringVar(&o.Perf, "perf", "", "directory for `perf record` profiles of the measured process (needs perf)")
	fs.Func("server-env", "KEY=VALUE for every measured server process, bare included (repeatable), e.g. GOMEMLIMIT=48MiB", func(v string) error {
		k, _, ok := strings.Cut(v, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return fmt.Errorf("%q is not KEY=VALUE", v)
		}
		o.ServerEnv = append(o.ServerEnv, v)
		return nil
	})
	fs.BoolVar(&o.Verbose, "v", false, "print progress on stderr")
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	var err error
	if o.Sessions, err = parseCounts(*sessions, false); err != nil {
		errs = append(errs, fmt.Errorf("-sessions: %w", err))
	}
	if o.Idle, err = parseCounts(*idle, true); err != nil {
		errs = append(errs, fmt.Errorf("-idle: %w", err))
	}
	if o.Targets, err = parseTargets(*targets); err != nil {
		errs = append(errs, fmt.Errorf("-targets: %w", err))
	}
	if o.Duration <= 0 {
		errs = append(errs, errors.New("-duration must be positive"))
	}
	if o.Warmup < 0 {
		errs = append(errs, errors.New("-warmup must not be negative"))
	}
	if o.Rounds < 1 {
		errs = append(errs, errors.New("-rounds must be at least 1"))
	}
	if o.Bin == "" {
		errs = append(errs, errors.New("-bin is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, err
	}
	return o, nil
}

// parseCounts reads "1,8": positive, distinct, returned ascending.
func parseCounts(s string, emptyOK bool) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if emptyOK {
			return nil, nil
		}
		return nil, errors.New("at least one count is required")
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", strings.TrimSpace(part))
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("%d is listed twice", n)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// parseTargets reads a target list, returned in report order.
func parseTargets(s string) ([]Target, error) {
	var out []Target
	for _, part := range strings.Split(s, ",") {
		t := Target(strings.TrimSpace(part))
		if t == "" {
			continue
		}
		if !slices.Contains(AllTargets, t) {
			return nil, fmt.Errorf("unknown target %q (want %s)", t, joinTargets(AllTargets))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("at least one target is required")
	}
	if !slices.Contains(out, Bare) {
		out = append(out, Bare)
	}
	slices.SortFunc(out, func(a, b Target) int { return slices.Index(AllTargets, a) - slices.Index(AllTargets, b) })
	return out, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func joinTargets(ts []Target) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}
