// Command nextcloud-mcp is the Nextcloud MCP server.
//
//	nextcloud-mcp serve   run the server (flags or upstream-compatible env vars)
//	nextcloud-mcp dev     fake IdP + fake Nextcloud + server in one process
//	nextcloud-mcp keygen  print a new TOKEN_ENCRYPTION_KEY
//	nextcloud-mcp version print the version
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the exit code: 0 success, 1
// failure, 2 usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:], stdout, stderr)
	case "dev":
		err = devCmd(ctx, args[1:], stdout, stderr)
	case "keygen":
		err = keygenCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "nextcloud-mcp", version())
		return 0
	case "help", "-h", "--help", "-help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "nextcloud-mcp: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "nextcloud-mcp %s: %v\n", args[0], err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "nextcloud-mcp %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// usageError marks bad flags or configuration (exit code 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: nextcloud-mcp <command> [flags]

Commands:
  serve    run the MCP server (streamable HTTP at /mcp, or --transport stdio)
  dev      run a fake IdP, a fake Nextcloud and the server in one process
  keygen   print a new TOKEN_ENCRYPTION_KEY
  version  print the version

Run "nextcloud-mcp <command> -h" for a command's flags and their environment variables.
`)
}
