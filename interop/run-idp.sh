#!/usr/bin/env bash
# Starts oidc-provider with this repository's configuration
# (interop/oidc-provider/provider.mjs) for the interop suite.
#
#   interop/run-idp.sh            (environment: see provider.mjs)
#   interop/run-idp.sh --install  only install, then exit
#
# Node 22 and oidc-provider, both pinned in interop/oidc-provider/package.json,
# are installed from the npm registry into interop/oidc-provider/node_modules
# on first use (about 10 s; git-ignored) and reused afterwards, the way
# conformance/official/run.sh fetches Node for the official suite. It needs
# npm on the PATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/oidc-provider"
node="$here/node_modules/.bin/node"

installed() {
	[ -x "$node" ] || return 1
	local want got
	for pkg in node oidc-provider; do
		want="$("$node" -e 'process.stdout.write(require(process.argv[1]).dependencies[process.argv[2]])' "$here/package.json" "$pkg")"
		got="$("$node" -e 'process.stdout.write(require(process.argv[1]).version)' "$here/node_modules/$pkg/package.json" 2>/dev/null)" || return 1
		[ "$want" = "$got" ] || return 1
	done
}

# Several runs may start at once: one installs, the others wait.
exec 9>"$here/.install.lock"
flock 9
if ! installed; then
	command -v npm >/dev/null || { echo "run-idp.sh: npm is needed to install Node 22 and oidc-provider" >&2; exit 2; }
	echo "run-idp.sh: installing $(tr -d '\n' <"$here/package.json" | grep -o '"dependencies": *{[^}]*}') into $here/node_modules" >&2
	npm install --prefix "$here" --no-audit --no-fund --no-package-lock --loglevel=error >&2
fi
flock -u 9
exec 9>&-

if [ "${1:-}" = "--install" ]; then
	"$node" --version
	exit 0
fi
exec "$node" "$here/provider.mjs"
