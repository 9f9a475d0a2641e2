#!/usr/bin/env bash
# Runs the litmus WebDAV compliance suite (Debian package "litmus") against
# the fake Nextcloud's WebDAV, the way Nextcloud's own CI runs it against a
# real server (apps/dav/tests/travis/litmus-v2/script.sh), with the groups
# this project requires: basic, copymove and props.
#
# It builds fake-nextcloud, starts it on 127.0.0.1:0, reads the ready line
# for the URL, runs litmus as the seeded user alice, and stops the server it
# started (by pid) however the run ends. Exit status: litmus's.
#
# Environment: GO (go binary), LITMUS (litmus binary), TESTS (litmus groups).
set -euo pipefail

GO=${GO:-go}
LITMUS=${LITMUS:-litmus}
TESTS=${TESTS:-"basic copymove props"}
export TESTS

if ! command -v "$LITMUS" >/dev/null 2>&1; then
  echo "litmus: the litmus binary is not installed (apt-get install litmus)" >&2
  exit 1
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=fakes/nextcloud/start-fake.sh
. "$root/fakes/nextcloud/start-fake.sh"
start_fake litmus

target="$url/remote.php/dav/files/alice/"
echo "litmus: TESTS=\"$TESTS\" against $target"
status=0
(cd "$work" && "$LITMUS" "$target" alice alice-password) | tee "$work/litmus.out" || status=$?
if grep -q "FAIL" "$work/litmus.out"; then
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "litmus: failed; the last requests (debug.log):" >&2
  tail -n 60 "$work/debug.log" >&2 || true
fi
exit "$status"
