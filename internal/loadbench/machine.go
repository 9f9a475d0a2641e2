package loadbench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where a run was measured.
type Machine struct {
	CPU     string // model name from /proc/cpuinfo
	Cores   int
	Kernel  string
	Go      string
	LoadAvg string // the 1, 5 and 15 minute load averages when the run began
}

// DescribeMachine reads the machine's description.
func DescribeMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), CPU: "unknown CPU", Kernel: "unknown kernel"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if name := cpuModel(b); name != "" {
			m.CPU = name
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

func cpuModel(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// SystemBusy returns the CPU time all cores of the machine have spent
// busy so far (the first line of /proc/stat: user, nice, system, irq,
// softirq and steal; guest time is already part of user).
func SystemBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStatBusy(b)
}

func parseProcStatBusy(stat []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("loadbench: /proc/stat does not start with the cpu line")
	}
	var busy uint64
	// user nice system idle iowait irq softirq steal
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadbench: /proc/stat field %d: %w", i, err)
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}
