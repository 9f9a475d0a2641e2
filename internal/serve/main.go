package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// ErrUsage marks bad flags or configuration: the command already printed
// what was wrong, and exits with status 2.
var ErrUsage = errors.New("usage")

// ExitCode maps a command's result to its exit status: 0 for success and
// for -h, 2 for ErrUsage, 1 otherwise.
func ExitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	default:
		return 1
	}
}

// Main runs a command until SIGTERM or SIGINT cancels its context, prints
// a failure as "<name>: <error>" and exits with ExitCode.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	code := ExitCode(err)
	if code == 1 {
		fmt.Fprintln(os.Stderr, name+":", err)
	}
	os.Exit(code)
}
