#!/usr/bin/env bash
# Runs a benchmark binary once, briefly: it must build, run and report every
# benchmark. Speed is not judged here (see BENCHMARKS.md for the numbers).
set -euo pipefail
bin="$1"
out=$("$bin" --benchmark_min_time=0.001 --benchmark_color=false 2>/dev/null)
count=$(printf '%s\n' "$out" | grep -c '^BM_' || true)
echo "$count benchmarks ran"
[ "$count" -gt 0 ]
