package loadbench

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    string
	}{
		{
			name: "plain command",
			stat: "4242 (nextcloud-mcp) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 9 0 100 0 0",
			want: 2870 * time.Millisecond,
		},
		{
			name: "command with spaces and parentheses",
			stat: "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 0 0",
			want: 30 * time.Millisecond,
		},
		{name: "no command", stat: "7 R 1", wantErr: "without a command name"},
		{name: "cut short", stat: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 1", wantErr: "fields after the command name"},
		{name: "not a number", stat: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 2 0", wantErr: "utime/stime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU(tc.stat)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestProcessCPUAndRSSOfThisProcess(t *testing.T) {
	cpu, err := ProcessCPU(os.Getpid())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, cpu, time.Duration(0))
	rss, err := ProcessRSS(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, rss, int64(1<<20), "a Go test binary holds more than 1 MiB")
}

func TestParseStatusRSS(t *testing.T) {
	tests := []struct {
		name, status string
		want         int64
		wantErr      string
	}{
		{name: "kB", status: "Name:\tx\nVmPeak:\t  99 kB\nVmRSS:\t   20480 kB\nThreads:\t7\n", want: 20 << 20},
		{name: "missing", status: "Name:\tx\nState:\tZ (zombie)\n", wantErr: "no VmRSS line"},
		{name: "odd unit", status: "VmRSS:\t1 MB\n", wantErr: `unit "MB"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatusRSS([]byte(tc.status))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// netTCP is a /proc/net/tcp excerpt: a listener on 8080 (0x1F90), a
// client connection 40000 (0x9C40) → 8080 seen from both ends, and a
// TIME_WAIT left by a connection 40001 → 8080 that closed.
const netTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:9C41 0100007F:1F90 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000
`

func TestParseNetTCP(t *testing.T) {
	got, err := parseNetTCP(strings.NewReader(netTCP))
	require.NoError(t, err)
	assert.Equal(t, []Socket{
		{LocalPort: 8080, RemotePort: 0, State: 10},
		{LocalPort: 40000, RemotePort: 8080, State: 1},
		{LocalPort: 8080, RemotePort: 40000, State: 1},
		{LocalPort: 40001, RemotePort: 8080, State: 6},
	}, got)

	_, err = parseNetTCP(strings.NewReader("header\n 0: 0100007F 00000000:0000 0A\n"))
	assert.ErrorContains(t, err, "has no port")
}

func TestNewConnections(t *testing.T) {
	listener := Socket{LocalPort: 8080, State: tcpListen}
	open := func(client int) []Socket { // both ends of an open connection
		return []Socket{{LocalPort: client, RemotePort: 8080, State: 1}, {LocalPort: 8080, RemotePort: client, State: 1}}
	}
	before := append([]Socket{listener}, open(40000)...)
	tests := []struct {
		name  string
		after []Socket
		port  int
		want  int
	}{
		{name: "nothing changed", after: before, port: 8080, want: 0},
		{name: "one more open connection", after: append(append([]Socket{listener}, open(40000)...), open(40002)...), port: 8080, want: 1},
		{name: "a connection opened and closed by the client (TIME_WAIT at the client)",
			after: append(append([]Socket{listener}, open(40000)...), Socket{LocalPort: 40003, RemotePort: 8080, State: 6}), port: 8080, want: 1},
		{name: "a connection opened and closed by the server (TIME_WAIT at the server)",
			after: append(append([]Socket{listener}, open(40000)...), Socket{LocalPort: 8080, RemotePort: 40004, State: 6}), port: 8080, want: 1},
		{name: "the old connection closed", after: []Socket{listener, {LocalPort: 40000, RemotePort: 8080, State: 6}}, port: 8080, want: 0},
		{name: "connections to another port do not count", after: append(append([]Socket{listener}, open(40000)...),
			Socket{LocalPort: 40005, RemotePort: 9090, State: 1}), port: 8080, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, NewConnections(before, tc.after, tc.port))
		})
	}
}

func TestTCPSocketsSeesAListener(t *testing.T) {
	port, err := freePort()
	require.NoError(t, err)
	require.NotZero(t, port)
	socks, err := TCPSockets()
	require.NoError(t, err)
	assert.NotEmpty(t, socks)
}
