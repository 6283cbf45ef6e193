#!/usr/bin/env bash
# The load generator must not be fooled: against a server that drops,
# corrupts or repeats every 50th line (bad_echo_server.py), every mode must
# report "verified":false and exit 1.
#
#   load_generator_check_test.sh LOAD_GENERATOR BAD_ECHO_SERVER_PY
set -euo pipefail
gen="$1"
bad="$2"
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail=0
for fault in drop corrupt repeat; do
  : >"$work/out"
  /usr/bin/python3 "$bad" --host 127.0.0.1 --port 0 --fault "$fault" >"$work/out" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^Serving on .*:\([0-9][0-9]*\)$/\1/p' "$work/out" | head -n 1 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "bad_echo_server did not start"; cat "$work/out"; exit 1; }
  for mode in pingpong pipelined; do
    status=0
    line=$("$gen" --port "$port" --mode "$mode" --connections 2 --duration 0.3 --drain 1) || status=$?
    echo "$fault $mode: $line"
    case "$line" in
      *'"verified":false'*) [ "$status" = 1 ] || { echo "  exit status $status, want 1"; fail=1; } ;;
      *) echo "  not caught"; fail=1 ;;
    esac
  done
  kill -TERM "$server"; wait "$server" || true; server=""
done
[ "$fail" = 0 ] && echo "ok"
exit "$fail"
