// The window's state and actions (Svelte 5 runes). Components read the fields and call the
// methods; the backend is reached only through ./api.
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { listen } from '@tauri-apps/api/event';
import * as api from './api';
import { announce } from './announce.svelte';
import { doubtfulIds } from './doubt';
import { FindState } from './find-state.svelte';
import { GlossaryState } from './glossary.svelte';
import { inputName, JobQueue, type JobResult, type QueueItem } from './queue';
import { loadQueue, saveQueue } from './queue-store';
import { RemoteState } from './remote.svelte';
import {
  DEFAULT_SETTINGS,
  LAYOUTS,
  loadSettings,
  processOptions,
  saveSettings,
  stepTextSize,
  TEXT_SIZES,
  type Settings,
} from './settings';
import { initialStream, reduceStream, type StreamState } from './stream';
import type {
  Document,
  ExportFormat,
  FolderArticles,
  HistoryItem,
  Input,
  Language,
  ModelStatus,
  Outcome,
  ProcessResult,
  ProgressEvent,
} from './types';

export type Phase = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

export interface ShownError {
  message: string;
  /** What it was about (a file name), shown before the message; null for general errors. */
  context: string | null;
}

export interface Download {
  stage: string;
  done: number;
  total: number;
  error: string | null;
}

export const WELCOME =
  'Drop articles or folders anywhere in the window, open files (Ctrl+O), or paste text (Ctrl+V).';

const HISTORY_DEBOUNCE_MS = 250;
/** Queue changes come in bursts (a job ends, the next starts): saved once they settle. */
const QUEUE_SAVE_DEBOUNCE_MS = 150;
const MAX_ERRORS = 5;
/** A folder's unreadable entries listed in its notice; the rest are only counted. */
const MAX_PROBLEMS_SHOWN = 3;

function inputLabel(input: Input): string {
  if (input.kind === 'file') return api.baseName(input.path);
  if (input.kind === 'document') return input.document.title || input.document.source_name;
  return 'Pasted text';
}

/** A folder's name as the reader knows it ("news" for "/home/me/news/"). */
function folderName(path: string): string {
  return api.baseName(path.replace(/[\\/]+$/, '')) || path;
}

/** "3 entries could not be read: a: why; b: why; and 1 more", entries named within `folder`. */
function problemsNotice(folder: string, problems: string[]): string {
  const prefix = folder.replace(/[\\/]+$/, '');
  const within = (p: string) =>
    prefix && (p.startsWith(`${prefix}/`) || p.startsWith(`${prefix}\\`))
      ? p.slice(prefix.length + 1)
      : p;
  const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map(within);
  const more = problems.length - shown.length;
  const n = problems.length;
  const list = shown.join('; ') + (more ? `; and ${more} more` : '');
  return `${n} ${n === 1 ? 'entry' : 'entries'} could not be read: ${list}`;
}

type FolderAnswer = { path: string; found: FolderArticles } | { path: string; err: unknown };

function isFormField(target: EventTarget | null): boolean {
  if (!target || !(target instanceof Element)) return false;
  if (target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]')) {
    return true;
  }
  return (target as HTMLElement).isContentEditable === true;
}

export class AppState {
  languages = $state.raw<Language[]>([]);
  models = $state.raw<ModelStatus[]>([]);
  /** False until the first model list has come back (so nothing says "None installed" before). */
  modelsLoaded = $state(false);
  settings = $state<Settings>({ ...DEFAULT_SETTINGS });

  phase = $state<Phase>('idle');
  /** Errors shown in the banner, oldest first (a batch of files may fail one by one). */
  errors = $state<ShownError[]>([]);
  status = $state(WELCOME);
  pending = $state(0);

  /** What the panes show: the current job, or a reopened history entry. */
  document = $state.raw<Document | null>(null);
  outcome = $state.raw<Outcome | null>(null);
  historyId = $state<number | null>(null);
  /** The file the shown article was read from (null for pasted text), kept when it is rerun. */
  private sourcePath: string | null = null;
  /** Target language of what is shown (for lang attributes). */
  resultTarget = $state(DEFAULT_SETTINGS.target);
  stream = $state.raw<StreamState>(initialStream());
  hoverPid = $state<string | null>(null);
  /** The source sentences of the hovered summary sentence, highlighted in the original. */
  evidence = $state.raw<string[]>([]);

