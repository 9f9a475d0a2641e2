package loadbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// idleSettle is how long the server gets after the last idle session
// opened before its RSS is read.
const idleSettle = 2 * time.Second

// Results is everything a run measured.
type Results struct {
	Machine Machine
	Options Options
	// Rounds holds each round's cells, in the order they ran.
	Rounds [][]Cell
	// RSS maps a target to its server's RSS at each of Options.Idle.
	RSS map[Target][]int64
	// Notes are remarks the report prints (failed calls, perf files).
	Notes []string
}

// Run measures everything o asks for and returns the results. Progress
// goes to progress when o.Verbose.
func Run(ctx context.Context, o Options, progress io.Writer) (*Results, error) {
	if !o.Verbose {
		progress = io.Discard
	}
	bins, err := findBinaries(o.Bin)
	if err != nil {
		return nil, err
	}
	logDir, err := os.MkdirTemp("", "bench-load-")
	if err != nil {
		return nil, err
	}
	keepLogs := false
	defer func() {
		if !keepLogs {
			_ = os.RemoveAll(logDir) // a temporary directory of logs
		}
	}()
	if o.Perf != "" {
		if _, err := exec.LookPath("perf"); err != nil {
			return nil, errors.New("-perf needs the perf command (linux-perf)")
		}
		if err := os.MkdirAll(o.Perf, 0o755); err != nil {
			return nil, err
		}
	}
	res := &Results{Machine: DescribeMachine(), Options: o, RSS: map[Target][]int64{}}
	tr := clientTransport(2*max(o.MaxSessions(), maxOr(o.Idle, 0)) + 16)
	defer tr.CloseIdleConnections()
	fail := func(err error) (*Results, error) {
		keepLogs = true
		return nil, fmt.Errorf("%w\n(component logs kept in %s)", err, logDir)
	}
	for round := 1; round <= o.Rounds; round++ {
		cells, notes, err := measureRound(ctx, o, bins, logDir, tr, round, progress)
		res.Notes = append(res.Notes, notes...)
		if err != nil {
			return fail(err)
		}
		res.Rounds = append(res.Rounds, cells)
	}
	if len(o.Idle) > 0 {
		for _, t := range o.Targets {
			if t.Dev() {
				continue // the dev stack's RSS is three components'
			}
			fmt.Fprintf(progress, "bench-load: idle sessions: %s\n", t)
			rss, err := measureIdle(ctx, o, bins, logDir, tr, t)
			if err != nil {
				return fail(fmt.Errorf("%s, idle sessions: %w", t, err))
			}
			res.RSS[t] = rss
		}
	}
	return res, nil
}

func maxOr(ns []int, def int) int {
	if len(ns) == 0 {
		return def
	}
	m := ns[0]
	for _, n := range ns[1:] {
		m = max(m, n)
	}
	return m
}

// measureRound measures every target once. The bare server runs for the
// whole round, and each of the other targets' cells is paired with a bare
// cell measured just before it at the same session count (Cell.Pair): on a
// machine shared with other work the load drifts within minutes, and a
// ratio of two cells seconds apart drifts much less than a ratio to a bare
// cell measured once per round.
func measureRound(ctx context.Context, o Options, bins binaries, logDir string, tr *http.Transport, round int, progress io.Writer) (cells []Cell, notes []string, err error) {
	fmt.Fprintf(progress, "bench-load: round %d/%d: %s\n", round, o.Rounds, Bare)
	bare, err := startLoaded(ctx, o, bins, logDir, tr, Bare)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", Bare, err)
	}
	defer func() { err = errors.Join(err, bare.close()) }()
	others := slices.DeleteFunc(slices.Clone(o.Targets), func(t Target) bool { return t == Bare })
	if len(others) == 0 {
		for _, n := range o.Sessions {
			c, err := bare.measure(ctx, o, n, round, logDir, "", &notes)
			if err != nil {
				return nil, notes, fmt.Errorf("%s: %w", Bare, err)
			}
			cells = append(cells, c)
		}
		return cells, notes, nil
	}
	for i, t := range others {
		fmt.Fprintf(progress, "bench-load: round %d/%d: %s (paired with %s)\n", round, o.Rounds, t, Bare)
		cs, err := measurePaired(ctx, o, bins, logDir, tr, bare, t, round, i == 0, &notes)
		cells = append(cells, cs...)
		if err != nil {
			return nil, notes, fmt.Errorf("%s: %w", t, err)
		}
	}
	return cells, notes, nil
}

