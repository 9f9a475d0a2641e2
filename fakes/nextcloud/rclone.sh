#!/usr/bin/env bash
# Drives rclone (vendor nextcloud) against the fake Nextcloud's WebDAV:
# copy of a local tree with a 30 MB file, lsf/lsl, check (by hash, no
# --download), sha1sum against coreutils' sha1sum, moveto, deletefile,
# sync and purge. Any error or difference fails the run.
#
# rclone's nextcloud vendor sends OC-Checksum on uploads and reads
# oc:checksums back (backend/webdav/webdav.go), so check and sha1sum only
# agree when the fake stores checksums. rclone 1.63 and later also upload
# files above --webdav-nextcloud-chunk-size through the uploads collection
# (backend/webdav/chunking.go); with an older rclone (Debian 12 ships
# 1.60) the 30 MB file goes up in one PUT and the script says so.
#
# It builds fake-nextcloud, starts it on 127.0.0.1:0 with the control API
# (to count the chunked uploads in the request log), runs rclone as the
# seeded user alice with her app password, and stops the server it started
# (by pid) however the run ends.
#
# Environment: GO (go binary), RCLONE (rclone binary), BIG_MB (size of the
# large file, 30).
set -euo pipefail

GO=${GO:-go}
RCLONE=${RCLONE:-rclone}
BIG_MB=${BIG_MB:-30}

if ! command -v "$RCLONE" >/dev/null 2>&1; then
  echo "rclone: the rclone binary is not installed (apt-get install rclone)" >&2
  exit 1
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=fakes/nextcloud/start-fake.sh
. "$root/fakes/nextcloud/start-fake.sh"
start=$(date +%s)
start_fake rclone --control-api

version=$("$RCLONE" version | sed -n 1p)
# alice's seeded app password (nextcloud.DefaultAppPassword, README.md).
app_password=AliceAppPassword00000000000000000000000000000000000000000000000000000000
export RCLONE_CONFIG="$work/rclone.conf"
: >"$RCLONE_CONFIG"
export RCLONE_CONFIG_NC_TYPE=webdav
export RCLONE_CONFIG_NC_URL="$url/remote.php/dav/files/alice"
export RCLONE_CONFIG_NC_VENDOR=nextcloud
export RCLONE_CONFIG_NC_USER=alice
RCLONE_CONFIG_NC_PASS=$("$RCLONE" obscure "$app_password")
export RCLONE_CONFIG_NC_PASS

flags=(--retries 1 --low-level-retries 1 --stats 0)
chunked=false
if "$RCLONE" help flags 2>/dev/null | grep -- '--webdav-nextcloud-chunk-size' >/dev/null; then
  chunked=true
  flags+=(--webdav-nextcloud-chunk-size 10M)
fi
echo "rclone: $version against $RCLONE_CONFIG_NC_URL (chunked upload: $chunked)"

rc() { "$RCLONE" "${flags[@]}" "$@"; }
fail() { echo "rclone: FAIL: $*" >&2; exit 1; }
# listed REMOTE NAME: NAME is an entry of REMOTE. The listing is captured
# first: grep -q in a pipe could close it early, and under pipefail
# rclone's SIGPIPE would turn a match into a failure.
listed() { local out; out=$(rc lsf "$1") || fail "lsf $1"; grep -Fx -- "$2" >/dev/null <<<"$out"; }

# --- the local tree ----------------------------------------------------------
src="$work/src"
mkdir -p "$src/sub/deeper" "$src/empty-sibling"
printf 'hello\n' >"$src/a.txt"
printf 'two words\n' >"$src/sub/b.txt"
printf '%s\n' "ünïcødé name" >"$src/sub/deeper/ü name.md"
head -c $((BIG_MB * 1024 * 1024 + 12345)) /dev/urandom >"$src/sub/big.bin"
rm -rf "$src/empty-sibling" # rclone does not copy empty folders

local_sums() { (cd "$1" && find . -type f | sed 's#^\./##' | LC_ALL=C sort | while IFS= read -r f; do
  printf '%s  %s\n' "$(sha1sum <"$f" | cut -d' ' -f1)" "$f"; done); }

