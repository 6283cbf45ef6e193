#!/bin/bash
# End-to-end checks of the replay command line (conformance/replay_main.cc):
# stdin and FILE modes, the {"vector":...} header, exit statuses and messages.
set -u

replay="$TEST_SRCDIR/$TEST_WORKSPACE/conformance/replay"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_run NAME WANT_STATUS WANT_STDOUT STDERR_SUBSTRING -- ARGS... (stdin from $stdin)
expect_run() {
  local name="$1" want_status="$2" want_out="$3" want_err="$4"
  shift 5
  local out err status
  out="$("$replay" "$@" <"$stdin" 2>"$tmp/stderr")"
  status=$?
  err="$(cat "$tmp/stderr")"
  [[ "$status" == "$want_status" ]] || fail "$name: exit status $status, want $want_status (stderr: $err)"
  [[ "$out" == "$want_out" ]] || fail "$name: stdout:
$out
want:
$want_out"
  [[ "$err" == *"$want_err"* ]] || fail "$name: stderr '$err' does not contain '$want_err'"
}

printf '{"op":"readline"}\n{"op":"feed","hex":"68690a"}\n' >"$tmp/a.jsonl"
printf '{"op":"config","limit":0}\n{"op":"readline"}\n' >"$tmp/b.jsonl"
printf '{"op":"at_eof"}\n{"op":"peek"}\n' >"$tmp/bad.jsonl"
printf '{"op":"at_eof"}\n{"op":"read" "n":1}\n' >"$tmp/notjson.jsonl"
printf '' >"$tmp/empty"

stdin="$tmp/a.jsonl"
expect_run "stdin" 0 '{"i":0,"hex":"68690a"}' "" -- --backend=core
expect_run "stdin, --backend as two words" 0 '{"i":0,"hex":"68690a"}' "" -- --backend core

stdin="$tmp/empty"
expect_run "files" 0 "{\"vector\":\"$tmp/a.jsonl\"}
{\"i\":0,\"hex\":\"68690a\"}
{\"vector\":\"$tmp/b.jsonl\"}
{\"i\":0,\"error\":\"invalid_argument\"}" "" -- --backend=core "$tmp/a.jsonl" "$tmp/b.jsonl"
expect_run "empty stdin" 0 "" "" -- --backend=core

stdin="$tmp/bad.jsonl"
expect_run "unknown op on stdin" 2 "" 'replay: <stdin>: line 2 (i=1): unknown op "peek"' -- --backend=core

stdin="$tmp/empty"
expect_run "unknown op in a file prints nothing" 2 "" "$tmp/bad.jsonl: line 2 (i=1): unknown op" \
  -- --backend=core "$tmp/a.jsonl" "$tmp/bad.jsonl"
expect_run "not JSON" 2 "" "$tmp/notjson.jsonl: line 2 (i=1), column 14:" -- --backend=core "$tmp/notjson.jsonl"
expect_run "missing file" 2 "" "$tmp/missing.jsonl: cannot open" -- --backend=core "$tmp/missing.jsonl"
expect_run "unknown backend" 2 "" 'unknown backend "bogus"' -- --backend=bogus "$tmp/a.jsonl"
stdin="$tmp/a.jsonl"
expect_run "stdin, asio" 0 '{"i":0,"hex":"68690a"}' "" -- --backend=asio
stdin="$tmp/empty"
expect_run "files, asio" 0 "{\"vector\":\"$tmp/b.jsonl\"}
{\"i\":0,\"error\":\"invalid_argument\"}" "" -- --backend=asio "$tmp/b.jsonl"
stdin="$tmp/a.jsonl"
expect_run "stdin, libevent" 0 '{"i":0,"hex":"68690a"}' "" -- --backend=libevent
stdin="$tmp/empty"
expect_run "files, libevent" 0 "{\"vector\":\"$tmp/a.jsonl\"}
{\"i\":0,\"hex\":\"68690a\"}
{\"vector\":\"$tmp/b.jsonl\"}
{\"i\":0,\"error\":\"invalid_argument\"}" "" -- --backend=libevent "$tmp/a.jsonl" "$tmp/b.jsonl"
expect_run "no backend" 2 "" "--backend is required" -- "$tmp/a.jsonl"
expect_run "unknown option" 2 "" "unknown option --frobnicate" -- --backend=core --frobnicate

if ((failures > 0)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
