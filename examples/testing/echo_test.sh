#!/bin/bash
# End-to-end checks of a backend's echo_server and echo_client (the command
# lines of issue 4), over loopback TCP.
#
#   echo_test.sh ECHO_SERVER ECHO_CLIENT
set -u
lib="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-}/examples/testing/lib.sh"
[[ -f "$lib" ]] || lib="$(dirname "$0")/lib.sh"
source "$lib"
server_bin="$1"
client_bin="$2"

# start_server: echo_server on 127.0.0.1, port 0; sets $server_pid, $port.
start_server() {
  start_bg "$tmp/server.out" "$tmp/server.err" "$server_bin" --host 127.0.0.1 --port 0
  server_pid=$bg_pid
  local line
  line="$(wait_for_line "$tmp/server.out" '^Serving on ')" || {
    fail "no 'Serving on' line: $(cat "$tmp/server.out" "$tmp/server.err")"
    return 1
  }
  port="${line##*:}"
  [[ "$line" == "Serving on 127.0.0.1:$port" && "$port" =~ ^[0-9]+$ && "$port" != 0 ]] ||
    fail "bad 'Serving on' line: $line"
}

# stop_server SIGNAL: sends SIGNAL, expects a clean exit (status 0).
stop_server() {
  kill -s "$1" "$server_pid"
  wait_exit "$server_pid" || fail "the server did not stop within 10 s after SIG$1"
  expect_eq "server exit status after SIG$1" "$exit_status" 0
}

client_receives_every_message_echoed() {
  start_server || return
  local out
  out="$(timeout 10 "$client_bin" --host 127.0.0.1 --port "$port" hello "second line" 'x y z' 2>&1)"
  expect_eq "client exit status" "$?" 0
  expect_eq "client output" "$out" "Received: hello
Received: second line
Received: x y z"
  stop_server TERM
  grep -q '^Received "second line" from 127.0.0.1:' "$tmp/server.out" ||
    fail "the server did not log the line: $(cat "$tmp/server.out")"
}

server_serves_clients_one_after_another() {
  start_server || return
  local a b
  a="$(timeout 10 "$client_bin" --host 127.0.0.1 --port "$port" one 2>&1)"
  b="$(timeout 10 "$client_bin" --host 127.0.0.1 --port "$port" two 2>&1)"
  expect_eq "first client" "$a" "Received: one"
  expect_eq "second client" "$b" "Received: two"
  stop_server TERM
}

# A client still connected when the server stops sees a clean EOF, not a reset.
sigterm_closes_the_server_and_its_clients_cleanly() {
  start_server || return
  exec 3<>"/dev/tcp/127.0.0.1/$port" || { fail "cannot connect"; return; }
  printf 'ping\n' >&3
  local echoed rest
  read -r -t 10 echoed <&3
  expect_eq "echo before the stop" "$echoed" "ping"
  stop_server TERM
  rest="$(timeout 10 cat <&3 2>&1)"
  expect_eq "what the client reads after the stop (EOF, no error)" "$?:$rest" "0:"
  exec 3<&-
}

sigint_stops_the_server_cleanly() {
  start_server || return
  stop_server INT
}

client_fails_when_the_connection_is_refused() {
  start_server || return
  stop_server TERM  # its port is now closed
  local err
  err="$(timeout 10 "$client_bin" --host 127.0.0.1 --port "$port" hello 2>&1 >/dev/null)"
  expect_eq "client exit status" "$?" 1
  [[ "$err" == *"refused"* ]] || fail "no reason on stderr: $err"
}

run_check client_receives_every_message_echoed
run_check server_serves_clients_one_after_another
run_check sigterm_closes_the_server_and_its_clients_cleanly
run_check sigint_stops_the_server_cleanly
run_check client_fails_when_the_connection_is_refused
finish
