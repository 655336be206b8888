// The Glossary panel's state (components/GlossaryPanel.svelte): one target language's entries
// as the backend keeps them, the add/edit form, deleting, import and export. The backend is
// reached only through ./api; every command rejects with an ErrorInfo whose message is shown.
import * as api from './api';
import type { ImportSummary, StoredTerm, UserTerm } from './types';

/** A new entry's fields: case matters unless the reader says otherwise, as in the CLI. */
export function emptyTerm(): UserTerm {
  return { source: '', target: '', note: '', caseSensitive: true, doNotTranslate: false };
}

export function termOf(entry: StoredTerm): UserTerm {
  return {
    source: entry.source,
    target: entry.target,
    note: entry.note,
    caseSensitive: entry.caseSensitive,
    doNotTranslate: entry.doNotTranslate,
  };
}

/** Whether the entry's term, rendering or note contains `query`, in any case. */
export function matchesFilter(entry: StoredTerm, query: string): boolean {
  const q = query.trim().toLocaleLowerCase();
  if (!q) return true;
  return [entry.source, entry.target, entry.note].some((t) => t.toLocaleLowerCase().includes(q));
}

export function importSummaryText(summary: ImportSummary): string {
  return `${summary.added} added, ${summary.replaced} replaced, ${summary.skipped.length} skipped`;
}

function isBlank(term: UserTerm): boolean {
  return !term.source.trim() && !term.target.trim() && !term.note.trim();
}

export class GlossaryState {
  /** The target language whose glossary is shown (a code as `languages` gives it). */
  language = $state('');
  /** Its entries, sorted by term (the backend's order). */
  entries = $state.raw<StoredTerm[]>([]);
  /** False until the list for `language` has come back, so nothing reads "empty" before. */
  loaded = $state(false);
  filter = $state('');
  /** The form's fields: a new entry, or the edited one. Kept when a save is refused. */
  draft = $state<UserTerm>(emptyTerm());
  /** The entry the form edits; null while it adds one. */
  editingId = $state<number | null>(null);
  /** The entry whose Delete asks "Delete? Yes / No". */
  confirmDeleteId = $state<number | null>(null);
  error = $state<string | null>(null);
  /** What the last action did ("Added “Aleppo”.", an import's counts). */
  notice = $state<string | null>(null);
  /** The rows the last import skipped, each with its reason. */
  skipped = $state.raw<string[]>([]);
  busy = $state(false);
  /** Bumped when the form's first field should take the focus (Edit, a saved entry). */
  focusRequests = $state(0);
  /** Numbers the list requests, so a slow answer for a language left since is dropped. */
  private loads = 0;

  /** The entries the filter lets through. */
  get shown(): StoredTerm[] {
    return this.entries.filter((e) => matchesFilter(e, this.filter));
  }

  get editing(): StoredTerm | null {
    return this.entries.find((e) => e.id === this.editingId) ?? null;
  }

  get draftIsBlank(): boolean {
    return isBlank(this.draft);
  }

  /** The entry a refused new term collides with (the same term), which it may replace. */
  get duplicate(): StoredTerm | null {
    if (!this.error || this.editingId !== null) return null;
    const source = this.draft.source.trim();
    return this.entries.find((e) => e.source === source) ?? null;
  }

  /**
   * Shows `language`'s glossary (the panel opening). An unfinished edit of an entry stays on its
   * own language: saving it under another would move the entry there.
   */
  async show(language: string): Promise<void> {
    this.clearMessages();
    this.confirmDeleteId = null;
    if (this.editingId === null && language !== this.language) await this.setLanguage(language);
    else await this.load();
  }

  async setLanguage(language: string): Promise<void> {
    if (this.editingId !== null) return;
    this.language = language;
    this.entries = [];
    this.loaded = false;
    this.confirmDeleteId = null;
    this.clearMessages();
    await this.load();
  }

  async load(): Promise<void> {
    const request = ++this.loads;
    try {
      const entries = await api.glossaryList(this.language);
      if (request !== this.loads) return;
      this.entries = entries;
      this.loaded = true;
    } catch (err) {
      if (request !== this.loads) return;
      this.error = api.toErrorInfo(err).message;
    }
  }

  startEdit(entry: StoredTerm): void {
    this.draft = termOf(entry);
    this.editingId = entry.id;
    this.confirmDeleteId = null;
    this.clearMessages();
    this.focusRequests++;
  }

  /** Leaves an edit, or empties the add form. */
  cancelEdit(): void {
    this.resetForm();
    this.error = null;
  }

  /** Saves the form (adding, or changing the edited entry); false when the backend refused. */
  async save(): Promise<boolean> {
    return this.saveAs(this.editingId);
  }

  /** Saves the new term over the existing entry it collided with. */
  async replaceDuplicate(): Promise<boolean> {
    const existing = this.duplicate;
    return existing ? this.saveAs(existing.id) : false;
  }

  private async saveAs(id: number | null): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.clearMessages();
    try {
      const saved = await api.glossarySave(id, this.language, $state.snapshot(this.draft) as UserTerm);
      this.resetForm();
      this.notice = `${id === null ? 'Added' : 'Saved'} “${saved.source}”.`;
      this.focusRequests++;
      await this.load();
      return true;
    } catch (err) {
      this.error = api.toErrorInfo(err).message;
      return false;
    } finally {
      this.busy = false;
    }
  }

  async remove(id: number): Promise<void> {
    const entry = this.entries.find((e) => e.id === id);
    this.confirmDeleteId = null;
    this.clearMessages();
    try {
      await api.glossaryDelete(id);
      this.notice = `Deleted “${entry?.source ?? ''}”.`;
      if (this.editingId === id) this.resetForm();
    } catch (err) {
      this.error = api.toErrorInfo(err).message;
    }
    // Also after an error: an entry already gone (deleted elsewhere) leaves the list.
    await this.load();
  }

  /** Adds the entries of a CSV/TSV file the reader picks. */
  async importFile(): Promise<void> {
    if (this.busy) return;
    this.clearMessages();
    this.busy = true;
    try {
      const path = await api.pickGlossaryFile();
      if (!path) return;
      const summary = await api.glossaryImport(this.language, path);
      this.notice = `Imported ${api.baseName(path)}: ${importSummaryText(summary)}.`;
      this.skipped = summary.skipped;
      await this.load();
    } catch (err) {
      this.error = api.toErrorInfo(err).message;
    } finally {
      this.busy = false;
    }
  }

  /** Writes the glossary as CSV where the reader chooses. */
  async exportFile(): Promise<void> {
    if (this.busy) return;
    this.clearMessages();
    this.busy = true;
    try {
      const path = await api.pickGlossaryExportPath(this.language);
      if (!path) return;
      const written = await api.glossaryExport(this.language, path);
      const n = this.entries.length;
      this.notice = `Exported ${n} term${n === 1 ? '' : 's'} to ${written || path}.`;
    } catch (err) {
      this.error = api.toErrorInfo(err).message;
    } finally {
      this.busy = false;
    }
  }

  private resetForm(): void {
    this.draft = emptyTerm();
    this.editingId = null;
  }

  private clearMessages(): void {
    this.error = null;
    this.notice = null;
    this.skipped = [];
  }
}
