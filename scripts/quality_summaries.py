#!/usr/bin/env python3
"""Summary quality: ROUGE-1/2/L of Précis's summaries against human reference summaries, beside
the lead-3 baseline and peer systems, on REALSumm's 100 CNN/DailyMail test articles.

Why this set: it is public (github.com/neulab/REALSumm, CC BY 4.0; Bhandari et al., EMNLP 2020),
holds real news articles with their human highlights, and carries 25 peer systems' summaries of
the same articles (BART, T5, PEGASUS-era extractive and abstractive systems), so our numbers sit
beside known ones. The articles are CNN/Daily Mail stories (copyrighted, research use), so the
set is not committed: build it from a REALSumm checkout with
    quality_summaries.py --build REALSUMM_DIR --out DEV.jsonl
Its text is lowercased and tokenised (as the corpus distributes it); articles are detokenised
lightly here and capitalised at sentence starts, names stay lowercase: a handicap for every
engine alike.

Usage: quality_summaries.py --set DEV.jsonl --precis BIN [--first N] [--models "ID ..."] --work DIR
ROUGE: Google's rouge-score (stemming; ROUGE-Lsum over sentences), the same for every row.
"""
import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

PEERS = ["abs/bart/out.txt", "abs/t5/out_11B.txt", "abs/presumm/out_abs.txt",
         "ext/matchsumm/out.txt", "ext/banditsumm/out.txt"]


def sentences_of(tagged):
    parts = [p.strip() for p in re.findall(r"<t>(.*?)</t>", tagged, flags=re.S)]
    return [p for p in parts if p] or [tagged.strip()]


def build(realsumm, out):
    d = Path(realsumm) / "selected_docs_for_human_eval"
    lines = lambda p: (d / p).read_text(encoding="utf-8").split("\n")[:100]
    src, ref = lines("abs/ptr_generator/src.txt"), lines("abs/bart/ref.txt")
    peers = {p: lines(p) for p in PEERS}
    with open(out, "w", encoding="utf-8") as f:
        for i in range(100):
            article = " ".join(sentences_of(src[i]))
            # The tokenised article is one line: sentences end at " . ", " ! ", " ? " (and a
            # closing quote after them).
            article = re.split(r"(?<= [.!?]) (?!'')|(?<= [.!?] '') ", article)
            f.write(json.dumps({
                "id": f"realsumm-{i}",
                "article": [s for s in article if s.strip()],
                "reference": sentences_of(ref[i]),
                "peers": {p.rsplit(".", 1)[0]: sentences_of(re.sub(r"^\s*<t>\s*(<t>.*</t>)\s*</t>\s*$", r"\1", v[i]))
                          for p, v in peers.items()},
            }, ensure_ascii=False) + "\n")
    print("wrote", out)


def detok(s):
    s = s.replace("`` ", '"').replace(" ''", '"').replace("-lrb- ", "(").replace(" -rrb-", ")")
    s = re.sub(r" ([.,;:!?%)])", r"\1", s)
    s = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", s)
    s = re.sub(r"\( ", "(", s)
    s = s.replace("$ ", "$").replace("# ", "£")
    return s[:1].upper() + s[1:]


def words(text):
    return len(text.split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build")
    ap.add_argument("--out")
    ap.add_argument("--set")
    ap.add_argument("--precis")
    ap.add_argument("--first", type=int, default=30)
    ap.add_argument("--models", default="qwen2.5-1.5b-instruct")
    ap.add_argument("--length", default="short")
    ap.add_argument("--work", type=Path)
    a = ap.parse_args()
    if a.build:
        return build(a.build, a.out)
    from rouge_score import rouge_scorer
    rows = [json.loads(l) for l in open(a.set, encoding="utf-8")][: a.first]
    a.work.mkdir(parents=True, exist_ok=True)
    files = []
    for r in rows:
        p = a.work / f"{r['id']}.txt"
        # One sentence a paragraph (news paragraphs are short); blank lines between them, so
        # any build reads it the same way.
        p.write_text("\n\n".join(detok(s) for s in r["article"]) + "\n", encoding="utf-8")
        files.append(str(p))
    systems = {}
    runs = [("extractive", ["--engine", "extractive"])] + [
        (m, ["--engine", "llm", "--model", m]) for m in a.models.split()]
    for name, args in runs:
        out = a.work / f"summaries.{name}.json"
        t0 = time.time()
        subprocess.run([a.precis, "summarize", *files, "--length", a.length, "--format", "json",
                        "--out", str(out), "-q", *args], check=True)
        secs = time.time() - t0
        outcomes = json.loads(out.read_text())
        if isinstance(outcomes, dict):
            outcomes = [outcomes]
        systems[f"Précis {name}"] = ([[pt["text"].strip() for pt in o["summary"]["points"]] for o in outcomes], secs)
    systems["lead-3"] = ([[detok(s) for s in r["article"][:3]] for r in rows], 0.0)
    for peer in PEERS:
        key = peer.rsplit(".", 1)[0]
        systems[f"peer {key}"] = ([r["peers"][key] for r in rows], None)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    print(f"Articles: {len(rows)} (REALSumm CNN/DM, first {len(rows)}), length preset: {a.length}.\n")
    print("| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum | words (mean) | seconds |")
    print("|---|---|---|---|---|---|")
    for name, (summaries, secs) in systems.items():
        s1 = s2 = sl = n = 0.0
        for r, summ in zip(rows, summaries):
            ref = "\n".join(r["reference"])
            hyp = "\n".join(summ).lower()
            sc = scorer.score(ref, hyp)
            s1 += sc["rouge1"].fmeasure; s2 += sc["rouge2"].fmeasure; sl += sc["rougeLsum"].fmeasure
            n += words(" ".join(summ))
        k = len(rows)
        t = "" if secs is None else f"{secs:.0f}"
        print(f"| {name} | {100*s1/k:.1f} | {100*s2/k:.1f} | {100*sl/k:.1f} | {n/k:.0f} | {t} |")


if __name__ == "__main__":
    sys.exit(main())
