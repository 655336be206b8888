#!/usr/bin/env bash
# Speed against context length, side by side: Précis's decoder and llama.cpp (the venv of
# bench-engine.sh) on the same GGUF and the same prompt tokens — prefill tok/s of a prompt of N
# tokens, then decode tok/s of 32 greedy tokens after it (attention over N positions).
# Usage: scripts/bench-context.sh [MODEL_ID] [N...]   (THREADS=nproc, BENCH_OUT=file)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
MODEL="${1:-qwen2.5-0.5b-instruct}"; shift || true
SIZES=("${@:-512 2048 4096 8192}")
SIZES=(${SIZES[@]})
THREADS="${THREADS:-$(nproc)}"
VENV="${LLAMA_VENV:-$HOME/.cache/precis/llama-venv}"

build_release
ensure_llama_cpp "$VENV"
out=$(mktemp -d)
path=$("$PRECIS" models path "$MODEL")
for n in "${SIZES[@]}"; do
  RAYON_NUM_THREADS="$THREADS" "$PRECIS" bench -m "$path" --prefill "$n" --decode 32 > "$out/precis.$n.json"
  python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['prompt']))" "$out/precis.$n.json" > "$out/prompt.json"
  "$VENV/bin/python" "$ROOT/scripts/llama_bench.py" "$path" "$out/prompt.json" 32 "$THREADS" > "$out/llama.$n.json"
  log "$MODEL at $n tokens done"
done
{
echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, threads used: $THREADS; model: $MODEL"
echo
python3 - "$out" "${SIZES[@]}" <<'PY'
import json, sys
out, sizes = sys.argv[1], sys.argv[2:]
print("| context tokens | prefill tok/s Précis | llama.cpp | ratio | decode tok/s Précis | llama.cpp | ratio | same 32 tokens |")
print("|---|---|---|---|---|---|---|---|")
for n in sizes:
    p = json.load(open(f"{out}/precis.{n}.json")); l = json.load(open(f"{out}/llama.{n}.json"))
    same = sum(a == b for a, b in zip(p["decoded"], l["decoded"]))
    print(f"| {n} | {p['prefill_tokens_per_sec']:.1f} | {l['prefill_tokens_per_sec']:.1f} | "
          f"{p['prefill_tokens_per_sec']/l['prefill_tokens_per_sec']:.2f}x | {p['decode_tokens_per_sec']:.1f} | "
          f"{l['decode_tokens_per_sec']:.1f} | {p['decode_tokens_per_sec']/l['decode_tokens_per_sec']:.2f}x | {same}/32 |")
PY
} | tee "${BENCH_OUT:-/dev/null}"
