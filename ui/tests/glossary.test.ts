// The Glossary panel and the names and terms a translation used, in the App against a fake
// in-memory glossary backend; then the state module and helpers on their own.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, fireEvent, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from '../src/App.svelte';
import { AppState } from '../src/lib/app.svelte';
import { resetSettingsStore } from '../src/lib/settings';
import { GlossaryState, emptyTerm, importSummaryText, matchesFilter } from '../src/lib/glossary.svelte';
import { ORIGIN_LABELS, orderedTerms, unappliedText } from '../src/lib/terms';
import type { GlossaryEntry, StoredTerm } from '../src/lib/types';
import {
  GLOSSARY,
  LANGUAGES,
  deferred,
  glossaryBackend,
  installBackend,
  makeDocument,
  makeOutcome,
  storeHandlers,
  type Handler,
} from './helpers';

afterEach(() => {
  cleanup();
  clearMocks();
  resetSettingsStore();
});

const $ = (id: string) => document.getElementById(id);
const input = (id: string) => $(id) as HTMLInputElement;

async function mountApp() {
  const app = new AppState();
  render(App, { props: { app } });
  await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
  return app;
}

/** The fake glossary plus any other handlers, installed. */
function withGlossary(extra: Record<string, Handler> = {}, files = {}) {
  const fake = glossaryBackend(GLOSSARY, files);
  const backend = installBackend({ ...fake.handlers, ...extra });
  return { fake, backend };
}

/** The terms listed in the panel's table, in order. */
const rows = () =>
  [...document.querySelectorAll('#glossary-table tbody tr[data-term-id]')].map(
    (tr) => tr.querySelector('.glossary-term span')!.textContent,
  );
const row = (term: string) =>
  [...document.querySelectorAll('#glossary-table tbody tr[data-term-id]')].find(
    (tr) => tr.querySelector('.glossary-term span')!.textContent === term,
  ) as HTMLTableRowElement;

async function openPanel() {
  await fireEvent.click($('glossary-button')!);
  await waitFor(() => expect(document.querySelector('#glossary-table, #glossary-empty')).not.toBeNull());
  return $('glossary-panel')!;
}

async function fill(id: string, value: string) {
  await fireEvent.input(input(id), { target: { value } });
}

