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
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

(cd "$root" && CGO_ENABLED=0 "$GO" build -o "$work/fake-nextcloud" ./fakes/cmd/fake-nextcloud)

"$work/fake-nextcloud" --listen 127.0.0.1:0 --log-level warn >"$work/ready" 2>"$work/server.log" &
pid=$!

url=""
for _ in $(seq 1 100); do
  if [ -s "$work/ready" ]; then
    url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$work/ready" | head -n 1)
    [ -n "$url" ] && break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "litmus: fake-nextcloud exited early:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "litmus: fake-nextcloud printed no ready line" >&2
  exit 1
fi

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
