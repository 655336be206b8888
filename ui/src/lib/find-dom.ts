// Find in the article, DOM side: the panes' text nodes, ranges for the matches, and their
// highlighting. The CSS Custom Highlight API paints the matches without touching the DOM Svelte
// manages; where it is missing, the find bar marks the current match with boxes over it.
import { findMatches, type FindMatch, type FindPiece } from './find';

/** The text that is searched: the bodies of the panes. */
export const FIND_SCOPE = '.panes .pane-body';
/** Not article text: controls, hidden panes, placeholders. */
const SKIPPED = 'button, [hidden], [aria-hidden="true"], .placeholder';
const BLOCKS = 'p, li, h1, h2, h3, h4, h5, h6, div, section, ul, ol, blockquote';

export const MATCH_HIGHLIGHT = 'find-match';
export const CURRENT_HIGHLIGHT = 'find-current';

export interface FoundRanges {
  matches: FindMatch[];
  ranges: Range[];
}

/** The visible text nodes under `roots`, in document order, with the block each belongs to. */
export function textPieces(roots: Iterable<Element>): { nodes: Text[]; pieces: FindPiece[] } {
  const nodes: Text[] = [];
  const pieces: FindPiece[] = [];
  const blocks = new Map<Element, number>();
  for (const root of roots) {
    if (root.closest('[hidden]')) continue;
    const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      if (!parent || parent.closest(SKIPPED) || !n.nodeValue) continue;
      const block = parent.closest(BLOCKS) ?? root;
      if (!blocks.has(block)) blocks.set(block, blocks.size);
      nodes.push(n as Text);
      pieces.push({ text: n.nodeValue, block: blocks.get(block)! });
    }
  }
  return { nodes, pieces };
}

/** Every match of `query` under `roots`, with a Range for each. */
export function findRanges(roots: Iterable<Element>, query: string): FoundRanges {
  const { nodes, pieces } = textPieces(roots);
  const matches = findMatches(pieces, query);
  const ranges = matches.map((m) => {
    const range = nodes[m.start.piece].ownerDocument.createRange();
    range.setStart(nodes[m.start.piece], m.start.offset);
    range.setEnd(nodes[m.end.piece], m.end.offset);
    return range;
  });
  return { matches, ranges };
}

export function canHighlight(): boolean {
  return (
    typeof CSS !== 'undefined' &&
    'highlights' in CSS &&
    !!CSS.highlights &&
    typeof Highlight === 'function'
  );
}

/** Paints all matches, and the current one distinctly. False where highlights are unsupported. */
export function paintMatches(ranges: readonly Range[], current: number): boolean {
  if (!canHighlight()) return false;
  CSS.highlights.set(MATCH_HIGHLIGHT, new Highlight(...ranges));
  const currentRange = ranges[current];
  const active = currentRange ? new Highlight(currentRange) : new Highlight();
  active.priority = 1;
  CSS.highlights.set(CURRENT_HIGHLIGHT, active);
  return true;
}

export function clearMatches(): void {
  if (!canHighlight()) return;
  CSS.highlights.delete(MATCH_HIGHLIGHT);
  CSS.highlights.delete(CURRENT_HIGHLIGHT);
}

/**
 * Scrolls the pane holding `range` so the match is in view (a third down, clear of the find
 * bar), leaving the other panes where they are.
 */
export function revealRange(range: Range): void {
  const element = range.startContainer.parentElement;
  const scroller = element?.closest<HTMLElement>('.pane-body');
  if (!element || !scroller) return;
  const rect =
    typeof range.getBoundingClientRect === 'function'
      ? range.getBoundingClientRect()
      : element.getBoundingClientRect();
  const box = scroller.getBoundingClientRect();
  const margin = 48;
  if (rect.top < box.top + margin || rect.bottom > box.bottom - margin) {
    scroller.scrollTop += rect.top - box.top - box.height / 3;
  }
}

export interface Box {
  top: number;
  left: number;
  width: number;
  height: number;
}

/**
 * Where `range` is on screen (one box per line it covers), cut to the visible part of its pane:
 * the fallback marks the current match with boxes over the text rather than selecting it, since
 * selecting text outside the find input takes the focus from it in WebKit.
 */
export function visibleBoxes(range: Range): Box[] {
  const scroller = range.startContainer.parentElement?.closest('.pane-body');
  if (!scroller || typeof range.getClientRects !== 'function') return [];
  const view = scroller.getBoundingClientRect();
  return Array.from(range.getClientRects())
    .filter((r) => r.width > 0 && r.bottom > view.top && r.top < view.bottom)
    .map((r) => {
      const top = Math.max(r.top, view.top);
      return { top, left: r.left, width: r.width, height: Math.min(r.bottom, view.bottom) - top };
    });
}
