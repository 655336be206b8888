// The Remote engine panel, the indicator the window shows while jobs run on a server, and the
// model picker's note, in the App against a fake remote set-up; then the state helpers alone.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, fireEvent, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from '../src/App.svelte';
import { AppState } from '../src/lib/app.svelte';
import { resetSettingsStore } from '../src/lib/settings';
import {
  REMOTE_DEFAULTS,
  draftOf,
  draftProblems,
  keyStatusText,
  probeText,
  serverName,
  setupOf,
} from '../src/lib/remote.svelte';
import type { RemoteSettings, RemoteSetup, RemoteStatus } from '../src/lib/types';
import {
  LANGUAGES,
  REMOTE_OFF,
  deferred,
  installBackend,
  makeDocument,
  makeOutcome,
  type Handler,
} from './helpers';

afterEach(() => {
  cleanup();
  clearMocks();
  resetSettingsStore();
});

const $ = (id: string) => document.getElementById(id);
const input = (id: string) => $(id) as HTMLInputElement;
const button = (id: string) => $(id) as HTMLButtonElement;
const text = (id: string) => $(id)?.textContent?.replace(/\s+/g, ' ').trim() ?? null;

const OLLAMA: RemoteSettings = {
  endpoint: 'http://127.0.0.1:11434/v1',
  model: 'qwen2.5:7b',
  maxConcurrent: 2,
  timeoutSecs: 90,
  contextLength: 8192,
};

/**
 * The remote commands over an in-memory set-up, refusing what the backend refuses when the
 * engine is turned on. The key is kept here and, like the backend, never returned.
 */
function remoteBackend(
  initial: { setup?: RemoteSetup; key?: string; keyFromEnvironment?: boolean } = {},
) {
  const saved = {
    setup: initial.setup ?? REMOTE_OFF.setup,
    key: initial.key ?? '',
    keyFromEnvironment: initial.keyFromEnvironment ?? false,
  };
  const status = (): RemoteStatus => ({
    setup: structuredClone(saved.setup),
    keyStored: saved.key !== '',
    keyInKeyring: saved.key !== '',
    keyFromEnvironment: saved.keyFromEnvironment,
  });
  const handlers: Record<string, Handler> = {
    remote_status_get: () => status(),
    remote_setup_save: ({ setup }) => {
      if (setup.enabled) {
        if (!setup.settings) {
          throw { code: 'engine_unavailable', message: 'enter the server’s address and model name first' };
        }
        const endpoint = setup.settings.endpoint;
        if (!/^https?:\/\/./.test(endpoint)) {
          throw {
            code: 'remote_unreachable',
            message: `\`${endpoint}\` is not a remote engine address; it looks like http://127.0.0.1:8080/v1`,
          };
        }
      }
      saved.setup = structuredClone(setup);
      return status();
    },
    remote_key_save: ({ key }) => {
      saved.key = key.trim();
      return status();
    },
    remote_test: ({ settings }) => ({ model: settings.model, seconds: 0.42 }),
    cancel: () => null,
  };
  return { saved, handlers };
}

function withRemote(
  initial: Parameters<typeof remoteBackend>[0] = {},
  extra: Record<string, Handler> = {},
) {
  const fake = remoteBackend(initial);
  const backend = installBackend({ ...fake.handlers, ...extra });
  return { fake, backend };
}

async function mountApp() {
  const app = new AppState();
  render(App, { props: { app } });
  await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
  // The remote set-up is read with the rest at start-up.
  await waitFor(() => expect(app.remote.status).not.toBeNull());
  return app;
}

async function openPanel() {
  await fireEvent.click($('remote-button')!);
  await waitFor(() => expect($('remote-panel')).not.toBeNull());
  return $('remote-panel')!;
}

async function fill(id: string, value: string) {
  await fireEvent.input(input(id), { target: { value } });
}

