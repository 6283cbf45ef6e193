#!/usr/bin/env bash
# Smoke test of an echo server and the load generator: the server starts on a
# free loopback port, then the generator runs briefly with 2 connections in
# each mode (ping-pong and pipelined, 64 B and 4 KiB lines) and with 3 idle
# connections and one echo each; every echoed byte is checked by the
# generator. Speed is not judged (see BENCHMARKS.md for the numbers).
#
#   echo_smoke_test.sh LOAD_GENERATOR SERVER [SERVER ARGS...]
set -euo pipefail
gen="$1"
shift
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

: >"$work/out"
"$@" --host 127.0.0.1 --port 0 >"$work/out" 2>"$work/err" &
server=$!
port=""
for _ in $(seq 100); do  # up to 10 s
  port=$(sed -n 's/^Serving on .*:\([0-9][0-9]*\)$/\1/p' "$work/out" | head -n 1 || true)
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "the server did not start:"; cat "$work/out" "$work/err"; exit 1
fi

fail=0
for mode in pingpong pipelined; do
  for size in 64 4096; do
    line=$("$gen" --port "$port" --mode "$mode" --size "$size" --connections 2 --duration 0.3) || fail=1
    echo "$line"
    case "$line" in *'"verified":true'*) ;; *) fail=1 ;; esac
  done
done
idle=$(printf 'echo-seq\necho\n' | "$gen" --port "$port" --mode idle --connections 3) || fail=1
echo "$idle"
case "$idle" in *'"phase":"echoed"'*) ;; *) fail=1 ;; esac

# The server stops cleanly on SIGTERM.
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=""
if [ "$status" != 0 ]; then echo "the server exited with status $status on SIGTERM"; cat "$work/err"; fail=1; fi
[ "$fail" = 0 ] && echo "ok"
exit "$fail"
