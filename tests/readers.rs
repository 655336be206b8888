//! Reader fixtures (tests/fixtures/readers, made by make_fixtures.py) and hostile inputs.

use std::path::PathBuf;

use precis_core::document::{parse_bytes, read_file, Document, ReadError, ReadLimits};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/readers")
        .join(name)
}

fn read(name: &str) -> Result<Document, ReadError> {
    read_file(&fixture(name), &ReadLimits::default())
}

#[test]
fn dump() {
    for f in [
        "two-column.pdf",
        "hyphenated.pdf",
        "headers-footers.pdf",
        "restricted.pdf",
        "accents.rtf",
    ] {
        match read(f) {
            Ok(d) => {
                println!(
                    "== {f}: title={:?} byline={:?} published={:?}",
                    d.title, d.byline, d.published
                );
                for p in &d.paragraphs {
                    println!("  [{}] {}", p.id, p.text);
                }
            }
            Err(e) => println!("== {f}: ERR {} {e}", e.code()),
        }
    }
    for f in ["scanned.pdf", "encrypted.pdf"] {
        let e = read(f).unwrap_err();
        println!("== {f}: ERR {e}");
    }
    let _ = parse_bytes(b"x", "x.txt", None);
}