// measurePaired starts t, warms it up, and measures at each session count
// a bare cell and then t's cell.
func measurePaired(ctx context.Context, o Options, bins binaries, logDir string, tr *http.Transport, bare *loaded, t Target, round int, perfBare bool, notes *[]string) (_ []Cell, err error) {
	target, err := startLoaded(ctx, o, bins, logDir, tr, t)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, target.close()) }()
	var cells []Cell
	for _, n := range o.Sessions {
		perf := ""
		if perfBare {
			perf = "bare"
		}
		b, err := bare.measure(ctx, o, n, round, logDir, perf, notes)
		if err != nil {
			return nil, fmt.Errorf("%s (paired): %w", Bare, err)
		}
		b.Pair = t
		c, err := target.measure(ctx, o, n, round, logDir, string(t), notes)
		if err != nil {
			return nil, err
		}
		cells = append(cells, b, c)
	}
	return cells, nil
}

// loaded is a running target with its sessions open and warmed up.
type loaded struct {
	t        Target
	st       *stack
	sessions []*mcp.ClientSession
	params   *mcp.CallToolParams
}

// startLoaded starts t, opens the largest session count and warms up.
func startLoaded(ctx context.Context, o Options, bins binaries, logDir string, tr *http.Transport, t Target) (_ *loaded, err error) {
	st, err := startStack(ctx, bins, logDir, t, o.ServerEnv)
	if err != nil {
		return nil, err
	}
	l := &loaded{t: t, st: st}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.close())
		}
	}()
	if l.sessions, err = newClient(st.mcpURL, st.token, tr).open(ctx, o.MaxSessions()); err != nil {
		return nil, err
	}
	if l.params, err = callFor(ctx, t, l.sessions[0]); err != nil {
		return nil, err
	}
	if o.Warmup > 0 {
		if r := drive(ctx, l.sessions, l.params, o.Warmup); len(r.latencies) == 0 {
			return nil, fmt.Errorf("no call succeeded during the warm-up: %v", r.firstErr)
		}
	}
	return l, nil
}

func (l *loaded) close() error {
	closeSessions(l.sessions)
	l.sessions = nil
	return l.st.stop()
}

// measure measures one cell at n sessions; perfName, when set and -perf is
// on, names the perf file of the largest session count.
func (l *loaded) measure(ctx context.Context, o Options, n, round int, logDir, perfName string, notes *[]string) (Cell, error) {
	var stopPerf func() error
	if o.Perf != "" && perfName != "" && n == o.MaxSessions() {
		file := filepath.Join(o.Perf, fmt.Sprintf("%s-round%d.perf.data", perfName, round))
		var err error
		if stopPerf, err = startPerf(file, l.st.server.Pid(), logDir); err != nil {
			return Cell{}, err
		}
		*notes = append(*notes, fmt.Sprintf("perf profile of %s at %s (round %d): %s", l.t, sessionsText(n), round, file))
	}
	cell, err := measureCell(ctx, l.st, l.sessions[:n], l.params, o.Duration)
	if stopPerf != nil {
		err = errors.Join(err, stopPerf())
	}
	if err != nil {
		return Cell{}, err
	}
	cell.Target = l.t
	if cell.Errors > 0 {
		*notes = append(*notes, fmt.Sprintf("%s at %s: %s calls failed, the first with: %v", l.t, sessionsText(n), formatInt(cell.Errors), cell.FirstError))
	}
	return cell, nil
}

// callFor returns the call the load makes: nc_notes_get_note of one of
// alice's seeded notes, or the bare server's echo with the same
// arguments.
func callFor(ctx context.Context, t Target, cs *mcp.ClientSession) (*mcp.CallToolParams, error) {
	const noteTool = "nc_notes_get_note"
	if t == Bare {
		return &mcp.CallToolParams{Name: EchoTool, Arguments: map[string]any{"note_id": 1}}, nil
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "nc_notes_search_notes", Arguments: map[string]any{"query": ""}})
	if err != nil {
		return nil, fmt.Errorf("finding a note: %w", err)
	}
	if res.IsError {
		return nil, fmt.Errorf("finding a note: %s", resultText(res))
	}
	id, err := firstNoteID(res.StructuredContent)
	if err != nil {
		return nil, err
	}
	return &mcp.CallToolParams{Name: noteTool, Arguments: map[string]any{"note_id": id}}, nil
}

