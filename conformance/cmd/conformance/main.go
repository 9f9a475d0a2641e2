// Command conformance grades nextcloud-mcp-go against its requirement
// catalogue (conformance/REQUIREMENTS.md) and prints a table; it writes
// conformance-report.json and conformance-report.md and exits 1 on any
// MUST or INVARIANT failure.
//
// Without CONFORMANCE_* environment variables it starts the in-repo stack
// in-process once per mode; with them it grades that external deployment
// (see conformance/README.md).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/stack"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", ".", "directory for conformance-report.json and conformance-report.md")
	official := fs.Bool("official", false, "also run the official MCP conformance suite (installs Node 22 from npm on first use)")
	script := fs.String("official-script", "conformance/official/run.sh", "path of the official suite's runner script")
	targets := fs.String("targets", "", "comma-separated in-process targets to grade (default: all of exchange, exchange+consent, exchange+hashed-uid, passthrough, basic)")
	runRE := fs.String("run", "", "only requirements whose ID matches this regular expression")
	parallel := fs.Int("parallel", 3, "targets graded at once")
	timeout := fs.Duration("timeout", 170*time.Second, "overall time limit")
	list := fs.Bool("list", false, "list the requirements and the environment variables, then exit")
	login := fs.String("idp-login", "", "obtain CONFORMANCE_IDP_SUBJECT_TOKEN, _REFRESH_TOKEN and _OPAQUE_TOKEN through a code flow with PKCE at CONFORMANCE_IDP_ISSUER (you sign in in a browser) and write them to this file (mode 0600), then exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		say(stderr, "conformance: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *login != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := idpLogin(ctx, *login, getenv, stderr, nil); err != nil {
			say(stderr, "conformance: -idp-login: %v\n", err)
			return 1
		}
		return 0
	}
	reqs := conformance.Catalogue()
	if *list {
		var b bytes.Buffer
		for _, r := range reqs {
			fmt.Fprintf(&b, "%-16s %-9s %s\n", r.ID, r.Level, r.Statement)
		}
		b.WriteString("\nEnvironment for an external deployment:\n")
		for _, e := range conformance.EnvVars {
			fmt.Fprintf(&b, "  %-36s %s\n", e.Name, e.Meaning)
		}
		if _, err := stdout.Write(b.Bytes()); err != nil {
			say(stderr, "conformance: -list: %v\n", err)
			return 2
		}
		return 0
	}
	var filter func(conformance.Requirement) bool
	if *runRE != "" {
		re, err := regexp.Compile(*runRE)
		if err != nil {
			say(stderr, "conformance: -run: %v\n", err)
			return 2
		}
		filter = func(r conformance.Requirement) bool { return re.MatchString(r.ID) }
	}
	officialScript := ""
	if *official {
		abs, err := filepath.Abs(*script)
		if err != nil {
			say(stderr, "conformance: %v\n", err)
			return 2
		}
		if _, err := os.Stat(abs); err != nil {
			say(stderr, "conformance: -official-script: %v\n", err)
			return 2
		}
		officialScript = abs
	}

	var specs []conformance.TargetSpec
	if conformance.ExternalRequested(getenv) {
		if *targets != "" {
			say(stderr, "conformance: -targets selects in-process stacks; unset the CONFORMANCE_* URLs to use it\n")
			return 2
		}
		spec, err := conformance.ExternalSpec(getenv, officialScript)
		if err != nil {
			say(stderr, "conformance: %v\n", err)
			return 2
		}
		specs = append(specs, spec)
	} else {
		all := stack.DefaultOptions(officialScript)
		var names []string
		for _, o := range all {
			names = append(names, o.Name)
		}
		want := names
		if *targets != "" {
			want = strings.Split(*targets, ",")
		}
		for _, w := range want {
			i := slices.IndexFunc(all, func(o stack.Options) bool { return o.Name == strings.TrimSpace(w) })
			if i < 0 {
				say(stderr, "conformance: unknown target %q (have %s)\n", w, strings.Join(names, ", "))
				return 2
			}
			specs = append(specs, inProcess(all[i]))
		}
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, *timeout)
	defer cancelT()
	rep := conformance.Run(ctx, specs, reqs, conformance.Options{Parallel: *parallel, Filter: filter})
	if err := rep.WriteTable(stdout); err != nil {
		say(stderr, "conformance: %v\n", err)
		return 2
	}
	paths, err := rep.WriteFiles(*out)
	if err != nil {
		say(stderr, "conformance: writing reports: %v\n", err)
		return 2
	}
	if _, err := fmt.Fprintf(stdout, "reports: %s\n", strings.Join(paths, ", ")); err != nil {
		say(stderr, "conformance: %v\n", err)
		return 2
	}
	if len(rep.Blocking) > 0 {
		return 1
	}
	return 0
}

// say writes a diagnostic for the person at the terminal. A failed write
// is dropped on purpose: the exit status still says what happened, and
// there is nowhere left to report the write failure to.
func say(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

func inProcess(o stack.Options) conformance.TargetSpec {
	spec := conformance.TargetSpec{
		Name:        o.Name,
		Description: o.Description,
		Start: func(ctx context.Context) (*grade.Target, func() error, error) {
			return stack.Start(ctx, o)
		},
	}
	if len(o.Only) > 0 {
		spec.Filter = func(r conformance.Requirement) bool { return slices.Contains(o.Only, r.ID) }
	}
	return spec
}
