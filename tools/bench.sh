#!/usr/bin/env bash
# Run every benchmark under bench/. They print figures against a reference measured in the same
# run; none of them asserts a time. BENCH_ARGS is passed to each (for example --quick).
set -euo pipefail
status=0
for bench in bench/*/bench.py; do
  [ -e "$bench" ] || continue
  echo "== $bench"
  # shellcheck disable=SC2086
  python3 "$bench" ${BENCH_ARGS:-} || status=1
done
exit $status
