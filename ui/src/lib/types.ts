// Types of the Tauri command contract (src-tauri/src/commands.rs), generated from the Rust
// types into bindings.ts (checked by `cargo test`; never edit that file by hand).
// Command arguments are camelCase; data payloads are snake_case, exactly as the backend sends them.

export type {
  Document,
  ErrorCode,
  ErrorInfo,
  ExportFormat,
  GlossaryEntry,
  HistoryEntry,
  HistoryItem,
  Input,
  Language,
  LeftOut,
  Length,
  ModelInfo,
  ModelStatus,
  Outcome,
  Paragraph,
  ProcessOptions,
  ProcessResult,
  ProgressEvent,
  Purpose,
  Sentence,
  SourceFormat,
  Stage,
  Stats,
  Style,
  SummaryEngine,
  Summary,
  SummaryPoint,
  TermOrigin,
  TranslatedParagraph,
  Translation,
} from './bindings';
export { ARTICLE_EXTENSIONS, EXPORT_FORMATS } from './bindings';
