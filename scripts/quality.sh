#!/usr/bin/env bash
# Translation quality report: runs the release CLI on a fixed slice of the WMT23 en→zh dev set
# (../shared/dev-sets/wmt23-en-zh) with each catalog model and scores it side by side with the
# peer systems given with the data, on the same segments (scripts/quality.py).
#
# Usage: scripts/quality.sh [--full] [--lines FIRST-LAST] [--group N] [--models "ID ..."] [--out DIR]
#                           [--glossary FILE] [--confidence]
#   default slice: lines 501-900 (news; 400 segments); --full: all 2,074 segments.
#   --group N: every N consecutive segments form one paragraph (source, reference and peers
#   joined alike), so paragraphs have several sentences, as in articles. The set has no
#   document boundaries; a group may span two documents.
#   --confidence: also translate each model's output back into English with the same model and
#   report which signal tells doubtful segments better, the model's mean token log-probability
#   or the back-translation's similarity to the source (scripts/confidence.py).
#   --glossary FILE: translate with that glossary file (precis translate --glossary), to measure
#   what a reader's glossary does. Runs never see the user's stored glossary or name memory
#   (an empty data directory per run), so scores depend on the tree alone.
#   PRECIS_BIN=PATH scores that binary instead of building this tree.
# Prints a Markdown table (for QUALITY.md); outputs and per-segment details stay in DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

FIRST=501 LAST=900 GROUP=1 GLOSSARY=() CONFIDENCE=0
MODELS="qwen2.5-0.5b-instruct qwen2.5-1.5b-instruct"
OUT="${CARGO_TARGET_DIR}/quality"
while [ $# -gt 0 ]; do
  case "$1" in
    --full) FIRST=1 LAST=2074; shift ;;
    --lines) FIRST="${2%-*}" LAST="${2#*-}"; shift 2 ;;
    --group) GROUP="$2"; shift 2 ;;
    --models) MODELS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --glossary) GLOSSARY=(--glossary "$(realpath "$2")"); shift 2 ;;
    --confidence) CONFIDENCE=1; shift ;;
    *) echo "usage: $0 [--full] [--lines FIRST-LAST] [--group N] [--models \"ID ...\"] [--out DIR] [--glossary FILE] [--confidence]" >&2; exit 2 ;;
  esac
done
DEV="${PRECIS_DEV_SETS:-$ROOT/../shared/dev-sets}/wmt23-en-zh"
[ -f "$DEV/source.en.txt" ] || { echo "missing dev set: $DEV" >&2; exit 1; }

# The scorer's own environment: sacrebleu (chrF, BLEU) in a venv outside the clone.
VENV="${PRECIS_QUALITY_VENV:-$HOME/.cache/precis/quality-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sacrebleu' 2>/dev/null; then
  log "creating the scorer's venv in $VENV (sacrebleu)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'sacrebleu==2.4.3'
fi

# The CLI only; the UI bundle is built once by build_release when missing. PRECIS_BIN scores
# another build (e.g. the one before a change) without building.
if [ -n "${PRECIS_BIN:-}" ]; then
  PRECIS="$PRECIS_BIN"
elif [ -d "$ROOT/ui/dist" ]; then
  log "building the release CLI"
  (cd "$ROOT" && cargo build --workspace --release --locked -q)
else
  build_release
fi

slice="$OUT/slice-$FIRST-$LAST"
[ "$GROUP" = 1 ] || slice="$slice-group$GROUP"
mkdir -p "$slice"
# Lines FIRST..LAST of $1, every GROUP of them joined with $2.
cut_slice() {
  sed -n "${FIRST},${LAST}p" "$1" | awk -v n="$GROUP" -v sep="$2" '
    { buf = (NR % n == 1 || n == 1) ? $0 : buf sep $0 }
    NR % n == 0 { print buf; buf = "" }
    END { if (NR % n) print buf }'
}
cut_slice "$DEV/source.en.txt" " " > "$slice/source.en.txt"
cut_slice "$DEV/reference.zh.txt" "" > "$slice/reference.zh.txt"
for peer in "$DEV"/peers/*.zh.txt; do
  cut_slice "$peer" "" > "$slice/peer.$(basename "$peer")"
done

# A fresh, empty database: no stored glossary, no names remembered from the user's articles.
PRECIS_DATA_DIR="$(mktemp -d)"
export PRECIS_DATA_DIR
trap 'rm -rf "$PRECIS_DATA_DIR"' EXIT
runs=()
for model in $MODELS; do
  fetch_model "$model"
  log "translating lines $FIRST-$LAST with $model"
  /usr/bin/time -f "%e" -o "$slice/$model.time" "$PRECIS" translate "$slice/source.en.txt" --lines \
    --to zh-Hans --model "$model" "${GLOSSARY[@]}" --format json --out "$slice/$model.json" -q
  runs+=("$model=$slice/$model.json")
done
"$VENV/bin/python" "$ROOT/scripts/quality.py" --dir "$slice" "${runs[@]}"
if [ "$CONFIDENCE" = 1 ]; then
  for model in $MODELS; do
    log "translating $model's output back into English"
    "$VENV/bin/python" -c 'import json, sys
for p in json.load(open(sys.argv[1]))["translation"]["paragraphs"]:
    print(p["text"].replace("\n", " ").strip() or "-")' "$slice/$model.json" > "$slice/$model.back-source.txt"
    "$PRECIS" translate "$slice/$model.back-source.txt" --lines --to en --model "$model" \
      --format json --out "$slice/$model.back.json" -q
    echo; echo "Confidence signals, $model:"; echo
    "$VENV/bin/python" "$ROOT/scripts/confidence.py" --dir "$slice" \
      --forward "$slice/$model.json" --back "$slice/$model.back.json"
  done
fi
