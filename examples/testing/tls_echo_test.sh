#!/bin/bash
# End-to-end checks of a backend's echo_server and echo_client over TLS
# (--cert/--key, --tls --cafile --server-hostname), with each other and with
# OpenSSL's s_client and s_server. The certificates are made here, with the
# openssl command line (make_test_pki).
#
#   tls_echo_test.sh ECHO_SERVER ECHO_CLIENT
set -u
lib="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-}/examples/testing/lib.sh"
[[ -f "$lib" ]] || lib="$(dirname "$0")/lib.sh"
source "$lib"
server_bin="$1"
client_bin="$2"

pki="$tmp/pki"
make_test_pki "$pki" || exit 1

# start_tls_server NAME: echo_server presenting $pki/NAME.pem on
# 127.0.0.1, port 0; sets $server_pid, $port.
start_tls_server() {
  start_bg "$tmp/server.out" "$tmp/server.err" "$server_bin" --host 127.0.0.1 --port 0 \
    --cert "$pki/$1.pem" --key "$pki/$1.key"
  server_pid=$bg_pid
  local line
  line="$(wait_for_line "$tmp/server.out" '^Serving on ')" || {
    fail "no 'Serving on' line: $(cat "$tmp/server.out" "$tmp/server.err")"
    return 1
  }
  port="${line##*:}"
}

# stop_server: SIGTERM, and a clean exit (status 0) expected.
stop_server() {
  kill -s TERM "$server_pid"
  wait_exit "$server_pid" || fail "the server did not stop within 10 s"
  expect_eq "server exit status" "$exit_status" 0
}

# client ARGS...: echo_client to the server, over TLS, trusting the test CA;
# its output (both streams) in $out, its status in $status.
client() {
  out="$(timeout 10 "$client_bin" --host 127.0.0.1 --port "$port" --tls --cafile "$pki/ca.pem" \
    "$@" 2>&1)"
  status=$?
}

echo_client_gets_every_message_echoed_over_tls() {
  start_tls_server localhost || return
  client hello "second line"
  expect_eq "client exit status" "$status" 0
  expect_eq "client output" "$out" "Received: hello
Received: second line"
  stop_server
  grep -q '^Received "second line" from 127.0.0.1:' "$tmp/server.out" ||
    fail "the server did not log the line: $(cat "$tmp/server.out")"
}

echo_client_checks_the_name_given_by_server_hostname() {
  start_tls_server other || return
  client --server-hostname other.example hello
  expect_eq "client exit status" "$status" 0
  expect_eq "client output" "$out" "Received: hello"
  stop_server
}

echo_client_refuses_a_certificate_for_another_name() {
  start_tls_server other || return
  client --server-hostname localhost hello
  expect_eq "client exit status" "$status" 1
  [[ "$out" == *"certificate verify failed (hostname mismatch)"* ]] ||
    fail "no OpenSSL reason on stderr: $out"
  stop_server
}

echo_client_refuses_a_certificate_signed_by_an_unknown_ca() {
  start_tls_server untrusted || return
  client hello
  expect_eq "client exit status" "$status" 1
  [[ "$out" == *"certificate verify failed (unable to get local issuer certificate)"* ]] ||
    fail "no OpenSSL reason on stderr: $out"
  # The refused handshake cost the server that connection only.
  out="$(timeout 10 "$client_bin" --host 127.0.0.1 --port "$port" --tls \
    --cafile "$pki/unknown.pem" still 2>&1)"
  expect_eq "a client that trusts the other CA" "$out" "Received: still"
  stop_server
}

openssl_s_client_gets_its_line_echoed_by_echo_server() {
  start_tls_server localhost || return
  # s_client reads its standard input from a FIFO that stays open here until
  # the echo came, then sees EOF and closes (close_notify).
  # (A background job's standard input is /dev/null unless redirected on
  # the job itself: hence no start_bg.)
  mkfifo "$tmp/s_client.in"
  exec 4<>"$tmp/s_client.in"
  : >"$tmp/s_client.out"
  openssl s_client -connect "127.0.0.1:$port" -CAfile "$pki/ca.pem" -verify_return_error \
    -verify_hostname localhost -quiet -no_ign_eof \
    <"$tmp/s_client.in" >"$tmp/s_client.out" 2>"$tmp/s_client.err" 4>&- &
  local s_client=$!
  children+=("$s_client")
  printf 'hello from openssl\n' >&4
  wait_for_line "$tmp/s_client.out" '^hello from openssl$' >/dev/null ||
    fail "no echo: $(cat "$tmp/s_client.out" "$tmp/s_client.err")"
  exec 4>&-
  rm -f "$tmp/s_client.in"
  wait_exit "$s_client" || fail "s_client did not end after its input did"
  expect_eq "s_client exit status" "$exit_status" 0
  stop_server
  grep -q '^Received "hello from openssl" from 127.0.0.1:' "$tmp/server.out" ||
    fail "the server did not log the line: $(cat "$tmp/server.out")"
}

echo_client_talks_to_openssl_s_server() {
  # -rev answers each line reversed; -naccept 1: one connection, then exit.
  start_bg "$tmp/s_server.out" "$tmp/s_server.err" openssl s_server \
    -accept 127.0.0.1:0 -cert "$pki/localhost.pem" -key "$pki/localhost.key" -rev -naccept 1
  local s_server=$bg_pid line
  line="$(wait_for_line "$tmp/s_server.out" '^ACCEPT ')" || {
    fail "s_server did not start: $(cat "$tmp/s_server.out" "$tmp/s_server.err")"
    return
  }
  port="${line##*:}"
  client --server-hostname localhost hello "TLS peer"
  expect_eq "client exit status" "$status" 0
  expect_eq "client output" "$out" "Received: olleh
Received: reep SLT"
  wait_exit "$s_server" || fail "s_server did not exit after its one connection"
  expect_eq "s_server exit status" "$exit_status" 0
}

bad_tls_command_lines_are_usage_errors() {
  timeout 10 "$server_bin" --port 0 --cert "$pki/localhost.pem" >/dev/null 2>&1
  expect_eq "echo_server --cert without --key" "$?" 2
  timeout 10 "$client_bin" --port 1 --cafile "$pki/ca.pem" hello >/dev/null 2>&1
  expect_eq "echo_client --cafile without --tls" "$?" 2
  timeout 10 "$client_bin" --port 1 --server-hostname localhost hello >/dev/null 2>&1
  expect_eq "echo_client --server-hostname without --tls" "$?" 2
}

echo_server_fails_with_openssls_reason_when_its_key_does_not_load() {
  local err
  err="$(timeout 10 "$server_bin" --port 0 --cert "$pki/localhost.pem" \
    --key "$pki/missing.key" 2>&1 >/dev/null)"
  expect_eq "exit status" "$?" 1
  [[ "$err" == *"$pki/missing.key"*"cannot load the private key: error:"* ]] ||
    fail "no file name or reason: $err"
}

run_check echo_client_gets_every_message_echoed_over_tls
run_check echo_client_checks_the_name_given_by_server_hostname
run_check echo_client_refuses_a_certificate_for_another_name
run_check echo_client_refuses_a_certificate_signed_by_an_unknown_ca
run_check openssl_s_client_gets_its_line_echoed_by_echo_server
run_check echo_client_talks_to_openssl_s_server
run_check bad_tls_command_lines_are_usage_errors
run_check echo_server_fails_with_openssls_reason_when_its_key_does_not_load
finish
