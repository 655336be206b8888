#!/usr/bin/env python3
"""llama.cpp's token ids for texts (no BOS, control-token spellings read as plain text), for the
tokenizer check in tests/reference_models.rs. Prints a JSON list of [text, ids].

Usage: llama_tokenize.py MODEL.gguf TEXTS.json
"""
import json
import sys

from llama_cpp import Llama


def main():
    llm = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
    texts = json.load(open(sys.argv[2]))
    cases = [json.dumps([t, llm.tokenize(t.encode(), add_bos=False, special=False)], ensure_ascii=False)
             for t in texts]
    print("[\n" + ",\n".join(cases) + "\n]")


if __name__ == "__main__":
    main()
