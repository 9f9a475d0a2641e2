# Sourced by litmus.sh and rclone.sh (bash): builds fake-nextcloud, starts
# it on 127.0.0.1:0 and waits for its ready line. After
#   start_fake <name> [fake-nextcloud flags...]
# $work is a temporary directory, $pid the server's pid and $url its base
# URL; an EXIT/INT/TERM trap stops that server (by pid, the one process
# this started) and removes $work however the caller's run ends. <name>
# prefixes the messages. Needs $GO and $root (the repository).

start_fake() {
  local name=$1
  shift
  work=$(mktemp -d)
  pid=""
  trap _stop_fake EXIT INT TERM
  (cd "$root" && CGO_ENABLED=0 "$GO" build -o "$work/fake-nextcloud" ./fakes/cmd/fake-nextcloud)
  "$work/fake-nextcloud" --listen 127.0.0.1:0 --log-level warn "$@" >"$work/ready" 2>"$work/server.log" &
  pid=$!
  url=""
  for _ in $(seq 1 100); do
    if [ -s "$work/ready" ]; then
      url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$work/ready" | head -n 1)
      [ -n "$url" ] && return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name: fake-nextcloud exited early:" >&2
      cat "$work/server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$name: fake-nextcloud printed no ready line" >&2
  exit 1
}

_stop_fake() {
  if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  [ -n "${work:-}" ] && rm -rf "$work"
}
