// The remote engine: an OpenAI-compatible server (Ollama, LM Studio, llama.cpp server, vLLM) that
// jobs run on in place of the local model. `RemoteState` holds the set-up the backend saved (what
// the window shows while it is on) and the Remote engine panel's form, key and connection test
// (components/RemotePanel.svelte). The backend reads the saved set-up itself for every job; the
// key is written only there and never comes back.
import * as api from './api';
import type { ErrorInfo, RemoteProbe, RemoteSettings, RemoteSetup, RemoteStatus } from './types';

/** The backend's defaults for settings left out (RemoteSettings::DEFAULT_*). */
export const REMOTE_DEFAULTS = { maxConcurrent: 1, timeoutSecs: 120, contextLength: 4096 } as const;
/** The limits the backend checks (precis-remote's RemoteConfig::validate). */
export const MAX_CONCURRENT = 64;
export const MIN_CONTEXT = 512;

/** Where each server listens by default; a preset fills the address only. */
export const REMOTE_PRESETS = [
  { id: 'ollama', name: 'Ollama', endpoint: 'http://127.0.0.1:11434/v1' },
  { id: 'lm-studio', name: 'LM Studio', endpoint: 'http://127.0.0.1:1234/v1' },
  { id: 'llama-cpp', name: 'llama.cpp', endpoint: 'http://127.0.0.1:8080/v1' },
  { id: 'vllm', name: 'vLLM', endpoint: 'http://localhost:8000/v1' },
] as const;

/** The form's fields as entered; a number is null while its box is empty. */
export interface RemoteDraft {
  enabled: boolean;
  endpoint: string;
  model: string;
  maxConcurrent: number | null;
  timeoutSecs: number | null;
  contextLength: number | null;
}

export type RemoteField = 'endpoint' | 'model' | 'maxConcurrent' | 'timeoutSecs' | 'contextLength';
/** What is wrong with each field, in the form's order; empty when the draft can be sent. */
export type RemoteProblems = Partial<Record<RemoteField, string>>;

export function draftOf(setup: RemoteSetup): RemoteDraft {
  const s = setup.settings;
  return {
    enabled: setup.enabled,
    endpoint: s?.endpoint ?? '',
    model: s?.model ?? '',
    maxConcurrent: s?.maxConcurrent ?? REMOTE_DEFAULTS.maxConcurrent,
    timeoutSecs: s?.timeoutSecs ?? REMOTE_DEFAULTS.timeoutSecs,
    contextLength: s?.contextLength ?? REMOTE_DEFAULTS.contextLength,
  };
}

/** Whether the backend takes `endpoint` as an address (the same test it makes). */
export function isRemoteAddress(endpoint: string): boolean {
  const e = endpoint.trim();
  return (e.startsWith('http://') || e.startsWith('https://')) && e.length > 'https://'.length;
}

function wholeNumberIn(n: number | null, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return n != null && Number.isInteger(n) && n >= min && n <= max;
}

/**
 * What the backend would refuse, said before asking it. Address and model name are needed to
 * turn the engine on or to test it (`needsServer`); an address kept while it is off must still
 * be one.
 */
export function draftProblems(draft: RemoteDraft, needsServer: boolean): RemoteProblems {
  const problems: RemoteProblems = {};
  const endpoint = draft.endpoint.trim();
  if (endpoint ? !isRemoteAddress(endpoint) : needsServer) {
    problems.endpoint = 'The address must start with http:// or https://, e.g. http://127.0.0.1:11434/v1';
  }
  if (needsServer && !draft.model.trim()) {
    problems.model = 'Enter the model name the server knows (Ollama: as `ollama list` shows it)';
  }
  if (!wholeNumberIn(draft.maxConcurrent, 1, MAX_CONCURRENT)) {
    problems.maxConcurrent = `Requests at once: a whole number from 1 to ${MAX_CONCURRENT}`;
  }
  if (!wholeNumberIn(draft.timeoutSecs, 1)) {
    problems.timeoutSecs = 'Timeout: a whole number of seconds, 1 or more';
  }
  if (!wholeNumberIn(draft.contextLength, MIN_CONTEXT)) {
    problems.contextLength = `Context length: a whole number of tokens, ${MIN_CONTEXT} or more`;
  }
  return problems;
}

