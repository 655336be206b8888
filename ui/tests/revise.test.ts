// Checking and fixing the translation in the mounted App: the doubt heat-map, a paragraph's
// actions (Retranslate, Edit) and "Retranslate all doubtful", against a mocked backend.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from '../src/App.svelte';
import { AppState } from '../src/lib/app.svelte';
import { resetSettingsStore } from '../src/lib/settings';
import type { Outcome, ProcessResult } from '../src/lib/types';
import {
  LANGUAGES,
  deferred,
  installBackend,
  makeDocument,
  makeOutcome,
  sendEvents,
  storeHandlers,
  type Handler,
} from './helpers';

afterEach(() => {
  cleanup();
  clearMocks();
  resetSettingsStore();
});

const $ = (id: string) => document.getElementById(id);
const inPane = (selector: string, pane = 'pane-translation') => $(pane)!.querySelector<HTMLElement>(selector);
const para = (pid: string, pane = 'pane-translation') => inPane(`[data-pid="${pid}"]`, pane)!;
const button = (id: string) => $(id) as HTMLButtonElement;

/** p1 has a serious problem, p2 a minor one, p3 none. */
function doubtfulOutcome(): Outcome {
  const outcome = makeOutcome();
  const [p1, p2, p3] = outcome.translation!.paragraphs;
  p1.problems = [{ kind: 'amount_changed', detail: { amount: '3.5 billion' } }];
  p1.warnings = ['the amount "3.5 billion" may not have been translated exactly'];
  p2.problems = [{ kind: 'english_left', detail: ['Kremlin', 'NATO'] }];
  p3.problems = [];
  return outcome;
}

/** A copy of `outcome` with paragraph `id` changed, as the backend returns a revision. */
function revised(outcome: Outcome, id: string, change: Record<string, unknown>): ProcessResult {
  const next = structuredClone(outcome);
  const p = next.translation!.paragraphs.find((q) => q.id === id)!;
  Object.assign(p, { warnings: [], problems: [] }, change);
  return { history_id: 1, outcome: next };
}

/** The App showing `outcome` (stored as history row `historyId`) after one job. */
async function mountWith(
  outcome: Outcome,
  handlers: Record<string, Handler> = {},
  opts: { historyId?: number | null; stored?: Record<string, unknown> } = {},
) {
  const backend = installBackend({
    ...storeHandlers(opts.stored ?? {}),
    read_article: () => makeDocument(),
    process_article: () => ({ history_id: opts.historyId === undefined ? 1 : opts.historyId, outcome }),
    ...handlers,
  });
  const app = new AppState();
  render(App, { props: { app } });
  await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
  app.enqueuePaths(['/news/rain.txt']);
  await app.queue.idle();
  await waitFor(() => expect(inPane('[data-pid="p3"]')).not.toBeNull());
  return { app, backend };
}

