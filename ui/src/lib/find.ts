// Find in the article: pure matching and navigation. The window's text is handed over as
// pieces (one per DOM text node); pieces of the same block (paragraph, heading, list item) are
// searched as one text, so a match may span them, but never runs from one block into the next.

export interface FindPiece {
  text: string;
  /** Which block the piece belongs to; consecutive pieces with the same block are joined. */
  block: number;
}

/** A place in the pieces: the piece's index and an offset in its text. */
export interface PiecePosition {
  piece: number;
  offset: number;
}

export interface FindMatch {
  /** Offset of the match in all the pieces' text taken together (keeps the place across searches). */
  at: number;
  start: PiecePosition;
  end: PiecePosition;
}

// Never typed by a user, so no match can cross a block boundary.
const BLOCK_BREAK = '\u0000';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Start and end offsets of the occurrences of `query` in `text`, case-insensitive, left to
 * right, not overlapping. An empty (or all-space) query matches nothing.
 */
export function findAll(text: string, query: string): [number, number][] {
  if (!query.trim()) return [];
  // Unicode-aware simple case folding keeps offsets in `text` (toLowerCase may not: 'İ').
  const re = new RegExp(escapeRegExp(query), 'giu');
  const found: [number, number][] = [];
  for (const m of text.matchAll(re)) found.push([m.index, m.index + m[0].length]);
  return found;
}

/** The last i with starts[i] <= at (starts ascending, starts[0] = 0). */
function pieceAt(starts: readonly number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Every occurrence of `query` in the pieces, in order. */
export function findMatches(pieces: readonly FindPiece[], query: string): FindMatch[] {
  if (pieces.length === 0) return [];
  const starts: number[] = [];
  let text = '';
  pieces.forEach((p, i) => {
    if (i > 0 && p.block !== pieces[i - 1].block) text += BLOCK_BREAK;
    starts.push(text.length);
    text += p.text;
  });
  // A match ends in the piece holding its last character, so an end at a piece boundary is
  // the end of the piece before it rather than offset 0 of the next.
  const position = (at: number, isEnd: boolean): PiecePosition => {
    const piece = pieceAt(starts, isEnd ? at - 1 : at);
    return { piece, offset: at - starts[piece] };
  };
  return findAll(text, query).map(([from, to]) => ({
    at: from,
    start: position(from, false),
    end: position(to, true),
  }));
}

/**
 * The index `delta` steps from `current` among `count` matches, wrapping around at either end.
 * With no current match (-1), forward starts at the first and backward at the last.
 */
export function wrapIndex(current: number, count: number, delta: number): number {
  if (count <= 0) return -1;
  if (current < 0 || current >= count) return delta < 0 ? count - 1 : 0;
  return (((current + delta) % count) + count) % count;
}

/**
 * The first match at or after offset `at` (wrapping to the first match), so the current match
 * stays in place while the query grows or the text changes around it; -1 with no matches.
 */
export function indexAtOrAfter(matches: readonly Pick<FindMatch, 'at'>[], at: number): number {
  if (matches.length === 0) return -1;
  const i = matches.findIndex((m) => m.at >= at);
  return i === -1 ? 0 : i;
}

/** The find bar's count: '' before anything is typed, 'No matches', or 'n of m'. */
export function countLabel(query: string, current: number, total: number): string {
  if (!query.trim()) return '';
  if (total === 0) return 'No matches';
  return `${current + 1} of ${total}`;
}
