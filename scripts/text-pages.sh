#!/usr/bin/env bash
# Builds the plain-text development set (issue 11) outside the repository: Mozilla Readability's
# test pages rendered to text three ways — `w3m -dump`, `lynx -dump -nolist`, and WebKit's
# `document.body.innerText` (select-all + copy, through WebKitWebDriver + MiniBrowser under Xvfb)
# — plus trafilatura's extraction of the same HTML, then scores them:
#   cargo test --release --workspace --test text_pages -- --nocapture
# Needs: apt-get install w3m lynx xvfb webkit2gtk-driver; python3 (a venv with trafilatura is made).
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES="${READABILITY_PAGES:-$PWD/../shared/readability-test-pages}"
OUT="${PRECIS_TEXT_PAGES:-$HOME/.cache/precis/dev-sets/readability-text}"
VENV="$HOME/.cache/precis/extract-venv"
MINIBROWSER="${MINIBROWSER:-/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser}"
for tool in w3m lynx Xvfb WebKitWebDriver node python3; do
  command -v "$tool" >/dev/null || { echo "text-pages: $tool is missing" >&2; exit 1; }
done
mkdir -p "$OUT/w3m" "$OUT/lynx"
for dir in "$PAGES"/*/; do
  page="$(basename "$dir")"
  [ -f "$dir/source.html" ] || continue
  w3m -dump -T text/html -cols 80 -O UTF-8 "$dir/source.html" >"$OUT/w3m/$page.txt" 2>/dev/null || true
  lynx -dump -nolist -force_html -display_charset=utf-8 "$dir/source.html" >"$OUT/lynx/$page.txt" 2>/dev/null || true
done
echo "text-pages: w3m and lynx renderings in $OUT"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
DISPLAY_NO=$(( 90 + RANDOM % 400 ))
Xvfb ":$DISPLAY_NO" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
PIDS+=($!)
export DISPLAY=":$DISPLAY_NO"
PORT=$(( 5444 + RANDOM % 1000 ))
WebKitWebDriver --port="$PORT" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/status" >/dev/null 2>&1 && break; sleep 0.1; done
# A page whose saved copy cannot be laid out is reported and skipped (the suite says so too).
WEBDRIVER_URL="http://127.0.0.1:$PORT" MINIBROWSER="$MINIBROWSER" \
  node scripts/text_pages_innertext.mjs "$PAGES" "$OUT/innertext" || true

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "trafilatura==2.3.1" "lxml_html_clean==0.4.6"
"$VENV/bin/python" scripts/text_pages_trafilatura.py "$PAGES" "$OUT/trafilatura"
