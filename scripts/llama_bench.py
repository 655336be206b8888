#!/usr/bin/env python3
"""Baseline for `precis bench`: llama.cpp (through llama-cpp-python) on the same GGUF and the
same prompt tokens. Prints one JSON line like `precis bench` does.

Usage: llama_bench.py MODEL.gguf PROMPT_TOKENS_JSON DECODE_TOKENS THREADS
"""
import json

import numpy as np
import resource
import sys
import time

import llama_cpp
from llama_cpp import Llama


def main():
    path, prompt_file, decode, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    prompt = json.load(open(prompt_file))
    t0 = time.perf_counter()
    llm = Llama(model_path=path, n_ctx=len(prompt) + decode + 16, n_batch=len(prompt), n_threads=threads,
                n_threads_batch=threads, verbose=False)
    load = time.perf_counter() - t0
    t1 = time.perf_counter()
    llm.eval(prompt)
    prefill = time.perf_counter() - t1
    decoded = []
    t2 = time.perf_counter()
    n_vocab = llm.n_vocab()
    for _ in range(decode):
        # The last position's logits straight from the context (no copy into Python arrays).
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(n_vocab,))
        nxt = int(logits.argmax())
        decoded.append(nxt)
        llm.eval([nxt])
    dec = time.perf_counter() - t2
    print(json.dumps({
        "implementation": "llama.cpp",
        "threads": threads,
        "load_secs": load,
        "prefill_tokens": len(prompt),
        "prefill_tokens_per_sec": len(prompt) / prefill,
        "decode_tokens": decode,
        "decode_tokens_per_sec": decode / dec,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "decoded": decoded,
    }))


if __name__ == "__main__":
    main()
