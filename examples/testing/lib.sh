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

# make_test_pki DIR: a throwaway PKI for the TLS checks, made with the openssl
# command line (nothing is checked in), EC P-256 keys, valid for 2 days:
#   ca.pem                 the test CA (the --cafile of the clients)
#   localhost.{pem,key}    signed by it: SAN DNS:localhost, IP:127.0.0.1
#   other.{pem,key}        signed by it: SAN DNS:other.example only
#   untrusted.{pem,key}    localhost's names, signed by another CA (unknown.pem)
# Returns 1 (and says why) if openssl fails.
make_test_pki() {
  local dir="$1"
  mkdir -p "$dir"
  _pki_ca "$dir" ca "sluice test CA" &&
    _pki_ca "$dir" unknown "sluice unknown CA" &&
    _pki_leaf "$dir" localhost localhost "DNS:localhost,IP:127.0.0.1" ca &&
    _pki_leaf "$dir" other other.example "DNS:other.example" ca &&
    _pki_leaf "$dir" untrusted localhost "DNS:localhost,IP:127.0.0.1" unknown
}

_pki_ca() {  # DIR NAME SUBJECT_CN
  timeout 20 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$3" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$1/$2.key" -out "$1/$2.pem" 2>"$1/openssl.err" ||
    { echo "openssl cannot make the CA $2: $(cat "$1/openssl.err")" >&2; return 1; }
}

_pki_leaf() {  # DIR NAME SUBJECT_CN SUBJECT_ALT_NAMES ISSUER
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$4" \
    >"$1/$2.ext"
  timeout 20 openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$3" -keyout "$1/$2.key" -out "$1/$2.csr" 2>"$1/openssl.err" &&
    timeout 20 openssl x509 -req -in "$1/$2.csr" -CA "$1/$5.pem" -CAkey "$1/$5.key" \
      -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 2 \
      -extfile "$1/$2.ext" -out "$1/$2.pem" 2>"$1/openssl.err" ||
    { echo "openssl cannot make the certificate $2: $(cat "$1/openssl.err")" >&2; return 1; }
}
