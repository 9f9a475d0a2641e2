// Package smoke holds the smoke suites: every binary of the project — the
// MCP server, the fake IdP and the fake Nextcloud — runs in its own
// container, configured as a real deployment is, and a real MCP client
// drives it over HTTP in each token mode (basic, pass-through, exchange),
// with scope enforcement, progressive consent and a scan of every
// container's log for leaked secrets.
//
// The suites are behind the build tag "smoke" so that `go test ./...`
// stays hermetic; `make smoke` builds the binaries and images and runs
// them (it needs a Docker engine). The helpers live in package
// smoke/smoketest; see smoke/README.md.
package smoke