/** The panel's fields, each found by its label the way assistive technology finds it. */
const LABELLED = {
  'remote-enabled': 'Use a remote server instead of local models',
  'remote-endpoint': 'Address',
  'remote-preset': 'Fill the address for a server',
  'remote-model': 'Model name',
  'remote-key': 'API key',
  'remote-concurrency': 'Requests at once',
  'remote-timeout': 'Timeout (seconds)',
  'remote-context': 'Context length (tokens)',
};

function accessibleName(el: HTMLElement): string {
  const aria = el.getAttribute('aria-label');
  if (aria) return aria;
  const labels = (el as HTMLInputElement).labels;
  return [...(labels ?? [])].map((l) => l.textContent!.replace(/\s+/g, ' ').trim()).join(' ');
}

describe('Remote engine panel', () => {
  it('opens with the defaults while nothing is set up, every field labelled', async () => {
    const { backend } = withRemote();
    await mountApp();
    expect(backend.of('remote_status_get')).toHaveLength(1);
    expect($('remote-panel')).toBeNull();
    expect($('remote-button')!.getAttribute('aria-expanded')).toBe('false');
    const panel = await openPanel();
    expect(panel.getAttribute('role')).toBe('dialog');
    expect($('remote-button')!.getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe($('remote-enabled'));

    expect(input('remote-enabled').checked).toBe(false);
    expect(input('remote-enabled').getAttribute('role')).toBe('switch');
    expect(input('remote-endpoint').value).toBe('');
    expect(input('remote-endpoint').placeholder).toBe('http://127.0.0.1:11434/v1');
    expect(input('remote-model').value).toBe('');
    expect(input('remote-key').value).toBe('');
    expect(input('remote-key').type).toBe('password');
    expect(input('remote-concurrency').value).toBe('1');
    expect(input('remote-concurrency').min).toBe('1');
    expect(input('remote-concurrency').max).toBe('64');
    expect(input('remote-timeout').value).toBe('120');
    expect(input('remote-context').value).toBe('4096');
    for (const [id, name] of Object.entries(LABELLED)) {
      expect(accessibleName($(id)!), id).toBe(name);
    }
    expect(text('remote-privacy')).toBe(
      'Article text is sent to this server while it is on. Nothing leaves your computer otherwise.',
    );
    expect(text('remote-key-status')).toBe('No key saved (local servers usually need none)');
    expect(button('remote-key-save').disabled).toBe(true);
    expect(button('remote-key-remove').disabled).toBe(true);
    expect($('remote-unsaved')).toBeNull();
    expect(text('remote-test-result')).toBe('');

    // Off: nothing says "remote", and the local model picker is there.
    expect($('remote-indicator')).toBeNull();
    expect($('model-select')).not.toBeNull();
    expect($('remote-model-note')).toBeNull();

    // Escape closes it, like the other panels, and the focus goes back to its button.
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect($('remote-panel')).toBeNull();
    expect(document.activeElement).toBe($('remote-button'));
  });

  it('loads a saved set-up at start-up: the form, the key state, the indicator and the model note', async () => {
    withRemote({ setup: { enabled: true, settings: OLLAMA }, key: 'sk-stored' });
    const app = await mountApp();
    expect(app.remote.active).toEqual(OLLAMA);

    expect(text('remote-indicator')).toBe('Remote: 127.0.0.1:11434 · qwen2.5:7b');
    expect($('remote-indicator')!.classList.contains('sending')).toBe(false);
    expect($('model-select')).toBeNull();
    expect(text('remote-model-note')).toBe('Runs on the remote server (qwen2.5:7b)');

    await openPanel();
    expect(input('remote-enabled').checked).toBe(true);
    expect(input('remote-endpoint').value).toBe(OLLAMA.endpoint);
    expect(input('remote-model').value).toBe('qwen2.5:7b');
    expect(input('remote-concurrency').value).toBe('2');
    expect(input('remote-timeout').value).toBe('90');
    expect(input('remote-context').value).toBe('8192');
    // The key is never filled in, only said to be there.
    expect(input('remote-key').value).toBe('');
    expect(text('remote-key-status')).toBe('A key is saved in the system keyring');
    expect(button('remote-key-remove').disabled).toBe(false);
    expect(document.body.textContent).not.toContain('sk-stored');

    // The Models panel says the local models are not what runs.
    await fireEvent.click($('models-button')!);
    expect($('remote-panel')).toBeNull();
    expect(text('models-remote-note')).toContain('remote server (qwen2.5:7b)');
    // The indicator opens the Remote engine panel.
    await fireEvent.click($('remote-indicator')!);
    expect($('models-panel')).toBeNull();
    expect($('remote-panel')).not.toBeNull();
  });

  it('says a key comes from the environment', async () => {
    withRemote({ keyFromEnvironment: true });
    await mountApp();
    await openPanel();
    expect(text('remote-key-status')).toBe('Key from PRECIS_REMOTE_API_KEY');
  });

  it('checks the fields before asking the backend', async () => {
    const { backend } = withRemote();
    await mountApp();
    await openPanel();
    await fireEvent.click($('remote-enabled')!);
    await fill('remote-endpoint', '127.0.0.1:11434');
    await fireEvent.click($('remote-save')!);
    expect(text('remote-endpoint-problem')).toContain('must start with http:// or https://');
    expect(text('remote-model-problem')).toContain('model name');
    expect(input('remote-endpoint').getAttribute('aria-invalid')).toBe('true');
    expect(input('remote-endpoint').getAttribute('aria-describedby')).toBe('remote-endpoint-problem');
    expect(input('remote-model').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe($('remote-endpoint'));
    expect(backend.of('remote_setup_save')).toHaveLength(0);
    expect($('remote-unsaved')).not.toBeNull();

    // A corrected field loses its message at once.
    await fill('remote-endpoint', 'https://gpu-box.lan/v1');
    expect($('remote-endpoint-problem')).toBeNull();
    expect(input('remote-endpoint').hasAttribute('aria-invalid')).toBe(false);
    expect($('remote-model-problem')).not.toBeNull();

    // Numbers out of range, or empty, are refused too.
    await fill('remote-model', 'qwen2.5:7b');
    await fill('remote-concurrency', '65');
    await fill('remote-timeout', '');
    await fill('remote-context', '100');
    await fireEvent.click($('remote-save')!);
    expect(text('remote-concurrency-problem')).toContain('1 to 64');
    expect(text('remote-timeout-problem')).toContain('1 or more');
    expect(text('remote-context-problem')).toContain('512 or more');
    expect(document.activeElement).toBe($('remote-concurrency'));
    expect(backend.of('remote_setup_save')).toHaveLength(0);

    // Off, the address and model name may stay empty; a test still needs both.
    await fill('remote-concurrency', '1');
    await fill('remote-timeout', '120');
    await fill('remote-context', '4096');
    await fireEvent.click($('remote-enabled')!);
    await fill('remote-endpoint', '');
    await fill('remote-model', '');
    await fireEvent.click($('remote-test')!);
    expect($('remote-endpoint-problem')).not.toBeNull();
    expect($('remote-model-problem')).not.toBeNull();
    expect(backend.of('remote_test')).toHaveLength(0);
  });

  it('saves the set-up with the camelCase payload, then shows the indicator', async () => {
    const { backend, fake } = withRemote();
    const app = await mountApp();
    await openPanel();
    await fireEvent.click($('remote-enabled')!);
    await fill('remote-endpoint', ' http://127.0.0.1:11434/v1 ');
    await fill('remote-model', 'qwen2.5:7b');
    await fill('remote-concurrency', '4');
    await fill('remote-timeout', '60');
    await fill('remote-context', '16384');
    expect($('remote-indicator')).toBeNull();
    await fireEvent.click($('remote-save')!);
    await waitFor(() => expect(app.remote.active).not.toBeNull());

    expect(backend.of('remote_setup_save')[0].args).toEqual({
      setup: {
        enabled: true,
        settings: {
          endpoint: 'http://127.0.0.1:11434/v1',
          model: 'qwen2.5:7b',
          maxConcurrent: 4,
          timeoutSecs: 60,
          contextLength: 16384,
        },
      },
    });
    expect(fake.saved.setup.enabled).toBe(true);
    expect(text('remote-notice')).toBe('Saved. Jobs run on qwen2.5:7b at 127.0.0.1:11434.');
    expect($('remote-unsaved')).toBeNull();
    expect(text('remote-indicator')).toBe('Remote: 127.0.0.1:11434 · qwen2.5:7b');
    expect(text('remote-model-note')).toBe('Runs on the remote server (qwen2.5:7b)');

    // Turned off again: the settings are kept for next time, and the window is local again.
    await fireEvent.click($('remote-enabled')!);
    expect(text('remote-indicator')).toBe('Remote: 127.0.0.1:11434 · qwen2.5:7b'); // not saved yet
    await fireEvent.click($('remote-save')!);
    await waitFor(() => expect($('remote-indicator')).toBeNull());
    expect(backend.of('remote_setup_save')[1].args.setup).toEqual({
      enabled: false,
      settings: expect.objectContaining({ endpoint: 'http://127.0.0.1:11434/v1', model: 'qwen2.5:7b' }),
    });
    expect(text('remote-notice')).toBe('Saved. Jobs run on the local models.');
    expect($('model-select')).not.toBeNull();
  });

  it('shows the backend’s refusal next to the form and keeps what was entered', async () => {
    const refusal = { code: 'remote_unreachable', message: 'the server at http://10.0.0.9:8080/v1 refused the connection' };
    const { backend } = withRemote({}, {
      remote_setup_save: () => {
        throw refusal;
      },
    });
    const app = await mountApp();
    await openPanel();
    await fireEvent.click($('remote-enabled')!);
    await fill('remote-endpoint', 'http://10.0.0.9:8080/v1');
    await fill('remote-model', 'any');
    await fireEvent.click($('remote-save')!);
    await waitFor(() => expect($('remote-error')).not.toBeNull());
    expect(backend.of('remote_setup_save')).toHaveLength(1);
    expect(text('remote-error')).toBe(refusal.message);
    expect($('remote-error')!.getAttribute('role')).toBe('alert');
    expect(input('remote-endpoint').value).toBe('http://10.0.0.9:8080/v1');
    expect(input('remote-enabled').checked).toBe(true);
    expect(app.remote.active).toBeNull();
    expect($('remote-indicator')).toBeNull();
    expect($('error-banner')).toBeNull();
  });

  it('saves and removes the key without ever showing it back', async () => {
    const { backend, fake } = withRemote();
    await mountApp();
    await openPanel();
    await fill('remote-key', 'sk-secret-123');
    expect(button('remote-key-save').disabled).toBe(false);
    await fireEvent.click($('remote-key-save')!);
    await waitFor(() => expect(text('remote-key-status')).toBe('A key is saved in the system keyring'));
    expect(backend.of('remote_key_save')[0].args).toEqual({ key: 'sk-secret-123' });
    expect(fake.saved.key).toBe('sk-secret-123');
    expect(input('remote-key').value).toBe('');
    expect(text('remote-notice')).toBe('Key saved.');
    expect(document.body.textContent).not.toContain('sk-secret-123');
    expect(document.body.innerHTML).not.toContain('sk-secret-123');
    // Only the key was sent: the set-up is saved by Save alone.
    expect(backend.of('remote_setup_save')).toHaveLength(0);

    // Enter in the key field saves the key, not the form.
    await fill('remote-key', 'sk-other');
    await fireEvent.keyDown(input('remote-key'), { key: 'Enter' });
    await waitFor(() => expect(backend.of('remote_key_save')).toHaveLength(2));
    expect(backend.of('remote_key_save')[1].args).toEqual({ key: 'sk-other' });
    expect(backend.of('remote_setup_save')).toHaveLength(0);
    await waitFor(() => expect(input('remote-key').value).toBe(''));

    await fireEvent.click($('remote-key-remove')!);
    await waitFor(() => expect(text('remote-key-status')).toBe('No key saved (local servers usually need none)'));
    expect(backend.of('remote_key_save')[2].args).toEqual({ key: '' });
    expect(text('remote-notice')).toBe('Key removed.');
    expect(button('remote-key-remove').disabled).toBe(true);

    // A key typed but not saved is gone when the panel is opened again, with the last notice.
    await fill('remote-key', 'sk-typed');
    await fireEvent.click($('remote-button')!);
    await openPanel();
    expect(input('remote-key').value).toBe('');
    expect(text('remote-notice')).toBe('');
    expect(backend.of('remote_key_save')).toHaveLength(3);
  });

  it('tests the connection with the fields as entered, busy until the server answers', async () => {
    const answer = deferred<unknown>();
    const { backend } = withRemote({ setup: { enabled: false, settings: OLLAMA } }, {
      remote_test: () => answer.promise,
    });
    await mountApp();
    await openPanel();
    // Not saved: the test uses these.
    await fill('remote-endpoint', 'http://127.0.0.1:1234/v1');
    await fill('remote-model', 'qwen2.5-7b-instruct');
    await fireEvent.click($('remote-test')!);
    await waitFor(() => expect(backend.of('remote_test')).toHaveLength(1));
    expect(backend.of('remote_test')[0].args).toEqual({
      settings: {
        endpoint: 'http://127.0.0.1:1234/v1',
        model: 'qwen2.5-7b-instruct',
        maxConcurrent: 2,
        timeoutSecs: 90,
        contextLength: 8192,
      },
    });
    expect(backend.of('remote_setup_save')).toHaveLength(0);
    expect(button('remote-test').disabled).toBe(true);
    expect(button('remote-test').getAttribute('aria-busy')).toBe('true');
    expect(text('remote-test')).toBe('Testing…');
    expect(text('remote-test-result')).toBe('Waiting for the server…');

    answer.resolve({ model: 'qwen2.5-7b-instruct', seconds: 0.42 });
    await waitFor(() => expect(button('remote-test').disabled).toBe(false));
    expect(text('remote-test')).toBe('Test connection');
    expect(text('remote-test-result')).toBe('Connected: qwen2.5-7b-instruct answered in 0.4 s');
    expect($('remote-test-result')!.classList.contains('ok')).toBe(true);
    expect($('remote-test-result')!.getAttribute('role')).toBe('status');
  });

  it('shows a failed test’s message as it is', async () => {
    const message =
      'the server refused the API key (401); check the key saved in Settings or PRECIS_REMOTE_API_KEY';
    withRemote({ setup: { enabled: true, settings: OLLAMA } }, {
      remote_test: () => Promise.reject({ code: 'remote_unauthorized', message }),
    });
    await mountApp();
    await openPanel();
    await fireEvent.click($('remote-test')!);
    await waitFor(() => expect(text('remote-test-result')).toBe(message));
    expect($('remote-test-result')!.classList.contains('failed')).toBe(true);
    expect($('error-banner')).toBeNull();
  });

  it('stops a running test with cancel', async () => {
    const answer = deferred<unknown>();
    const { backend } = withRemote({ setup: { enabled: true, settings: OLLAMA } }, {
      remote_test: () => answer.promise,
      cancel: () => {
        answer.reject({ code: 'cancelled', message: 'Cancelled' });
        return null;
      },
    });
    await mountApp();
    await openPanel();
    expect($('remote-test-stop')).toBeNull();
    await fireEvent.click($('remote-test')!);
    await waitFor(() => expect($('remote-test-stop')).not.toBeNull());
    await fireEvent.click($('remote-test-stop')!);
    await waitFor(() => expect(text('remote-test-result')).toBe('Test stopped.'));
    expect(backend.of('cancel')).toHaveLength(1);
    expect($('remote-test-stop')).toBeNull();
  });

  it('offers no Stop while a job runs: cancel would stop the job too', async () => {
    const finish = deferred<unknown>();
    const answer = deferred<unknown>();
    withRemote({ setup: { enabled: true, settings: OLLAMA } }, {
      read_article: () => makeDocument(),
      process_article: () => finish.promise,
      remote_test: () => answer.promise,
    });
    const app = await mountApp();
    void app.enqueuePaths(['/news/rain.txt']);
    await waitFor(() => expect(app.running).toBe(true));
    await openPanel();
    await fireEvent.click($('remote-test')!);
    await waitFor(() => expect($('remote-test-stop')).not.toBeNull());
    expect(button('remote-test-stop').disabled).toBe(true);
    finish.resolve({ history_id: 1, outcome: makeOutcome() });
    await app.queue.idle();
    await waitFor(() => expect(button('remote-test-stop').disabled).toBe(false));
    answer.resolve({ model: 'qwen2.5:7b', seconds: 1 });
    await waitFor(() => expect(text('remote-test-result')).toBe('Connected: qwen2.5:7b answered in 1.0 s'));
  });

  it('fills the address only from a preset', async () => {
    withRemote();
    await mountApp();
    await openPanel();
    await fill('remote-model', 'my-model');
    const preset = $('remote-preset') as HTMLSelectElement;
    expect([...preset.options].map((o) => o.textContent)).toEqual([
      'Preset…', 'Ollama', 'LM Studio', 'llama.cpp', 'vLLM',
    ]);
    const expected: Record<string, string> = {
      'LM Studio': 'http://127.0.0.1:1234/v1',
      'llama.cpp': 'http://127.0.0.1:8080/v1',
      vLLM: 'http://localhost:8000/v1',
      Ollama: 'http://127.0.0.1:11434/v1',
    };
    for (const [name, endpoint] of Object.entries(expected)) {
      const option = [...preset.options].find((o) => o.textContent === name)!;
      await fireEvent.change(preset, { target: { value: option.value } });
      expect(input('remote-endpoint').value, name).toBe(endpoint);
      // The select goes back to its prompt, ready for another choice.
      expect(preset.value).toBe('');
    }
    expect(input('remote-model').value).toBe('my-model');
    expect(input('remote-enabled').checked).toBe(false);
    expect(input('remote-concurrency').value).toBe('1');
  });

  it('emphasises the indicator while a job runs (text is being sent)', async () => {
    const finish = deferred<unknown>();
    withRemote({ setup: { enabled: true, settings: OLLAMA } }, {
      read_article: () => makeDocument(),
      process_article: () => finish.promise,
    });
    const app = await mountApp();
    expect($('remote-indicator')!.classList.contains('sending')).toBe(false);
    void app.enqueuePaths(['/news/rain.txt']);
    await waitFor(() => expect($('remote-indicator')!.classList.contains('sending')).toBe(true));
    expect($('remote-indicator')!.textContent).toContain('sending article text');
    expect($('remote-indicator')!.title).toBe('Article text is being sent to http://127.0.0.1:11434/v1');
    finish.resolve({ history_id: 1, outcome: makeOutcome() });
    await app.queue.idle();
    await waitFor(() => expect($('remote-indicator')!.classList.contains('sending')).toBe(false));
    expect($('remote-indicator')!.textContent).not.toContain('sending');
  });

  it('says so when the set-up cannot be read at start-up, and tries again when opened', async () => {
    let fail = true;
    const { backend } = withRemote({ setup: { enabled: true, settings: OLLAMA } }, {
      remote_status_get: () => {
        if (fail) throw { code: 'io_error', message: 'remote.json: permission denied' };
        return { setup: { enabled: true, settings: OLLAMA }, keyStored: false, keyInKeyring: false, keyFromEnvironment: false };
      },
    });
    const app = new AppState();
    render(App, { props: { app } });
    await waitFor(() => expect($('error-banner')).not.toBeNull());
    expect(text('error-banner')).toContain('Remote engine: remote.json: permission denied');
    fail = false;
    await openPanel();
    await waitFor(() => expect($('remote-indicator')).not.toBeNull());
    expect(backend.of('remote_status_get')).toHaveLength(2);
    expect(input('remote-model').value).toBe('qwen2.5:7b');
  });

  it('is one drawer among the others', async () => {
    withRemote();
    const app = await mountApp();
    await fireEvent.click($('glossary-button')!);
    expect(app.glossaryOpen).toBe(true);
    await openPanel();
    expect(app.glossaryOpen).toBe(false);
    await fireEvent.click($('models-button')!);
    expect($('remote-panel')).toBeNull();
    await fireEvent.click($('remote-button')!);
    expect($('models-panel')).toBeNull();
    await fireEvent.click($('remote-button')!);
    expect($('remote-panel')).toBeNull();
  });
});

describe('remote helpers', () => {
  const draft = (over: Partial<ReturnType<typeof draftOf>> = {}) => ({
    ...draftOf({ enabled: true, settings: OLLAMA }),
    ...over,
  });

  it('checks a draft as the backend would', () => {
    expect(draftProblems(draft(), true)).toEqual({});
    expect(Object.keys(draftProblems(draft({ endpoint: 'ftp://x' }), true))).toEqual(['endpoint']);
    expect(Object.keys(draftProblems(draft({ endpoint: 'http://' }), true))).toEqual(['endpoint']);
    expect(Object.keys(draftProblems(draft({ endpoint: 'HTTP://x' }), true))).toEqual(['endpoint']);
    // Off, nothing need be entered, but what is entered must be an address.
    expect(draftProblems(draft({ endpoint: '', model: '' }), false)).toEqual({});
    expect(Object.keys(draftProblems(draft({ endpoint: 'x', model: '' }), false))).toEqual(['endpoint']);
    expect(Object.keys(draftProblems(draft({ model: '  ' }), true))).toEqual(['model']);
    expect(Object.keys(draftProblems(draft({ maxConcurrent: 1.5 }), true))).toEqual(['maxConcurrent']);
    expect(Object.keys(draftProblems(draft({ maxConcurrent: 64 }), true))).toEqual([]);
    expect(Object.keys(draftProblems(draft({ timeoutSecs: 0 }), true))).toEqual(['timeoutSecs']);
    expect(Object.keys(draftProblems(draft({ contextLength: null }), true))).toEqual(['contextLength']);
  });

  it('keeps settings entered while off, and none when nothing was entered', () => {
    expect(setupOf(draft({ enabled: false }))).toEqual({ enabled: false, settings: OLLAMA });
    expect(setupOf(draftOf({ enabled: false, settings: null }))).toEqual({ enabled: false, settings: null });
    expect(draftOf({ enabled: false, settings: null })).toMatchObject(REMOTE_DEFAULTS);
  });

  it('names the server, the answer and the key', () => {
    expect(serverName('http://127.0.0.1:11434/v1')).toBe('127.0.0.1:11434');
    expect(serverName('https://api.example.com/v1')).toBe('api.example.com');
    expect(serverName('http://[::1]:8080/v1')).toBe('[::1]:8080');
    expect(probeText({ model: 'm', seconds: 12.345 })).toBe('Connected: m answered in 12.3 s');
    expect(keyStatusText({ ...REMOTE_OFF, keyStored: true, keyFromEnvironment: true })).toBe(
      'Key from PRECIS_REMOTE_API_KEY (used in place of the saved key)',
    );
    expect(keyStatusText({ ...REMOTE_OFF, keyStored: true, keyInKeyring: true })).toBe(
      'A key is saved in the system keyring',
    );
    expect(keyStatusText({ ...REMOTE_OFF, keyStored: true, keyInKeyring: false })).toMatch(
      /in a file only you can read/,
    );
    expect(keyStatusText(null)).toBe('');
  });
});