// firstNoteID reads results[0].id of nc_notes_search_notes's output.
func firstNoteID(structured any) (int64, error) {
	m, _ := structured.(map[string]any)
	results, _ := m["results"].([]any)
	if len(results) == 0 {
		return 0, errors.New("finding a note: alice has no notes (is the fake Nextcloud seeded?)")
	}
	first, _ := results[0].(map[string]any)
	id, ok := first["id"].(float64)
	if !ok || id <= 0 {
		return 0, errors.New("finding a note: the search result has no numeric id")
	}
	return int64(id), nil
}

// measureCell drives sessions for d and reads, around it, the measured
// process's CPU, this machine's busy time and the loopback connections.
func measureCell(ctx context.Context, st *stack, sessions []*mcp.ClientSession, params *mcp.CallToolParams, d time.Duration) (Cell, error) {
	pids := []int{os.Getpid()}
	for _, c := range st.children {
		pids = append(pids, c.Pid())
	}
	socks0, err := TCPSockets()
	if err != nil {
		return Cell{}, err
	}
	cpu0, err := ProcessCPU(st.server.Pid())
	if err != nil {
		return Cell{}, err
	}
	ours0, busy0, err := cpuOf(pids)
	if err != nil {
		return Cell{}, err
	}
	l := drive(ctx, sessions, params, d)
	cpu1, err := ProcessCPU(st.server.Pid())
	if err != nil {
		return Cell{}, err
	}
	ours1, busy1, err := cpuOf(pids)
	if err != nil {
		return Cell{}, err
	}
	socks1, err := TCPSockets()
	if err != nil {
		return Cell{}, err
	}
	if len(l.latencies) == 0 {
		return Cell{}, fmt.Errorf("no call succeeded at %d sessions: %v", len(sessions), l.firstErr)
	}
	cell := Cell{
		Sessions:      len(sessions),
		Calls:         len(l.latencies),
		Errors:        l.errors,
		Elapsed:       l.elapsed,
		CPU:           cpu1 - cpu0,
		Other:         max(0, (busy1-busy0)-(ours1-ours0)),
		UpstreamConns: 0,
		ClientConns:   NewConnections(socks0, socks1, st.serverPort),
	}
	for _, p := range st.upstreamPorts {
		cell.UpstreamConns += NewConnections(socks0, socks1, p)
	}
	if l.firstErr != nil {
		cell.FirstError = l.firstErr.Error()
	}
	cell.P50 = Percentile(l.latencies, 50)
	cell.P99 = Percentile(l.latencies, 99)
	return cell, nil
}

// cpuOf sums the CPU time of pids and reads the machine's busy time.
func cpuOf(pids []int) (ours, busy time.Duration, err error) {
	for _, p := range pids {
		c, err := ProcessCPU(p)
		if err != nil {
			return 0, 0, err
		}
		ours += c
	}
	busy, err = SystemBusy()
	return ours, busy, err
}

// measureIdle starts t afresh and reads its server's RSS once each count
// of o.Idle sessions is open and idle. Each session is what go-sdk's
// client keeps by default: the session and its standalone SSE stream.
func measureIdle(ctx context.Context, o Options, bins binaries, logDir string, tr *http.Transport, t Target) (_ []int64, err error) {
	st, err := startStack(ctx, bins, logDir, t, o.ServerEnv)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.stop()) }()
	c := newClient(st.mcpURL, st.token, tr)
	var open []*mcp.ClientSession
	defer func() { closeSessions(open) }()
	var out []int64
	for _, n := range o.Idle {
		more, err := c.open(ctx, n-len(open))
		if err != nil {
			return nil, err
		}
		open = append(open, more...)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(idleSettle):
		}
		rss, err := ProcessRSS(st.server.Pid())
		if err != nil {
			return nil, err
		}
		out = append(out, rss)
	}
	return out, nil
}

// startPerf samples pid with `perf record` (call graphs by frame pointer,
// which Go binaries keep) until the returned function stops it.
func startPerf(file string, pid int, logDir string) (func() error, error) {
	logFile, err := os.Create(filepath.Join(logDir, "perf-"+strconv.Itoa(pid)+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", file)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("perf record: %w", err), logFile.Close())
	}
	// perf needs a moment to attach before the cell starts.
	time.Sleep(300 * time.Millisecond)
	return func() error {
		err := cmd.Process.Signal(syscall.SIGINT)
		if err == nil {
			err = cmd.Wait()
			// perf writes its file on SIGINT and then dies of it.
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
					err = nil
				}
			}
		}
		return errors.Join(err, logFile.Close())
	}, nil
}
