import { describe, expect, it } from 'vitest';
import {
  initialStream,
  paragraphOf,
  progressFraction,
  progressText,
  reduceStream,
  type StreamState,
} from '../src/lib/stream';
import type { ProgressEvent } from '../src/lib/types';

const run = (events: ProgressEvent[], from: StreamState = initialStream()) =>
  events.reduce(reduceStream, from);

describe('reduceStream', () => {
  it('streams summarizing tokens into the summary pane', () => {
    const s = run([
      { event: 'token', stage: 'summarizing', paragraph_id: null, text: 'It ' },
      { event: 'token', stage: 'summarizing', paragraph_id: null, text: 'rained.' },
    ]);
    expect(s.summary).toBe('It rained.');
    expect(s.summaryTranslated).toBe('');
    expect(s.translation).toEqual([]);
    expect(s.stage).toBe('summarizing');
  });

  it('streams translating_summary tokens into the summary pane, whatever their paragraph id', () => {
    const s = run([
      { event: 'token', stage: 'summarizing', paragraph_id: null, text: 'It rained.' },
      { event: 'token', stage: 'translating_summary', paragraph_id: null, text: '下雨' },
      { event: 'token', stage: 'translating_summary', paragraph_id: 'summary', text: '了。' },
    ]);
    expect(s.summary).toBe('It rained.');
    expect(s.summaryTranslated).toBe('下雨了。');
    expect(s.translation).toEqual([]);
  });

  it('streams translating tokens into their paragraph, in order of first appearance', () => {
    const s = run([
      { event: 'token', stage: 'translating', paragraph_id: 'title', text: '西班牙' },
      { event: 'token', stage: 'translating', paragraph_id: 'p1', text: '第一' },
      { event: 'token', stage: 'translating', paragraph_id: 'p2', text: '第二' },
      { event: 'token', stage: 'translating', paragraph_id: 'p1', text: '段' },
    ]);
    expect(s.translation).toEqual([
      { id: 'title', text: '西班牙', done: false },
      { id: 'p1', text: '第一段', done: false },
      { id: 'p2', text: '第二', done: false },
    ]);
    expect(s.summary).toBe('');
  });

  it('replaces a paragraph with its final text on paragraph_done', () => {
    const s = run([
      { event: 'token', stage: 'translating', paragraph_id: 'p1', text: 'first try' },
      { event: 'token', stage: 'translating', paragraph_id: 'p1', text: ' retry' },
      { event: 'paragraph_done', paragraph_id: 'p1', text: '最终译文。' },
    ]);
    expect(s.translation).toEqual([{ id: 'p1', text: '最终译文。', done: true }]);
  });

  it('adds a paragraph seen first in paragraph_done', () => {
    const s = run([{ event: 'paragraph_done', paragraph_id: 'p4', text: '四' }]);
    expect(s.translation).toEqual([{ id: 'p4', text: '四', done: true }]);
  });

  it('updates stage, done, total and tokens on progress', () => {
    const s = run([
      { event: 'progress', stage: 'loading_model', done: 0, total: 1, tokens: 0 },
      { event: 'progress', stage: 'translating', done: 2, total: 9, tokens: 40 },
    ]);
    expect(s).toMatchObject({ stage: 'translating', done: 2, total: 9, tokens: 40 });
    expect(progressText(s)).toBe('Translating — paragraph 3 of 9');
    expect(progressFraction(s.done, s.total)).toBeCloseTo(2 / 9);
  });

  it('names the model being loaded until another stage begins', () => {
    const loading = run([
      { event: 'stage', stage: 'loading_model', detail: 'qwen2.5-1.5b.gguf' },
      { event: 'progress', stage: 'loading_model', done: 0, total: 1, tokens: 0 },
    ]);
    expect(progressText(loading)).toBe('Loading the model — qwen2.5-1.5b.gguf');
    const next = run(
      [{ event: 'progress', stage: 'summarizing', done: 0, total: 1, tokens: 0 }],
      loading,
    );
    expect(next.detail).toBe('');
    expect(progressText(next)).toBe('Summarizing');
  });

  it('collects warnings and ignores tokens of stages without a pane', () => {
    const s = run([
      { event: 'token', stage: 'glossary', paragraph_id: null, text: 'x' },
      { event: 'warning', paragraph_id: 'p2', message: 'an amount may have changed' },
    ]);
    expect(s.summary).toBe('');
    expect(s.translation).toEqual([]);
    expect(s.warnings).toEqual(['p2: an amount may have changed']);
  });

  it('never mutates the previous state', () => {
    const a = initialStream();
    const b = reduceStream(a, { event: 'token', stage: 'translating', paragraph_id: 'p1', text: 'x' });
    const c = reduceStream(b, { event: 'token', stage: 'translating', paragraph_id: 'p1', text: 'y' });
    expect(a.translation).toEqual([]);
    expect(b.translation[0].text).toBe('x');
    expect(c.translation[0].text).toBe('xy');
  });
});

describe('progress text', () => {
  it('says paragraph i of n, capped at n', () => {
    expect(paragraphOf(0, 5)).toBe('paragraph 1 of 5');
    expect(paragraphOf(5, 5)).toBe('paragraph 5 of 5');
    expect(paragraphOf(0, 0)).toBe('');
  });

  it('counts sentences when a retranslation says so, across its stages', () => {
    const start = { ...initialStream(), stage: 'translating' as const, unit: 'sentence' as const };
    const s = run(
      [
        { event: 'stage', stage: 'loading_model', detail: 'qwen.gguf' },
        { event: 'progress', stage: 'translating', done: 2, total: 5, tokens: 0 },
      ],
      start,
    );
    expect(progressText(s)).toBe('Translating — sentence 3 of 5');
    expect(progressText({ ...s, unit: 'paragraph' })).toBe('Translating — paragraph 3 of 5');
  });

  it('labels each stage', () => {
    expect(progressText({ stage: null, done: 0, total: 0 })).toBe('Starting');
    expect(progressText({ stage: 'summarizing', done: 0, total: 1 })).toBe('Summarizing');
    expect(progressText({ stage: 'loading_model', done: 0, total: 1 })).toBe('Loading the model');
    expect(progressText({ stage: 'downloading', done: 500_000, total: 1_000_000 })).toBe(
      'Downloading — 0.5 MB of 1.0 MB',
    );
    expect(progressFraction(1, 0)).toBeNull();
  });
});