  history = $state.raw<HistoryItem[]>([]);
  historyQuery = $state('');

  dragging = $state(false);
  modelsOpen = $state(false);
  /** The Glossary panel; its entries, form and import/export are in `glossary`. */
  glossaryOpen = $state(false);
  readonly glossary = new GlossaryState();
  /** The Remote engine panel; the saved set-up (shown while it is on) and its form are in `remote`. */
  remoteOpen = $state(false);
  readonly remote = new RemoteState();
  downloads = $state<Record<string, Download>>({});
  modelsError = $state<string | null>(null);
  exporting = $state(false);
  /** The find bar (Ctrl+F). */
  readonly find = new FindState();

  /** The translated paragraph whose actions (Retranslate, Edit) are shown. */
  paragraphActions = $state<string | null>(null);
  /** The translated paragraph the reader is rewriting. */
  editingParagraph = $state<string | null>(null);
  /** The paragraphs being translated again (shown as such until the result comes). */
  retranslating = $state.raw<string[]>([]);
  /** Set while a paragraph's new text is being stored. */
  savingParagraph = $state(false);

  readonly queue: JobQueue<Input>;
  /** The queue as listed in the panel (copies, refreshed on every change). */
  queueItems = $state.raw<QueueItem<Input>[]>([]);
  /** Paused by the reader: no next article starts until Resume. */
  queuePaused = $state(false);
  /** Articles waiting from last time, which wait for Resume. */
  queueHeld = $state(0);
  /** A queued article is running. */
  queueBusy = $state(false);
  /** Set once the saved queue is back: saving before then would overwrite it. */
  private queueRestored = false;
  private queueSaveTimer: ReturnType<typeof setTimeout> | null = null;
  private queueSaving: Promise<boolean> = Promise.resolve(true);
  private cancelRequested = false;
  /** Bumped by cancel: a folder still being listed then queues nothing. */
  private cancels = 0;
  /** The running retranslation: a queued job waits for it (both need the model). */
  private revision: Promise<void> | null = null;
  private historyTimer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.queue = new JobQueue<Input>((input) => this.process(input), undefined, inputName);
    this.queue.subscribe(() => this.onQueueChange());
  }

  /** The latest error shown, or null. */
  get error(): ShownError | null {
    return this.errors.length ? this.errors[this.errors.length - 1] : null;
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  /** Waiting articles that will start when their turn comes (not paused, not held). */
  get queueRunnable(): number {
    return this.queuePaused ? 0 : this.pending - this.queueHeld;
  }

  /** Installed models that summarise and translate (test models only check the decoder;
   *  translation models are chosen separately). */
  get installedModels(): ModelStatus[] {
    return this.models.filter((m) => m.installed != null && m.purpose === 'assistant');
  }

  /** The model select's first entry: the default model, or why there is none. */
  get defaultModelLabel(): string {
    if (!this.modelsLoaded) return 'Loading…';
    return this.installedModels.length ? 'Default' : 'None installed';
  }

  /** Installed dedicated translation models (Marian). */
  get installedTranslationModels(): ModelStatus[] {
    return this.models.filter((m) => m.installed != null && m.purpose === 'translation');
  }

  /** The language of what the translation pane shows; with nothing shown yet, the selected target. */
  get translationLanguage(): string {
    return (
      this.outcome?.translation?.language ||
      (this.outcome || this.running ? this.resultTarget : this.settings.target)
    );
  }

  get canExport(): boolean {
    return this.historyId != null && this.outcome != null && !this.running;
  }

  /** Why the shown translation cannot be retranslated or edited now; null when it can. */
  get revisionBlocked(): string | null {
    if (this.running) return 'Wait until the current job is done (or cancel it)';
    if (!this.outcome?.translation) return 'There is no translation to revise';
    // Both commands work on the stored result.
    if (this.historyId == null) return 'Only a result kept in the history can be revised';
    if (this.savingParagraph) return 'Saving your text…';
    return null;
  }

  /** The shown translation's doubtful paragraphs ("Retranslate all doubtful"). */
  get doubtful(): string[] {
    return doubtfulIds(this.outcome?.translation);
  }

  // ---- start-up -------------------------------------------------------------------------

  async init(): Promise<void> {
    this.setPhase('idle');
    if (!api.inTauri()) {
      this.showError({
        message:
          'This window needs the Précis app: the Tauri backend is not available in a plain browser.',
      });
      return;
    }
    this.settings = await loadSettings();
    await Promise.all([
      this.loadLanguages(),
      this.refreshModels(),
      this.refreshHistory(),
      this.restoreQueue(),
      this.loadRemote(),
    ]);
    // After the saved queue is back: a file handed over now runs ahead of the held ones.
    await this.openHandedFiles();
  }

  /** Queues the files handed to the app from outside ("Open with", a second launch). */
  async openHandedFiles(): Promise<void> {
    try {
      const paths = await api.takeOpenedFiles();
      if (paths.length) await this.enqueuePaths(paths);
    } catch (err) {
      this.showError(err);
    }
  }

  /** The remote engine's set-up: unread, the window could not say that text leaves it. */
  async loadRemote(): Promise<void> {
    const err = await this.remote.load();
    if (err) this.showError(err, 'Remote engine');
  }

  async loadLanguages(): Promise<void> {
    try {
      this.languages = await api.languages();
      const codes = this.languages.map((l) => l.code);
      if (codes.length && !codes.includes(this.settings.target)) {
        this.settings.target = codes.includes(DEFAULT_SETTINGS.target)
          ? DEFAULT_SETTINGS.target
          : codes[0];
      }
    } catch (err) {
      this.showError(err);
    }
  }

  async refreshModels(): Promise<void> {
    try {
      this.models = await api.listModels();
      this.modelsError = null;
      if (this.settings.model && !this.installedModels.some((m) => m.id === this.settings.model)) {
        this.settings.model = '';
      }
      if (
        this.settings.translationModel &&
        !this.installedTranslationModels.some((m) => m.id === this.settings.translationModel)
      ) {
        this.settings.translationModel = '';
      }
    } catch (err) {
      this.modelsError = api.toErrorInfo(err).message;
    } finally {
      this.modelsLoaded = true;
    }
  }

  // ---- settings -------------------------------------------------------------------------

  setSetting<K extends keyof Settings>(key: K, value: Settings[K]): Promise<boolean> {
    this.settings[key] = value;
    return saveSettings($state.snapshot(this.settings) as Settings);
  }

  // ---- phase, status, errors ------------------------------------------------------------

  setPhase(phase: Phase): void {
    this.phase = phase;
    if (typeof document !== 'undefined' && document.body) document.body.dataset.state = phase;
  }

  showError(err: unknown, context: string | null = null): void {
    const shown = { message: api.toErrorInfo(err).message, context };
    const last = this.error;
    if (last && last.message === shown.message && last.context === shown.context) return;
    this.errors = [...this.errors, shown].slice(-MAX_ERRORS);
  }

  dismissError(): void {
    this.errors = [];
  }

  // ---- the job queue --------------------------------------------------------------------

  enqueue(...inputs: Input[]): void {
    if (inputs.length === 0) return;
    this.startBatch();
    this.queue.push(...inputs);
  }

  /** A new batch started by the user clears the last batch's error. */
  private startBatch(): void {
    if (!this.running && !this.queue.busy) this.errors = [];
  }

  private onQueueChange(): void {
    this.queueItems = this.queue.items;
    this.pending = this.queue.pending;
    this.queuePaused = this.queue.paused;
    this.queueHeld = this.queue.held;
    this.queueBusy = this.queue.busy;
    if (this.queueRestored) this.scheduleQueueSave();
  }

  /** Puts back the queue saved last time; its waiting articles wait for Resume. */
  private async restoreQueue(): Promise<void> {
    const saved = await loadQueue();
    // From here on every change is saved (what was queued meanwhile included).
    this.queueRestored = true;
    this.queue.restore(saved);
    const held = this.queue.held;
    if (held) {
      announce(`${held} article${held === 1 ? '' : 's'} waiting from last time. Resume to run them.`);
    }
  }

  private scheduleQueueSave(): void {
    if (this.queueSaveTimer) clearTimeout(this.queueSaveTimer);
    this.queueSaveTimer = setTimeout(() => void this.saveQueueNow(), QUEUE_SAVE_DEBOUNCE_MS);
  }

  /** Saves the queue now (a pending debounced save included); resolves to whether it was kept. */
  saveQueueNow(): Promise<boolean> {
    if (this.queueSaveTimer) clearTimeout(this.queueSaveTimer);
    this.queueSaveTimer = null;
    // One save at a time, so an older snapshot never lands after a newer one.
    this.queueSaving = this.queueSaving.then(() => saveQueue(this.queue.snapshot()));
    return this.queueSaving;
  }

  // ---- the queue panel's controls -------------------------------------------------------

  /** The running article finishes; no next one starts until Resume. */
  pauseQueue(): void {
    if (this.queue.paused) return;
    this.queue.pause();
    announce(this.queue.busy ? 'Queue paused: the running article finishes first' : 'Queue paused');
  }

  /** Runs the waiting articles again, those waiting from last time included. */
  resumeQueue(): void {
    if (!this.queue.paused && this.queue.held === 0) return;
    this.startBatch();
    this.queue.resume();
    announce('Queue resumed');
  }

  /** Moves a waiting article one place earlier (-1) or later (+1). */
  moveQueueItem(id: number, by: -1 | 1): void {
    if (!this.queue.move(id, by)) return;
    const waiting = this.queue.items.filter((i) => i.state === 'waiting');
    const place = waiting.findIndex((i) => i.id === id);
    announce(`${waiting[place].name}: place ${place + 1} of ${waiting.length}`);
  }

  /** Takes an article off the queue (any but the running one). */
  removeQueueItem(id: number): void {
    const item = this.queueItems.find((i) => i.id === id);
    if (item && this.queue.remove(id)) announce(`Removed ${item.name}`);
  }

  /** Puts a failed or cancelled article back in the queue. */
  retryQueueItem(id: number): void {
    const item = this.queueItems.find((i) => i.id === id);
    if (!item) return;
    this.startBatch();
    if (this.queue.retry(id)) {
      announce(
        this.queue.paused ? `${item.name} waits (the queue is paused)` : `Queued ${item.name} again`,
      );
    }
  }

  /** Drops the done, failed and cancelled articles from the list. */
  clearFinishedJobs(): void {
    const n = this.queue.clearFinished();
    if (n) announce(`Cleared ${n} finished article${n === 1 ? '' : 's'}`);
  }

  /** Drops the waiting articles (the running one goes on). */
  clearWaitingJobs(): void {
    const n = this.queue.clearWaiting();
    if (n) announce(`Removed ${n} waiting article${n === 1 ? '' : 's'}`);
  }

  /** Shows a done article's result, kept in the history like any other. */
  async openQueueResult(id: number): Promise<void> {
    const historyId = this.queueItems.find((i) => i.id === id)?.historyId;
    if (historyId != null) await this.openHistory(historyId);
  }

  /**
   * Queues dropped, opened or handed-over paths. Article files are queued at once, in order; any
   * other path (a folder, typically) is listed by the backend and its articles are queued when
   * the answer comes, folder after folder in the order given. Resolves once all are queued.
   */
  async enqueuePaths(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    this.startBatch();
    const file = (path: string): Input => ({ kind: 'file', path });
    this.queue.push(...paths.filter(api.isArticlePath).map(file));
    const folders = paths.filter((path) => !api.isArticlePath(path));
    if (folders.length === 0) return;

    const cancels = this.cancels;
    const before = this.status;
    const looking = `Looking for articles in ${folderName(folders[0])}…`;
    // With nothing running, the status line would say nothing while a big folder is walked.
    if (!this.queue.busy) this.status = looking;
    // All listed at once; queued in the order given.
    const answers = folders.map((path) =>
      api.articlesInFolder(path).then(
        (found): FolderAnswer => ({ path, found }),
        (err: unknown): FolderAnswer => ({ path, err }),
      ),
    );
    try {
      for (const pending of answers) {
        const answer = await pending;
        if (this.cancels !== cancels) return;
        const name = folderName(answer.path);
        if ('err' in answer) {
          this.showError(answer.err, name);
          continue;
        }
        const { articles, problems } = answer.found;
        // Not an error: the folder's other articles are queued.
        if (problems.length) this.showError(problemsNotice(answer.path, problems), name);
        this.queue.push(...articles.map(file));
        // A path that is not a folder comes back as itself: nothing to tell.
        const itself = articles.length === 1 && articles[0] === answer.path;
        if (articles.length && !itself) {
          const n = articles.length;
          announce(`Queued ${n} article${n === 1 ? '' : 's'} from ${name}`);
        }
      }
    } finally {
      if (this.status === looking) this.status = before;
    }
  }

  async openFiles(): Promise<void> {
    try {
      await this.enqueuePaths(await api.pickArticles());
    } catch (err) {
      this.showError(err);
    }
  }

  private onEvent = (ev: ProgressEvent): void => {
    this.stream = reduceStream(this.stream, ev);
  };

  /**
   * Runs one article: read it (so the original shows at once), then process it. Tells the queue
   * how it ended; errors are shown here, never thrown.
   */
  private async process(input: Input): Promise<JobResult> {
    // A retranslation started before this job holds the model until it is done.
    await this.revision;
    const label = inputLabel(input);
    this.sourcePath =
      input.kind === 'file' ? input.path : input.kind === 'document' ? input.source_path : null;
    const options = processOptions($state.snapshot(this.settings) as Settings);
    this.cancelRequested = false;
    this.closeParagraphActions();
    this.document = null;
    this.outcome = null;
    this.historyId = null;
    this.stream = { ...initialStream(), stage: 'reading' };
    this.resultTarget = options.target;
    this.status = `Reading ${label}…`;
    this.setPhase('running');
    try {
      this.document =
        input.kind === 'file'
          ? await api.readArticle(input.path, this.onEvent)
          : input.kind === 'text'
            ? await api.readPasted(input.text)
            : input.document;
      if (this.cancelRequested) throw { code: 'cancelled', message: 'Cancelled' };
      this.status = this.document.title || label;
      // The engine gets the article as read, so no file is read (or a PDF parsed) twice.
      const read: Input = { kind: 'document', document: this.document, source_path: this.sourcePath };
      const result = await api.processArticle(read, options, this.onEvent);
      this.outcome = result.outcome;
      this.document = result.outcome.document;
      this.historyId = result.history_id;
      this.status = this.statusLine(result.outcome);
      this.setPhase('done');
      void this.refreshHistory();
      return { state: 'done', historyId: result.history_id };
    } catch (err) {
      if (api.isCancelled(err)) {
        this.status = 'Cancelled';
        this.setPhase('cancelled');
        return { state: 'cancelled' };
      }
      this.showError(err, label);
      this.status = `Failed: ${label}`;
      this.setPhase('error');
      return { state: 'failed', error: api.toErrorInfo(err).message };
    } finally {
      this.cancelRequested = false;
    }
  }

  statusLine(outcome: Outcome): string {
    const title = outcome.document.title || outcome.document.source_name;
    let how: string;
    if (outcome.model) how = outcome.model.name;
    else if (outcome.translation) how = `translated by ${outcome.translation.model}`;
    else if (this.installedModels.length === 0) how = 'extractive summary (no model installed)';
    else how = 'extractive summary';
    if (outcome.model && outcome.translation && outcome.translation.model !== outcome.model.name) {
      how += `, translated by ${outcome.translation.model}`;
    }
    const warnings = this.warningCount(outcome);
    return `${title} — ${how}${warnings ? ` — ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}`;
  }

  private warningCount(outcome: Outcome): number {
    return (outcome.translation?.paragraphs ?? []).reduce(
      (n, p) => n + (p.warnings?.length ?? 0),
      0,
    );
  }

  /**
   * Puts a line the reader left out of a text page back into the article and runs the article
   * again, so the summary and translation include it.
   */
  async restoreLeftOut(index: number): Promise<void> {
    const document = this.document;
    if (!document || this.running) return;
    try {
      const restored = await api.restoreLeftOut($state.snapshot(document) as Document, index);
      this.document = restored;
      this.enqueue({ kind: 'document', document: restored, source_path: this.sourcePath });
    } catch (err) {
      this.showError(err);
    }
  }

  /**
   * Stops the running job; the waiting ones are cancelled too, and stay listed (so the reader
   * sees what did not run, and can retry or clear it).
   */
  async cancel(): Promise<void> {
    if (!this.running) return;
    this.cancelRequested = true;
    this.cancels++;
    this.queue.cancelWaiting();
    try {
      await api.cancel();
    } catch (err) {
      this.showError(err);
    }
  }

  // ---- revising the translation: the reader's text, or paragraphs translated again --------

  /** Shows paragraph `id`'s actions, or hides them when they are shown. */
  toggleParagraphActions(id: string): void {
    this.paragraphActions = this.paragraphActions === id ? null : id;
  }

  closeParagraphActions(): void {
    this.paragraphActions = null;
    this.editingParagraph = null;
  }

  startEditing(id: string): void {
    if (this.revisionBlocked) return;
    this.paragraphActions = id;
    this.editingParagraph = id;
  }

  /** The stored result a revision came back with, shown in place of the one it revised. */
  private showRevised(result: ProcessResult, historyId: number): void {
    this.outcome = result.outcome;
    this.document = result.outcome.document;
    this.historyId = result.history_id ?? historyId;
    this.status = this.statusLine(result.outcome);
  }

  /**
   * Stores the reader's `text` as paragraph `id`'s translation (marked as edited). Returns
   * whether it was stored; the editor stays open when it was not.
   */
  async editParagraph(id: string, text: string): Promise<boolean> {
    const historyId = this.historyId;
    if (historyId == null || this.revisionBlocked) return false;
    this.savingParagraph = true;
    try {
      const result = await api.editParagraph(historyId, id, text);
      // Another article opened meanwhile: the result belongs to the history only.
      if (this.historyId !== historyId) return true;
      this.showRevised(result, historyId);
      this.closeParagraphActions();
      announce('Your text is saved');
      void this.refreshHistory();
      return true;
    } catch (err) {
      this.showError(err);
      return false;
    } finally {
      this.savingParagraph = false;
    }
  }

  /**
   * Translates paragraphs of the shown result again (null: every doubtful one), with the models
   * the controls choose now; the article keeps its target language. Runs like a job: progress
   * bar, Cancel, Escape.
   */
  retranslate(ids: string[] | null): Promise<void> {
    const historyId = this.historyId;
    if (historyId == null || this.revisionBlocked) return Promise.resolve();
    const targets = ids ?? this.doubtful;
    if (targets.length === 0) return Promise.resolve();
    const revision = this.runRetranslation(historyId, ids, targets);
    this.revision = revision;
    return revision.finally(() => {
      if (this.revision === revision) this.revision = null;
    });
  }

  private async runRetranslation(
    historyId: number,
    ids: string[] | null,
    targets: string[],
  ): Promise<void> {
    const options = processOptions($state.snapshot(this.settings) as Settings);
    const title = this.outcome?.document.title || this.outcome?.document.source_name || '';
    const what = targets.length === 1 ? 'a paragraph' : `${targets.length} paragraphs`;
    this.cancelRequested = false;
    this.errors = [];
    this.closeParagraphActions();
    this.retranslating = targets;
    this.stream = { ...initialStream(), stage: 'translating', unit: 'sentence' };
    this.status = `Retranslating ${what}${title ? ` of ${title}` : ''}…`;
    this.setPhase('running');
    try {
      const result = await api.retranslateParagraphs(historyId, ids, options, this.onEvent);
      this.showRevised(result, historyId);
      this.setPhase('done');
      announce(`Retranslated ${what}`);
      void this.refreshHistory();
    } catch (err) {
      if (api.isCancelled(err)) {
        // Nothing was stored: the translation is as it was.
        this.status = 'Cancelled: the translation is as it was';
        this.setPhase('cancelled');
      } else {
        this.showError(err, title || null);
        this.status = `Retranslating failed: ${title}`;
        this.setPhase('error');
      }
    } finally {
      this.cancelRequested = false;
      this.retranslating = [];
    }
  }

  // ---- history --------------------------------------------------------------------------

  async refreshHistory(): Promise<void> {
    const query = this.historyQuery.trim();
    try {
      this.history = await api.historyList(query || null);
    } catch (err) {
      this.showError(err);
    }
  }

  /** Debounced search. */
  setHistoryQuery(query: string): void {
    this.historyQuery = query;
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.historyTimer = setTimeout(() => {
      this.historyTimer = null;
      void this.refreshHistory();
    }, HISTORY_DEBOUNCE_MS);
  }

  async openHistory(id: number): Promise<void> {
    if (this.running) return;
    try {
      const entry = await api.historyGet(id);
      this.stream = initialStream();
      this.closeParagraphActions();
      this.outcome = entry.outcome;
      this.document = entry.outcome.document;
      this.historyId = entry.id;
      this.resultTarget =
        entry.options?.target ??
        entry.outcome.translation?.language ??
        entry.outcome.summary?.language ??
        this.settings.target;
      this.status = this.statusLine(entry.outcome);
      this.setPhase('done');
    } catch (err) {
      this.showError(err);
    }
  }

  async deleteHistory(id: number): Promise<void> {
    try {
      await api.historyDelete(id);
      // The shown result can no longer be exported (export works from history).
      if (this.historyId === id) this.historyId = null;
      this.history = this.history.filter((h) => h.id !== id);
    } catch (err) {
      this.showError(err);
    }
    await this.refreshHistory();
  }

  // ---- export ---------------------------------------------------------------------------

  async exportAs(format: ExportFormat = this.settings.exportFormat): Promise<void> {
    const id = this.historyId;
    const outcome = this.outcome;
    if (id == null || !outcome || this.exporting || this.running) return;
    this.exporting = true;
    try {
      const title = outcome.document.title || outcome.document.source_name;
      const path = await api.pickExportPath(title, format);
      if (!path) return;
      if (format !== this.settings.exportFormat) void this.setSetting('exportFormat', format);
      const written = await api.exportResult(id, format, path, this.settings.includeTranslation);
      this.status = `Exported to ${written || path}`;
    } catch (err) {
      this.showError(err);
    } finally {
      this.exporting = false;
    }
  }

  // ---- models ---------------------------------------------------------------------------

  async downloadModel(id: string): Promise<void> {
    if (this.downloads[id] && !this.downloads[id].error) return;
    this.downloads[id] = { stage: 'downloading', done: 0, total: 0, error: null };
    try {
      await api.modelDownload(id, (ev) => {
        const d = this.downloads[id];
        if (d && ev.event === 'progress') {
          d.stage = ev.stage;
          d.done = ev.done;
          d.total = ev.total;
        }
      });
      delete this.downloads[id];
      await this.refreshModels();
    } catch (err) {
      const info = api.toErrorInfo(err);
      if (info.code === 'cancelled') delete this.downloads[id];
      else this.downloads[id] = { ...this.downloads[id], error: info.message };
    }
  }

  async importModel(): Promise<void> {
    try {
      const path = await api.pickGguf();
      if (!path) return;
      await api.modelImport(path);
      this.modelsError = null;
      await this.refreshModels();
    } catch (err) {
      this.modelsError = api.toErrorInfo(err).message;
    }
  }

  async removeModel(id: string): Promise<void> {
    try {
      await api.modelRemove(id);
      this.modelsError = null;
    } catch (err) {
      this.modelsError = api.toErrorInfo(err).message;
    }
    await this.refreshModels();
  }

  // ---- the side panels (one at a time: all are drawers on the right) -----------------------

  openModels(): void {
    this.glossaryOpen = false;
    this.remoteOpen = false;
    this.modelsOpen = true;
  }

  toggleModels(): void {
    if (this.modelsOpen) this.modelsOpen = false;
    else this.openModels();
  }

  /** Opens the Glossary panel on `language`'s glossary (by default the selected target). */
  openGlossary(language: string = this.settings.target): void {
    this.modelsOpen = false;
    this.remoteOpen = false;
    this.glossaryOpen = true;
    void this.glossary.show(language);
  }

  /** Closes the Glossary panel; focus that was in it goes back to the Glossary button. */
  closeGlossary(): void {
    const hadFocus =
      typeof document !== 'undefined' && !!document.activeElement?.closest('#glossary-panel');
    this.glossaryOpen = false;
    if (hadFocus) document.getElementById('glossary-button')?.focus();
  }

  toggleGlossary(): void {
    if (this.glossaryOpen) this.closeGlossary();
    else this.openGlossary();
  }

  openRemote(): void {
    this.modelsOpen = false;
    this.glossaryOpen = false;
    this.remoteOpen = true;
    void this.remote.open();
  }

  /** Closes the Remote engine panel; focus that was in it goes back to the Remote button. */
  closeRemote(): void {
    const hadFocus =
      typeof document !== 'undefined' && !!document.activeElement?.closest('#remote-panel');
    this.remoteOpen = false;
    if (hadFocus) document.getElementById('remote-button')?.focus();
  }

  toggleRemote(): void {
    if (this.remoteOpen) this.closeRemote();
    else this.openRemote();
  }

  // ---- window-wide input ----------------------------------------------------------------

  onKeydown = (e: KeyboardEvent): void => {
    const mod = e.ctrlKey || e.metaKey;
    if (mod && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'o') {
      e.preventDefault();
      void this.openFiles();
    } else if (mod && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'e') {
      e.preventDefault();
      void this.exportAs();
    } else if (mod && !e.altKey && ['=', '+', '-', '0'].includes(e.key)) {
      e.preventDefault();
      const steps = e.key === '-' ? -1 : e.key === '0' ? 0 : 1;
      const size = e.key === '0' ? TEXT_SIZES.default : stepTextSize(this.settings.textSize, steps);
      void this.setSetting('textSize', size);
    } else if (mod && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'f') {
      // From anywhere, form fields included: the webview has no find of its own.
      e.preventDefault();
      this.find.show();
    } else if (
      this.find.open &&
      (e.key === 'F3' || (mod && !e.altKey && e.key.toLowerCase() === 'g'))
    ) {
      e.preventDefault();
      this.find.step(e.shiftKey ? -1 : 1);
    } else if (mod && !e.altKey && !e.shiftKey && ['1', '2', '3'].includes(e.key)) {
      e.preventDefault();
      void this.setSetting('layout', LAYOUTS[Number(e.key) - 1]);
    } else if (e.key === 'Escape') {
      if (this.glossaryOpen) this.closeGlossary();
      else if (this.remoteOpen) this.closeRemote();
      else if (this.modelsOpen) this.modelsOpen = false;
      else if (this.find.open) this.find.close();
      else if (this.running) void this.cancel();
    }
  };

  onPaste = (e: ClipboardEvent): void => {
    if (isFormField(e.target)) return;
    const text = e.clipboardData?.getData('text/plain') ?? '';
    if (!text.trim()) return;
    e.preventDefault();
    this.enqueue({ kind: 'text', text });
  };

  onDragDrop = (payload: { type: string; paths?: string[] }): void => {
    switch (payload.type) {
      case 'enter':
      case 'over':
        this.dragging = true;
        break;
      case 'drop':
        this.dragging = false;
        void this.enqueuePaths(payload.paths ?? []);
        break;
      default:
        this.dragging = false;
    }
  };

  /** Installs the key, paste and drag-and-drop handlers; returns a function removing them. */
  attach(target: Window = window): () => void {
    target.addEventListener('keydown', this.onKeydown);
    target.addEventListener('paste', this.onPaste);
    const unlisteners: (() => void)[] = [];
    let detached = false;
    const keep = (u: () => void) => {
      if (detached) u();
      else unlisteners.push(u);
    };
    if (api.inTauri() && (window as any).__TAURI_INTERNALS__?.metadata?.currentWebview) {
      try {
        getCurrentWebview()
          .onDragDropEvent((event) => this.onDragDrop(event.payload))
          .then(keep)
          .catch((err) => this.showError(err));
        listen(api.OPENED_FILES_EVENT, () => void this.openHandedFiles())
          .then(keep)
          .catch((err) => this.showError(err));
      } catch (err) {
        this.showError(err);
      }
    }
    return () => {
      detached = true;
      target.removeEventListener('keydown', this.onKeydown);
      target.removeEventListener('paste', this.onPaste);
      // The webview may already be gone (window closing): nothing left to unlisten then.
      for (const unlisten of unlisteners) {
        try {
          Promise.resolve(unlisten()).catch(() => {});
        } catch {
          /* ignore */
        }
      }
    };
  }
}