export function settingsOf(draft: RemoteDraft): RemoteSettings {
  return {
    endpoint: draft.endpoint.trim(),
    model: draft.model.trim(),
    maxConcurrent: draft.maxConcurrent ?? REMOTE_DEFAULTS.maxConcurrent,
    timeoutSecs: draft.timeoutSecs ?? REMOTE_DEFAULTS.timeoutSecs,
    contextLength: draft.contextLength ?? REMOTE_DEFAULTS.contextLength,
  };
}

/** The set-up to save: settings kept while off too, unless nothing was entered. */
export function setupOf(draft: RemoteDraft): RemoteSetup {
  const blank = !draft.endpoint.trim() && !draft.model.trim();
  return { enabled: draft.enabled, settings: blank ? null : settingsOf(draft) };
}

function sameDraft(a: RemoteDraft, b: RemoteDraft): boolean {
  return (
    a.enabled === b.enabled &&
    a.endpoint.trim() === b.endpoint.trim() &&
    a.model.trim() === b.model.trim() &&
    a.maxConcurrent === b.maxConcurrent &&
    a.timeoutSecs === b.timeoutSecs &&
    a.contextLength === b.contextLength
  );
}

/** The server as the indicator names it: "127.0.0.1:11434" for "http://127.0.0.1:11434/v1". */
export function serverName(endpoint: string): string {
  try {
    return new URL(endpoint.trim()).host || endpoint.trim();
  } catch {
    return endpoint.trim();
  }
}

export function probeText(probe: RemoteProbe): string {
  return `Connected: ${probe.model} answered in ${probe.seconds.toFixed(1)} s`;
}

/** What the key field says about the key the backend has (the key itself never comes back). */
export function keyStatusText(status: RemoteStatus | null): string {
  if (!status) return '';
  if (status.keyFromEnvironment) {
    return status.keyStored
      ? 'Key from PRECIS_REMOTE_API_KEY (used in place of the saved key)'
      : 'Key from PRECIS_REMOTE_API_KEY';
  }
  if (!status.keyStored) return 'No key saved (local servers usually need none)';
  return status.keyInKeyring
    ? 'A key is saved in the system keyring'
    : 'A key is saved (in a file only you can read)';
}

const OFF: RemoteSetup = { enabled: false, settings: null };

export class RemoteState {
  /** The set-up as the backend saved it; null until it has been read. */
  status = $state.raw<RemoteStatus | null>(null);
  /** The form's fields, saved only by Save (a test uses them as entered). */
  draft = $state<RemoteDraft>(draftOf(OFF));
  /** A key being entered; sent by Save key, then cleared. Never filled from the backend. */
  key = $state('');
  /** The action whose field check the form shows (kept live as the fields change). */
  checking = $state<'save' | 'test' | null>(null);
  /** The backend's refusal of a save or a key, as it words it. */
  error = $state<string | null>(null);
  /** What the last save did. */
  notice = $state<string | null>(null);
  saving = $state(false);
  savingKey = $state(false);
  testing = $state(false);
  /** The last connection test's answer: "Connected: …", or the message saying what to fix. */
  testResult = $state.raw<{ ok: boolean; text: string } | null>(null);

  /** The saved settings while the engine is on: jobs send article text there. */
  get active(): RemoteSettings | null {
    const setup = this.status?.setup;
    return setup?.enabled && setup.settings ? setup.settings : null;
  }

  /** The field problems to show now: those of the last Save or Test, as the fields stand. */
  get problems(): RemoteProblems {
    if (!this.checking) return {};
    return draftProblems(this.draft, this.checking === 'test' || this.draft.enabled);
  }

