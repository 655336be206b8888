import { describe, expect, it } from 'vitest';
import {
  displayedSummary,
  hasTwoSummaries,
  paragraphIdOf,
  sentenceRuns,
  pointParagraphId,
} from '../src/lib/paragraphs';
import { fileStem, toErrorInfo } from '../src/lib/api';
import { makeOutcome } from './helpers';

describe('paragraph ids', () => {
  it('maps sentence ids to paragraph ids', () => {
    expect(paragraphIdOf('p3.s2')).toBe('p3');
    expect(paragraphIdOf('p12')).toBe('p12');
    expect(paragraphIdOf('')).toBe('');
  });

  it('maps a summary point to the paragraph of its first source sentence', () => {
    expect(pointParagraphId({ text: 'x', source_sentence_ids: ['p3.s2', 'p1.s1'] })).toBe('p3');
    expect(pointParagraphId({ text: 'x', source_sentence_ids: [] })).toBeNull();
  });
});

describe('displayedSummary', () => {
  it('shows summary_original in English and summary in the target language', () => {
    const o = makeOutcome();
    expect(displayedSummary(o, true)?.language).toBe('en');
    expect(displayedSummary(o, false)?.language).toBe('zh-Hans');
    expect(hasTwoSummaries(o)).toBe(true);
  });

  it('falls back to the summary when there is no translated summary', () => {
    const o = { ...makeOutcome(), summary_original: null };
    expect(displayedSummary(o, true)).toBe(o.summary);
    expect(hasTwoSummaries(o)).toBe(false);
  });
});

describe('helpers', () => {
  it('normalises rejections to ErrorInfo', () => {
    expect(toErrorInfo({ code: 'io', message: 'cannot read' })).toEqual({ code: 'io', message: 'cannot read' });
    expect(toErrorInfo('boom')).toEqual({ code: 'internal', message: 'boom' });
    expect(toErrorInfo(new Error('bad'))).toEqual({ code: 'internal', message: 'bad' });
  });

  it('makes safe export file names from titles', () => {
    expect(fileStem('A/B: "C"?')).toBe('A B C');
    expect(fileStem('  ')).toBe('precis');
    expect(fileStem('西班牙的雨')).toBe('西班牙的雨');
  });
});

describe('sentenceRuns', () => {
  const para = (text: string, sentences: [string, string][]) => ({
    id: 'p1',
    text,
    sentences: sentences.map(([id, t]) => ({ id, text: t })),
  });

  it('cuts a paragraph at its sentences and keeps every character', () => {
    const p = para('One.  Two? "Three."', [
      ['p1.s1', 'One.'],
      ['p1.s2', 'Two?'],
      ['p1.s3', '"Three."'],
    ]);
    const runs = sentenceRuns(p);
    expect(runs.map((r) => r.text).join('')).toBe(p.text);
    expect(runs.filter((r) => r.sid).map((r) => r.sid)).toEqual(['p1.s1', 'p1.s2', 'p1.s3']);
  });

  it('skips a sentence the text does not hold and leaves the rest plain', () => {
    const p = para('Alpha beta. Gamma.', [
      ['p1.s1', 'Not here.'],
      ['p1.s2', 'Gamma.'],
    ]);
    expect(sentenceRuns(p)).toEqual([
      { text: 'Alpha beta. ', sid: null },
      { text: 'Gamma.', sid: 'p1.s2' },
    ]);
  });
});
