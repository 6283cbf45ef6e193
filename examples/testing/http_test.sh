#!/bin/bash
# End-to-end checks of a backend's http_headers and wget (the command lines
# of issue 4) against Python's http.server on loopback, started here on a
# free port; and https:// against the same server over TLS
# (https_server.py, with a certificate made here by make_test_pki, trusted
# through --cafile).
#
#   http_test.sh HTTP_HEADERS WGET HTTPS_SERVER_PY
set -u
lib="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-}/examples/testing/lib.sh"
[[ -f "$lib" ]] || lib="$(dirname "$0")/lib.sh"
source "$lib"
headers_bin="$1"
wget_bin="$2"
https_server="$3"

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

pki="$tmp/pki"
make_test_pki "$pki" || exit 1
start_bg "$tmp/https.out" "$tmp/https.err" python3 -u "$https_server" \
  "$pki/localhost.pem" "$pki/localhost.key" "$www"
line="$(wait_for_line "$tmp/https.out" '^port [0-9]+$')" || {
  echo "https_server.py did not start: $(cat "$tmp/https.out" "$tmp/https.err")" >&2
  exit 1
}
https_port="${line#port }"

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

http_headers_prints_the_headers_of_an_https_url() {
  local out
  out="$(timeout 10 "$headers_bin" --cafile "$pki/ca.pem" \
    "https://localhost:$https_port/hello.txt" 2>&1)"
  expect_eq "exit status" "$?" 0
  expect_eq "first line" "$(head -n1 <<<"$out")" "HTTP header> HTTP/1.0 200 OK"
  grep -qx "HTTP header> Content-Length: 6" <<<"$out" || fail "no Content-Length line: $out"
}

wget_writes_an_https_body_byte_for_byte() {
  timeout 20 "$wget_bin" --cafile "$pki/ca.pem" "https://127.0.0.1:$https_port/bytes.bin" \
    >"$tmp/got_tls.bin" 2>"$tmp/wget_tls.err"
  expect_eq "exit status" "$?" 0
  cmp -s "$tmp/got_tls.bin" "$www/bytes.bin" ||
    fail "the body differs: $(cmp "$tmp/got_tls.bin" "$www/bytes.bin" 2>&1)" \
      "$(cat "$tmp/wget_tls.err")"
}

# Without --cafile the system store is the trust: the test CA is not in it.
wget_refuses_an_https_server_the_system_store_does_not_trust() {
  local err
  err="$(timeout 10 "$wget_bin" "https://127.0.0.1:$https_port/hello.txt" \
    2>&1 >"$tmp/untrusted.out")"
  expect_eq "exit status" "$?" 1
  expect_eq "bytes written" "$(wc -c <"$tmp/untrusted.out")" 0
  [[ "$err" == *"certificate verify failed"* ]] || fail "no OpenSSL reason on stderr: $err"
}

http_headers_refuses_an_https_server_whose_certificate_names_another_host() {
  start_bg "$tmp/other.out" "$tmp/other.err" python3 -u "$https_server" \
    "$pki/other.pem" "$pki/other.key" "$www"
  local line err
  line="$(wait_for_line "$tmp/other.out" '^port [0-9]+$')" || {
    fail "https_server.py did not start: $(cat "$tmp/other.out" "$tmp/other.err")"
    return
  }
  # Its certificate names other.example only.
  err="$(timeout 10 "$headers_bin" --cafile "$pki/ca.pem" \
    "https://localhost:${line#port }/hello.txt" 2>&1 >/dev/null)"
  expect_eq "exit status" "$?" 1
  [[ "$err" == *"certificate verify failed (hostname mismatch)"* ]] ||
    fail "no OpenSSL reason on stderr: $err"
}

cafile_with_an_http_url_is_a_usage_error() {
  timeout 10 "$headers_bin" --cafile "$pki/ca.pem" "$base/hello.txt" >/dev/null 2>&1
  expect_eq "http_headers exit status" "$?" 2
  timeout 10 "$wget_bin" --cafile "$pki/ca.pem" "$base/hello.txt" >/dev/null 2>&1
  expect_eq "wget exit status" "$?" 2
}

a_cafile_that_does_not_load_fails_with_its_name() {
  local err
  err="$(timeout 10 "$wget_bin" --cafile "$tmp/missing.pem" \
    "https://127.0.0.1:$https_port/hello.txt" 2>&1 >/dev/null)"
  expect_eq "exit status" "$?" 1
  [[ "$err" == *"--cafile $tmp/missing.pem: "*"error:"* ]] || fail "no file name or reason: $err"
}

run_check http_headers_prints_each_header_line_of_the_response
run_check wget_writes_the_body_byte_for_byte
run_check wget_of_a_missing_file_fails_and_writes_nothing
run_check http_headers_prints_the_headers_of_an_https_url
run_check wget_writes_an_https_body_byte_for_byte
run_check wget_refuses_an_https_server_the_system_store_does_not_trust
run_check http_headers_refuses_an_https_server_whose_certificate_names_another_host
run_check cafile_with_an_http_url_is_a_usage_error
run_check a_cafile_that_does_not_load_fails_with_its_name
finish
