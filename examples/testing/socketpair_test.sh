#!/bin/bash
# End-to-end check of a backend's socketpair example.
#
#   socketpair_test.sh SOCKETPAIR
set -u
lib="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-}/examples/testing/lib.sh"
[[ -f "$lib" ]] || lib="$(dirname "$0")/lib.sh"
source "$lib"
socketpair_bin="$1"

socketpair_reads_what_the_other_end_wrote() {
  local out
  out="$(timeout 10 "$socketpair_bin" 2>&1)"
  expect_eq "exit status" "$?" 0
  expect_eq "output" "$out" "Received: abc"
}

run_check socketpair_reads_what_the_other_end_wrote
finish
