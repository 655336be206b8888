// The reader's conveniences in the mounted App: copy, find in the article, layouts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from '../src/App.svelte';
import { AppState } from '../src/lib/app.svelte';
import { resetSettingsStore } from '../src/lib/settings';
import {
  LANGUAGES,
  deferred,
  installBackend,
  makeDocument,
  makeOutcome,
  sendEvents,
  storeHandlers,
} from './helpers';

const $ = (id: string) => document.getElementById(id);

/** The App with one processed article shown (3 paragraphs, translated into Chinese). */
async function mountWithArticle(stored: Record<string, unknown> = {}) {
  const backend = installBackend({
    ...storeHandlers(stored),
    read_article: () => makeDocument(),
    process_article: () => ({ history_id: 1, outcome: makeOutcome() }),
  });
  const app = new AppState();
  render(App, { props: { app } });
  await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
  app.enqueuePaths(['/news/rain.txt']);
  await app.queue.idle();
  await waitFor(() => expect($('pane-translation')!.querySelector('[data-pid="p3"]')).not.toBeNull());
  return { app, backend };
}

/** A stand-in for the CSS Custom Highlight API, which jsdom lacks. */
class FakeHighlight {
  ranges: Range[];
  priority = 0;
  constructor(...ranges: Range[]) {
    this.ranges = ranges;
  }
}

function installHighlights(): Map<string, FakeHighlight> {
  const registry = new Map<string, FakeHighlight>();
  vi.stubGlobal('Highlight', FakeHighlight);
  vi.stubGlobal('CSS', { highlights: registry });
  return registry;
}

const count = () => $('find-count')!.textContent;
const ctrl = (key: string) => fireEvent.keyDown(window, { key, ctrlKey: true });

afterEach(() => {
  cleanup();
  clearMocks();
  resetSettingsStore();
  vi.unstubAllGlobals();
  Reflect.deleteProperty(navigator, 'clipboard');
});

