// Package envflag gives command-line flags environment-variable
// equivalents: a flag not set on the command line takes its value from its
// environment variable, so containers can be configured by env alone while
// flags still win when both are given.
package envflag

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Apply sets every flag of fs that was not given on the command line from
// the environment variable named by envNames[flag name], when that variable
// is set. Call it after fs.Parse. An unparsable value is an error naming
// the variable (never its value, which may be a secret).
func Apply(fs *flag.FlagSet, envNames map[string]string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		env, ok := envNames[f.Name]
		if !ok || set[f.Name] {
			return
		}
		v, ok := os.LookupEnv(env)
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Sprintf("environment variable %s (for --%s) is invalid", env, f.Name))
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("envflag: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Usage returns a help suffix such as " (env FOO)" for the flag name, or ""
// when the flag has no environment equivalent.
func Usage(envNames map[string]string, name string) string {
	if env, ok := envNames[name]; ok {
		return " (env " + env + ")"
	}
	return ""
}
