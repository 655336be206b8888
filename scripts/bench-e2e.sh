#!/usr/bin/env bash
# End-to-end timings of the main job (summary + full translation into Chinese) on an article,
# for each model, with the CPU-tuned build (AVX2/FMA) and a portable x86-64 build (no AVX).
# Usage: scripts/bench-e2e.sh [ARTICLE] ; prints a Markdown table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ARTICLE="${1:-$ROOT/tests/fixtures/global-times-syria-ceasefire.txt}"
PORTABLE_DIR="${PORTABLE_TARGET_DIR:-$HOME/.cache/precis/target-portable}"

log "building the portable binary (RUSTFLAGS='' overrides target-cpu=native)"
(cd "$ROOT" && RUSTFLAGS="" CARGO_TARGET_DIR="$PORTABLE_DIR" cargo build --release --locked -p precis-cli)
build_release

out=$(mktemp -d)
echo "| model | build | prefill tok/s | decode tok/s | summary s | translation s | wall s | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|"
for model in qwen2.5-0.5b-instruct qwen2.5-1.5b-instruct; do
  for build in native portable; do
    bin="$PRECIS"; [ "$build" = portable ] && bin="$PORTABLE_DIR/release/precis"
    /usr/bin/time -f "%e %M" -o "$out/time" "$bin" summarize "$ARTICLE" --to zh-Hans --translate \
      --model "$model" --format json --out "$out/result.json" -q
    python3 - "$out/result.json" "$out/time" "$model" "$build" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); wall, rss = open(sys.argv[2]).read().split()
s = r["stats"]
print(f"| {r['model']['name']} ({sys.argv[3]}) | {sys.argv[4]} | {s['prompt_tokens']/s['prefill_secs']:.1f} | "
      f"{s['generated_tokens']/s['decode_secs']:.1f} | {r['summary']['seconds']:.1f} | "
      f"{r['translation']['seconds']:.1f} | {float(wall):.1f} | {int(rss)//1024} |")
PY
  done
done