describe('find in the article', () => {
  let highlights: Map<string, FakeHighlight>;
  beforeEach(() => {
    highlights = installHighlights();
  });

  it('opens with Ctrl+F, counts and highlights the matches in all panes, steps with Enter', async () => {
    await mountWithArticle();
    const open = $('open-button')!;
    open.focus();
    expect($('find-bar')).toBeNull();
    await ctrl('f');
    const bar = $('find-bar')!;
    expect(bar.getAttribute('role')).toBe('search');
    const input = $('find-input') as HTMLInputElement;
    await waitFor(() => expect(document.activeElement).toBe(input));
    expect($('find-count')!.getAttribute('aria-live')).toBe('polite');
    expect(count()).toBe('');

    // "paragraph": 3 in the original; "段": 3 in the translation. Case does not matter.
    await fireEvent.input(input, { target: { value: 'PARAGRAPH' } });
    await waitFor(() => expect(count()).toBe('1 of 3'));
    expect(highlights.get('find-match')!.ranges.map(String)).toEqual(['Paragraph', 'Paragraph', 'Paragraph']);
    const current = () => highlights.get('find-current')!.ranges;
    expect(current()).toHaveLength(1);
    expect(current()[0].startContainer.parentElement!.closest('[data-pid]')!.getAttribute('data-pid')).toBe('p1');
    expect(highlights.get('find-current')!.priority).toBeGreaterThan(highlights.get('find-match')!.priority);

    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(count()).toBe('2 of 3');
    expect(current()[0].startContainer.parentElement!.closest('[data-pid]')!.getAttribute('data-pid')).toBe('p2');
    await fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    await fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    expect(count()).toBe('3 of 3');
    await fireEvent.click($('find-next')!);
    expect(count()).toBe('1 of 3');
    await fireEvent.click($('find-prev')!);
    expect(count()).toBe('3 of 3');

    await fireEvent.input(input, { target: { value: '段' } });
    await waitFor(() => expect(count()).toBe('1 of 3'));
    expect(current()[0].startContainer.parentElement!.closest('[id^="pane-"]')!.id).toBe('pane-translation');

    await fireEvent.input(input, { target: { value: 'snow' } });
    await waitFor(() => expect(count()).toBe('No matches'));
    expect(input.classList.contains('no-match')).toBe(true);
    expect(($('find-next') as HTMLButtonElement).disabled).toBe(true);
    expect(highlights.get('find-match')!.ranges).toEqual([]);

    // Escape closes the bar, forgets the query, clears the highlights and gives the focus back.
    await fireEvent.keyDown(input, { key: 'Escape' });
    expect($('find-bar')).toBeNull();
    expect(highlights.size).toBe(0);
    expect(document.activeElement).toBe(open);
    await ctrl('f');
    await waitFor(() => expect(($('find-input') as HTMLInputElement).value).toBe(''));
  });

  it('keeps the current match while the query grows, and the text typed over on Ctrl+F', async () => {
    await mountWithArticle();
    await ctrl('f');
    const input = $('find-input') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'paragraph' } });
    await waitFor(() => expect(count()).toBe('1 of 3'));
    await fireEvent.keyDown(input, { key: 'Enter' });
    await fireEvent.input(input, { target: { value: 'paragraph 2' } });
    await waitFor(() => expect(count()).toBe('1 of 1'));
    await fireEvent.input(input, { target: { value: 'paragraph' } });
    // Back to three matches, still on paragraph 2's.
    await waitFor(() => expect(count()).toBe('2 of 3'));
    // Ctrl+F again selects the query, to type over it.
    (document.activeElement as HTMLElement).blur();
    await ctrl('f');
    await waitFor(() => expect(document.activeElement).toBe(input));
    expect([input.selectionStart, input.selectionEnd]).toEqual([0, 'paragraph'.length]);
  });

  it('searches only the panes the layout shows, and counts again when it changes', async () => {
    const { app } = await mountWithArticle();
    await ctrl('f');
    await fireEvent.input($('find-input')!, { target: { value: 'paragraph' } });
    await waitFor(() => expect(count()).toBe('1 of 3'));
    await fireEvent.click($('layout-translation')!);
    await waitFor(() => expect(count()).toBe('No matches'));
    await fireEvent.click($('layout-bilingual')!);
    await waitFor(() => expect(count()).toBe('1 of 3'));
    expect(app.find.open).toBe(true);
  });

  it('marks the current match with a box where the Highlight API is missing', async () => {
    vi.unstubAllGlobals();
    // jsdom does no layout: a pane 500 px high, and every match one line at y = 100.
    vi.spyOn(Element.prototype, 'getBoundingClientRect').mockReturnValue({
      top: 0, bottom: 500, left: 0, right: 300, width: 300, height: 500, x: 0, y: 0, toJSON: () => ({}),
    });
    const line = { top: 100, bottom: 120, left: 10, right: 90, width: 80, height: 20 };
    (Range.prototype as any).getClientRects = () => [line];
    try {
      await mountWithArticle();
      await ctrl('f');
      const input = $('find-input') as HTMLInputElement;
      await fireEvent.input(input, { target: { value: 'paragraph 3' } });
      await waitFor(() => expect(count()).toBe('1 of 1'));
      const marks = document.querySelectorAll<HTMLElement>('.find-mark');
      expect(marks).toHaveLength(1);
      expect([marks[0].style.top, marks[0].style.left, marks[0].style.width]).toEqual(['100px', '10px', '80px']);
      // The text is not selected, so the input keeps the focus for typing.
      expect(document.getSelection()!.toString()).toBe('');
      expect(document.activeElement).toBe(input);
      await fireEvent.keyDown(input, { key: 'Escape' });
      expect(document.querySelectorAll('.find-mark')).toHaveLength(0);
    } finally {
      delete (Range.prototype as any).getClientRects;
    }
  });

  it('Escape outside the bar closes it before it would cancel a job', async () => {
    const { app } = await mountWithArticle();
    await ctrl('f');
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect($('find-bar')).toBeNull();
    expect(app.find.open).toBe(false);
  });

  it('Escape on the bar\'s buttons closes it and gives the focus back', async () => {
    await mountWithArticle();
    const history = $('history-search')!;
    history.focus();
    await ctrl('f');
    await fireEvent.input($('find-input')!, { target: { value: 'paragraph' } });
    await waitFor(() => expect(count()).toBe('1 of 3'));
    $('find-next')!.focus();
    await fireEvent.keyDown($('find-next')!, { key: 'Escape' });
    expect($('find-bar')).toBeNull();
    expect(document.activeElement).toBe(history);
  });
});

