package conformance

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/report"
)

// Suite names the suite in reports.
const Suite = "nextcloud-mcp-go conformance suite"

// TargetSpec describes a target to start: an in-process stack or an
// external deployment.
type TargetSpec struct {
	Name        string
	Description string
	// Start brings the target up; stop (may be nil) tears it down.
	Start func(ctx context.Context) (t *grade.Target, stop func() error, err error)
	// Filter selects the requirements graded on this target (nil = all
	// that apply).
	Filter func(Requirement) bool
}

// Options tunes Run.
type Options struct {
	// CheckTimeout bounds one check (default 90 s).
	CheckTimeout time.Duration
	// Parallel is how many targets are graded at once (default 2).
	Parallel int
	// Filter selects requirements (nil = all).
	Filter func(Requirement) bool
}

// Run starts every target, grades it against reqs in catalogue order,
// stops it, and returns the finished report.
func Run(ctx context.Context, specs []TargetSpec, reqs []Requirement, opts Options) *report.Report {
	if opts.Parallel <= 0 {
		opts.Parallel = 2
	}
	start := time.Now()
	rep := &report.Report{Suite: Suite, Started: start, Targets: make([]report.Target, len(specs))}
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rep.Targets[i] = runSpec(ctx, spec, reqs, opts)
		}()
	}
	wg.Wait()
	rep.Millis = time.Since(start).Milliseconds()
	rep.Finish()
	return rep
}

func runSpec(ctx context.Context, spec TargetSpec, reqs []Requirement, opts Options) report.Target {
	t0 := time.Now()
	rt := report.Target{Name: spec.Name, Description: spec.Description}
	t, stop, err := spec.Start(ctx)
	if err != nil {
		rt.Error = err.Error()
		rt.Millis = time.Since(t0).Milliseconds()
		return rt
	}
	sel := make([]Requirement, 0, len(reqs))
	for _, r := range reqs {
		if spec.Filter == nil || spec.Filter(r) {
			sel = append(sel, r)
		}
	}
	rt.Results = Grade(ctx, t, sel, opts)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	t.RunCleanups(cctx)
	cancel()
	if stop != nil {
		if err := stop(); err != nil {
			rt.Error = "stopping: " + err.Error()
		}
	}
	rt.Millis = time.Since(t0).Milliseconds()
	return rt
}

// Grade runs reqs against one target, one after another.
func Grade(ctx context.Context, t *grade.Target, reqs []Requirement, opts Options) []report.Result {
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = 90 * time.Second
	}
	var out []report.Result
	for _, r := range reqs {
		if (opts.Filter != nil && !opts.Filter(r)) || !Applies(r, t) {
			continue
		}
		c0 := time.Now()
		o := runCheck(ctx, t, r, opts.CheckTimeout)
		out = append(out, report.Result{
			ID: r.ID, Level: string(r.Level), Area: r.Area, Module: r.Module, Statement: r.Statement, Source: r.Source,
			Status: string(o.Status), Evidence: o.Evidence, Details: o.Details, Millis: time.Since(c0).Milliseconds(),
		})
	}
	return out
}

// runCheck runs one check with a timeout; a panic in the harness becomes
// a failure rather than ending the run.
func runCheck(ctx context.Context, t *grade.Target, r Requirement, timeout time.Duration) (o grade.Outcome) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			o = grade.Failf("check %s panicked: %v (%s)", r.CheckName(), v, firstFrames(debug.Stack()))
		}
	}()
	o = r.Check(ctx, t)
	if ctx.Err() != nil && o.Status != grade.Pass && o.Status != grade.NA {
		o.Evidence = fmt.Sprintf("timed out after %s: %s", timeout, o.Evidence)
	}
	if o.Status == "" {
		o = grade.Failf("check %s returned no status", r.CheckName())
	}
	return o
}

func firstFrames(stack []byte) string {
	if len(stack) > 400 {
		stack = stack[:400]
	}
	return string(stack)
}

// Applies reports whether a requirement's subject is part of the target:
// IdP requirements need an IdP, Nextcloud ones a Nextcloud, the official
// suite a configured run, and the rest an MCP server.
func Applies(r Requirement, t *grade.Target) bool {
	switch r.Area {
	case AreaIdP:
		return t.IdP != nil
	case AreaNC:
		return t.Nextcloud != nil
	case AreaOfficial:
		return t.Official != nil
	}
	return t.MCP != nil
}
