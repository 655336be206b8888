#!/usr/bin/env bash
# Fuzzes the readers one target after another, each for SECONDS, at the lowest CPU priority (so
# builds beside it are not slowed), and prints one line per target: seconds, executions, crashes.
# Crashing inputs stay in fuzz/artifacts/<target>/; copy each into
# tests/fixtures/fuzz-regressions/<target>/ once fixed, where CI replays them.
# Usage: fuzz/run.sh SECONDS [TARGET...]   (needs nightly and `cargo install cargo-fuzz`)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(html pdf office epub rtf plain)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/precis/target-fuzz}"
[ -d corpus/html ] || python3 seed.py >/dev/null
for t in "${targets[@]}"; do
  log="$(mktemp)"
  # Inputs past 64 KB only slow the search; the size limits have their own tests.
  nice -n 19 cargo +nightly fuzz run -s none "$t" -- -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -print_final_stats=1 >"$log" 2>&1 || true
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | paste -sd+ | bc 2>/dev/null || true)
  [ -n "$execs" ] || execs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#')
  crashes=$(grep -cE '^==[0-9]+== ERROR|deadly signal|panicked at' "$log" || true)
  printf '%s\t%s s\t%s execs\t%s crash reports\t(log %s)\n' "$t" "$seconds" "${execs:-?}" "$crashes" "$log"
done