describe('copy', () => {
  let writeText: ReturnType<typeof vi.fn>;
  beforeEach(() => {
    writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
  });

  it('copies a whole pane from its title bar and says so', async () => {
    await mountWithArticle();
    const original = $('copy-original') as HTMLButtonElement;
    expect(original.getAttribute('aria-label')).toBe('Copy the original');
    expect(original.textContent).toBe('Copy');
    await fireEvent.click(original);
    await waitFor(() => expect(original.textContent).toBe('Copied'));
    expect(writeText).toHaveBeenLastCalledWith(
      'Rain in Spain\n\nParagraph 1 of Rain in Spain.\n\nParagraph 2 of Rain in Spain.\n\nParagraph 3 of Rain in Spain.',
    );
    await waitFor(() => expect($('announcer')!.textContent).toBe('Copied'));

    await fireEvent.click($('copy-summary')!);
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith('• 西班牙下雨了。\n• 雨主要落在平原。'));
    await fireEvent.click($('copy-translation')!);
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith('西班牙的雨\n\n第1段。\n\n第2段。\n\n第3段。'));
  });

  it('copies one paragraph with the button inside it, which adds nothing to its text', async () => {
    await mountWithArticle();
    const para = $('pane-translation')!.querySelector('[data-pid="p2"]')!;
    expect(para.textContent).toBe('第2段。');
    const button = para.querySelector('button.para-copy') as HTMLButtonElement;
    expect(button.getAttribute('aria-label')).toBe('Copy this paragraph');
    expect(button.type).toBe('button');
    await fireEvent.click(button);
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith('第2段。'));
    await waitFor(() => expect(button.classList.contains('copied')).toBe(true));
    // Summary points have one too.
    const point = $('pane-summary')!.querySelector('li .para-copy') as HTMLButtonElement;
    await fireEvent.click(point);
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith('西班牙下雨了。'));
  });

  it('says when the clipboard refused the text', async () => {
    writeText.mockRejectedValue(new Error('denied'));
    await mountWithArticle();
    const button = $('copy-original')!;
    await fireEvent.click(button);
    await waitFor(() => expect(button.textContent).toBe('Failed'));
    expect(button.getAttribute('title')).toContain('Ctrl+C');
  });

  it('has nothing to copy before an article is open', async () => {
    installBackend();
    render(App, { props: { app: new AppState() } });
    await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
    for (const id of ['copy-original', 'copy-summary', 'copy-translation']) {
      expect(($(id) as HTMLButtonElement).disabled, id).toBe(true);
    }
  });
});

