// Paragraph-id helpers shared by the three panes.
import type { Outcome, Summary, SummaryPoint } from './types';

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
