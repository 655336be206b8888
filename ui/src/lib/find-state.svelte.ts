// The find bar's state (Ctrl+F). The matching is in ./find, the DOM side in ./find-dom and
// components/FindBar.svelte, which reports the number of matches back here.
import { wrapIndex } from './find';

export class FindState {
  open = $state(false);
  query = $state('');
  /** Matches of the query in the panes, as last counted by the find bar. */
  total = $state(0);
  /** Index of the current match; -1 with none. */
  current = $state(-1);
  /** Bumped by each Ctrl+F, so the input takes the focus even when the bar is already open. */
  focusRequests = $state(0);
  /** Bumped when the reader moves to another match, so the view scrolls to it (a recount while
   *  text streams in does not). */
  moves = $state(0);

  show(): void {
    this.open = true;
    this.focusRequests++;
  }

  /** Closes the bar and forgets the query. */
  close(): void {
    this.open = false;
    this.query = '';
    this.total = 0;
    this.current = -1;
  }

  /** The next (1) or previous (-1) match, wrapping around. */
  step(delta: number): void {
    if (!this.open || this.total === 0) return;
    this.current = wrapIndex(this.current, this.total, delta);
    this.moves++;
  }
}
