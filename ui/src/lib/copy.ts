// What the Copy buttons put on the clipboard: each pane's text as plain text (blocks separated
// by a blank line), and the clipboard write itself.
import type { BilingualRow } from './bilingual';
import type { StreamParagraph, StreamState } from './stream';
import type { Document, Summary, Translation } from './types';

/** Non-empty blocks, trimmed, separated by a blank line. */
export function joinBlocks(blocks: readonly (string | null | undefined)[]): string {
  return blocks
    .map((b) => (b ?? '').trim())
    .filter((b) => b !== '')
    .join('\n\n');
}

/** The original pane: title, subtitle and paragraphs. */
export function originalText(doc: Document | null): string {
  if (!doc) return '';
  return joinBlocks([doc.title, doc.subtitle, ...doc.paragraphs.map((p) => p.text)]);
}

/** A summary: prose points as paragraphs, bullet points as a list ("• " lines). */
export function summaryText(summary: Summary | null): string {
  if (!summary) return '';
  const points = summary.points.map((p) => p.text.trim()).filter(Boolean);
  if (summary.style === 'bullets') return points.map((p) => `• ${p}`).join('\n');
  return joinBlocks(points);
}

/** The summary pane while a job streams: the English text, then its translation. */
export function streamedSummaryText(stream: Pick<StreamState, 'summary' | 'summaryTranslated'>): string {
  return joinBlocks([stream.summary, stream.summaryTranslated]);
}

/** The translation pane: title, subtitle and paragraphs (an untranslated one as it stands). */
export function translationText(translation: Translation | null): string {
  if (!translation) return '';
  return joinBlocks([
    translation.title,
    translation.subtitle,
    ...translation.paragraphs.map((p) => p.text),
  ]);
}

/** The translation pane while a job streams, in the order the paragraphs appeared. */
export function streamedTranslationText(paragraphs: readonly StreamParagraph[]): string {
  return joinBlocks(paragraphs.map((p) => p.text));
}

/** The bilingual pane: each original block followed by its translation. */
export function bilingualText(rows: readonly BilingualRow[]): string {
  return joinBlocks(rows.flatMap((r) => [r.original, r.translated]));
}

/**
 * Puts `text` on the clipboard; false when that failed. The async clipboard first; WebKitGTK
 * may refuse it (permissions, no secure context), so then a hidden textarea and
 * execCommand('copy'), which works from the click that asked for it.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the textarea
  }
  return copyWithTextarea(text);
}

function copyWithTextarea(text: string): boolean {
  const doc = document;
  const focused = doc.activeElement instanceof HTMLElement ? doc.activeElement : null;
  const selection = doc.getSelection();
  const ranges = selection
    ? Array.from({ length: selection.rangeCount }, (_, i) => selection.getRangeAt(i))
    : [];
  const area = doc.createElement('textarea');
  area.value = text;
  area.readOnly = true;
  area.tabIndex = -1;
  area.className = 'clipboard-helper';
  area.setAttribute('aria-hidden', 'true');
  doc.body.appendChild(area);
  let copied = false;
  try {
    area.focus({ preventScroll: true });
    area.select();
    copied = typeof doc.execCommand === 'function' && doc.execCommand('copy');
  } catch {
    copied = false;
  } finally {
    area.remove();
    // Give the reader back the focus and selection the copy borrowed.
    focused?.focus({ preventScroll: true });
    if (selection) {
      selection.removeAllRanges();
      for (const r of ranges) selection.addRange(r);
    }
  }
  return copied;
}
