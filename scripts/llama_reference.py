#!/usr/bin/env python3
"""llama.cpp's answer for a decoder check (tests/reference_models.rs): the prompt's token ids as
llama.cpp's own tokenizer gives them, the last prompt position's largest logits, 64 greedy
tokens and at each of them the margin of llama.cpp's choice (largest logit minus the runner-up),
which tells a clear choice from a near-tie. Prints one JSON object; scripts/llama-reference.sh writes it to tests/fixtures/llama_cpp/.

Usage: llama_reference.py MODEL.gguf PROMPT_TEXT [TOKENS]
The prompt text may contain the model's control tokens (parsed as such) and is preceded by BOS
where the file asks for one.
"""
import hashlib
import json
import sys

import numpy as np
import llama_cpp
from llama_cpp import Llama

TOP = 32


def main():
    path, text = sys.argv[1], sys.argv[2]
    n_new = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    llm = Llama(model_path=path, n_ctx=1024, n_batch=1024, n_threads=2, logits_all=False, verbose=False)
    prompt = llm.tokenize(text.encode(), add_bos=llm.metadata.get("tokenizer.ggml.add_bos_token") == "true", special=True)
    n_vocab = llm.n_vocab()
    llm.eval(prompt)
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(n_vocab,)).copy()
    top = np.argsort(-logits)[:TOP]
    tokens, margins = [], []
    step = logits
    for _ in range(n_new):
        nxt = int(step.argmax())
        tokens.append(nxt)
        top2 = np.partition(step, -2)[-2:]
        margins.append(round(float(top2[1] - top2[0]), 4))
        llm.eval([nxt])
        step = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(n_vocab,))
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    print(json.dumps({
        "generator": f"llama-cpp-python {llama_cpp.__version__} (scripts/llama_reference.py)",
        "model_sha256": sha,
        "prompt_text": text,
        "prompt_tokens": prompt,
        "top_logits": [[int(i), float(logits[i])] for i in top],
        "greedy_tokens": tokens,
        "greedy_margins": margins,
        "greedy_text": llm.detokenize(tokens).decode("utf-8", "replace"),
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