describe('layouts', () => {
  const section = (id: string) => $(id)!.closest('section')!;

  it('switches between three panes, translation only and bilingual, and keeps the choice', async () => {
    const stored: Record<string, unknown> = {};
    await mountWithArticle(stored);
    const panes = document.querySelector('main.panes')!;
    expect(panes.getAttribute('data-layout')).toBe('three');
    expect(($('layout-three') as HTMLInputElement).checked).toBe(true);
    expect($('pane-bilingual')).toBeNull();

    await fireEvent.click($('layout-translation')!);
    expect(panes.getAttribute('data-layout')).toBe('translation');
    expect(section('pane-original').hidden).toBe(true);
    expect(section('pane-summary').hidden).toBe(true);
    expect(section('pane-translation').hidden).toBe(false);
    await waitFor(() => expect((stored.settings as any)?.layout).toBe('translation'));

    await fireEvent.click($('layout-bilingual')!);
    expect(section('pane-original').hidden).toBe(true);
    expect(section('pane-summary').hidden).toBe(false);
    expect(section('pane-translation').hidden).toBe(true);
    const blocks = [...$('pane-bilingual')!.querySelectorAll('[data-pid]')].map((el) => [
      el.getAttribute('data-pid'),
      el.getAttribute('lang'),
      el.textContent,
    ]);
    expect(blocks).toEqual([
      ['title', 'en', 'Rain in Spain'],
      ['title', 'zh-Hans', '西班牙的雨'],
      ['p1', 'en', 'Paragraph 1 of Rain in Spain.'],
      ['p1', 'zh-Hans', '第1段。'],
      ['p2', 'en', 'Paragraph 2 of Rain in Spain.'],
      ['p2', 'zh-Hans', '第2段。'],
      ['p3', 'en', 'Paragraph 3 of Rain in Spain.'],
      ['p3', 'zh-Hans', '第3段。'],
    ]);
    await waitFor(() => expect((stored.settings as any)?.layout).toBe('bilingual'));

    await fireEvent.click($('layout-three')!);
    expect($('pane-bilingual')).toBeNull();
    expect(section('pane-original').hidden).toBe(false);
  });

  it('starts in the stored layout', async () => {
    await mountWithArticle({ settings: { layout: 'bilingual' } });
    expect(($('layout-bilingual') as HTMLInputElement).checked).toBe(true);
    expect($('pane-bilingual')).not.toBeNull();
  });

  it('highlights a paragraph and its translation together in the bilingual layout', async () => {
    await mountWithArticle({ settings: { layout: 'bilingual' } });
    await fireEvent.mouseOver($('pane-bilingual')!.querySelector('[data-pid="p3"]')!);
    // (The hidden panes keep their highlight; they are not shown.)
    const lit = [...document.querySelectorAll('.hl')].filter((el) => !el.closest('[hidden]')).map((el) => [
      el.closest('[id^="pane-"]')!.id,
      el.getAttribute('data-pid'),
      el.getAttribute('lang'),
    ]);
    expect(lit).toEqual([
      ['pane-bilingual', 'p3', 'en'],
      ['pane-bilingual', 'p3', 'zh-Hans'],
      ['pane-summary', 'p3', null],
    ]);
  });

  it('shows an untranslated paragraph once in the bilingual layout', async () => {
    const outcome = makeOutcome();
    const p2 = outcome.translation!.paragraphs[1];
    Object.assign(p2, { text: p2.source, untranslated: true, warnings: ['not translated'] });
    installBackend({
      ...storeHandlers({ settings: { layout: 'bilingual' } }),
      read_article: () => makeDocument(),
      process_article: () => ({ history_id: 1, outcome }),
    });
    const app = new AppState();
    render(App, { props: { app } });
    await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    await waitFor(() => expect($('pane-bilingual')!.querySelectorAll('[data-pid="p3"]')).toHaveLength(2));
    const p2s = $('pane-bilingual')!.querySelectorAll('[data-pid="p2"]');
    expect(p2s).toHaveLength(1);
    expect(p2s[0].closest('.bi-row')!.textContent).toContain('Not translated');
  });

  it('interleaves what has streamed so far, and find counts it as it comes', async () => {
    installHighlights();
    const finish = deferred<unknown>();
    let channel: any;
    installBackend({
      ...storeHandlers({ settings: { layout: 'bilingual' } }),
      read_article: () => makeDocument(),
      process_article: ({ onEvent }) => {
        channel = onEvent;
        return finish.promise;
      },
    });
    const app = new AppState();
    render(App, { props: { app } });
    await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
    app.enqueuePaths(['/a.txt']);
    await waitFor(() => expect(channel).toBeDefined());
    await ctrl('f');
    await fireEvent.input($('find-input')!, { target: { value: '段' } });
    await waitFor(() => expect(count()).toBe('No matches'));
    sendEvents(channel, [
      { event: 'paragraph_done', paragraph_id: 'p1', text: '第1段。' },
      { event: 'token', stage: 'translating', paragraph_id: 'p2', text: '第2段' },
    ]);
    await waitFor(() => expect($('pane-bilingual')!.querySelectorAll('[data-pid="p2"]')).toHaveLength(2));
    const [, p2] = $('pane-bilingual')!.querySelectorAll('[data-pid="p2"]');
    expect(p2.classList.contains('streaming')).toBe(true);
    expect(p2.querySelector('.para-copy')).toBeNull();
    expect($('pane-bilingual')!.querySelectorAll('[data-pid="p3"]')).toHaveLength(1);
    await waitFor(() => expect(count()).toBe('1 of 2'));
    finish.resolve({ history_id: 1, outcome: makeOutcome() });
    await app.queue.idle();
    await waitFor(() => expect(count()).toBe('1 of 3'));
  });

  it('puts right-to-left translations right to left', async () => {
    const outcome = makeOutcome();
    outcome.translation!.language = 'ar';
    installBackend({
      ...storeHandlers({ settings: { layout: 'bilingual' } }),
      read_article: () => makeDocument(),
      process_article: () => ({ history_id: 1, outcome }),
    });
    const app = new AppState();
    render(App, { props: { app } });
    await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    await waitFor(() => expect($('pane-bilingual')!.querySelector('.bi-translation[data-pid="p1"]')).not.toBeNull());
    const [source, target] = $('pane-bilingual')!.querySelectorAll('[data-pid="p1"]');
    expect(source.getAttribute('dir')).toBe('ltr');
    expect(target.getAttribute('dir')).toBe('rtl');
    expect(target.getAttribute('lang')).toBe('ar');
  });
});