describe('Glossary panel', () => {
  it('opens on the target language and lists its entries', async () => {
    const { backend } = withGlossary();
    await mountApp();
    expect($('glossary-panel')).toBeNull();
    expect($('glossary-button')!.getAttribute('aria-expanded')).toBe('false');
    const panel = await openPanel();
    expect(panel.getAttribute('role')).toBe('dialog');
    expect($('glossary-button')!.getAttribute('aria-expanded')).toBe('true');
    expect(backend.of('glossary_list')[0].args).toEqual({ language: 'zh-Hans' });
    const select = $('glossary-language') as HTMLSelectElement;
    expect(select.value).toBe('zh-Hans');
    expect([...select.options].map((o) => o.value)).toEqual(LANGUAGES.map((l) => l.code));
    expect(rows()).toEqual(['Aleppo', 'The Economist', 'un security council']);
    const aleppo = row('Aleppo');
    expect(aleppo.querySelector('.glossary-rendering')!.textContent!.trim()).toBe('阿勒颇');
    expect(aleppo.querySelector('.glossary-rendering [lang]')!.getAttribute('lang')).toBe('zh-Hans');
    expect(aleppo.querySelector('.glossary-note')!.textContent).toBe('Syrian city');
    expect(aleppo.querySelector('.any-case')).toBeNull();
    expect(row('The Economist').querySelector('.glossary-rendering')!.textContent!.trim()).toBe('kept as written');
    expect(row('un security council').querySelector('.any-case')!.textContent).toBe('any case');
    expect($('glossary-count')!.textContent!.replace(/\s+/g, ' ').trim()).toBe('3 terms');
    // The form is ready for a new term, matching case by default.
    expect(input('glossary-source').value).toBe('');
    expect(input('glossary-case').checked).toBe(true);
    expect(input('glossary-keep').checked).toBe(false);
    expect(document.activeElement).toBe($('glossary-source'));
    // Escape closes it, like the Models panel, and the focus goes back to its button.
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect($('glossary-panel')).toBeNull();
    expect(document.activeElement).toBe($('glossary-button'));
  });

  it('opens on the target language the settings hold, and lists another when switched', async () => {
    const fake = glossaryBackend();
    const backend = installBackend({
      ...fake.handlers,
      ...storeHandlers({ settings: { target: 'fr' } }),
    });
    await mountApp();
    await openPanel();
    expect(($('glossary-language') as HTMLSelectElement).value).toBe('fr');
    expect(rows()).toEqual(['Aleppo']);
    expect(row('Aleppo').querySelector('.glossary-rendering')!.textContent!.trim()).toBe('Alep');

    await fireEvent.change($('glossary-language')!, { target: { value: 'zh-Hans' } });
    await waitFor(() => expect(rows()).toEqual(['Aleppo', 'The Economist', 'un security council']));

    // A language without entries explains what a glossary does and which files it reads.
    await fireEvent.change($('glossary-language')!, { target: { value: 'ja' } });
    const empty = await waitFor(() => {
      expect($('glossary-empty')).not.toBeNull();
      return $('glossary-empty')!;
    });
    expect($('glossary-table')).toBeNull();
    for (const words of ['CSV', 'TSV', 'DeepL', 'memoQ', 'match-case', 'empty rendering']) {
      expect(empty.textContent, words).toContain(words);
    }
    expect(($('glossary-export') as HTMLButtonElement).disabled).toBe(true);
    expect(backend.of('glossary_list').map((c) => c.args.language)).toEqual(['fr', 'zh-Hans', 'ja']);
  });

  it('adds an entry', async () => {
    const { backend, fake } = withGlossary();
    await mountApp();
    await openPanel();
    await fill('glossary-source', ' Idlib ');
    await fill('glossary-target', '伊德利卜');
    await fill('glossary-note', 'province');
    await fireEvent.click($('glossary-case')!);
    await fireEvent.click($('glossary-save')!);
    await waitFor(() => expect(rows()).toContain('Idlib'));
    expect(backend.of('glossary_save')[0].args).toEqual({
      id: null,
      language: 'zh-Hans',
      term: { source: ' Idlib ', target: '伊德利卜', note: 'province', caseSensitive: false, doNotTranslate: false },
    });
    expect(fake.terms.find((t) => t.source === 'Idlib')).toMatchObject({ language: 'zh-Hans', caseSensitive: false });
    expect(row('Idlib').querySelector('.any-case')).not.toBeNull();
    expect($('glossary-notice')!.textContent).toContain('Added “Idlib”.');
    // The form is emptied for the next term.
    expect(input('glossary-source').value).toBe('');
    expect(input('glossary-target').value).toBe('');
    expect(input('glossary-case').checked).toBe(true);
    expect($('glossary-error')).toBeNull();
  });

  it('edits an entry; "Do not translate" disables the rendering', async () => {
    const { backend } = withGlossary();
    await mountApp();
    await openPanel();
    const edit = row('Aleppo').querySelector('.glossary-edit') as HTMLButtonElement;
    expect(edit.getAttribute('aria-label')).toBe('Edit “Aleppo”');
    await fireEvent.click(edit);
    expect($('glossary-form')!.textContent).toContain('Edit “Aleppo”');
    expect(input('glossary-source').value).toBe('Aleppo');
    expect(input('glossary-target').value).toBe('阿勒颇');
    expect(input('glossary-note').value).toBe('Syrian city');
    expect(row('Aleppo').classList.contains('editing')).toBe(true);
    // The edit stays on its language until saved or cancelled.
    expect(($('glossary-language') as HTMLSelectElement).disabled).toBe(true);

    expect(input('glossary-target').disabled).toBe(false);
    await fireEvent.click($('glossary-keep')!);
    expect(input('glossary-target').disabled).toBe(true);
    expect(input('glossary-target').value).toBe('');
    expect(input('glossary-target').placeholder).toBe('Kept as written');
    // Unticked, the rendering is back; ticked again for the save.
    await fireEvent.click($('glossary-keep')!);
    expect(input('glossary-target').value).toBe('阿勒颇');
    await fireEvent.click($('glossary-keep')!);
    await fireEvent.click($('glossary-save')!);
    await waitFor(() =>
      expect(row('Aleppo').querySelector('.glossary-rendering')!.textContent!.trim()).toBe('kept as written'),
    );
    expect(backend.of('glossary_save')[0].args).toMatchObject({
      id: 1,
      language: 'zh-Hans',
      term: { source: 'Aleppo', note: 'Syrian city', caseSensitive: true, doNotTranslate: true },
    });
    expect($('glossary-notice')!.textContent).toContain('Saved “Aleppo”.');
    expect(input('glossary-source').value).toBe('');
    expect(($('glossary-language') as HTMLSelectElement).disabled).toBe(false);

    // Cancel leaves an edit without saving.
    await fireEvent.click(row('The Economist').querySelector('.glossary-edit')!);
    expect(input('glossary-keep').checked).toBe(true);
    expect(input('glossary-target').disabled).toBe(true);
    await fireEvent.click($('glossary-cancel')!);
    expect(input('glossary-source').value).toBe('');
    expect(input('glossary-keep').checked).toBe(false);
    expect(backend.of('glossary_save')).toHaveLength(1);
  });

  it('deletes an entry only once confirmed', async () => {
    const { backend } = withGlossary();
    await mountApp();
    await openPanel();
    await fireEvent.click(row('The Economist').querySelector('.glossary-delete')!);
    expect(backend.of('glossary_delete')).toHaveLength(0);
    await fireEvent.click(row('The Economist').querySelector('.confirm-no')!);
    expect(row('The Economist').querySelector('.confirm-yes')).toBeNull();
    await fireEvent.click(row('The Economist').querySelector('.glossary-delete')!);
    await fireEvent.click(row('The Economist').querySelector('.confirm-yes')!);
    await waitFor(() => expect(rows()).toEqual(['Aleppo', 'un security council']));
    expect(backend.of('glossary_delete')[0].args).toEqual({ id: 2 });
    expect($('glossary-notice')!.textContent).toContain('Deleted “The Economist”.');
  });

  it('shows what the backend refused and keeps the input; a duplicate can replace the entry', async () => {
    const { backend } = withGlossary();
    await mountApp();
    await openPanel();
    await fill('glossary-source', 'Homs');
    await fireEvent.click($('glossary-save')!);
    const error = await waitFor(() => {
      expect($('glossary-error')).not.toBeNull();
      return $('glossary-error')!;
    });
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain('"Homs" has no rendering; give one or mark it "do not translate"');
    expect(input('glossary-source').value).toBe('Homs');
    expect($('glossary-replace')).toBeNull();

    await fill('glossary-source', 'Aleppo');
    await fill('glossary-target', '阿勒坡');
    await fill('glossary-note', 'older spelling');
    await fireEvent.click($('glossary-save')!);
    await waitFor(() =>
      expect($('glossary-error')!.textContent).toContain(
        '"Aleppo" is already in your zh-Hans glossary; edit that entry instead',
      ),
    );
    expect(input('glossary-source').value).toBe('Aleppo');
    expect(input('glossary-target').value).toBe('阿勒坡');
    expect(input('glossary-note').value).toBe('older spelling');
    expect(rows()).toEqual(['Aleppo', 'The Economist', 'un security council']);

    await fireEvent.click($('glossary-replace')!);
    await waitFor(() =>
      expect(row('Aleppo').querySelector('.glossary-rendering')!.textContent!.trim()).toBe('阿勒坡'),
    );
    expect(backend.of('glossary_save').slice(-1)[0].args).toMatchObject({ id: 1, term: { target: '阿勒坡' } });
    expect($('glossary-error')).toBeNull();
    expect(rows()).toHaveLength(3);
  });

  it('filters by term, rendering or note', async () => {
    withGlossary();
    await mountApp();
    await openPanel();
    await fill('glossary-filter', 'SYRIAN');
    expect(rows()).toEqual(['Aleppo']);
    expect($('glossary-count')!.textContent!.replace(/\s+/g, ' ').trim()).toBe('1 of 3 terms');
    await fill('glossary-filter', '安理会');
    expect(rows()).toEqual(['un security council']);
    await fill('glossary-filter', 'nothing like it');
    expect(rows()).toEqual([]);
    expect($('glossary-table')!.textContent).toContain('No terms match “nothing like it”.');
    await fill('glossary-filter', '');
    expect(rows()).toHaveLength(3);
  });

  it('imports a file and shows the counts and the skipped rows', async () => {
    const { backend } = withGlossary(
      { 'plugin:dialog|open': () => '/home/me/terms.csv' },
      {
        '/home/me/terms.csv': [
          { ...emptyTerm(), source: 'Aleppo', target: '阿勒坡' },
          { ...emptyTerm(), source: 'Homs', target: '霍姆斯' },
          { ...emptyTerm(), source: 'Deir\nez-Zor', target: '代尔祖尔' },
        ],
      },
    );
    await mountApp();
    await openPanel();
    await fireEvent.click($('glossary-import')!);
    await waitFor(() => expect(rows()).toContain('Homs'));
    expect(backend.of('plugin:dialog|open')[0].args.options).toMatchObject({
      multiple: false,
      filters: [{ name: 'Glossary (CSV, TSV)', extensions: ['csv', 'tsv', 'txt'] }],
    });
    expect(backend.of('glossary_import')[0].args).toEqual({ language: 'zh-Hans', path: '/home/me/terms.csv' });
    expect($('glossary-notice')!.textContent).toContain('Imported terms.csv: 1 added, 1 replaced, 1 skipped.');
    const skipped = [...$('glossary-skipped')!.querySelectorAll('li')].map((li) => li.textContent);
    expect(skipped).toEqual(['"Deir\nez-Zor": a term and its rendering must fit on one line']);
    expect(row('Aleppo').querySelector('.glossary-rendering')!.textContent!.trim()).toBe('阿勒坡');
  });

  it('imports nothing when the dialog is closed, and shows a file that cannot be read', async () => {
    let picked: string | null = null;
    const { backend } = withGlossary({ 'plugin:dialog|open': () => picked });
    await mountApp();
    await openPanel();
    await fireEvent.click($('glossary-import')!);
    await waitFor(() => expect(backend.of('plugin:dialog|open')).toHaveLength(1));
    await waitFor(() => expect(($('glossary-import') as HTMLButtonElement).disabled).toBe(false));
    expect(backend.of('glossary_import')).toHaveLength(0);
    expect($('glossary-error')).toBeNull();

    picked = '/gone.csv';
    await fireEvent.click($('glossary-import')!);
    await waitFor(() => expect($('glossary-error')!.textContent).toContain('Could not read /gone.csv'));
    expect($('glossary-notice')!.textContent).toBe('');
  });

  it('exports to the path chosen in the save dialog', async () => {
    const { backend } = withGlossary({
      'plugin:dialog|save': ({ options }) => `/out/${options.defaultPath}`,
    });
    await mountApp();
    await openPanel();
    await fireEvent.click($('glossary-export')!);
    await waitFor(() => expect(backend.of('glossary_export')).toHaveLength(1));
    const dialog = backend.of('plugin:dialog|save')[0].args.options;
    expect(dialog.defaultPath).toBe('glossary-zh-Hans.csv');
    expect(dialog.filters).toEqual([{ name: 'CSV', extensions: ['csv'] }]);
    expect(backend.of('glossary_export')[0].args).toEqual({
      language: 'zh-Hans',
      path: '/out/glossary-zh-Hans.csv',
    });
    await waitFor(() =>
      expect($('glossary-notice')!.textContent).toContain('Exported 3 terms to /out/glossary-zh-Hans.csv.'),
    );
  });

  it('shows one side panel at a time', async () => {
    withGlossary();
    await mountApp();
    await openPanel();
    await fireEvent.click($('models-button')!);
    expect($('models-panel')).not.toBeNull();
    expect($('glossary-panel')).toBeNull();
    await fireEvent.click($('glossary-button')!);
    expect($('glossary-panel')).not.toBeNull();
    expect($('models-panel')).toBeNull();
    await fireEvent.click($('glossary-panel')!.querySelector('.close')!);
    expect($('glossary-panel')).toBeNull();
  });

  it('keeps an unfinished entry when the panel is closed and opened again', async () => {
    withGlossary();
    await mountApp();
    await openPanel();
    await fill('glossary-source', 'Raqqa');
    await fireEvent.keyDown(window, { key: 'Escape' });
    await openPanel();
    expect(input('glossary-source').value).toBe('Raqqa');
  });
});

