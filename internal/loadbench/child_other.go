//go:build !linux

package loadbench

import "syscall"

// childAttr: the benchmark needs Linux (/proc) to measure; elsewhere it
// still builds.
func childAttr() *syscall.SysProcAttr { return nil }
