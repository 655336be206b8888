#!/usr/bin/env python3
"""Fills fuzz/corpus/<target>/ with seeds from the committed fixtures (run from anywhere).
Container seeds use the input layout of fuzz/common/mod.rs: a mode byte, then parts
separated by two NUL bytes."""
import glob, io, os, re, shutil, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(ROOT, "tests", "fixtures")
PAGES = os.path.join(os.path.dirname(ROOT), "shared", "readability-test-pages")


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


for p in glob.glob(os.path.join(FIX, "readers", "*.pdf")):
    put("pdf", os.path.basename(p), read(p))
for p in glob.glob(os.path.join(FIX, "readers", "*.rtf")):
    put("rtf", os.path.basename(p), read(p))
for p in glob.glob(os.path.join(FIX, "readers", "*.txt")) + glob.glob(os.path.join(FIX, "*.txt")):
    put("plain", os.path.basename(p), read(p))
# HTML seeds are cut down to their structure: whole pages (up to 200 KB) ran a few executions a
# second. Scripts, styles, SVG and comments go, runs of text shrink to a few words, and the page is
# cut at 6 KB — tags, attributes, nesting and metadata are what the reader's branches depend on.
def small_page(data):
    text = data.decode("utf-8", "replace")
    text = re.sub(r"(?is)<(script|style|svg|noscript)\b.*?</\1\s*>", "", text)
    text = re.sub(r"(?s)<!--.*?-->", "", text)
    text = re.sub(r">([^<]{80,})<", lambda m: ">" + " ".join(m.group(1).split()[:12]) + "<", text)
    text = re.sub(r"\s+", " ", text)
    return text.encode("utf-8")[:6144]


for p in sorted(glob.glob(os.path.join(PAGES, "*", "source.html"))):
    put("html", os.path.basename(os.path.dirname(p)) + ".html", small_page(read(p)))

DOC = (b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
       b'<w:body><w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Storm hits coast</w:t></w:r></w:p>'
       b'<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>A list item.</w:t></w:r></w:p>'
       b'<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'
       b'<w:p><w:r><w:t xml:space="preserve">Thousands lost power </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>overnight.</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p></w:body></w:document>')
STY = b'<w:styles xmlns:w="x"><w:style w:styleId="Title"><w:name w:val="Title"/></w:style></w:styles>'
CORE = b'<cp:coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Storm</dc:title><dc:creator>Ann</dc:creator></cp:coreProperties>'
ODT = (b'<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text>'
       b'<text:h text:outline-level="1">Storm hits coast</text:h><text:p>A storm hit the coast on Monday.</text:p>'
       b'<text:list><text:list-item><text:p>Item</text:p></text:list-item></text:list></office:text></office:body></office:document-content>')
OPF = (b'<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
       b'<dc:title>Book</dc:title><dc:creator>Ann</dc:creator><dc:date>2020-01-02</dc:date></metadata>'
       b'<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/><item id="c2" href="c2.xhtml" media-type="application/xhtml+xml"/></manifest>'
       b'<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>')
CH = b'<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Chapter</h1><p>A storm hit the coast on Monday.</p><p>Power was lost.</p></body></html>'
put("office", "docx-parts", b"\x00" + DOC + b"\0\0" + STY + b"\0\0" + CORE)
put("office", "odt-parts", b"\x01" + ODT + b"\0\0" + CORE)
put("epub", "epub-parts", b"\x00" + OPF + b"\0\0" + CH + b"\0\0" + CH)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("[Content_Types].xml", "<Types/>")
    z.writestr("word/document.xml", DOC)
put("office", "docx-raw", b"\x02" + buf.getvalue())
print({t: len(os.listdir(os.path.join(HERE, "corpus", t))) for t in os.listdir(os.path.join(HERE, "corpus"))})
