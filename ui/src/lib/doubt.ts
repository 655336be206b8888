// How far a translated paragraph can be trusted, from the checks the backend ran on it: the
// translation pane shades doubtful paragraphs by this, and "Retranslate all doubtful" counts it.
import type { Problem, TranslatedParagraph, Translation } from './types';
import { LOW_CONFIDENCE } from './types';

export type DoubtLevel = 'serious' | 'minor';

// Below LOW_CONFIDENCE (the backend's cut, generated from Rust) the model was unsure of its
// output, so a paragraph that passed every check still counts as a minor doubt (0 is certain).
export { LOW_CONFIDENCE };

/** Problems that mean the text is wrong or missing, not merely worth a look. */
const SERIOUS: ReadonlySet<string> = new Set([
  'amount_changed',
  'invented_numbers',
  'empty',
  'echoed_instructions',
  'not_translated',
  'cut_off',
  'parts_untranslated',
]);

/** The model's confidence, where the backend reports it (results before it have none). */
export function confidenceOf(p: TranslatedParagraph): number | null {
  const confidence = p.confidence;
  return typeof confidence === 'number' && Number.isFinite(confidence) ? confidence : null;
}

function lowConfidence(p: TranslatedParagraph): boolean {
  const confidence = confidenceOf(p);
  return confidence !== null && confidence < LOW_CONFIDENCE;
}

/**
 * 'serious' when a problem means the text is wrong or missing, 'minor' when something is worth
 * a look (or the model was unsure), null when nothing is. The reader's own text is trusted.
 */
export function doubtLevel(p: TranslatedParagraph): DoubtLevel | null {
  if (p.edited) return null;
  const problems = p.problems ?? [];
  if (problems.some((problem) => SERIOUS.has(problem.kind))) return 'serious';
  // A result stored before problems were typed says it only in its warnings.
  if (!p.problems && p.untranslated) return 'serious';
  if (problems.length > 0 || (p.warnings?.length ?? 0) > 0) return 'minor';
  return lowConfidence(p) ? 'minor' : null;
}

const list = (items: unknown): string => (Array.isArray(items) ? items.join(', ') : '');

/** A short plain-English line for one problem, with what it is about. */
export function problemLabel(problem: Problem): string {
  switch (problem.kind) {
    case 'name_inconsistent': {
      const { name, rendering } = problem.detail ?? { name: '', rendering: '' };
      return `name written differently: ${name} (earlier “${rendering}”)`;
    }
    case 'amount_changed':
      return `amount changed: ${problem.detail?.amount ?? ''}`.trim();
    case 'invented_numbers':
      return `numbers not in the original: ${list(problem.detail)}`.trim();
    case 'empty':
      return 'no translation';
    case 'echoed_instructions':
      return 'instructions instead of a translation';
    case 'too_short':
      return 'much shorter than the original';
    case 'parts_untranslated':
      return 'parts left in English';
    case 'english_left':
      return `English left: ${list(problem.detail)}`.trim();
    case 'cut_off':
      return 'cut off';
    case 'repeating':
      return 'repeats itself';
    case 'not_translated':
      return 'not translated';
    default:
      // A kind newer than this window: its name still says something.
      return String((problem as { kind: unknown }).kind).replace(/_/g, ' ');
  }
}

/** Every reason the paragraph is doubtful, as short labels (empty when it is not). */
export function doubtLabels(p: TranslatedParagraph): string[] {
  if (p.edited) return [];
  // Warnings only where no problem is typed (a result stored before they were).
  const labels = p.problems?.length ? p.problems.map(problemLabel) : [...(p.warnings ?? [])];
  if (lowConfidence(p)) labels.push('the model was unsure of this text');
  return labels;
}

/** The paragraphs "Retranslate all doubtful" means, in document order. */
export function doubtfulIds(translation: Translation | null | undefined): string[] {
  return (translation?.paragraphs ?? []).filter((p) => doubtLevel(p) !== null).map((p) => p.id);
}

/** How many paragraphs are at each level. */
export function doubtCounts(translation: Translation | null | undefined): Record<DoubtLevel, number> {
  const counts = { serious: 0, minor: 0 };
  for (const p of translation?.paragraphs ?? []) {
    const level = doubtLevel(p);
    if (level) counts[level]++;
  }
  return counts;
}
