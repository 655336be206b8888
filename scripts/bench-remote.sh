#!/usr/bin/env bash
# The remote engine's throughput beside the local one: `precis batch` over the same folder of
# Readability test pages (summary + full Chinese translation), on the local 0.5B model, then
# through llama.cpp's OpenAI-compatible server (llama-cpp-python[server] 0.3.36, the same GGUF
# file, 2 threads) with 1 and with 4 requests at once. Prints one line per run.
# Usage: scripts/bench-remote.sh [PAGE...]   (default: the 8 pages of BENCHMARKS.md "Batch";
#   PRECIS_BENCH_LOCAL=0 skips the local run, PRECIS_BENCH_CONCURRENCY="4 1" sets the runs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
pages=("$@")
[ ${#pages[@]} -gt 0 ] || pages=(buzzfeed-1 daringfireball-1 mozilla-1 msn telegraph webmd-2 yahoo-2 yahoo-4)
venv="${PRECIS_LLAMA_SERVER_VENV:-$HOME/.cache/precis/llama-server-venv}"
ensure_llama_server "$venv"
model=$("$PRECIS" models path qwen2.5-0.5b-instruct)
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/in"
for p in "${pages[@]}"; do cp "$ROOT/../shared/readability-test-pages/$p/source.html" "$work/in/$p.html"; done
export PRECIS_DATA_DIR="$work/data"

run() { # NAME ARGS...: one batch into a fresh output folder, timed
  local name=$1 start end
  shift
  start=$(date +%s.%N)
  "$PRECIS" batch "$work/in" --out "$work/out-$name" --to zh --translate --format md,json --quiet "$@" || true
  end=$(date +%s.%N)
  python3 - "$work/out-$name/report.json" "$name" "$start" "$end" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
secs = float(sys.argv[4]) - float(sys.argv[3])
done = len(r["done"])
print(f"{sys.argv[2]:12} {secs:7.1f} s  {done}/{r['articles']} done  {3600 * done / secs:6.1f} articles/hour  "
      f"{r['generated_tokens']} tokens  failed: {[f['error'][:80] for f in r['failed']]}")
EOF
}

# PRECIS_BENCH_LOCAL=0 leaves the local run out (scripts/bench-batch.sh measures it).
[ "${PRECIS_BENCH_LOCAL:-1}" = 0 ] || run local --model qwen2.5-0.5b-instruct
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$venv/bin/python" -m llama_cpp.server --model "$model" --model_alias qwen --host 127.0.0.1 --port "$port" \
  --n_ctx 4096 --n_threads 2 --interrupt_requests False >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null && break; sleep 0.5; done
for n in ${PRECIS_BENCH_CONCURRENCY:-1 4}; do
  run "remote-c$n" --remote "http://127.0.0.1:$port/v1" --remote-model qwen --remote-concurrency "$n"
done
