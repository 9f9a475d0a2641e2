// Command gen renders conformance/REQUIREMENTS.md from the requirement
// catalogue (run by `go generate ./conformance`).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance"
)

func main() {
	out := flag.String("o", "REQUIREMENTS.md", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, conformance.RenderRequirements(conformance.Catalogue()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
