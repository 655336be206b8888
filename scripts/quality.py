#!/usr/bin/env python3
"""Scores Chinese translations of a slice of a line-aligned dev set, ours beside the peers'.

Usage: quality.py --dir SLICE_DIR MODEL=RESULT.json ...
SLICE_DIR holds source.en.txt, reference.zh.txt and peer.NAME.zh.txt (line-aligned); each
RESULT.json is `precis translate --lines --format json` output for source.en.txt.

Metrics, per system, on the same segments:
- chrF and BLEU (sacrebleu, zh tokenizer) against the professional reference;
- Latin share: Latin letters among all letters of the output, and the same counting only
  ordinary English words (not names, acronyms or brands the source writes capitalised);
- amount errors: source amounts (currency, scale word, percent, or >= 1,000) whose value is
  not in the output; written independently of the product's checker so each checks the other;
- warned / untranslated segments (ours only).
Prints a Markdown table; writes per-segment details to SLICE_DIR/details.MODEL.tsv.
"""
import argparse
import json
import re
import sys
from pathlib import Path

import sacrebleu

CUR = r"(?:US\$|HK\$|A\$|C\$|NZ\$|S\$|R\$|\$|€|£|¥|₹|USD\s?|EUR\s?|GBP\s?|RMB\s?|Rs\.?\s?)"
SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9,
         "billion": 1e9, "tn": 1e12, "trillion": 1e12}
SRC_RE = re.compile(
    rf"(?P<cur>{CUR})?(?P<num>\d{{1,3}}(?:,\d{{3}})+|\d+)(?P<frac>\.\d+)?"
    r"(?:\s?(?P<scale>k|m|mn|bn|tn|thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s?(?:%|percent\b|per cent\b))?", re.I)
ZH_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
            "七": 7, "八": 8, "九": 9}
ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
ZH_BIG = {"万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8}
OUT_RE = re.compile(
    r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(万亿|萬億|兆|百万|千万|万|萬|亿|億|千|k|m|bn|million|billion|trillion|thousand)?",
    re.I)
ZH_NUM_RE = re.compile(r"[零〇一二两三四五六七八九十百千万萬亿億]+")


def source_amounts(text):
    out = []
    for m in SRC_RE.finditer(text):
        if m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] in ".,"):
            continue
        v = float(m["num"].replace(",", "") + (m["frac"] or ""))
        scale = SCALE.get((m["scale"] or "").lower(), 1.0)
        if m["scale"] and m["scale"].lower() == "m" and not m["cur"]:
            # "5m" without currency may be metres; count it only with a currency.
            continue
        v *= scale
        cur, pct = m["cur"], m["pct"]
        is_year = not cur and not pct and scale == 1 and not m["frac"] and "," not in m["num"] \
            and 1900 <= v <= 2100
        if is_year or (not cur and not pct and scale == 1 and v < 1000):
            continue
        out.append((m.group(0).strip(), v))
    return out


def zh_numeral(s):
    """Value of a Chinese numeral such as 三百五十万 or 两亿; None when it is not one."""
    total, section, digit = 0.0, 0.0, None
    for ch in s:
        if ch in ZH_DIGIT:
            digit = ZH_DIGIT[ch]
        elif ch in ZH_UNIT:
            section += (1 if digit is None else digit) * ZH_UNIT[ch]
            digit = None
        elif ch in ZH_BIG:
            section += digit or 0
            big = ZH_BIG[ch]
            total = (total + section) * big if big > 1e4 and total < big else total + section * big
            section, digit = 0.0, None
    return total + section + (digit or 0)


def output_values(text):
    vals = []
    for m in OUT_RE.finditer(text):
        n = float(m[1].replace(",", "") + (m[2] or ""))
        unit = (m[3] or "").lower()
        scale = {"万亿": 1e12, "萬億": 1e12, "兆": 1e12, "百万": 1e6, "千万": 1e7, "万": 1e4,
                 "萬": 1e4, "亿": 1e8, "億": 1e8, "千": 1e3}.get(unit, SCALE.get(unit, 1.0))
        vals += [n * scale, n]
    for m in ZH_NUM_RE.finditer(text):
        if any(c in ZH_DIGIT or c in ZH_UNIT for c in m[0]):
            vals.append(zh_numeral(m[0]))
    return vals


