"""Trafilatura's extraction of each development page, for the side-by-side HTML score in
tests/text_pages.rs. Usage: python text_pages_trafilatura.py PAGES_DIR OUT_DIR
(run in the venv scripts/text-pages.sh makes)."""
import os
import sys

import trafilatura


def main() -> int:
    pages, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    done = 0
    for name in sorted(os.listdir(pages)):
        source = os.path.join(pages, name, "source.html")
        if not os.path.isfile(source):
            continue
        with open(source, "rb") as f:
            html = f.read()
        # Defaults, as a user of the library gets them (precision/recall modes not forced).
        text = trafilatura.extract(html) or ""
        tmp = os.path.join(out, name + ".txt.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(out, name + ".txt"))
        done += 1
    print(f"trafilatura {trafilatura.__version__}: {done} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
