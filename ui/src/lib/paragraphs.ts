// Paragraph-id helpers shared by the three panes.
import type { Outcome, Paragraph, Summary, SummaryPoint } from './types';

/** 'p3.s2' → 'p3'; 'p3' → 'p3'; '' → ''. */
export function paragraphIdOf(sentenceId: string): string {
  const dot = sentenceId.indexOf('.');
  return dot === -1 ? sentenceId : sentenceId.slice(0, dot);
}

/** A summary point belongs to the paragraph of its first source sentence (null when it has none). */
export function pointParagraphId(point: SummaryPoint): string | null {
  const first = point.source_sentence_ids[0];
  return first ? paragraphIdOf(first) || null : null;
}

/**
 * The summary to show. English: summary_original when the summary was translated, else the
 * summary itself. Otherwise the summary in the requested (target) language.
 */
export function displayedSummary(outcome: Outcome, english: boolean): Summary | null {
  if (english) return outcome.summary_original ?? outcome.summary;
  return outcome.summary;
}

/** True when the outcome has a summary in two languages, so the toggle does something. */
export function hasTwoSummaries(outcome: Outcome | null): boolean {
  return !!outcome && !!outcome.summary && !!outcome.summary_original;
}

/** A stretch of a paragraph's text: one of its sentences (with its id) or the text between. */
export interface SentenceRun {
  text: string;
  sid: string | null;
}

/**
 * The paragraph's text cut at its sentences, so each can be highlighted as a summary's
 * evidence. The text is kept exactly: sentences are found in order, and what lies between them
 * (spaces, anything the splitter left out) stays as plain runs. A sentence not found in the
 * text is skipped (its evidence is then only the paragraph).
 */
export function sentenceRuns(p: Paragraph): SentenceRun[] {
  const runs: SentenceRun[] = [];
  let at = 0;
  for (const s of p.sentences) {
    const start = s.text ? p.text.indexOf(s.text, at) : -1;
    if (start === -1) continue;
    if (start > at) runs.push({ text: p.text.slice(at, start), sid: null });
    runs.push({ text: s.text, sid: s.id });
    at = start + s.text.length;
  }
  if (at < p.text.length) runs.push({ text: p.text.slice(at), sid: null });
  return runs;
}

/** A summary point's source sentence ids as a data attribute value ('' when it has none). */
export function evidenceAttr(point: SummaryPoint): string {
  return point.source_sentence_ids.join(' ');
}

/** True when no sentence of the article supports the point. */
export function isUnsupported(point: SummaryPoint): boolean {
  return point.source_sentence_ids.length === 0;
}
