#!/usr/bin/env bash
# Inference speed, side by side and alternating: Précis's own decoder, candle's quantized_qwen2
# (reference, Qwen2 files only), and llama.cpp (llama-cpp-python 0.3.36, built with explicit CPU
# flags into a venv outside the repo, once; see ensure_llama_cpp in setup.sh). Same GGUF, same
# 512 prompt tokens, 128 greedy tokens,
# one process per run (so peak RSS is per engine), then a cold-cache run of Précis and llama.cpp.
# Prints the machine, medians and ratios as Markdown.
# Usage: scripts/bench-engine.sh [ROUNDS] [MODEL_ID...]   (BATCH=8, THREADS=nproc, BENCH_OUT=file)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ROUNDS="${1:-3}"; shift || true
MODELS=("${@:-qwen2.5-0.5b-instruct qwen2.5-1.5b-instruct}")
MODELS=(${MODELS[@]})
THREADS="${THREADS:-$(nproc)}"
VENV="${LLAMA_VENV:-$HOME/.cache/precis/llama-venv}"

build_release
ensure_llama_cpp "$VENV"

out=$(mktemp -d)
BATCH="${BATCH:-8}"
run_engine() { # model impl file
  local model=$1 impl=$2 file=$3 path
  path=$("$PRECIS" models path "$model")
  if [ "$impl" = llama ]; then
    python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['prompt']))" "$out/$model.precis.1.json" > "$out/prompt.json"
    "$VENV/bin/python" "$ROOT/scripts/llama_bench.py" "$path" "$out/prompt.json" 128 "$THREADS" > "$file"
  elif [ "$impl" = precis ]; then
    RAYON_NUM_THREADS="$THREADS" "$PRECIS" bench -m "$path" --impl precis --prefill 512 --decode 128 --batch "$BATCH" > "$file"
  else
    RAYON_NUM_THREADS="$THREADS" "$PRECIS" bench -m "$path" --impl candle --prefill 512 --decode 128 > "$file"
  fi
}
for model in "${MODELS[@]}"; do
  for round in $(seq "$ROUNDS"); do
    impls="precis llama"
    [[ "$model" == qwen2* ]] && impls="precis candle llama"
    for impl in $impls; do
      run_engine "$model" "$impl" "$out/$model.$impl.$round.json"
      log "$model $impl round $round done"
    done
  done
  # Cold start: the page cache dropped before each (needs root; skipped otherwise).
  for impl in precis llama; do
    if [ "$(id -u)" -eq 0 ] && sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
      run_engine "$model" "$impl" "$out/$model.$impl.cold.json"
    fi
  done
done
{
echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, threads used: $THREADS;" \
  "SIMD flags: $(grep -o -w -E 'avx2|fma|f16c|avx512f|avx512bw|avx512_vnni|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo
python3 - "$out" "$BATCH" "${MODELS[@]}" <<'PY'
import json, statistics, sys, glob, os
out, batch, models = sys.argv[1], sys.argv[2], sys.argv[3:]
print(f"| model | engine | load s (cold) | prefill tok/s | decode tok/s | batch {batch} tok/s | peak RSS MiB | same tokens as llama.cpp |")
print("|---|---|---|---|---|---|---|---|")
ratios = []
for m in models:
    rows = {}
    for impl in ["precis", "candle", "llama"]:
        runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, f"{m}.{impl}.[0-9]*.json")))]
        if not runs:
            continue
        med = lambda k: statistics.median(r.get(k, 0) for r in runs)
        cold = os.path.join(out, f"{m}.{impl}.cold.json")
        cold = json.load(open(cold))["load_secs"] if os.path.exists(cold) else None
        rows[impl] = dict(load=med("load_secs"), cold=cold, pre=med("prefill_tokens_per_sec"),
                          dec=med("decode_tokens_per_sec"), bat=med("batch_decode_tokens_per_sec"),
                          rss=max(r["peak_rss_mib"] for r in runs), toks=runs[0]["decoded"])
    size = os.path.getsize(os.popen(f"{os.environ['PRECIS']} models path {m}").read().strip()) / 2**20
    for impl, r in rows.items():
        same = sum(a == b for a, b in zip(r["toks"], rows["llama"]["toks"]))
        load = f"{r['load']:.2f}" + (f" ({r['cold']:.2f})" if r["cold"] is not None else "")
        bat = f"{r['bat']:.1f}" if r["bat"] else ""
        print(f"| {m} ({size:.0f} MiB) | {impl} | {load} | {r['pre']:.1f} | {r['dec']:.1f} | {bat} | {r['rss']:.0f} | {same}/{len(r['toks'])} |")
    p, l = rows["precis"], rows["llama"]
    ratios.append(f"{m}: prefill {p['pre']/l['pre']:.2f}x, decode {p['dec']/l['dec']:.2f}x, "
                  f"batch {batch} vs llama.cpp single stream {p['bat']/l['dec']:.2f}x, "
                  f"peak RSS {p['rss']:.0f} MiB vs target {1.2*size+300:.0f} MiB (1.2 x file + 300)")
print()
print("Précis / llama.cpp, same run:")
for r in ratios:
    print(f"- {r}")
PY
} | tee "${BENCH_OUT:-/dev/null}"
