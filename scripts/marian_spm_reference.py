"""Writes tests/fixtures/marian_spm/: a small Marian-style tokenizer set (source.spm, target.spm,
vocab.json) trained with Google's sentencepiece on the WMT23 en-zh development data, and how
sentencepiece itself encodes test sentences with it (expected.json), so the Rust reader of .spm
files (crates/precis-core/src/mt/spm.rs) is checked against the real library.

Marian lays its models out this way (Helsinki-NLP opus-mt-*: source.spm, target.spm and one
vocab.json whose ids differ from either .spm's own ids); transformers' MarianTokenizer encodes
with the source .spm, maps pieces through vocab.json (unknown -> <unk>) and appends </s>.

Usage: python scripts/marian_spm_reference.py DEV_SET_DIR OUT_DIR   (needs `pip install sentencepiece`)
"""

import io
import json
import random
import sys

import sentencepiece as spm

dev, out = sys.argv[1], sys.argv[2]


def train(path, vocab_size, coverage):
    model = io.BytesIO()
    with open(path, encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip()]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=coverage,
        # Marian's own spm_train defaults: the nmt_nfkc normalisation rule is sentencepiece's default.
        bos_id=-1,
        eos_id=0,
        unk_id=1,
        pad_id=-1,
    )
    return model.getvalue()


source = train(f"{dev}/source.en.txt", 1000, 1.0)
target = train(f"{dev}/reference.zh.txt", 2000, 0.98)
with open(f"{out}/source.spm", "wb") as f:
    f.write(source)
with open(f"{out}/target.spm", "wb") as f:
    f.write(target)

src = spm.SentencePieceProcessor(model_proto=source)
tgt = spm.SentencePieceProcessor(model_proto=target)

# One vocabulary for both sides, in an order unlike either .spm's (as Marian's vocab.json is):
# </s> and <unk> first, the pieces shuffled, <pad> last. A few source pieces are left out, so
# the tokenizer must map them to <unk> as MarianTokenizer does.
pieces = set()
for p in (src, tgt):
    pieces.update(p.id_to_piece(i) for i in range(p.get_piece_size()))
pieces -= {"</s>", "<unk>"}
pieces = sorted(pieces)
random.Random(7).shuffle(pieces)
left_out = [p for p in pieces if p.startswith("▁") and len(p) > 6][:5]
pieces = [p for p in pieces if p not in left_out]
vocab = {"</s>": 0, "<unk>": 1}
for p in pieces:
    vocab[p] = len(vocab)
vocab[">>cmn_Hans<<"] = len(vocab)
vocab["<pad>"] = len(vocab)
with open(f"{out}/vocab.json", "w", encoding="utf-8") as f:
    json.dump(vocab, f, ensure_ascii=False, indent=0)

with open(f"{dev}/source.en.txt", encoding="utf-8") as f:
    sentences = [l.strip() for l in f if l.strip()][::97][:20]
sentences += [
    "  Extra   spaces\tand a tab ",
    "Full-width ＡＢＣ１２３ and the ﬁ ligature, ½ and ①",
    "Prices rose 3.5% to $1,200 (€1.1bn) in Q3 — “quoted” text…",
    "Ünïcödé, naïve café, Straße",
    "Emoji 🙂 and 中文 and Ελληνικά",
    "",
]
cases = []
for s in sentences:
    p = src.encode(s, out_type=str)
    cases.append(
        {
            "text": s,
            "pieces": p,
            # Marian ids: vocab.json lookups, <unk> for pieces it lacks, then </s>.
            "ids": [vocab.get(x, vocab["<unk>"]) for x in p] + [vocab["</s>"]],
        }
    )
zh = [l.strip() for l in open(f"{dev}/reference.zh.txt", encoding="utf-8") if l.strip()][:5]
decoded = []
inverse = {i: p for p, i in vocab.items()}
for s in zh + ["2024年GDP增长5.2%，Apple公司"]:
    p = tgt.encode(s, out_type=str)
    ids = [vocab.get(x, 1) for x in p]
    # What MarianTokenizer.decode(ids, skip_special_tokens=True) gives: the pieces of the
    # ids, special tokens (<unk> among them) left out, through the target .spm's decoder.
    kept = [inverse[i] for i in ids if inverse[i] not in ("<unk>", "</s>", "<pad>")]
    decoded.append({"pieces": p, "ids": ids, "text": tgt.decode_pieces(kept)})
with open(f"{out}/expected.json", "w", encoding="utf-8") as f:
    json.dump({"encode": cases, "decode": decoded}, f, ensure_ascii=False, indent=1)
print(f"{len(cases)} encodings, {len(decoded)} decodings, vocab {len(vocab)}")
