// The App component mounted in jsdom against a mocked backend.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, fireEvent, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from '../src/App.svelte';
import { AppState } from '../src/lib/app.svelte';
import { resetSettingsStore } from '../src/lib/settings';
import type { ModelStatus } from '../src/lib/types';
import {
  LANGUAGES,
  MODELS,
  deferred,
  installBackend,
  makeDocument,
  makeOutcome,
  sendEvents,
  storeHandlers,
} from './helpers';

afterEach(() => {
  cleanup();
  clearMocks();
  resetSettingsStore();
});

const $ = (id: string) => document.getElementById(id);

async function mountApp() {
  const app = new AppState();
  render(App, { props: { app } });
  await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
  return app;
}

describe('App', () => {
  it('renders the language list and the stable element ids', async () => {
    installBackend({}, { windows: true });
    await mountApp();
    const select = $('target-select') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(LANGUAGES.map((l) => l.code));
    expect(select.value).toBe('zh-Hans');
    expect(select.textContent).toContain('简体中文');
    for (const id of [
      'open-button', 'length-select', 'style-select', 'engine-select', 'model-select',
      'translate-toggle', 'summary-lang-toggle', 'cancel-button', 'pane-original', 'pane-summary',
      'pane-translation', 'status-line', 'history-list', 'history-search', 'export-md', 'export-txt',
      'export-html', 'export-json', 'export-docx', 'export-pdf', 'export-include-translation',
      'models-button', 'drop-overlay', 'queue-count',
    ]) {
      expect($(id), id).not.toBeNull();
    }
    expect($('progress')).toBeNull();
    expect($('error-banner')).toBeNull();
    expect($('models-panel')).toBeNull();
    expect(($('cancel-button') as HTMLButtonElement).disabled).toBe(true);
    expect(($('export-md') as HTMLButtonElement).disabled).toBe(true);
    expect($('drop-overlay')!.hidden).toBe(true);
    expect(document.body.dataset.state).toBe('idle');
    // installed models only in the model select
    const models = [...($('model-select') as HTMLSelectElement).options].map((o) => o.value);
    expect(models).toEqual(['', MODELS[0].id]);
    // history items
    const items = [...$('history-list')!.querySelectorAll('li[data-history-id]')];
    expect(items.map((li) => li.getAttribute('data-history-id'))).toEqual(['7', '3']);
  });

  it('restores settings into the controls and saves a change', async () => {
    const data: Record<string, unknown> = { settings: { target: 'ja', length: 'long', style: 'bullets', engine: 'extractive', translate: false } };
    installBackend(storeHandlers(data));
    await mountApp();
    expect(($('target-select') as HTMLSelectElement).value).toBe('ja');
    expect(($('length-select') as HTMLSelectElement).value).toBe('long');
    expect(($('style-select') as HTMLSelectElement).value).toBe('bullets');
    expect(($('engine-select') as HTMLSelectElement).value).toBe('extractive');
    expect(($('translate-toggle') as HTMLInputElement).checked).toBe(false);
    await fireEvent.change($('length-select')!, { target: { value: 'short' } });
    await waitFor(() => expect((data.settings as any).length).toBe('short'));
    await fireEvent.click($('translate-toggle')!);
    await waitFor(() => expect((data.settings as any).translate).toBe(true));
  });

  it('streams a job into the panes, then shows the outcome and enables export', async () => {
    const finish = deferred<unknown>();
    let channel: any;
    installBackend({
      read_article: () => makeDocument(),
      process_article: ({ onEvent }) => {
        channel = onEvent;
        return finish.promise;
      },
    });
    const app = await mountApp();
    app.enqueuePaths(['/news/rain.txt', '/news/next.txt']);
    await waitFor(() => expect(channel).toBeDefined());
    await waitFor(() => expect($('progress')).not.toBeNull());
    expect($('progress-stage')!.textContent).toBe('Reading the article');
    expect(document.body.dataset.state).toBe('running');
    expect($('queue-count')!.textContent).toContain('1');
    expect(($('cancel-button') as HTMLButtonElement).disabled).toBe(false);
    expect($('pane-original')!.querySelector('[data-pid="p2"]')!.textContent).toBe('Paragraph 2 of Rain in Spain.');

    sendEvents(channel, [
      { event: 'token', stage: 'summarizing', paragraph_id: null, text: 'It rained' },
      { event: 'progress', stage: 'translating', done: 1, total: 3, tokens: 0 },
      { event: 'token', stage: 'translating', paragraph_id: 'p2', text: '下' },
    ]);
    await waitFor(() => expect($('progress-stage')!.textContent).toBe('Translating — paragraph 2 of 3'));
    expect($('pane-summary')!.textContent).toContain('It rained');
    expect($('pane-translation')!.querySelector('[data-pid="p2"]')!.textContent).toBe('下');
    sendEvents(channel, [{ event: 'paragraph_done', paragraph_id: 'p2', text: '下雨了。' }]);
    await waitFor(() => expect($('pane-translation')!.querySelector('[data-pid="p2"]')!.textContent).toBe('下雨了。'));

    finish.resolve({ history_id: 9, outcome: makeOutcome() });
    await waitFor(() => expect(app.pending).toBe(0));
    await waitFor(() => expect(document.body.dataset.state).toBe('done'));
    await app.queue.idle();
    await waitFor(() => expect($('progress')).toBeNull());
    expect($('status-line')!.textContent).toBe('Rain in Spain — Qwen2.5 1.5B Instruct');
    expect(($('export-pdf') as HTMLButtonElement).disabled).toBe(false);
    const translation = $('pane-translation')!;
    expect(translation.getAttribute('lang')).toBe('zh-Hans');
    expect(translation.querySelector('[data-pid="p1"]')!.textContent).toBe('第1段。');
    // summary points carry the paragraph of their first source sentence
    const points = [...$('pane-summary')!.querySelectorAll('[data-pid]')];
    expect(points.map((p) => p.getAttribute('data-pid'))).toEqual(['p2', 'p3']);
    expect(points[0].textContent).toBe('西班牙下雨了。');
    // the toggle shows the English summary
    await fireEvent.click($('summary-lang-toggle')!);
    await waitFor(() => expect($('pane-summary')!.textContent).toContain('It rained in Spain.'));
    expect($('pane-summary')!.getAttribute('lang')).toBe('en');
  });

  it('highlights the same paragraph in every pane on hover', async () => {
    installBackend({
      read_article: () => makeDocument(),
      process_article: () => ({ history_id: 1, outcome: makeOutcome() }),
    });
    const app = await mountApp();
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    await waitFor(() => expect($('pane-translation')!.querySelector('[data-pid="p2"]')).not.toBeNull());
    await fireEvent.mouseOver($('pane-original')!.querySelector('[data-pid="p2"]')!);
    const lit = [...document.querySelectorAll('.hl')].map((el) => [el.closest('[id^="pane-"]')!.id, el.getAttribute('data-pid')]);
    expect(lit).toEqual([
      ['pane-original', 'p2'],
      ['pane-summary', 'p2'],
      ['pane-translation', 'p2'],
    ]);
  });

  it('highlights exactly the source sentences of a hovered summary sentence and marks unsupported ones', async () => {
    const doc = makeDocument();
    // Two sentences in paragraph 3: only the cited one lights up.
    doc.paragraphs[2] = {
      id: 'p3',
      text: 'The rain fell.  It fell mainly on the plain.',
      sentences: [
        { id: 'p3.s1', text: 'The rain fell.' },
        { id: 'p3.s2', text: 'It fell mainly on the plain.' },
      ],
    };
    const outcome = makeOutcome(doc);
    outcome.summary!.points = [
      { text: '雨主要落在平原。', source_sentence_ids: ['p3.s2', 'p1.s1'] },
      { text: '雨停了。', source_sentence_ids: [] },
    ];
    installBackend({
      read_article: () => doc,
      process_article: () => ({ history_id: 1, outcome }),
    });
    const app = await mountApp();
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    const original = $('pane-original')!;
    await waitFor(() => expect(original.querySelector('[data-sid="p3.s2"]')).not.toBeNull());
    // The paragraph's text is unchanged by the sentence spans.
    expect(original.querySelector('[data-pid="p3"]')!.textContent).toContain('The rain fell.  It fell mainly on the plain.');
    const points = $('pane-summary')!.querySelectorAll('li');
    await fireEvent.mouseOver(points[0]);
    const lit = [...original.querySelectorAll('.sentence.evidence')].map((el) => el.getAttribute('data-sid'));
    expect(lit).toEqual(['p1.s1', 'p3.s2']);
    await fireEvent.mouseOver(points[1]);
    expect(original.querySelectorAll('.sentence.evidence')).toHaveLength(0);
    expect(points[1].classList.contains('unsupported')).toBe(true);
    expect(points[1].querySelector('.unsupported-mark')!.textContent).toContain('not in the article');
    expect(points[0].querySelector('.unsupported-mark')).toBeNull();
    await fireEvent.mouseLeave($('pane-original')!.closest('main')!);
    expect(app.evidence).toEqual([]);
  });

  it('marks a paragraph the model did not translate and shows it in the original language', async () => {
    const outcome = makeOutcome();
    const p2 = outcome.translation!.paragraphs[1];
    p2.text = p2.source;
    p2.untranslated = true;
    p2.warnings = ['the model did not translate this text; it is shown in the original language'];
    installBackend({
      read_article: () => makeDocument(),
      process_article: () => ({ history_id: 1, outcome }),
    });
    const app = await mountApp();
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    await waitFor(() => expect($('pane-translation')!.querySelector('[data-pid="p2"]')).not.toBeNull());
    const para = $('pane-translation')!.querySelector('[data-pid="p2"]')!;
    expect(para.classList.contains('untranslated')).toBe(true);
    expect(para.getAttribute('lang')).toBe('en');
    expect(para.textContent).toContain('Not translated');
    expect(para.textContent).toContain(p2.source);
    expect($('pane-translation')!.querySelector('[data-pid="p1"]')!.classList.contains('untranslated')).toBe(false);
    expect($('pane-translation')!.textContent).toContain('did not translate');
  });

  it('shows the lines left out of a text page and runs the article again with one restored', async () => {
    const doc = makeDocument();
    doc.left_out = [
      { line: 0, text: 'Home', before_article: true, restored: false },
      { line: 9, text: 'Analysts said the deal would close next year.', before_article: false, restored: false },
    ];
    const restored = makeDocument('Rain in Spain', 4);
    restored.paragraphs[3].text = 'Analysts said the deal would close next year.';
    restored.left_out = [
      { ...doc.left_out[0] },
      { ...doc.left_out[1], restored: true },
    ];
    const processed: unknown[] = [];
    const backend = installBackend({
      read_article: () => doc,
      restore_left_out: (args) => {
        expect(args.index).toBe(1);
        expect(args.document.left_out).toHaveLength(2);
        return restored;
      },
      process_article: (args) => {
        processed.push(args.input);
        const input = args.input as { kind: string; document?: typeof doc };
        return { history_id: 1, outcome: makeOutcome(input.kind === 'document' ? input.document! : doc) };
      },
    });
    const app = await mountApp();
    app.enqueuePaths(['/page.txt']);
    await app.queue.idle();
    const toggle = await waitFor(() => {
      const b = $('left-out')!.querySelector('button')!;
      expect(b.textContent).toContain('2 lines');
      return b;
    });
    await fireEvent.click(toggle);
    const items = $('left-out')!.querySelectorAll('li');
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain('before the article');
    await fireEvent.click(items[1].querySelector('button')!);
    await waitFor(() => expect(processed).toHaveLength(2));
    await app.queue.idle();
    expect(processed[1]).toMatchObject({ kind: 'document', source_path: '/page.txt' });
    expect(backend.calls.some((c) => c.cmd === 'restore_left_out')).toBe(true);
    await waitFor(() => expect($('left-out')!.querySelector('button')!.textContent).toContain('1 line of'));
    expect($('pane-original')!.textContent).toContain('Analysts said the deal would close next year.');
  });

  it('shows an error from process_article in the banner, dismissable', async () => {
    installBackend({
      read_article: () => makeDocument(),
      process_article: () => Promise.reject({ code: 'model_failed', message: 'The model file is damaged: download it again in Models.' }),
    });
    const app = await mountApp();
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    const banner = await waitFor(() => {
      const b = $('error-banner');
      expect(b).not.toBeNull();
      return b!;
    });
    expect(banner.textContent).toContain('The model file is damaged: download it again in Models.');
    expect(document.body.dataset.state).toBe('error');
    await fireEvent.click(banner.querySelector('button')!);
    expect($('error-banner')).toBeNull();
  });

  it('shows "Cancelled" and no banner for a cancelled job', async () => {
    installBackend({
      read_article: () => makeDocument(),
      process_article: () => Promise.reject({ code: 'cancelled', message: 'Cancelled by the user.' }),
    });
    const app = await mountApp();
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    await waitFor(() => expect($('status-line')!.textContent).toBe('Cancelled'));
    expect($('error-banner')).toBeNull();
    expect(document.body.dataset.state).toBe('cancelled');
  });

  it('reopens and deletes history items (with inline confirmation)', async () => {
    const backend = installBackend({
      history_get: ({ id }) => ({ id, created_at: '2025-05-01T10:00:00Z', options: { target: 'zh-Hans' }, outcome: makeOutcome(makeDocument('Stored article')) }),
      history_delete: () => null,
    });
    await mountApp();
    await waitFor(() => expect($('history-list')!.querySelector('li[data-history-id="7"]')).not.toBeNull());
    const item = $('history-list')!.querySelector('li[data-history-id="7"]')!;
    expect(item.textContent).toContain('Rain in Spain');
    expect(item.textContent).toContain('简体中文');
    await fireEvent.click(item.querySelector('.history-open')!);
    await waitFor(() => expect($('pane-original')!.textContent).toContain('Stored article'));
    expect(backend.of('history_get')[0].args).toEqual({ id: 7 });
    expect(document.body.dataset.state).toBe('done');

    await fireEvent.click(item.querySelector('.history-delete')!);
    expect(backend.of('history_delete')).toHaveLength(0);
    await fireEvent.click(item.querySelector('.confirm-yes')!);
    await waitFor(() => expect(backend.of('history_delete')).toHaveLength(1));
    expect(backend.of('history_delete')[0].args).toEqual({ id: 7 });
  });

  it('says the model list is loading, not "None installed", until it has come back', async () => {
    const list = deferred<ModelStatus[]>();
    installBackend({ list_models: () => list.promise });
    const app = new AppState();
    render(App, { props: { app } });
    const first = () => ($('model-select') as HTMLSelectElement).options[0].textContent;
    await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
    expect(first()).toBe('Loading…');
    list.resolve(MODELS.map((m) => ({ ...m, installed: null, installed_bytes: null, sources: [] })));
    await waitFor(() => expect(first()).toBe('None installed'));
  });

  it('opens the models panel with the first-run hint when no model is installed', async () => {
    installBackend({
      list_models: () => MODELS.map((m) => ({ ...m, installed: null, installed_bytes: null, sources: [] })),
      model_download: () => Promise.reject({ code: 'download_failed', message: 'Could not reach the model hub: check the network.' }),
    });
    await mountApp();
    await fireEvent.click($('models-button')!);
    const panel = $('models-panel')!;
    expect(panel).not.toBeNull();
    expect(panel.textContent).toContain('precis models fetch qwen2.5-1.5b-instruct');
    expect(panel.textContent).toContain('translation needs a model');
    const download = panel.querySelector('[data-model-id="qwen2.5-1.5b-instruct"] .model-download') as HTMLButtonElement;
    await fireEvent.click(download);
    await waitFor(() => expect(panel.textContent).toContain('Could not reach the model hub: check the network.'));
    expect($('error-banner')).toBeNull();
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect($('models-panel')).toBeNull();
  });

  it('lists installed models with their size and source', async () => {
    installBackend();
    await mountApp();
    await fireEvent.click($('models-button')!);
    const row = $('models-panel')!.querySelector('[data-model-id="qwen2.5-1.5b-instruct"]')!;
    expect(row.textContent).toContain('1,117 MB');
    expect(row.textContent).toContain('hub');
    expect(row.querySelector('.model-remove')).not.toBeNull();
    expect($('models-panel')!.textContent).not.toContain('No model installed');
  });

  it('groups models by task and sends the chosen translator with the job', async () => {
    const marian: ModelStatus = {
      ...MODELS[0],
      id: 'opus-mt-en-zh',
      name: 'OPUS-MT English → Chinese (Marian)',
      architecture: 'marian',
      purpose: 'translation',
      tested: false,
      installed: '/hub/opus-mt-en-zh/model.safetensors',
      tile_cache_bytes: null,
      removable: false,
    };
    const outcome = makeOutcome();
    outcome.translation!.model = marian.id;
    let options: unknown = null;
    installBackend({
      list_models: () => [...MODELS, marian],
      read_article: () => makeDocument(),
      process_article: (args) => {
        options = (args as { options: unknown }).options;
        return { history_id: 1, outcome };
      },
    });
    const app = await mountApp();
    await fireEvent.click($('models-button')!);
    const groups = [...$('models-panel')!.querySelectorAll('.models-group')].map((g) => [
      g.getAttribute('data-group'),
      [...g.querySelectorAll('[data-model-id]')].map((r) => r.getAttribute('data-model-id')),
    ]);
    expect(groups).toEqual([
      ['assistant', ['qwen2.5-1.5b-instruct', 'qwen2.5-0.5b-instruct']],
      ['translation', ['opus-mt-en-zh']],
    ]);
    // The disk the start-up cache takes is stated beside the model's own size.
    const row = $('models-panel')!.querySelector('[data-model-id="qwen2.5-1.5b-instruct"]')!;
    expect(row.querySelector('.tile-cache')!.textContent).toContain('+997 MB start-up cache');
    const other = $('models-panel')!.querySelector('[data-model-id="qwen2.5-0.5b-instruct"]')!;
    expect(other.querySelector('.tile-cache')).toBeNull();
    // The translator is chosen apart from the summary model, which never lists it.
    const summaryModels = [...($('model-select') as HTMLSelectElement).options].map((o) => o.value);
    expect(summaryModels).not.toContain('opus-mt-en-zh');
    const translator = $('translation-model-select') as HTMLSelectElement;
    await fireEvent.change(translator, { target: { value: 'opus-mt-en-zh' } });
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    expect(options).toMatchObject({ translationModel: 'opus-mt-en-zh' });
    await waitFor(() => expect($('translation-note')!.textContent).toContain('translated by opus-mt-en-zh'));
  });

  it('shows the drop overlay during a drag', async () => {
    installBackend({}, { windows: true });
    const app = await mountApp();
    app.onDragDrop({ type: 'enter', paths: [] });
    await waitFor(() => expect($('drop-overlay')!.hidden).toBe(false));
    app.onDragDrop({ type: 'leave' });
    await waitFor(() => expect($('drop-overlay')!.hidden).toBe(true));
  });
});

describe('App outside Tauri', () => {
  it('mounts in a plain browser and says what is missing', async () => {
    const app = new AppState();
    render(App, { props: { app } });
    await waitFor(() => expect($('error-banner')).not.toBeNull());
    expect($('error-banner')!.textContent).toContain('Précis app');
  });
});
