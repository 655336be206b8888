// Types of the Tauri command contract (src-tauri/src/commands.rs).
// Command arguments are camelCase; data payloads are snake_case, exactly as the backend sends them.

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface Language {
  code: string;
  name: string;
  native: string;
}

export interface ModelStatus {
  id: string;
  name: string;
  /** GGUF `general.architecture` (qwen2, qwen3, llama, gemma3), or marian; empty when unknown. */
  architecture: string;
  /** 'translation': a dedicated translation model (article and summary translation only);
   *  'test': a small file that checks the decoder; never used for an article. */
  purpose: 'assistant' | 'translation' | 'test';
  /** False: the architecture is supported, but this file was never tried by the developers. */
  tested: boolean;
  parameters: string;
  approx_size_mb: number;
  license: string;
  /** Path of the installed file, or null. */
  installed: string | null;
  installed_bytes: number | null;
  /** Disk taken by its cached tiled weights (what makes the next start fast), or null. */
  tile_cache_bytes: number | null;
  /** Where it came from, e.g. ['hub'], ['pypi mirror'], ['imported']. */
  sources: string[];
  removable: boolean;
}

export interface Sentence {
  id: string; // 'p1.s1'
  text: string;
}

export interface Paragraph {
  id: string; // 'p1'
  text: string;
  sentences: Sentence[];
}

export interface Document {
  title: string;
  subtitle: string | null;
  dateline: string | null;
  byline?: string | null;
  source_name: string;
  format: string;
  encoding: string;
  language: string;
  paragraphs: Paragraph[];
  /** Lines of a text page not taken as the article (absent when none). */
  left_out?: LeftOut[];
}

export interface LeftOut {
  line: number;
  text: string;
  before_article: boolean;
  restored: boolean;
}

export type Input =
  | { kind: 'file'; path: string }
  | { kind: 'text'; text: string }
  | { kind: 'document'; document: Document; source_path: string | null };

export type Length = 'short' | 'medium' | 'long';
export type Style = 'prose' | 'bullets';
export type Engine = 'llm' | 'extractive';

export interface ProcessOptions {
  target: string;
  length: Length;
  style: Style;
  /** null = automatic (LLM when a model is installed, else extractive). */
  engine: Engine | null;
  translate: boolean;
  summaryInTarget: boolean;
  /** Model id; null = default. */
  model: string | null;
  /** Dedicated translation model id; null = the LLM translates. */
  translationModel: string | null;
}

export type Stage =
  | 'reading'
  | 'loading_model'
  | 'summarizing'
  | 'glossary'
  | 'translating'
  | 'translating_summary'
  | 'downloading'
  | 'verifying';

export type ProgressEvent =
  | { event: 'progress'; stage: Stage; done: number; total: number; tokens: number }
  | { event: 'token'; stage: Stage; paragraph_id: string | null; text: string }
  | { event: 'paragraph_done'; paragraph_id: string; text: string }
  | { event: 'warning'; message: string };

export interface SummaryPoint {
  text: string;
  source_sentence_ids: string[];
}

export interface Summary {
  engine: Engine;
  model: string | null;
  language: string;
  style: Style;
  points: SummaryPoint[];
  seconds: number;
  /** The model that translated the summary, when it was translated. */
  translated_by?: string;
}

export interface TranslatedParagraph {
  id: string;
  source: string;
  text: string;
  warnings?: string[];
  /** The model did not translate it: `text` is the source paragraph, shown marked as such. */
  untranslated?: boolean;
}

export interface GlossaryEntry {
  source: string;
  target: string;
  origin: string;
}

export interface Translation {
  language: string;
  model: string;
  title: string;
  subtitle: string | null;
  paragraphs: TranslatedParagraph[];
  glossary: GlossaryEntry[];
  seconds: number;
}

export interface ModelInfo {
  id?: string;
  name: string;
  path: string;
}

export interface Stats {
  prompt_tokens: number;
  reused_tokens: number;
  generated_tokens: number;
  prefill_secs: number;
  decode_secs: number;
}

export interface Outcome {
  document: Document;
  /** In the requested language. */
  summary: Summary | null;
  /** The English original when the summary was translated. */
  summary_original: Summary | null;
  translation: Translation | null;
  model: ModelInfo | null;
  stats: Stats | null;
}

export interface ProcessResult {
  history_id: number;
  outcome: Outcome;
}

export interface HistoryItem {
  id: number;
  title: string;
  source_name: string;
  target: string;
  model: string | null;
  created_at: string; // RFC 3339
  has_translation: boolean;
}

export interface HistoryEntry {
  id: number;
  created_at: string;
  options: ProcessOptions;
  outcome: Outcome;
}

export const EXPORT_FORMATS = ['md', 'txt', 'html', 'json', 'docx', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const ARTICLE_EXTENSIONS = [
  'txt',
  'md',
  'markdown',
  'html',
  'htm',
  'xhtml',
  'mhtml',
  'pdf',
  'docx',
  'odt',
  'epub',
  'rtf',
];
