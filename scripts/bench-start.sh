#!/usr/bin/env bash
# Seconds from `scripts/run.sh` to the mapped Précis window, under a virtual display.
# Usage: xvfb-run -a scripts/bench-start.sh   (needs xwininfo: `apt install x11-utils`)
# Run it twice: the first run after a change includes what run.sh rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
start=$(date +%s%N)
# run.sh ends by exec'ing the app, so this PID becomes the app's.
PRECIS_DATA_DIR="$data" scripts/run.sh >"$data/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 6000); do
  if xwininfo -root -tree 2>/dev/null | grep -q 'Précis'; then
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    printf 'window after %d.%03d s\n' $((elapsed / 1000)) $((elapsed % 1000))
    break
  fi
  kill -0 "$pid" 2>/dev/null || { echo "run.sh ended without a window; see $data/run.log" >&2; exit 1; }
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
rm -rf "$data"