/** An outcome whose translation used terms of every origin, one of the reader's unapplied. */
function outcomeWithTerms(glossary: GlossaryEntry[], unapplied: string[]) {
  const outcome = makeOutcome();
  outcome.translation!.glossary = glossary;
  outcome.translation!.glossary_unapplied = unapplied;
  return outcome;
}

const USED: GlossaryEntry[] = [
  { source: 'Assad', target: '阿萨德', origin: 'rendered' },
  { source: 'Damascus', target: '大马士革', origin: 'term_base' },
  { source: 'Aleppo', target: '阿勒颇', origin: 'user' },
  { source: 'Idlib', target: '伊德利卜', origin: 'remembered' },
  { source: 'the envoy', target: '特使', origin: 'carried' },
  { source: 'The Economist', target: 'The Economist', origin: 'user' },
];

async function showOutcome(outcome: ReturnType<typeof makeOutcome>, settings: Record<string, unknown> = {}) {
  const fake = glossaryBackend();
  installBackend({
    ...fake.handlers,
    ...storeHandlers({ settings }),
    read_article: () => makeDocument(),
    process_article: () => ({ history_id: 1, outcome }),
  });
  const app = await mountApp();
  app.enqueuePaths(['/a.txt']);
  await app.queue.idle();
  await waitFor(() => expect($('translation-note')).not.toBeNull());
  return app;
}

