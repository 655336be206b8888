import { describe, expect, it } from 'vitest';
import {
  LOW_CONFIDENCE,
  doubtCounts,
  doubtLabels,
  doubtLevel,
  doubtfulIds,
  problemLabel,
} from '../src/lib/doubt';
import type { Problem, TranslatedParagraph } from '../src/lib/types';
import { makeOutcome } from './helpers';

const para = (extra: Partial<TranslatedParagraph> & { confidence?: number | null } = {}) =>
  ({ id: 'p1', source: 'It rained.', text: '下雨了。', warnings: [], ...extra }) as TranslatedParagraph;

const SERIOUS: Problem[] = [
  { kind: 'amount_changed', detail: { amount: '3.5 billion' } },
  { kind: 'invented_numbers', detail: ['12'] },
  { kind: 'empty' },
  { kind: 'echoed_instructions' },
  { kind: 'not_translated' },
  { kind: 'cut_off' },
  { kind: 'parts_untranslated' },
];
const MINOR: Problem[] = [
  { kind: 'english_left', detail: ['Kremlin'] },
  { kind: 'name_inconsistent', detail: { name: 'Putin', rendering: '普京' } },
  { kind: 'too_short' },
  { kind: 'repeating' },
];

describe('doubtLevel', () => {
  it('is serious for problems that mean the text is wrong or missing', () => {
    for (const problem of SERIOUS) expect(doubtLevel(para({ problems: [problem] })), problem.kind).toBe('serious');
  });

  it('is minor for problems worth a look', () => {
    for (const problem of MINOR) expect(doubtLevel(para({ problems: [problem] })), problem.kind).toBe('minor');
  });

  it('takes the worst of several problems', () => {
    expect(doubtLevel(para({ problems: [MINOR[0], SERIOUS[0]] }))).toBe('serious');
  });

  it('is null for a clean paragraph and for the reader’s own text', () => {
    expect(doubtLevel(para())).toBeNull();
    expect(doubtLevel(para({ problems: [] }))).toBeNull();
    expect(doubtLevel(para({ problems: [SERIOUS[0]], edited: true }))).toBeNull();
  });

  it('counts low confidence as a minor doubt, only below the threshold', () => {
    expect(doubtLevel(para({ problems: [], confidence: LOW_CONFIDENCE - 0.5 }))).toBe('minor');
    expect(doubtLevel(para({ problems: [], confidence: LOW_CONFIDENCE }))).toBeNull();
    expect(doubtLevel(para({ problems: [], confidence: -0.2 }))).toBeNull();
    expect(doubtLevel(para({ problems: [], confidence: undefined }))).toBeNull();
    // A serious problem stays serious however sure the model was.
    expect(doubtLevel(para({ problems: [SERIOUS[0]], confidence: -0.01 }))).toBe('serious');
  });

  it('reads results stored before problems were typed by their warnings', () => {
    expect(doubtLevel(para({ warnings: ['an amount may have changed'] }))).toBe('minor');
    expect(doubtLevel(para({ warnings: ['not translated'], untranslated: true }))).toBe('serious');
  });
});

describe('problemLabel', () => {
  it('says each kind in a few words, with what it is about', () => {
    expect(problemLabel({ kind: 'amount_changed', detail: { amount: '3.5 billion' } })).toBe('amount changed: 3.5 billion');
    expect(problemLabel({ kind: 'english_left', detail: ['Kremlin', 'NATO'] })).toBe('English left: Kremlin, NATO');
    expect(problemLabel({ kind: 'invented_numbers', detail: ['12', '40'] })).toBe('numbers not in the original: 12, 40');
    expect(problemLabel({ kind: 'name_inconsistent', detail: { name: 'Putin', rendering: '普京' } })).toBe(
      'name written differently: Putin (earlier “普京”)',
    );
    expect(problemLabel({ kind: 'not_translated' })).toBe('not translated');
    expect(problemLabel({ kind: 'cut_off' })).toBe('cut off');
    for (const problem of [...SERIOUS, ...MINOR]) expect(problemLabel(problem)).not.toBe('');
  });

  it('names a kind it does not know', () => {
    expect(problemLabel({ kind: 'wrong_gender' } as unknown as Problem)).toBe('wrong gender');
  });
});

describe('doubtLabels, doubtfulIds, doubtCounts', () => {
  it('lists every reason, the warnings of old results, low confidence', () => {
    expect(doubtLabels(para({ problems: [SERIOUS[0], MINOR[0]] }))).toEqual([
      'amount changed: 3.5 billion',
      'English left: Kremlin',
    ]);
    expect(doubtLabels(para({ warnings: ['an amount may have changed'] }))).toEqual(['an amount may have changed']);
    expect(doubtLabels(para({ problems: [], confidence: -2 }))).toEqual(['the model was unsure of this text']);
    expect(doubtLabels(para({ problems: [SERIOUS[0]], edited: true }))).toEqual([]);
  });

  it('finds the doubtful paragraphs in document order and counts them by level', () => {
    const translation = makeOutcome().translation!;
    translation.paragraphs[0].problems = [MINOR[0]];
    translation.paragraphs[1].problems = [];
    translation.paragraphs[2].problems = [SERIOUS[0]];
    expect(doubtfulIds(translation)).toEqual(['p1', 'p3']);
    expect(doubtCounts(translation)).toEqual({ serious: 1, minor: 1 });
    translation.paragraphs[2].edited = true;
    expect(doubtfulIds(translation)).toEqual(['p1']);
    expect(doubtfulIds(null)).toEqual([]);
    expect(doubtCounts(undefined)).toEqual({ serious: 0, minor: 0 });
  });
});
