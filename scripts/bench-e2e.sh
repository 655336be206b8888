#!/usr/bin/env bash
# End-to-end timings of the main job (summary + full translation into Chinese) on an article,
# for each model: paragraphs translated 8 at a time (the default) and one at a time, with the
# best kernels this CPU has, and with AVX2 only (what a Zen 3 or Skylake laptop gets).
# Usage: scripts/bench-e2e.sh [ARTICLE] ; prints a Markdown table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ARTICLE="${1:-$ROOT/tests/fixtures/global-times-syria-ceasefire.txt}"
build_release

out=$(mktemp -d)
# No stored glossary or remembered names: timings and warnings depend on the tree alone.
export PRECIS_DATA_DIR="$out/data"
echo "| model | kernels | paragraphs at once | prompt tok/s | generated tok/s | summary s | translation s | wall s | peak RSS MB | paragraphs with warnings |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for model in qwen2.5-0.5b-instruct qwen2.5-1.5b-instruct; do
  for simd in best avx2; do
    for batch in 8 1; do
      PRECIS_SIMD=$simd PRECIS_BATCH=$batch /usr/bin/time -f "%e %M" -o "$out/time" "$PRECIS" summarize "$ARTICLE" \
        --to zh-Hans --translate --model "$model" --format json --out "$out/result.json" -q
      python3 - "$out/result.json" "$out/time" "$model" "$simd" "$batch" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); wall, rss = open(sys.argv[2]).read().split()
s = r["stats"]; t = r["translation"]
warned = sum(1 for p in t["paragraphs"] if p.get("warnings"))
print(f"| {r['model']['name']} ({sys.argv[3]}) | {sys.argv[4]} | {sys.argv[5]} | {s['prompt_tokens']/s['prefill_secs']:.1f} | "
      f"{s['generated_tokens']/s['decode_secs']:.1f} | {r['summary']['seconds']:.1f} | "
      f"{t['seconds']:.1f} | {float(wall):.1f} | {int(rss)//1024} | {warned}/{len(t['paragraphs'])} |")
PY
    done
  done
done
