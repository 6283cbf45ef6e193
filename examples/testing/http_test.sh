#!/bin/bash
# End-to-end checks of a backend's http_headers and wget (the command lines
# of issue 4) against Python's http.server on loopback, started here on a
# free port.
#
#   http_test.sh HTTP_HEADERS WGET
set -u
lib="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-}/examples/testing/lib.sh"
[[ -f "$lib" ]] || lib="$(dirname "$0")/lib.sh"
source "$lib"
headers_bin="$1"
wget_bin="$2"

# The served files: every byte value, 4099 times over (about 1 MiB), and a
# small text file.
www="$tmp/www"
mkdir -p "$www"
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4099)' >"$www/bytes.bin"
printf 'hello\n' >"$www/hello.txt"

start_bg "$tmp/http.out" "$tmp/http.err" python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$www"
line="$(wait_for_line "$tmp/http.out" ' port [0-9]+ ')" || {
  echo "http.server did not start: $(cat "$tmp/http.out" "$tmp/http.err")" >&2
  exit 1
}
port="$(sed -E 's/.* port ([0-9]+) .*/\1/' <<<"$line")"
base="http://127.0.0.1:$port"

http_headers_prints_each_header_line_of_the_response() {
  local out
  out="$(timeout 10 "$headers_bin" "$base/hello.txt" 2>&1)"
  expect_eq "exit status" "$?" 0
  expect_eq "first line" "$(head -n1 <<<"$out")" "HTTP header> HTTP/1.0 200 OK"
  grep -qx "HTTP header> Content-Length: 6" <<<"$out" || fail "no Content-Length line: $out"
  expect_eq "lines not prefixed" "$(grep -cv '^HTTP header> .' <<<"$out")" 0
}

wget_writes_the_body_byte_for_byte() {
  timeout 20 "$wget_bin" "$base/bytes.bin" >"$tmp/got.bin" 2>"$tmp/wget.err"
  expect_eq "exit status" "$?" 0
  cmp -s "$tmp/got.bin" "$www/bytes.bin" ||
    fail "the body differs: $(cmp "$tmp/got.bin" "$www/bytes.bin" 2>&1) $(cat "$tmp/wget.err")"
}

wget_of_a_missing_file_fails_and_writes_nothing() {
  local err
  err="$(timeout 10 "$wget_bin" "$base/missing" 2>&1 >"$tmp/missing.out")"
  expect_eq "exit status" "$?" 1
  expect_eq "bytes written" "$(wc -c <"$tmp/missing.out")" 0
  [[ "$err" == *404* ]] || fail "no status on stderr: $err"
}

https_is_refused_until_tls_lands() {
  timeout 10 "$headers_bin" "https://127.0.0.1:$port/" >/dev/null 2>&1
  expect_eq "http_headers exit status" "$?" 2
  timeout 10 "$wget_bin" "https://127.0.0.1:$port/" >/dev/null 2>&1
  expect_eq "wget exit status" "$?" 2
}

run_check http_headers_prints_each_header_line_of_the_response
run_check wget_writes_the_body_byte_for_byte
run_check wget_of_a_missing_file_fails_and_writes_nothing
run_check https_is_refused_until_tls_lands
finish