def amount_errors(src, out):
    vals = output_values(out)
    return [t for t, v in source_amounts(src)
            if not any(abs(x - v) <= abs(v) * 1e-6 for x in vals)]


LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")


def latin_counts(src, out):
    """(all letters, Latin letters, Latin letters of ordinary English words).

    Kept legitimately, so not ordinary: a word the source writes capitalised or in capitals
    (names, acronyms, brands, titles of works) and words of web addresses and handles."""
    letters = sum(1 for c in out if c.isalpha())
    latin = sum(1 for c in out if c.isascii() and c.isalpha())
    src_words = LATIN_WORD.findall(src)
    capitalised = {w.lower() for w in src_words if not w.islower()}
    in_addresses = {w.lower() for tok in src.split() if re.search(r"[./@#_]\w", tok)
                    for w in LATIN_WORD.findall(tok)}
    ordinary = 0
    for w in LATIN_WORD.findall(out):
        lw = w.lower()
        if lw in in_addresses or (lw in capitalised and (not w.islower() or
                                                        lw not in {x for x in src_words if x.islower()})):
            continue
        ordinary += len(w)
    return letters, latin, ordinary


def score(name, src, ref, hyp, warned=None, untranslated=None):
    chrf = sacrebleu.corpus_chrf(hyp, [ref]).score
    bleu = sacrebleu.corpus_bleu(hyp, [ref], tokenize="zh").score
    letters = latin = ordinary = 0
    errors, amounts, details = 0, 0, []
    for s, h in zip(src, hyp):
        a, b, c = latin_counts(s, h)
        letters, latin, ordinary = letters + a, latin + b, ordinary + c
        e = amount_errors(s, h)
        errors += len(e)
        amounts += len(source_amounts(s))
        details.append((e, c, a))
    row = {
        "system": name, "chrF": chrf, "BLEU": bleu,
        "latin": 100 * latin / max(letters, 1), "ordinary": 100 * ordinary / max(letters, 1),
        "amount_errors": errors, "amounts": amounts,
        "warned": warned, "untranslated": untranslated,
    }
    return row, details


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("runs", nargs="*")
    a = ap.parse_args()
    src = a.dir.joinpath("source.en.txt").read_text().splitlines()
    ref = a.dir.joinpath("reference.zh.txt").read_text().splitlines()
    rows = []
    for run in a.runs:
        name, path = run.split("=", 1)
        result = json.loads(Path(path).read_text())
        paras = result["translation"]["paragraphs"]
        if len(paras) != len(src):
            sys.exit(f"{path}: {len(paras)} paragraphs for {len(src)} source lines")
        hyp = [p["text"].replace("\n", " ") for p in paras]
        warned = sum(1 for p in paras if p.get("warnings"))
        untranslated = sum(1 for p in paras if p.get("untranslated"))
        row, details = score(f"Précis ({name})", src, ref, hyp, warned, untranslated)
        rows.append(row)
        with open(a.dir / f"details.{name}.tsv", "w") as f:
            f.write("line\tamount_errors\tordinary_latin\twarnings\tsource\toutput\n")
            for i, (p, (e, c, _)) in enumerate(zip(paras, details)):
                f.write(f"{i+1}\t{'|'.join(e)}\t{c}\t{' | '.join(p.get('warnings', []))}\t"
                        f"{src[i]}\t{hyp[i]}\n")
    rows.append(score("reference (professional)", src, ref, ref)[0])
    for peer in sorted(a.dir.glob("peer.*.zh.txt")):
        hyp = peer.read_text().splitlines()
        rows.append(score(peer.name[5:-7], src, ref, hyp)[0])
    n = len(src)
    print(f"Segments: {n} ({a.dir.name}). Amounts in the source: {rows[0]['amounts'] if rows else 0}.\n")
    print("| system | chrF | BLEU | Latin letters % | ordinary English % | amount errors | warned | untranslated |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        w = "" if r["warned"] is None else f"{r['warned']} ({100*r['warned']/n:.1f}%)"
        u = "" if r["untranslated"] is None else str(r["untranslated"])
        print(f"| {r['system']} | {r['chrF']:.1f} | {r['BLEU']:.1f} | {r['latin']:.2f} | "
              f"{r['ordinary']:.2f} | {r['amount_errors']} | {w} | {u} |")


if __name__ == "__main__":
    main()
