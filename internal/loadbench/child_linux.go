package loadbench

import "syscall"

// childAttr makes the kernel send SIGTERM to a component whose benchmark
// dies without stopping it, so no process outlives a run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
