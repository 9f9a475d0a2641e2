package loadbench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of utime and stime in /proc/<pid>/stat
// (sysconf(_SC_CLK_TCK)): 100 on every Linux architecture Go supports,
// and not readable without cgo.
const clockTicks = 100

// ProcessCPU returns the CPU time (user + system, every thread, the ones
// that exited included) process pid has used so far, from /proc/<pid>/stat.
// Its resolution is 10 ms, which is why every cell runs for seconds.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses and
// may itself contain spaces and parentheses, so fields are counted after
// its last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("loadbench: /proc stat line without a command name")
	}
	// After ")": field 3 (state) is the first.
	f := strings.Fields(stat[i+1:])
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("loadbench: /proc stat line has %d fields after the command name, want more than %d", len(f), stime)
	}
	u, err1 := strconv.ParseUint(f[utime], 10, 64)
	s, err2 := strconv.ParseUint(f[stime], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("loadbench: /proc stat utime/stime: %w", err)
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// ProcessRSS returns the resident set size of process pid (VmRSS in
// /proc/<pid>/status), in bytes.
func ProcessRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusRSS(b)
}

func parseStatusRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if unit != "kB" {
			return 0, fmt.Errorf("loadbench: VmRSS in unit %q, want kB", unit)
		}
		kb, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadbench: VmRSS: %w", err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("loadbench: no VmRSS line (is the process a zombie?)")
}

// Socket is one IPv4 TCP socket of /proc/net/tcp.
type Socket struct {
	LocalPort, RemotePort int
	// State is the kernel's TCP state number (1 established, 6 TIME_WAIT,
	// 10 listen, ...).
	State int
}

// tcpListen is the kernel's TCP_LISTEN state.
const tcpListen = 10

// TCPSockets lists the IPv4 TCP sockets of this network namespace.
func TCPSockets() ([]Socket, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only: nothing to flush
	return parseNetTCP(f)
}

// parseNetTCP reads the /proc/net/tcp format: a header line, then
// "sl local_address rem_address st ..." with addresses as hex IP:port.
func parseNetTCP(r io.Reader) ([]Socket, error) {
	sc := bufio.NewScanner(r)
	var out []Socket
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		lp, err1 := hexPort(f[1])
		rp, err2 := hexPort(f[2])
		st, err3 := strconv.ParseUint(f[3], 16, 8)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("loadbench: /proc/net/tcp line %q: %w", sc.Text(), err)
		}
		out = append(out, Socket{LocalPort: lp, RemotePort: rp, State: int(st)})
	}
	return out, sc.Err()
}

func hexPort(addr string) (int, error) {
	_, port, ok := strings.Cut(addr, ":")
	if !ok {
		return 0, fmt.Errorf("address %q has no port", addr)
	}
	p, err := strconv.ParseUint(port, 16, 16)
	return int(p), err
}

// connKeys names every connection with one end on port (a listening port
// on loopback) by its other end's port. A connection shows in the table
// from both ends while it is open, and from at least the end that closed
// first for the TIME_WAIT period (60 s on Linux) after it closed, so two
// snapshots taken less than a minute apart see every connection opened in
// between.
func connKeys(socks []Socket, port int) map[int]bool {
	keys := map[int]bool{}
	for _, s := range socks {
		switch {
		case s.State == tcpListen:
		case s.RemotePort == port:
			keys[s.LocalPort] = true
		case s.LocalPort == port:
			keys[s.RemotePort] = true
		}
	}
	return keys
}

// NewConnections counts the connections to port that appear in after but
// not in before.
func NewConnections(before, after []Socket, port int) int {
	old := connKeys(before, port)
	n := 0
	for k := range connKeys(after, port) {
		if !old[k] {
			n++
		}
	}
	return n
}
