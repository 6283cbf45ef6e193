#!/usr/bin/env bash
# report.py turns the committed raw results of the last ./dev bench
# (bench/results/) into a BENCHMARKS.md with the targets table and every
# section, without running a benchmark (CI only checks the generator).
#
#   report_test.sh REPORT_PY READER_JSON WRITER_JSON ECHO_JSONL
set -euo pipefail
out="${TEST_TMPDIR:-$(mktemp -d)}"
echo "./dev bench" >"$out/commands.txt"
/usr/bin/python3 "$1" --reader "$2" --writer "$3" --net "$4" --commands "$out/commands.txt" \
  --out "$out/BENCHMARKS.md" --chart "$out/echo.png"
fail=0
for section in "## Machine" "## Commands" "## Targets (issue 8)" "### Reader throughput" "### Linearity" \
  "### Writer" "### Servers" "### Ping-pong, 64 connections, 64 B lines" "### Pipelined, 64 connections, 64 B lines" \
  "### Memory per connection" "### Scale: ping-pong, 2,000 connections, 64 B lines"; do
  grep -qF -- "$section" "$out/BENCHMARKS.md" || { echo "missing: $section"; fail=1; }
done
targets=$(grep -cE '\*\*(met|not met)\*\*' "$out/BENCHMARKS.md" || true)
echo "$targets targets judged"
[ "$targets" -ge 10 ] || fail=1
[ "$fail" = 0 ] && echo ok
exit "$fail"
