// The names and terms a translation used (Translation.glossary), as the translation pane's
// footer lists them: where each rendering came from, the reader's own entries first.
import type { GlossaryEntry, TermOrigin } from './types';

export const ORIGIN_LABELS: Record<TermOrigin, string> = {
  user: 'Your glossary',
  term_base: 'Term base',
  remembered: 'Earlier article',
  // Both were settled while translating this article: Précis's name tables, or the model's
  // first choice carried through the rest.
  rendered: 'This article',
  carried: 'This article',
};

const ORIGIN_ORDER: TermOrigin[] = ['user', 'term_base', 'remembered', 'rendered', 'carried'];

/** The entries grouped by origin (the reader's glossary first), each group in article order. */
export function orderedTerms(entries: GlossaryEntry[]): GlossaryEntry[] {
  const rank = (e: GlossaryEntry) => {
    const i = ORIGIN_ORDER.indexOf(e.origin);
    return i < 0 ? ORIGIN_ORDER.length : i;
  };
  // Array.prototype.sort is stable, so each group keeps the backend's order.
  return [...entries].sort((a, b) => rank(a) - rank(b));
}

/** The line saying which of the reader's entries the translation does not use, or null. */
export function unappliedText(sources: string[]): string | null {
  if (sources.length === 0) return null;
  return `Not applied from your glossary: ${sources.join(', ')} — the translation words ${
    sources.length === 1 ? 'it' : 'them'
  } differently.`;
}
