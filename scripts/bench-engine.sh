#!/usr/bin/env bash
# Inference speed, side by side and alternating: Précis's own Qwen2 decoder, candle's
# quantized_qwen2 (reference), and llama.cpp (llama-cpp-python 0.3.36, built with native flags
# into a venv outside the repo, once). Same GGUF, same 512 prompt tokens, 128 greedy tokens,
# one process per run (so peak RSS is per engine). Prints medians and ratios as Markdown.
# Usage: scripts/bench-engine.sh [ROUNDS] [MODEL_ID...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ROUNDS="${1:-3}"; shift || true
MODELS=("${@:-qwen2.5-0.5b-instruct qwen2.5-1.5b-instruct}")
MODELS=(${MODELS[@]})
THREADS="${THREADS:-$(nproc)}"
VENV="${LLAMA_VENV:-$HOME/.cache/precis/llama-venv}"

build_release
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
  log "installing llama-cpp-python 0.3.36 into $VENV (compiles llama.cpp with native flags; minutes)"
  python3 -m venv "$VENV"
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$VENV/bin/pip" install --no-cache-dir llama-cpp-python==0.3.36
fi

out=$(mktemp -d)
for model in "${MODELS[@]}"; do
  path=$("$PRECIS" models path "$model")
  for round in $(seq "$ROUNDS"); do
    for impl in precis candle llama; do
      if [ "$impl" = llama ]; then
        python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['prompt']))" "$out/$model.precis.1.json" > "$out/prompt.json"
        "$VENV/bin/python" "$ROOT/scripts/llama_bench.py" "$path" "$out/prompt.json" 128 "$THREADS" > "$out/$model.$impl.$round.json"
      else
        RAYON_NUM_THREADS="$THREADS" "$PRECIS" bench -m "$path" --impl "$impl" --prefill 512 --decode 128 > "$out/$model.$impl.$round.json"
      fi
      log "$model $impl round $round done"
    done
  done
done
python3 - "$out" "${MODELS[@]}" <<'PY'
import json, statistics, sys, glob, os
out, models = sys.argv[1], sys.argv[2:]
print("| model | engine | load s | prefill tok/s | decode tok/s | peak RSS MiB | same tokens as candle |")
print("|---|---|---|---|---|---|---|")
for m in models:
    rows = {}
    for impl in ["precis", "candle", "llama"]:
        runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, f"{m}.{impl}.*.json")))]
        med = lambda k: statistics.median(r[k] for r in runs)
        rows[impl] = dict(load=med("load_secs"), pre=med("prefill_tokens_per_sec"), dec=med("decode_tokens_per_sec"),
                          rss=max(r["peak_rss_mib"] for r in runs), toks=runs[0]["decoded"])
    for impl, r in rows.items():
        same = sum(a == b for a, b in zip(r["toks"], rows["candle"]["toks"]))
        print(f"| {m} | {impl} | {r['load']:.2f} | {r['pre']:.1f} | {r['dec']:.1f} | {r['rss']:.0f} | {same}/{len(r['toks'])} |")
    p, c, l = rows["precis"], rows["candle"], rows["llama"]
    print(f"| {m} | ratios | | precis/llama {p['pre']/l['pre']:.2f}, precis/candle {p['pre']/c['pre']:.2f} | precis/llama {p['dec']/l['dec']:.2f}, precis/candle {p['dec']/c['dec']:.2f} | | |")
PY
