// Command bench-load is `make bench-load` (see package loadbench): it
// starts the fake IdP, the fake Nextcloud and nextcloud-mcp from their
// binaries (-bin, default bin/), each in its own process, plus a bare
// go-sdk server (this command, re-run as `bench-load bare`), drives them
// with go-sdk's MCP client and prints a Markdown report.
//
//	bench-load [-bin DIR] [-duration 5s] [-sessions 1,8] [-idle 1,100,1000] [-rounds N] [-o FILE] [-perf DIR]
//	bench-load bare [--listen ADDR]   the bare go-sdk echo server (a ready line on stdout)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/loadbench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command and returns its exit status: 0 success, 1
// failure, 2 usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "bare" {
		fs := flag.NewFlagSet("bench-load bare", flag.ContinueOnError)
		fs.SetOutput(stderr)
		listen := fs.String("listen", "127.0.0.1:0", "listen address")
		if err := fs.Parse(args[1:]); err != nil {
			return usageStatus(err)
		}
		if err := loadbench.ServeBare(ctx, *listen, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "bench-load bare:", err)
			return 1
		}
		return 0
	}
	o, err := loadbench.ParseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "bench-load:", err)
		}
		return usageStatus(err)
	}
	res, err := loadbench.Run(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench-load:", err)
		return 1
	}
	if err := loadbench.WriteReport(stdout, res); err != nil {
		fmt.Fprintln(stderr, "bench-load:", err)
		return 1
	}
	if o.Out != "" {
		f, err := os.Create(o.Out)
		if err == nil {
			err = errors.Join(loadbench.WriteReport(f, res), f.Close())
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench-load:", err)
			return 1
		}
	}
	return 0
}

func usageStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
