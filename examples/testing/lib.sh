# Shell helpers for the examples' end-to-end tests (sourced; bash). Every wait
# is bounded, so a test never hangs; everything started is stopped on exit.
#
#   source examples/testing/lib.sh
#   check_something() { ...; expect_eq "what" "$got" "$want"; }
#   run_check check_something
#   finish                      # exit 1 if any check failed, else 0

tmp="${TEST_TMPDIR:-$(mktemp -d)}"
checks=0
failed=0
current=""
children=()

fail() {
  echo "FAIL [$current]: $*" >&2
  failed_now=1
}

expect_eq() {  # expect_eq WHAT GOT WANT
  [[ "$2" == "$3" ]] || fail "$1:
  got:  $(printf '%q' "$2")
  want: $(printf '%q' "$3")"
}

# run_check NAME: runs the function NAME as one check and reports it.
run_check() {
  current="$1"
  failed_now=0
  checks=$((checks + 1))
  "$1"
  if ((failed_now)); then
    failed=$((failed + 1))
    echo "FAILED  $1"
  else
    echo "ok      $1"
  fi
}

finish() {
  echo "$((checks - failed)) of $checks checks passed"
  ((failed == 0))
}

# start_bg OUT ERR CMD...: runs CMD in the background (stdout to OUT, stderr
# to ERR); its pid is in $bg_pid. Stopped on exit if still running.
start_bg() {
  local out="$1" err="$2"
  shift 2
  : >"$out"  # emptied now: the child truncates it only once it runs
  : >"$err"
  "$@" >"$out" 2>"$err" &
  bg_pid=$!
  children+=("$bg_pid")
}

# wait_for_line FILE REGEX [SECONDS]: waits until a line of FILE matches
# REGEX (extended) and prints that line; fails (status 1) after SECONDS (10).
wait_for_line() {
  local file="$1" regex="$2" limit=$((${3:-10} * 20)) k line
  for ((k = 0; k < limit; k++)); do
    line="$(grep -m1 -E "$regex" "$file" 2>/dev/null)" && { echo "$line"; return 0; }
    sleep 0.05
  done
  return 1
}

# wait_exit PID [SECONDS]: waits for the background child PID to end and sets
# $exit_status; after SECONDS (10) it kills it (-9) and sets exit_status=timeout.
wait_exit() {
  local pid="$1" limit=$((${2:-10} * 20)) k
  for ((k = 0; k < limit; k++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      exit_status=$?
      return 0
    fi
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  exit_status=timeout
  return 1
}

stop_children() {
  local pid
  for pid in "${children[@]}"; do kill -9 "$pid" 2>/dev/null; done
}
trap stop_children EXIT
