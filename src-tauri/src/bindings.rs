//! The TypeScript side of the command contract, generated from the Rust types so the two
//! cannot drift: `ui/src/lib/bindings.ts` is checked against this on every `cargo test`, and
//! `PRECIS_WRITE_BINDINGS=1 cargo test --workspace bindings` rewrites it after a change.

use precis_core::document::{
    Document, LeftOut, Paragraph, Sentence, SourceFormat, ARTICLE_EXTENSIONS,
};
use precis_core::lang::Language;
use precis_core::llm::{GenerationStats, ModelInfo};
use precis_core::models::{ModelStatus, Purpose, RemoteSettings};
use precis_core::pipeline::{Outcome, ProcessOptions};
use precis_core::progress::{Event, Stage};
use precis_core::summarize::{Length, Style, Summary, SummaryEngine, SummaryPoint};
use precis_core::translate::{
    GlossaryEntry, Problem, TermOrigin, TranslatedParagraph, Translation, UserTerm,
};
use precis_core::{ErrorCode, ErrorInfo};
use precis_export::ExportFormat;
use precis_store::glossary::{ImportSummary, StoredTerm};
use precis_store::history::{HistoryEntry, HistoryItem};
use precis_store::remote::RemoteSetup;
use ts_rs::TS;

use crate::commands::{FolderArticles, Input, ProcessResult, RemoteProbe, RemoteStatus};

/// The whole of `ui/src/lib/bindings.ts`.
pub fn typescript() -> String {
    let declarations = [
        ErrorCode::decl(),
        ErrorInfo::decl(),
        Language::decl(),
        Purpose::decl(),
        ModelStatus::decl(),
        SourceFormat::decl(),
        Sentence::decl(),
        Paragraph::decl(),
        Document::decl(),
        LeftOut::decl(),
        Input::decl(),
        Length::decl(),
        Style::decl(),
        SummaryEngine::decl(),
        ProcessOptions::decl(),
        Stage::decl(),
        Event::decl(),
        SummaryPoint::decl(),
        Summary::decl(),
        TermOrigin::decl(),
        GlossaryEntry::decl(),
        Problem::decl(),
        TranslatedParagraph::decl(),
        Translation::decl(),
        ModelInfo::decl(),
        GenerationStats::decl(),
        Outcome::decl(),
        ProcessResult::decl(),
        FolderArticles::decl(),
        HistoryItem::decl(),
        HistoryEntry::decl(),
        ExportFormat::decl(),
        UserTerm::decl(),
        StoredTerm::decl(),
        ImportSummary::decl(),
        RemoteSettings::decl(),
        RemoteSetup::decl(),
        RemoteStatus::decl(),
        RemoteProbe::decl(),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs; do not edit.\n\
         // After changing a type: PRECIS_WRITE_BINDINGS=1 cargo test --workspace bindings\n\n",
    );
    for declaration in declarations {
        out.push_str("export ");
        out.push_str(&declaration);
        out.push_str("\n\n");
    }
    let quoted = |items: Vec<String>| items.join(", ");
    out.push_str(&format!(
        "export const EXPORT_FORMATS = [{}] as const;\n\n",
        quoted(
            ExportFormat::ALL
                .iter()
                .map(|f| format!("'{}'", f.extension()))
                .collect()
        )
    ));
    out.push_str(&format!(
        "/** Below this mean log-probability per token a translated paragraph is doubtful. */\n\
         export const LOW_CONFIDENCE = {:?};\n\n",
        precis_core::translate::LOW_CONFIDENCE
    ));
    out.push_str(&format!(
        "/** Every file extension read as an article (the file dialog offers these). */\n\
         export const ARTICLE_EXTENSIONS = [{}];\n",
        quoted(
            ARTICLE_EXTENSIONS
                .iter()
                .map(|(ext, _)| format!("'{ext}'"))
                .collect()
        )
    ));
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_ui_bindings_are_the_ones_generated_from_rust() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
        let generated = super::typescript();
        if std::env::var_os("PRECIS_WRITE_BINDINGS").is_some() {
            precis_export::write_atomic(&path, generated.as_bytes()).unwrap();
            return;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "{} differs from the Rust types; run PRECIS_WRITE_BINDINGS=1 cargo test --workspace \
             bindings and commit the result",
            path.display()
        );
    }
}