describe('the doubt heat-map', () => {
  it('shades doubtful paragraphs by level, says why, and counts them in the legend', async () => {
    await mountWith(doubtfulOutcome());
    expect(para('p1').classList.contains('doubt-serious')).toBe(true);
    expect(para('p1').classList.contains('doubt-minor')).toBe(false);
    expect(para('p2').classList.contains('doubt-minor')).toBe(true);
    expect(para('p3').className).not.toMatch(/doubt-/);
    expect(para('p1').title).toContain('amount changed: 3.5 billion');
    expect(para('p1').title).toMatch(/^Serious problem/);
    expect(para('p2').title).toContain('English left: Kremlin, NATO');
    expect(para('p3').getAttribute('title')).toBeNull();
    // The text itself is unchanged (the copy button has no text).
    expect(para('p1').textContent).toBe('第1段。');

    const legend = $('doubt-legend')!;
    expect(legend.textContent).toMatch(/Shaded:\s*serious problem\s*\(1\)\s*\/\s*minor doubt\s*\(1\)/);
    expect(legend.querySelector('.doubt-count[data-level="serious"]')!.textContent).toBe('(1)');
    expect(legend.querySelector('.doubt-count[data-level="minor"]')!.textContent).toBe('(1)');
    expect(button('retranslate-doubtful').textContent).toBe('Retranslate all doubtful (2)');
    expect(button('retranslate-doubtful').disabled).toBe(false);
  });

  it('has no legend and a disabled "Retranslate all doubtful" when nothing is doubtful', async () => {
    await mountWith(makeOutcome());
    expect($('doubt-legend')).toBeNull();
    expect(document.querySelector('.doubt-serious, .doubt-minor')).toBeNull();
    expect(button('retranslate-doubtful').textContent).toBe('Retranslate all doubtful (0)');
    expect(button('retranslate-doubtful').disabled).toBe(true);
    expect(button('retranslate-doubtful').title).toBe('No paragraph is doubtful');
  });

  it('marks the reader’s own text as edited, never as doubtful', async () => {
    const outcome = doubtfulOutcome();
    Object.assign(outcome.translation!.paragraphs[0], { text: '我的译文。', edited: true, problems: [], warnings: [] });
    await mountWith(outcome);
    expect(para('p1').querySelector('.edited-mark')!.textContent).toBe('✎ edited');
    expect(para('p1').className).not.toMatch(/doubt-/);
    expect(para('p2').querySelector('.edited-mark')).toBeNull();
    expect($('doubt-legend')!.textContent).toMatch(/serious problem\s*\(0\)/);
    expect(button('retranslate-doubtful').textContent).toBe('Retranslate all doubtful (1)');
  });

  it('shades the bilingual layout too, with one legend and one button', async () => {
    const outcome = doubtfulOutcome();
    const p3 = outcome.translation!.paragraphs[2];
    Object.assign(p3, { text: p3.source, untranslated: true, problems: [{ kind: 'not_translated' }] });
    await mountWith(outcome, {}, { stored: { settings: { layout: 'bilingual' } } });
    expect(para('p1', 'pane-bilingual')).not.toBeNull();
    const translated = (pid: string) => inPane(`.bi-translation[data-pid="${pid}"]`, 'pane-bilingual')!;
    expect(translated('p1').classList.contains('doubt-serious')).toBe(true);
    expect(translated('p2').classList.contains('doubt-minor')).toBe(true);
    // The untranslated paragraph's note is where its shading and actions are.
    const note = inPane('.untranslated-note', 'pane-bilingual')!;
    expect(note.classList.contains('doubt-serious')).toBe(true);
    expect(note.hasAttribute('data-pid')).toBe(false);
    expect(document.querySelectorAll('#doubt-legend')).toHaveLength(1);
    expect(document.querySelectorAll('#retranslate-doubtful')).toHaveLength(1);
    expect($('doubt-legend')!.textContent).toMatch(/serious problem\s*\(2\)/);
    await fireEvent.click(note);
    expect(note.nextElementSibling!.classList.contains('para-actions')).toBe(true);
    // Only the shown pane's copy of a paragraph opens actions.
    expect(document.querySelectorAll('.para-actions')).toHaveLength(1);
  });
});

