#!/usr/bin/env python3
"""Which confidence signal tells a doubtful translation: the model's mean token log-probability
(`confidence` in each translated paragraph) or a back-translation's similarity to the source.

Usage: confidence.py --dir SLICE_DIR --forward RESULT.json --back BACK.json [--cut C ...]

SLICE_DIR holds source.en.txt and reference.zh.txt (scripts/quality.sh's slice); RESULT.json is
`precis translate --lines --format json` of the source into Chinese, BACK.json the same command
run on RESULT's paragraphs (one per line) back into English. Per segment: confidence, back-
translation chrF against the source, chrF against the professional reference, and whether
Précis's checks flagged a problem. Prints, for each signal, how well it ranks the flagged
segments below the others (ROC AUC; 0.5 = chance) and how it follows the reference chrF
(Spearman), and for each cut of the log-probability the share of segments below it and their
mean reference chrF.
"""
import argparse
import json
from pathlib import Path

import sacrebleu


def paragraphs(path):
    return json.loads(Path(path).read_text())["translation"]["paragraphs"]


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else float("nan")


def auc(scores, positive):
    """P(score of a positive < score of a negative): a low score should mean a problem."""
    pos = [s for s, p in zip(scores, positive) if p]
    neg = [s for s, p in zip(scores, positive) if not p]
    if not pos or not neg:
        return float("nan")
    wins = sum((1.0 if p < n else 0.5 if p == n else 0.0) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--forward", required=True)
    ap.add_argument("--back", required=True)
    ap.add_argument("--cut", type=float, nargs="*", default=[-0.4, -0.6, -0.8, -1.0, -1.2])
    a = ap.parse_args()
    src = a.dir.joinpath("source.en.txt").read_text().splitlines()
    ref = a.dir.joinpath("reference.zh.txt").read_text().splitlines()
    fwd = paragraphs(a.forward)
    back = paragraphs(a.back)
    if not (len(src) == len(ref) == len(fwd) == len(back)):
        raise SystemExit(f"lengths differ: {len(src)} {len(ref)} {len(fwd)} {len(back)}")
    rows = []
    for s, r, f, b in zip(src, ref, fwd, back):
        if f.get("confidence") is None or f.get("untranslated"):
            continue  # copied or left in English: nothing the model wrote to judge
        rows.append({
            "logprob": f["confidence"],
            "back_chrf": sacrebleu.sentence_chrf(b["text"], [s]).score,
            "ref_chrf": sacrebleu.sentence_chrf(f["text"], [r]).score,
            "flagged": bool(f.get("problems") or f.get("warnings")),
        })
    n = len(rows)
    flagged = [x["flagged"] for x in rows]
    ref_chrf = [x["ref_chrf"] for x in rows]
    worst = sorted(ref_chrf)[n // 4]
    bad = [c < worst for c in ref_chrf]
    print(f"Segments scored: {n} of {len(src)}; flagged by the checks: {sum(flagged)}; "
          f"worst quarter by reference chrF: below {worst:.1f}.\n")
    print("| signal | AUC: flagged by the checks | AUC: worst quarter by reference chrF | "
          "Spearman with reference chrF |")
    print("|---|---|---|---|")
    for key, name in [("logprob", "mean token log-probability"),
                      ("back_chrf", "back-translation chrF vs source")]:
        v = [x[key] for x in rows]
        print(f"| {name} | {auc(v, flagged):.3f} | {auc(v, bad):.3f} | "
              f"{spearman(v, ref_chrf):.3f} |")
    print("\n| log-probability cut | segments below | of them flagged | not flagged | "
          "mean reference chrF below / above |")
    print("|---|---|---|---|---|")
    for cut in a.cut:
        below = [x for x in rows if x["logprob"] < cut]
        above = [x for x in rows if x["logprob"] >= cut]
        mean = lambda xs: sum(x["ref_chrf"] for x in xs) / len(xs) if xs else float("nan")
        f = sum(x["flagged"] for x in below)
        print(f"| {cut} | {len(below)} ({100 * len(below) / n:.1f}%) | {f} | {len(below) - f} | "
              f"{mean(below):.1f} / {mean(above):.1f} |")


if __name__ == "__main__":
    main()
