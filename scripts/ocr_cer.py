#!/usr/bin/env python3
"""OCR accuracy and speed: real articles typeset to PDF pages, rendered to images, read back.

For each article (the text Précis extracts from Mozilla Readability's test pages), the title and
paragraphs are typeset with reportlab on A4 pages in one and in two columns (10 pt Helvetica),
rendered to grey PNG pages by pdftoppm at 150 and 300 dpi, and each page is read by
`precis extract --format json PAGE.png` — Précis's own OCR path (Tesseract, paragraphs joined,
hyphenation undone). The character error rate is the edit distance between what was typeset and
what came back (whitespace collapsed, typographic quotes and dashes as ASCII), divided by the
length of what was typeset.

Usage: scripts/ocr_cer.py [--articles N] [--precis PATH]  (needs tesseract-ocr, poppler-utils;
installs reportlab and rapidfuzz into ~/.cache/precis/ocr-venv on first run)
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.expanduser("~/.cache/precis/ocr-venv")
PAGES = os.path.join(ROOT, "..", "shared", "readability-test-pages")


def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    if sys.executable != python:
        if not os.path.exists(python):
            venv.create(VENV, with_pip=True)
            subprocess.check_call([python, "-m", "pip", "install", "-q", "reportlab==4.4.4", "rapidfuzz==3.14.1"])
        os.execv(python, [python] + sys.argv)


def normalise(text):
    for a, b in {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00a0": " "}.items():
        text = text.replace(a, b)
    return re.sub(r"\s+", " ", text).strip()


def article_text(precis, page_dir, words):
    source = os.path.join(page_dir, "source.html")
    out = subprocess.run([precis, "extract", "--format", "json", source], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    doc = json.loads(out.stdout)
    # English articles only: Précis reads English news, and Tesseract runs with `eng`.
    if doc["language"] != "en":
        return None
    paragraphs, count = [], 0
    for p in doc["paragraphs"]:
        paragraphs.append(p["text"])
        count += len(p["text"].split())
        if count >= words:
            break
    if count < words // 2 or not doc["title"]:
        return None
    return doc["title"], paragraphs


def typeset(path, title, paragraphs, columns):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph
    from xml.sax.saxutils import escape

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontName, body.fontSize, body.leading = "Helvetica", 10, 13
    doc = BaseDocTemplate(path, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=20 * mm, invariant=1)
    gap = 8 * mm
    width = (doc.width - gap * (columns - 1)) / columns
    frames = [Frame(doc.leftMargin + i * (width + gap), doc.bottomMargin, width, doc.height, id=f"c{i}") for i in range(columns)]
    doc.addPageTemplates([PageTemplate(frames=frames)])
    story = [Paragraph(escape(title), styles["Heading2"])] + [Paragraph(escape(p), body) for p in paragraphs]
    doc.build(story)


def main():
    ensure_venv()
    from rapidfuzz.distance import Levenshtein

    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=6)
    ap.add_argument("--words", type=int, default=500)
    ap.add_argument("--precis", default=os.path.expanduser("~/.cache/precis/target/release/precis"))
    args = ap.parse_args()

    articles = []
    for name in sorted(os.listdir(PAGES)):
        found = article_text(args.precis, os.path.join(PAGES, name), args.words)
        if found:
            articles.append((name, *found))
        if len(articles) == args.articles:
            break

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, title, paragraphs in articles:
            truth = normalise(" ".join([title] + paragraphs))
            for columns in (1, 2):
                pdf = os.path.join(tmp, f"{name}-{columns}.pdf")
                typeset(pdf, title, paragraphs, columns)
                for dpi in (150, 300):
                    prefix = os.path.join(tmp, f"{name}-{columns}-{dpi}")
                    subprocess.check_call(["pdftoppm", "-r", str(dpi), "-gray", "-png", pdf, prefix])
                    pages = sorted(f for f in os.listdir(tmp) if f.startswith(os.path.basename(prefix) + "-") and f.endswith(".png"))
                    read, seconds = [], 0.0
                    for page in pages:
                        started = time.monotonic()
                        out = subprocess.run([args.precis, "extract", "--format", "json", "--quiet", os.path.join(tmp, page)], capture_output=True, text=True)
                        seconds += time.monotonic() - started
                        if out.returncode == 0:
                            doc = json.loads(out.stdout)
                            read.append(" ".join([doc["title"]] + [p["text"] for p in doc["paragraphs"]]))
                    got = normalise(" ".join(read))
                    cer = Levenshtein.distance(truth, got) / len(truth)
                    results.setdefault((columns, dpi), []).append((cer, len(pages), seconds))
                    print(f"{name:28} {columns} col {dpi} dpi: {len(pages)} page(s), CER {cer:.2%}, {seconds / len(pages):.1f} s/page", flush=True)

    print("\n| layout | dpi | articles | pages | CER mean | CER worst | s/page |")
    print("|---|---|---|---|---|---|---|")
    for (columns, dpi), rows in sorted(results.items()):
        pages = sum(r[1] for r in rows)
        mean = sum(r[0] for r in rows) / len(rows)
        worst = max(r[0] for r in rows)
        per_page = sum(r[2] for r in rows) / pages
        print(f"| {columns} column{'s' if columns > 1 else ''} | {dpi} | {len(rows)} | {pages} | {mean:.2%} | {worst:.2%} | {per_page:.1f} |")


if __name__ == "__main__":
    main()
