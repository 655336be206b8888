#!/usr/bin/env bash
# Writes llama.cpp's answers for tests/reference_models.rs into tests/fixtures/llama_cpp/ (greedy
# runs and tokenizer cases), from
# the catalog's test models (fetched first) and llama-cpp-python 0.3.36 built with explicit CPU
# flags into a venv outside the repo (the same one scripts/bench-engine.sh uses).
# Usage: scripts/llama-reference.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
VENV="${LLAMA_VENV:-$HOME/.cache/precis/llama-venv}"
build_release
ensure_llama_cpp "$VENV"
fetch_model smollm2-135m-instruct
fetch_model gemma3-270m
out="$ROOT/tests/fixtures/llama_cpp"
mkdir -p "$out"
# Keep in step with SMOLLM2_SYSTEM and SMOLLM2_QUESTION in tests/reference_models.rs.
system="You are a news editor. Answer briefly."
question="Summarize in two sentences: The ministers met in a hotel on the shore of the lake and spoke briefly to reporters before closed-door talks began. Officials said an agreement could allow aid convoys to reach 40,000 people within days."
"$VENV/bin/python" "$ROOT/scripts/llama_reference.py" "$("$PRECIS" models path smollm2-135m-instruct)" \
  $'<|im_start|>system\n'"$system"$'<|im_end|>\n<|im_start|>user\n'"$question"$'<|im_end|>\n<|im_start|>assistant\n' > "$out/smollm2-135m-instruct.json"
"$VENV/bin/python" "$ROOT/scripts/llama_reference.py" "$("$PRECIS" models path gemma3-270m)" \
  "The history of the printing press begins in the fifteenth century, when" > "$out/gemma3-270m.json"
# Tokenizer cases: the texts in tokenizer-texts.json through llama.cpp's tokenizer of each model.
fetch_model qwen2.5-coder-0.5b-instruct
for model in smollm2-135m-instruct gemma3-270m qwen2.5-coder-0.5b-instruct; do
  "$VENV/bin/python" "$ROOT/scripts/llama_tokenize.py" "$("$PRECIS" models path "$model")" \
    "$out/tokenizer-texts.json" > "$out/$model.tokens.json"
done
log "written: $out"