# --- copy, listing -----------------------------------------------------------
rc copy "$src" nc:rclone-test
rc lsf -R --format sp --files-only "$src" | LC_ALL=C sort >"$work/want.lsf"
rc lsf -R --format sp --files-only nc:rclone-test | LC_ALL=C sort >"$work/got.lsf"
diff -u "$work/want.lsf" "$work/got.lsf" || fail "lsf after copy differs"
rc lsl nc:rclone-test >"$work/lsl"
grep -q "big.bin" "$work/lsl" || fail "lsl does not list big.bin"
echo "rclone: copy + lsf/lsl ok ($(wc -l <"$work/got.lsf") files)"

# --- check by hash, sha1sum --------------------------------------------------
rc check "$src" nc:rclone-test >"$work/check.out" 2>&1 || { cat "$work/check.out" >&2; fail "check"; }
if grep -qiE "no common hash|hashes could not be checked" "$work/check.out"; then
  cat "$work/check.out" >&2
  fail "check did not compare hashes"
fi
grep -q "0 differences found" "$work/check.out" || { cat "$work/check.out" >&2; fail "check found differences"; }
grep -q "matching files" "$work/check.out" || { cat "$work/check.out" >&2; fail "check matched nothing"; }
local_sums "$src" >"$work/want.sha1"
rc sha1sum nc:rclone-test | LC_ALL=C sort -k2 >"$work/got.sha1"
LC_ALL=C sort -k2 "$work/want.sha1" >"$work/want.sorted.sha1"
diff -u "$work/want.sorted.sha1" "$work/got.sha1" || fail "rclone sha1sum differs from sha1sum"
echo "rclone: check by hash + sha1sum ok"

# --- chunked upload used? ----------------------------------------------------
curl -fsS "$url/_fake/log" >"$work/log.json" || fail "reading the request log (curl)"
moves=$(grep -o '"method":"MOVE","path":"/remote.php/dav/uploads/alice/[^"]*/.file","status":20[14]' "$work/log.json" | wc -l || true)
if $chunked; then
  chunks=$(grep -o '"method":"PUT","path":"/remote.php/dav/uploads/alice/[^"]*","status":201' "$work/log.json" | wc -l || true)
  [ "$moves" -ge 1 ] || fail "rclone supports chunked upload but no MOVE of an upload's .file succeeded"
  [ "$chunks" -ge 3 ] || fail "the ${BIG_MB} MB file went up in $chunks chunks, expected at least 3 of 10M"
  echo "rclone: chunked upload ok ($moves assembled from $chunks chunks)"
else
  echo "rclone: NOTICE — $version has no nextcloud chunked upload (rclone >= 1.63); big.bin went up in one PUT"
fi

# --- moveto, deletefile -------------------------------------------------------
rc moveto nc:rclone-test/a.txt nc:rclone-test/moved/a.txt
listed nc:rclone-test/moved "a.txt" || fail "moveto: target missing"
if listed nc:rclone-test "a.txt"; then fail "moveto: source still there"; fi
[ "$(rc sha1sum nc:rclone-test/moved | cut -d' ' -f1)" = "$(sha1sum <"$src/a.txt" | cut -d' ' -f1)" ] ||
  fail "moveto lost the checksum"
rc deletefile nc:rclone-test/moved/a.txt
if listed nc:rclone-test/moved "a.txt"; then fail "deletefile: still there"; fi
echo "rclone: moveto + deletefile ok"

# --- sync ----------------------------------------------------------------------
printf 'new\n' >"$src/sub/new.txt"
rm "$src/sub/b.txt"
printf 'changed\n' >"$src/sub/deeper/ü name.md"
rc sync "$src" nc:rclone-test
rc check "$src" nc:rclone-test >"$work/check2.out" 2>&1 || { cat "$work/check2.out" >&2; fail "check after sync"; }
grep -q "0 differences found" "$work/check2.out" || { cat "$work/check2.out" >&2; fail "sync left differences"; }
rc lsf -R --format sp --files-only "$src" | LC_ALL=C sort >"$work/want2.lsf"
rc lsf -R --format sp --files-only nc:rclone-test | LC_ALL=C sort >"$work/got2.lsf"
diff -u "$work/want2.lsf" "$work/got2.lsf" || fail "lsf after sync differs"
echo "rclone: sync ok"

# --- purge -----------------------------------------------------------------------
rc purge nc:rclone-test
if listed nc: "rclone-test/"; then fail "purge: the folder is still there"; fi
echo "rclone: purge ok"

echo "rclone: all passed in $(($(date +%s) - start))s"
