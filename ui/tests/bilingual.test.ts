import { describe, expect, it } from 'vitest';
import { bilingualRows } from '../src/lib/bilingual';
import { makeDocument, makeOutcome } from './helpers';

const summary = (rows: ReturnType<typeof bilingualRows>) =>
  rows.map((r) => [r.pid, r.original, r.translated]);

describe('bilingualRows', () => {
  it('pairs each original block with its translation by id', () => {
    const doc = makeDocument('Rain in Spain', 2);
    doc.subtitle = 'Mainly on the plain';
    const translation = makeOutcome(doc).translation!;
    translation.subtitle = '主要在平原';
    // Order of the translation's paragraphs does not matter: ids do.
    translation.paragraphs.reverse();
    expect(summary(bilingualRows(doc, translation))).toEqual([
      ['title', 'Rain in Spain', '西班牙的雨'],
      ['subtitle', 'Mainly on the plain', '主要在平原'],
      ['p1', 'Paragraph 1 of Rain in Spain.', '第1段。'],
      ['p2', 'Paragraph 2 of Rain in Spain.', '第2段。'],
    ]);
  });

  it('shows an untranslated paragraph once, marked, with no translation', () => {
    const doc = makeDocument('Rain', 2);
    const translation = makeOutcome(doc).translation!;
    translation.paragraphs[0] = {
      ...translation.paragraphs[0],
      text: doc.paragraphs[0].text,
      untranslated: true,
      warnings: ['the model did not translate this text'],
    };
    const row = bilingualRows(doc, translation).find((r) => r.pid === 'p1')!;
    expect(row).toMatchObject({ original: 'Paragraph 1 of Rain.', translated: null, untranslated: true });
  });

  it('keeps warnings with their paragraph', () => {
    const doc = makeDocument('Rain', 1);
    const translation = makeOutcome(doc).translation!;
    translation.paragraphs[0].warnings = ['number changed: 3 → 4'];
    expect(bilingualRows(doc, translation)[1].warnings).toEqual(['number changed: 3 → 4']);
  });

  it('uses what has streamed so far, originals without a translation yet standing alone', () => {
    const doc = makeDocument('Rain', 3);
    const rows = bilingualRows(doc, null, [
      { id: 'title', text: '雨', done: true },
      { id: 'p1', text: '第1段。', done: true },
      { id: 'p2', text: '第2', done: false },
    ]);
    expect(summary(rows)).toEqual([
      ['title', 'Rain', '雨'],
      ['p1', 'Paragraph 1 of Rain.', '第1段。'],
      ['p2', 'Paragraph 2 of Rain.', '第2'],
      ['p3', 'Paragraph 3 of Rain.', null],
    ]);
    expect(rows.map((r) => r.streaming)).toEqual([false, false, true, false]);
  });

  it('keeps streamed text no paragraph matches, at the end', () => {
    const rows = bilingualRows(makeDocument('Rain', 1), null, [{ id: '', text: '未知', done: false }]);
    expect(rows[rows.length - 1]).toMatchObject({ pid: null, original: null, translated: '未知' });
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('is the original alone without a translation', () => {
    const rows = bilingualRows(makeDocument('Rain', 2), null, []);
    expect(rows.map((r) => r.translated)).toEqual([null, null, null]);
  });
});
