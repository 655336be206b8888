#!/usr/bin/env bash
# Batch throughput: `precis batch` (summary + full Chinese translation, md + json) over a folder
# of the 20 shortest English Readability test pages (0.8–9 KB of article text each), for each
# model and each --jobs value, into fresh output folders. Prints one line per run: wall time,
# articles per hour, generated tokens, peak memory.
# Usage: scripts/bench-batch.sh [MODEL:JOBS ...]
#   (default: qwen2.5-0.5b-instruct:1 qwen2.5-0.5b-instruct:4 qwen2.5-1.5b-instruct:4
#    qwen2.5-1.5b-instruct:1)
# Run it on an otherwise idle machine: anything else running (a build, a fuzzer, even at the
# lowest priority) slows the decoder's threads.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(qwen2.5-0.5b-instruct:1 qwen2.5-0.5b-instruct:4 qwen2.5-1.5b-instruct:4 qwen2.5-1.5b-instruct:1)
pages=(tmz-1 mozilla-1 daringfireball-1 mozilla-2 msn reordering-paragraphs buzzfeed-1 webmd-2
  telegraph yahoo-2 cnet wordpress medium-2 herald-sun-1 medicalnewstoday iab-1 gitlab-blog
  schema-org-context-object topicseed-1 lazy-image-1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
for p in "${pages[@]}"; do cp "$ROOT/../shared/readability-test-pages/$p/source.html" "$work/in/$p.html"; done
export PRECIS_DATA_DIR="$work/data"
for run in "${runs[@]}"; do
  model=${run%:*} jobs=${run##*:}
  out="$work/out-$model-$jobs"
  /usr/bin/time -f '%e %M' -o "$work/time" "$PRECIS" batch "$work/in" --out "$out" --to zh \
    --translate --format md,json --quiet --model "$model" --jobs "$jobs" || true
  read -r secs kb <"$work/time"
  python3 - "$out/report.json" "$model" "$jobs" "$secs" "$kb" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
model, jobs, secs, kb = sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
done = len(r["done"])
print(f"{model:24} --jobs {jobs}  {secs:7.1f} s  {done}/{r['articles']} done  "
      f"{3600 * done / secs:6.1f} articles/hour  {r['generated_tokens']} tokens  "
      f"{r['generated_tokens'] / secs:5.1f} tokens/s  peak {kb / 1024:.0f} MiB  "
      f"failed: {[f['path'] for f in r['failed']]}")
PY
done
