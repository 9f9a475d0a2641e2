// Command gen rewrites the generated tool tables of README.md from the
// registry (run by `go generate ./server/toolsdoc`).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/toolsdoc"
)

func main() {
	path := flag.String("readme", "README.md", "the README to rewrite")
	flag.Parse()
	doc, err := os.ReadFile(*path)
	if err == nil {
		var out string
		out, err = toolsdoc.Splice(string(doc), toolsdoc.Render(server.Catalogue()))
		if err == nil {
			err = os.WriteFile(*path, []byte(out), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
