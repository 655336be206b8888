// Pure reducer from process_article's Channel events to what the panes and progress bar show
// while a job runs. Every call returns a new state object (never mutates its input).
import type { ProgressEvent, Stage } from './types';

export interface StreamParagraph {
  /** Source paragraph id ('p3'), or 'title' / 'subtitle' for the article's heading lines. */
  id: string;
  text: string;
  /** True once paragraph_done replaced the streamed text with the final one. */
  done: boolean;
}

export interface StreamState {
  stage: Stage | null;
  /** What the stage works on, when a `stage` event named it (the model file being loaded). */
  detail: string;
  done: number;
  total: number;
  tokens: number;
  /** Summary text streamed in English ('summarizing'). */
  summary: string;
  /** Summary text streamed in the target language ('translating_summary'). */
  summaryTranslated: string;
  /** Translation pane, in the order paragraphs first appeared. */
  translation: StreamParagraph[];
  warnings: string[];
  /** What 'translating' progress counts: paragraphs in a job, sentences when retranslating. */
  unit: TranslationUnit;
}

export type TranslationUnit = 'paragraph' | 'sentence';

export const initialStream = (): StreamState => ({
  stage: null,
  detail: '',
  done: 0,
  total: 0,
  tokens: 0,
  summary: '',
  summaryTranslated: '',
  translation: [],
  warnings: [],
  unit: 'paragraph',
});

/** Paragraph key for translation tokens that carry no paragraph id. */
export const NO_PARAGRAPH = '';

function upsert(
  list: StreamParagraph[],
  id: string,
  update: (old: StreamParagraph | undefined) => StreamParagraph,
): StreamParagraph[] {
  const i = list.findIndex((p) => p.id === id);
  if (i === -1) return [...list, update(undefined)];
  const next = list.slice();
  next[i] = update(list[i]);
  return next;
}

export function reduceStream(state: StreamState, ev: ProgressEvent): StreamState {
  switch (ev.event) {
    case 'stage':
      return { ...state, stage: ev.stage, detail: ev.detail, done: 0, total: 0, tokens: 0 };
    case 'progress': {
      // The detail belongs to the stage that named it.
      const detail = ev.stage === state.stage ? state.detail : '';
      return { ...state, stage: ev.stage, detail, done: ev.done, total: ev.total, tokens: ev.tokens };
    }
    case 'token': {
      const stage = state.stage === ev.stage ? state : { ...state, stage: ev.stage };
      if (ev.stage === 'summarizing') {
        return { ...stage, summary: stage.summary + ev.text };
      }
      if (ev.stage === 'translating_summary') {
        return { ...stage, summaryTranslated: stage.summaryTranslated + ev.text };
      }
      if (ev.stage === 'translating') {
        const id = ev.paragraph_id ?? NO_PARAGRAPH;
        return {
          ...stage,
          translation: upsert(stage.translation, id, (old) =>
            // A retried paragraph streams again after its first attempt; paragraph_done
            // then settles it, so text keeps accumulating until then.
            old && !old.done
              ? { ...old, text: old.text + ev.text }
              : { id, text: ev.text, done: false },
          ),
        };
      }
      // Tokens of other stages (e.g. the glossary) are not shown in a pane.
      return stage;
    }
    case 'paragraph_done':
      return {
        ...state,
        translation: upsert(state.translation, ev.paragraph_id, () => ({
          id: ev.paragraph_id,
          text: ev.text,
          done: true,
        })),
      };
    case 'warning':
      return {
        ...state,
        warnings: [
          ...state.warnings,
          ev.paragraph_id ? `${ev.paragraph_id}: ${ev.message}` : ev.message,
        ],
      };
    default:
      return state;
  }
}

const STAGE_LABELS: Record<Stage, string> = {
  reading: 'Reading the article',
  loading_model: 'Loading the model',
  summarizing: 'Summarizing',
  glossary: 'Building the glossary',
  translating: 'Translating',
  translating_summary: 'Translating the summary',
  downloading: 'Downloading',
  verifying: 'Verifying',
};

export function stageLabel(stage: Stage | null): string {
  return stage ? (STAGE_LABELS[stage] ?? String(stage).replace(/_/g, ' ')) : 'Starting';
}

/**
 * "paragraph i of n" while translating: `done` paragraphs are finished, so the one in
 * progress is done + 1 (capped at n once all are done).
 */
export function paragraphOf(done: number, total: number, unit: TranslationUnit = 'paragraph'): string {
  if (total <= 0) return '';
  return `${unit} ${Math.min(done + 1, total)} of ${total}`;
}

/** The progress line: stage label plus a count where it means something. */
export function progressText(
  s: Pick<StreamState, 'stage' | 'done' | 'total'> & { detail?: string; unit?: TranslationUnit },
): string {
  const label = stageLabel(s.stage);
  if (s.detail) return `${label} — ${s.detail}`;
  if (s.stage === 'translating' && s.total > 0) {
    return `${label} — ${paragraphOf(s.done, s.total, s.unit)}`;
  }
  if ((s.stage === 'downloading' || s.stage === 'verifying') && s.total > 0) {
    return `${label} — ${formatMB(s.done)} of ${formatMB(s.total)}`;
  }
  if (s.total > 1) return `${label} — ${s.done} of ${s.total}`;
  return label;
}

/** Fraction for a <progress> element, 0..1; null when indeterminate. */
export function progressFraction(done: number, total: number): number | null {
  if (total <= 0) return null;
  return Math.max(0, Math.min(1, done / total));
}

export function formatMB(bytes: number): string {
  const mb = bytes / 1_000_000;
  return `${mb >= 100 ? Math.round(mb) : mb.toFixed(1)} MB`;
}
