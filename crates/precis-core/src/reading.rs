//! Reading an article for a job, the one way the CLI and the window do it: the readers, and
//! OCR for scans and pictures (`document::ocr`), with the job's progress events and cancel.

use std::path::Path;

use crate::document::ocr::{self, PageObserver};
use crate::document::{Document, ReadLimits};
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::Result;

/// What the reader is told when an article's text came from OCR.
pub const OCR_WARNING: &str = "the text was read from page images by OCR (Tesseract): names, numbers and punctuation may be misread — check them against the original";

/// Reads the article at `path`; a scan or a picture is read through OCR page by page
/// (`Progress` events of [`Stage::Reading`]; the pipeline warns that its text came from OCR).
pub fn read_article(
    path: &Path,
    limits: &ReadLimits,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Document> {
    struct Pages<'a> {
        sink: &'a mut dyn EventSink,
        cancel: &'a CancelToken,
    }
    impl PageObserver for Pages<'_> {
        fn page_done(&mut self, done: usize, total: usize) {
            self.sink.emit(Event::Progress {
                stage: Stage::Reading,
                done: done as u64,
                total: total as u64,
                tokens: 0,
            });
        }
        fn cancelled(&self) -> bool {
            self.cancel.is_cancelled()
        }
    }
    Ok(ocr::read_file_with_ocr(
        path,
        limits,
        &mut Pages { sink, cancel },
    )?)
}