describe('Names and terms under the translation', () => {
  it('lists the terms used with where each came from, the reader’s first', async () => {
    await showOutcome(outcomeWithTerms(USED, ['Aleppo']));
    const terms = $('translation-terms') as HTMLDetailsElement;
    expect(terms.tagName).toBe('DETAILS');
    expect(terms.open).toBe(false);
    expect(terms.querySelector('summary')!.textContent).toBe('Names and terms (6)');
    const items = [...terms.querySelectorAll('li')].map((li) => [
      li.querySelector('.term-source')!.textContent,
      li.querySelector('.term-origin')!.textContent,
    ]);
    expect(items).toEqual([
      ['Aleppo', 'Your glossary'],
      ['The Economist', 'Your glossary'],
      ['Damascus', 'Term base'],
      ['Idlib', 'Earlier article'],
      ['Assad', 'This article'],
      ['the envoy', 'This article'],
    ]);
    const first = terms.querySelector('li')!;
    expect(first.querySelector('.term-target')!.textContent).toBe('阿勒颇');
    expect(first.querySelector('.term-target')!.getAttribute('lang')).toBe('zh-Hans');
    expect(first.querySelector('.term-missed')!.textContent).toBe('not applied');
    expect(terms.querySelectorAll('li')[1].textContent).toContain('kept as written');
    // The unapplied line is outside the collapsed list, so it is seen.
    const line = $('glossary-unapplied')!;
    expect(terms.contains(line)).toBe(false);
    expect(line.closest('#pane-translation')).not.toBeNull();
    expect(line.textContent).toContain(
      'Not applied from your glossary: Aleppo — the translation words it differently.',
    );
  });

  it('opens the glossary of the translation’s language from “Edit glossary…”', async () => {
    const { glossary } = await showOutcome(outcomeWithTerms(USED, []), { target: 'fr' });
    expect($('glossary-unapplied')).toBeNull();
    await fireEvent.click($('edit-glossary')!);
    await waitFor(() => expect(rows()).toEqual(['Aleppo', 'The Economist', 'un security council']));
    expect(glossary.language).toBe('zh-Hans');
    expect(($('glossary-language') as HTMLSelectElement).value).toBe('zh-Hans');
  });

  it('shows the list once in the bilingual layout, in its footer', async () => {
    await showOutcome(outcomeWithTerms(USED, ['Aleppo', 'The Economist']), { layout: 'bilingual' });
    await waitFor(() => expect($('pane-bilingual')!.querySelector('#translation-terms')).not.toBeNull());
    expect(document.querySelectorAll('#translation-terms')).toHaveLength(1);
    expect(document.querySelectorAll('#glossary-unapplied')).toHaveLength(1);
    expect($('glossary-unapplied')!.textContent).toContain(
      'Not applied from your glossary: Aleppo, The Economist — the translation words them differently.',
    );
  });

  it('shows nothing when the translation used no terms', async () => {
    await showOutcome(outcomeWithTerms([], []));
    expect($('translation-terms')).toBeNull();
    expect($('glossary-unapplied')).toBeNull();
  });
});