  /** Whether the form differs from what is saved. */
  get unsaved(): boolean {
    return !sameDraft(this.draft, draftOf(this.status?.setup ?? OFF));
  }

  get keyStatus(): string {
    return keyStatusText(this.status);
  }

  /**
   * The panel opening: last time's messages and any key typed then (unsaved) are gone; the
   * form keeps unsaved changes. A set-up start-up could not read is read again.
   */
  async open(): Promise<void> {
    this.key = '';
    this.checking = null;
    this.error = null;
    this.notice = null;
    if (!this.testing) this.testResult = null;
    if (!this.status) await this.load();
  }

  /** Reads the saved set-up into the form; returns the error when it cannot be read. */
  async load(): Promise<ErrorInfo | null> {
    try {
      this.show(await api.remoteStatusGet());
      return null;
    } catch (err) {
      const info = api.toErrorInfo(err);
      this.error = info.message;
      return info;
    }
  }

  private show(status: RemoteStatus): void {
    this.status = status;
    this.draft = draftOf(status.setup);
    this.error = null;
  }

  /** Fills the address with a server's default (the rest of the form stays). */
  applyPreset(id: string): void {
    const preset = REMOTE_PRESETS.find((p) => p.id === id);
    if (preset) this.draft.endpoint = preset.endpoint;
  }

  /** Saves the form; false when a field or the backend refused it. */
  async save(): Promise<boolean> {
    if (this.saving) return false;
    this.notice = null;
    this.error = null;
    this.checking = 'save';
    if (Object.keys(this.problems).length) return false;
    this.saving = true;
    try {
      this.show(await api.remoteSetupSave(setupOf($state.snapshot(this.draft) as RemoteDraft)));
      this.checking = null;
      const settings = this.active;
      this.notice = settings
        ? `Saved. Jobs run on ${settings.model} at ${serverName(settings.endpoint)}.`
        : 'Saved. Jobs run on the local models.';
      return true;
    } catch (err) {
      this.error = api.toErrorInfo(err).message;
      return false;
    } finally {
      this.saving = false;
    }
  }

  /** Stores the key entered; the field is emptied once the backend has it. */
  async saveKey(): Promise<boolean> {
    if (!this.key.trim()) return false;
    return this.storeKey(this.key, 'Key saved.');
  }

  async removeKey(): Promise<boolean> {
    return this.storeKey('', 'Key removed.');
  }

  private async storeKey(key: string, done: string): Promise<boolean> {
    if (this.savingKey) return false;
    this.savingKey = true;
    this.notice = null;
    this.error = null;
    try {
      this.status = await api.remoteKeySave(key);
      this.key = '';
      this.notice = done;
      return true;
    } catch (err) {
      this.error = api.toErrorInfo(err).message;
      return false;
    } finally {
      this.savingKey = false;
    }
  }

  /** Asks the server for a one-token answer with the fields as entered (saved or not). */
  async test(): Promise<void> {
    if (this.testing) return;
    this.checking = 'test';
    if (Object.keys(this.problems).length) return;
    this.checking = null;
    this.testing = true;
    this.testResult = null;
    try {
      const probe = await api.remoteTest(settingsOf($state.snapshot(this.draft) as RemoteDraft));
      this.testResult = { ok: true, text: probeText(probe) };
    } catch (err) {
      const info = api.toErrorInfo(err);
      this.testResult = {
        ok: false,
        text: info.code === 'cancelled' ? 'Test stopped.' : info.message,
      };
    } finally {
      this.testing = false;
    }
  }

  /** Stops a running test (the backend's cancel, which also stops a running job). */
  async stopTest(): Promise<void> {
    if (!this.testing) return;
    try {
      await api.cancel();
    } catch (err) {
      this.testResult = { ok: false, text: api.toErrorInfo(err).message };
    }
  }
}
