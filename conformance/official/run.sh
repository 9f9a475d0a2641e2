#!/usr/bin/env bash
# Runs the official MCP conformance suite (server scenarios) against an
# MCP endpoint that needs no token (the server in basic mode).
#
#   conformance/official/run.sh <mcp-url> [extra conformance args...]
#   conformance/official/run.sh --ts-client <oauth-mcp-url>
#
# The second form runs tsclient.mjs: the TypeScript SDK's OAuth client
# (installed with the suite) against a server that requires OAuth.
#
# Node 22 and @modelcontextprotocol/conformance are installed from the npm
# registry into conformance/.npm/ on first use (about 10 s), then reused.
# CONFORMANCE_NPM_PREFIX overrides the install directory.
set -euo pipefail

VERSION=0.1.16
NODE_VERSION=22
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${CONFORMANCE_NPM_PREFIX:-$here/../.npm}"
ts_client=false
if [ "${1:-}" = "--ts-client" ]; then
	ts_client=true
	shift
fi
url="${1:?usage: run.sh <mcp-url> [conformance args...] | run.sh --ts-client <mcp-url>}"
shift

node="$prefix/node_modules/.bin/node"
suite="$prefix/node_modules/@modelcontextprotocol/conformance/dist/index.js"
pkg="$prefix/node_modules/@modelcontextprotocol/conformance/package.json"

installed_version() {
	[ -x "$node" ] && [ -f "$pkg" ] || return 1
	"$node" -e 'process.stdout.write(require(process.argv[1]).version)' "$pkg" 2>/dev/null
}

# Several runs may start at once (the suite and the TypeScript SDK probe
# grade different targets in parallel): one installs, the others wait.
mkdir -p "$prefix"
exec 9>"$prefix/.install.lock"
flock 9
if [ "$(installed_version || true)" != "$VERSION" ] || ! "$node" --version 2>/dev/null | grep -q "^v$NODE_VERSION\."; then
	command -v npm >/dev/null || { echo "run.sh: npm is needed to install Node $NODE_VERSION and the conformance suite" >&2; exit 2; }
	mkdir -p "$prefix"
	echo "run.sh: installing node@$NODE_VERSION and @modelcontextprotocol/conformance@$VERSION into $prefix" >&2
	npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
		"node@$NODE_VERSION" "@modelcontextprotocol/conformance@$VERSION" >&2
fi
flock -u 9
exec 9>&-

if $ts_client; then
	MCP_SDK_DIR="$prefix/node_modules/@modelcontextprotocol/sdk/dist/esm" exec "$node" "$here/tsclient.mjs" "$url"
fi
exec "$node" "$suite" server --url "$url" --expected-failures "$here/baseline.yml" "$@"
