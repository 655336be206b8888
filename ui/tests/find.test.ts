import { describe, expect, it } from 'vitest';
import {
  countLabel,
  findAll,
  findMatches,
  indexAtOrAfter,
  wrapIndex,
  type FindPiece,
} from '../src/lib/find';

const piece = (text: string, block: number): FindPiece => ({ text, block });

describe('findAll', () => {
  it('finds every occurrence, case-insensitively, without overlaps', () => {
    expect(findAll('Rain, rain, go away. RAIN!', 'rain')).toEqual([
      [0, 4],
      [6, 10],
      [21, 25],
    ]);
    expect(findAll('aaaa', 'aa')).toEqual([
      [0, 2],
      [2, 4],
    ]);
  });

  it('takes the query literally (no regular expression syntax)', () => {
    expect(findAll('Costs rose (by 3.5%) to $10.', '(by 3.5%)')).toEqual([[11, 20]]);
    expect(findAll('a.c abc', 'a.c')).toEqual([[0, 3]]);
    expect(findAll('x[1]\\y', '[1]\\')).toEqual([[1, 5]]);
  });

  it('matches accented and non-Latin text, offsets staying in the original string', () => {
    expect(findAll('Élysée palace, élysée', 'ÉLYSÉE')).toEqual([
      [0, 6],
      [15, 21],
    ]);
    expect(findAll('西班牙的雨，西班牙', '西班牙')).toEqual([
      [0, 3],
      [6, 9],
    ]);
    // 'İ' lower-cases to two code units; offsets must not drift after it.
    expect(findAll('İstanbul rain', 'rain')).toEqual([[9, 13]]);
  });

  it('matches nothing for an empty or blank query', () => {
    expect(findAll('text', '')).toEqual([]);
    expect(findAll('a  b', '  ')).toEqual([]);
  });
});

describe('findMatches', () => {
  it('gives the piece and offset of each match start and end', () => {
    const pieces = [piece('Rain in Spain', 0), piece('It rains mainly', 1)];
    expect(findMatches(pieces, 'rain')).toEqual([
      { at: 0, start: { piece: 0, offset: 0 }, end: { piece: 0, offset: 4 } },
      { at: 17, start: { piece: 1, offset: 3 }, end: { piece: 1, offset: 7 } },
    ]);
  });

  it('joins the pieces of one block, so a match may span them', () => {
    const pieces = [piece('Not translated: ', 0), piece('the rain', 0)];
    const [m] = findMatches(pieces, 'translated: the');
    expect(m.start).toEqual({ piece: 0, offset: 4 });
    expect(m.end).toEqual({ piece: 1, offset: 3 });
  });

  it('never runs a match from one block into the next', () => {
    expect(findMatches([piece('the end', 0), piece('begins', 1)], 'endbegins')).toEqual([]);
    expect(findMatches([piece('the end', 0), piece('begins', 0)], 'endbegins')).toHaveLength(1);
  });

  it('ends a match at the end of its last piece, not at the start of the next', () => {
    const [m] = findMatches([piece('ab', 0), piece('cd', 0)], 'ab');
    expect(m.end).toEqual({ piece: 0, offset: 2 });
    const [n] = findMatches([piece('ab', 0), piece('', 0), piece('cd', 0)], 'cd');
    expect(n.start).toEqual({ piece: 2, offset: 0 });
  });

  it('has no matches without pieces', () => {
    expect(findMatches([], 'x')).toEqual([]);
  });
});

describe('navigation', () => {
  it('wraps around at either end', () => {
    expect(wrapIndex(0, 3, 1)).toBe(1);
    expect(wrapIndex(2, 3, 1)).toBe(0);
    expect(wrapIndex(0, 3, -1)).toBe(2);
    expect(wrapIndex(1, 3, -1)).toBe(0);
  });

  it('starts at the first (forward) or last (backward) match with none current', () => {
    expect(wrapIndex(-1, 4, 1)).toBe(0);
    expect(wrapIndex(-1, 4, -1)).toBe(3);
    expect(wrapIndex(9, 4, 1)).toBe(0);
    expect(wrapIndex(0, 0, 1)).toBe(-1);
  });

  it('keeps the place: the first match at or after an offset, else the first', () => {
    const matches = [{ at: 3 }, { at: 10 }, { at: 42 }];
    expect(indexAtOrAfter(matches, 0)).toBe(0);
    expect(indexAtOrAfter(matches, 10)).toBe(1);
    expect(indexAtOrAfter(matches, 11)).toBe(2);
    expect(indexAtOrAfter(matches, 50)).toBe(0);
    expect(indexAtOrAfter([], 5)).toBe(-1);
  });

  it('labels the count', () => {
    expect(countLabel('', -1, 0)).toBe('');
    expect(countLabel('rain', -1, 0)).toBe('No matches');
    expect(countLabel('rain', 1, 5)).toBe('2 of 5');
  });
});