describe('GlossaryState', () => {
  it('drops a list that comes back after another language was chosen', async () => {
    const slow = deferred<StoredTerm[]>();
    const fake = glossaryBackend();
    installBackend({
      ...fake.handlers,
      glossary_list: (args) => (args.language === 'fr' ? slow.promise : fake.handlers.glossary_list(args)),
    });
    const g = new GlossaryState();
    const first = g.setLanguage('fr');
    await g.setLanguage('zh-Hans');
    slow.resolve(GLOSSARY.filter((t) => t.language === 'fr'));
    await first;
    expect(g.language).toBe('zh-Hans');
    expect(g.entries.map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('keeps an unfinished edit on its own language when shown again', async () => {
    installBackend(glossaryBackend().handlers);
    const g = new GlossaryState();
    await g.show('zh-Hans');
    g.startEdit(g.entries[0]);
    await g.show('fr');
    expect(g.language).toBe('zh-Hans');
    expect(g.editingId).toBe(1);
    g.cancelEdit();
    await g.show('fr');
    expect(g.language).toBe('fr');
  });

  it('forgets a deleted entry that was being edited, and reloads after a failed delete', async () => {
    const { handlers } = glossaryBackend();
    const backend = installBackend(handlers);
    const g = new GlossaryState();
    await g.show('zh-Hans');
    g.startEdit(g.entries[1]);
    await g.remove(2);
    expect(g.editingId).toBeNull();
    expect(g.draft).toEqual(emptyTerm());
    await g.remove(2);
    expect(g.error).toContain('does not exist');
    expect(backend.of('glossary_list')).toHaveLength(3);
  });
});

describe('glossary helpers', () => {
  it('filters in any case over term, rendering and note', () => {
    const [aleppo] = GLOSSARY;
    expect(matchesFilter(aleppo, '')).toBe(true);
    expect(matchesFilter(aleppo, ' alep ')).toBe(true);
    expect(matchesFilter(aleppo, '勒')).toBe(true);
    expect(matchesFilter(aleppo, 'CITY')).toBe(true);
    expect(matchesFilter(aleppo, 'Homs')).toBe(false);
  });

  it('words an import summary', () => {
    expect(importSummaryText({ added: 2, replaced: 1, skipped: ['x', 'y'] })).toBe('2 added, 1 replaced, 2 skipped');
  });

  it('orders the terms used by origin, keeping each origin’s order', () => {
    expect(orderedTerms(USED).map((t) => t.source)).toEqual([
      'Aleppo', 'The Economist', 'Damascus', 'Idlib', 'Assad', 'the envoy',
    ]);
    expect(ORIGIN_LABELS.rendered).toBe(ORIGIN_LABELS.carried);
  });

  it('words the unapplied line, or none', () => {
    expect(unappliedText([])).toBeNull();
    expect(unappliedText(['UN', 'Aleppo'])).toBe(
      'Not applied from your glossary: UN, Aleppo — the translation words them differently.',
    );
  });
});