describe('editing a paragraph', () => {
  it('opens the actions on a click, edits, and saves through edit_paragraph', async () => {
    const outcome = doubtfulOutcome();
    const { app, backend } = await mountWith(outcome, {
      edit_paragraph: ({ paragraphId, text }) => revised(outcome, paragraphId, { text, edited: true }),
    });
    expect(inPane('.para-actions')).toBeNull();
    await fireEvent.click(para('p2'));
    const actions = inPane('.para-actions')!;
    expect(actions.querySelector('.para-retranslate')!.textContent).toBe('Retranslate');
    expect(actions.querySelector('.para-edit')!.textContent).toBe('Edit');
    expect((actions.querySelector('.para-edit') as HTMLButtonElement).disabled).toBe(false);
    // The actions follow the paragraph they are for.
    expect(para('p2').nextElementSibling).toBe(actions);

    await fireEvent.click(actions.querySelector('.para-edit')!);
    const editor = inPane('.para-editor') as HTMLTextAreaElement;
    expect(editor.value).toBe('第2段。');
    expect(editor.getAttribute('lang')).toBe('zh-Hans');
    expect(document.activeElement).toBe(editor);
    expect(inPane('[data-pid="p2"]')).toBeNull();
    const historyCalls = backend.of('history_list').length;

    await fireEvent.input(editor, { target: { value: '克里姆林宫和北约。' } });
    await fireEvent.click(inPane('.para-save')!);
    await waitFor(() => expect(inPane('.para-editor')).toBeNull());
    expect(backend.of('edit_paragraph').map((c) => c.args)).toEqual([
      { historyId: 1, paragraphId: 'p2', text: '克里姆林宫和北约。' },
    ]);
    expect(para('p2').textContent).toBe('克里姆林宫和北约。✎ edited');
    expect(para('p2').querySelector('.edited-mark')).not.toBeNull();
    expect(para('p2').className).not.toMatch(/doubt-/);
    expect(button('retranslate-doubtful').textContent).toBe('Retranslate all doubtful (1)');
    expect(app.outcome!.translation!.paragraphs[1].edited).toBe(true);
    expect(inPane('.para-actions')).toBeNull();
    await waitFor(() => expect(backend.of('history_list').length).toBe(historyCalls + 1));
  });

  it('Escape cancels without a call; Ctrl+Enter saves', async () => {
    const outcome = doubtfulOutcome();
    const { backend } = await mountWith(outcome, {
      edit_paragraph: ({ paragraphId, text }) => revised(outcome, paragraphId, { text, edited: true }),
    });
    await fireEvent.click(para('p1'));
    await fireEvent.click(inPane('.para-edit')!);
    let editor = inPane('.para-editor') as HTMLTextAreaElement;
    await fireEvent.input(editor, { target: { value: 'thrown away' } });
    await fireEvent.keyDown(editor, { key: 'Escape' });
    expect(inPane('.para-editor')).toBeNull();
    expect(backend.of('edit_paragraph')).toHaveLength(0);
    expect(para('p1').textContent).toBe('第1段。');
    expect(document.activeElement).toBe(para('p1'));

    await fireEvent.click(para('p1'));
    await fireEvent.click(inPane('.para-edit')!);
    editor = inPane('.para-editor') as HTMLTextAreaElement;
    expect(editor.value).toBe('第1段。');
    await fireEvent.input(editor, { target: { value: '35亿。' } });
    await fireEvent.keyDown(editor, { key: 'Enter' }); // a plain Enter is a new line
    expect(backend.of('edit_paragraph')).toHaveLength(0);
    await fireEvent.keyDown(editor, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(backend.of('edit_paragraph')).toHaveLength(1));
    expect(backend.of('edit_paragraph')[0].args).toEqual({ historyId: 1, paragraphId: 'p1', text: '35亿。' });
    await waitFor(() => expect(para('p1').querySelector('.edited-mark')).not.toBeNull());
  });

  it('opens the actions from the keyboard and closes them with Escape', async () => {
    await mountWith(doubtfulOutcome());
    const p3 = para('p3');
    expect(p3.tabIndex).toBe(0);
    p3.focus();
    await fireEvent.keyDown(p3, { key: 'Enter' });
    expect(inPane('.para-actions')).not.toBeNull();
    // Focus moves to the first action.
    expect(document.activeElement).toBe(inPane('.para-retranslate'));
    await fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(inPane('.para-actions')).toBeNull();
    expect(document.activeElement).toBe(para('p3'));
    // A click on the open paragraph closes them too.
    await fireEvent.click(para('p3'));
    await fireEvent.click(para('p3'));
    expect(inPane('.para-actions')).toBeNull();
  });

  it('keeps the editor open and shows the error when saving fails; an empty text cannot be saved', async () => {
    await mountWith(doubtfulOutcome(), {
      edit_paragraph: () => {
        throw { code: 'history_not_found', message: 'history entry 1 does not exist' };
      },
    });
    await fireEvent.click(para('p1'));
    await fireEvent.click(inPane('.para-edit')!);
    const editor = inPane('.para-editor') as HTMLTextAreaElement;
    await fireEvent.input(editor, { target: { value: '   ' } });
    expect((inPane('.para-save') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(editor, { target: { value: '新的。' } });
    await fireEvent.click(inPane('.para-save')!);
    await waitFor(() => expect($('error-banner')!.textContent).toContain('history entry 1 does not exist'));
    expect(inPane('.para-editor')).not.toBeNull();
    expect((inPane('.para-editor') as HTMLTextAreaElement).value).toBe('新的。');
  });

  it('offers the actions disabled, saying why, when the result is not stored', async () => {
    const { backend } = await mountWith(doubtfulOutcome(), {}, { historyId: null });
    await fireEvent.click(para('p1'));
    const retranslate = inPane('.para-retranslate') as HTMLButtonElement;
    const edit = inPane('.para-edit') as HTMLButtonElement;
    expect(retranslate.disabled).toBe(true);
    expect(edit.disabled).toBe(true);
    expect(edit.title).toBe('Only a result kept in the history can be revised');
    expect(inPane('.para-actions-why')!.textContent).toBe('Only a result kept in the history can be revised');
    expect(button('retranslate-doubtful').disabled).toBe(true);
    await fireEvent.click(edit);
    expect(inPane('.para-editor')).toBeNull();
    expect(backend.of('edit_paragraph')).toHaveLength(0);
  });
});

describe('retranslating', () => {
  it('retranslates one paragraph with the current options, showing progress, then the new text', async () => {
    const outcome = doubtfulOutcome();
    const finish = deferred<ProcessResult>();
    let channel: any;
    const { app, backend } = await mountWith(
      outcome,
      {
        retranslate_paragraphs: ({ onEvent }) => {
          channel = onEvent;
          return finish.promise;
        },
      },
      { stored: { settings: { length: 'short', model: 'qwen2.5-1.5b-instruct' } } },
    );
    await fireEvent.click(para('p1'));
    await fireEvent.click(inPane('.para-retranslate')!);
    await waitFor(() => expect(channel).toBeDefined());
    const { onEvent: _, ...args } = backend.of('retranslate_paragraphs')[0].args;
    expect(args).toEqual({
      historyId: 1,
      paragraphIds: ['p1'],
      options: {
        target: 'zh-Hans',
        length: 'short',
        style: 'prose',
        engine: null,
        translate: true,
        summaryInTarget: true,
        model: 'qwen2.5-1.5b-instruct',
        translationModel: null,
      },
    });
    // Runs like a job: progress bar (counting sentences), Cancel, nothing else to start.
    expect(document.body.dataset.state).toBe('running');
    sendEvents(channel, [{ event: 'progress', stage: 'translating', done: 1, total: 2, tokens: 0 }]);
    await waitFor(() => expect($('progress-stage')!.textContent).toBe('Translating — sentence 2 of 2'));
    expect(button('cancel-button').disabled).toBe(false);
    expect(button('retranslate-doubtful').disabled).toBe(true);
    expect(para('p1').classList.contains('retranslating')).toBe(true);
    expect(para('p2').classList.contains('retranslating')).toBe(false);
    // The paragraph is still shown as it was, and its actions now say why they wait.
    expect(para('p1').textContent).toBe('第1段。');
    await fireEvent.click(para('p2'));
    expect((inPane('.para-edit') as HTMLButtonElement).disabled).toBe(true);
    expect(inPane('.para-actions-why')!.textContent).toContain('Wait until the current job is done');

    finish.resolve(revised(outcome, 'p1', { text: '35亿美元。' }));
    await waitFor(() => expect(document.body.dataset.state).toBe('done'));
    expect(para('p1').textContent).toBe('35亿美元。');
    expect(para('p1').className).not.toMatch(/doubt-|retranslating/);
    expect($('progress')).toBeNull();
    expect(button('retranslate-doubtful').textContent).toBe('Retranslate all doubtful (1)');
    expect(app.historyId).toBe(1);
  });

  it('"Retranslate all doubtful" asks for every doubtful paragraph (null)', async () => {
    const outcome = doubtfulOutcome();
    const { backend } = await mountWith(outcome, {
      retranslate_paragraphs: () => {
        const next = revised(outcome, 'p1', {});
        Object.assign(next.outcome.translation!.paragraphs[1], { problems: [], warnings: [] });
        return next;
      },
    });
    await fireEvent.click($('retranslate-doubtful')!);
    await waitFor(() => expect(backend.of('retranslate_paragraphs')).toHaveLength(1));
    expect(backend.of('retranslate_paragraphs')[0].args.paragraphIds).toBeNull();
    expect(backend.of('retranslate_paragraphs')[0].args.historyId).toBe(1);
    await waitFor(() => expect($('doubt-legend')).toBeNull());
    expect(button('retranslate-doubtful').disabled).toBe(true);
    expect(button('retranslate-doubtful').textContent).toBe('Retranslate all doubtful (0)');
  });

  it('is not offered while a job runs', async () => {
    const outcome = doubtfulOutcome();
    const finish = deferred<unknown>();
    let jobs = 0;
    const { app, backend } = await mountWith(outcome, {
      process_article: () => (jobs++ === 0 ? { history_id: 1, outcome } : finish.promise),
    });
    expect(button('retranslate-doubtful').disabled).toBe(false);
    app.enqueuePaths(['/news/next.txt']);
    await waitFor(() => expect(document.body.dataset.state).toBe('running'));
    // The next article replaces the result: nothing to revise until it is done.
    expect($('retranslate-doubtful')).toBeNull();
    expect(app.revisionBlocked).toBe('Wait until the current job is done (or cancel it)');
    await app.retranslate(['p1']);
    expect(backend.of('retranslate_paragraphs')).toHaveLength(0);
    finish.resolve({ history_id: 2, outcome });
    await app.queue.idle();
    await waitFor(() => expect(button('retranslate-doubtful').disabled).toBe(false));
  });

  it('can be cancelled with Cancel; the translation stays as it was', async () => {
    const outcome = doubtfulOutcome();
    const finish = deferred<ProcessResult>();
    const { app, backend } = await mountWith(outcome, {
      retranslate_paragraphs: () => finish.promise,
      cancel: () => {
        finish.reject({ code: 'cancelled', message: 'Cancelled.' });
        return null;
      },
    });
    await fireEvent.click(para('p2'));
    await fireEvent.click(inPane('.para-retranslate')!);
    await waitFor(() => expect(button('cancel-button').disabled).toBe(false));
    await fireEvent.click($('cancel-button')!);
    await waitFor(() => expect(document.body.dataset.state).toBe('cancelled'));
    expect(backend.of('cancel')).toHaveLength(1);
    expect($('error-banner')).toBeNull();
    expect(app.outcome).toBe(outcome);
    expect(para('p2').textContent).toBe('第2段。');
    expect(para('p2').classList.contains('doubt-minor')).toBe(true);
    expect($('status-line')!.textContent).toBe('Cancelled: the translation is as it was');
    // Revising works again once it is over.
    expect(button('retranslate-doubtful').disabled).toBe(false);
  });

  it('shows a failure in the error banner and keeps the result', async () => {
    const outcome = doubtfulOutcome();
    await mountWith(outcome, {
      retranslate_paragraphs: () => {
        throw { code: 'model_missing', message: 'the model file is gone' };
      },
    });
    await fireEvent.click($('retranslate-doubtful')!);
    await waitFor(() => expect($('error-banner')!.textContent).toContain('the model file is gone'));
    expect($('error-banner')!.textContent).toContain('Rain in Spain');
    expect(para('p1').textContent).toBe('第1段。');
    expect(button('retranslate-doubtful').disabled).toBe(false);
  });
});

describe('the state class', () => {
  it('a job queued during a retranslation waits for it', async () => {
    const outcome = doubtfulOutcome();
    const finish = deferred<ProcessResult>();
    const { app, backend } = await mountWith(outcome, { retranslate_paragraphs: () => finish.promise });
    const done = app.retranslate(['p2']);
    expect(app.running).toBe(true);
    // Revising is refused while it runs.
    await app.retranslate(['p1']);
    expect(await app.editParagraph('p1', 'x')).toBe(false);
    expect(backend.of('retranslate_paragraphs')).toHaveLength(1);
    expect(backend.of('edit_paragraph')).toHaveLength(0);

    app.enqueuePaths(['/news/next.txt']);
    await new Promise((r) => setTimeout(r, 20));
    expect(backend.of('read_article')).toHaveLength(1);
    finish.resolve(revised(outcome, 'p2', { text: '新。' }));
    await done;
    await app.queue.idle();
    expect(backend.of('read_article')).toHaveLength(2);
    expect(backend.of('process_article')).toHaveLength(2);
  });

  it('does nothing without doubtful paragraphs or a stored result', async () => {
    const { app, backend } = await mountWith(makeOutcome(), {}, { historyId: null });
    await app.retranslate(null);
    await app.retranslate(['p1']);
    expect(await app.editParagraph('p1', 'x')).toBe(false);
    expect(backend.of('retranslate_paragraphs')).toHaveLength(0);
    expect(backend.of('edit_paragraph')).toHaveLength(0);
    expect(app.revisionBlocked).toBe('Only a result kept in the history can be revised');
  });
});
