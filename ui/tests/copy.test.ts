import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  bilingualText,
  copyText,
  joinBlocks,
  originalText,
  streamedSummaryText,
  streamedTranslationText,
  summaryText,
  translationText,
} from '../src/lib/copy';
import { bilingualRows } from '../src/lib/bilingual';
import { makeDocument, makeOutcome } from './helpers';

afterEach(() => {
  vi.unstubAllGlobals();
  Reflect.deleteProperty(navigator, 'clipboard');
  Reflect.deleteProperty(document, 'execCommand');
});

describe('pane text', () => {
  it('joins trimmed, non-empty blocks with a blank line', () => {
    expect(joinBlocks([' a ', null, '', undefined, 'b\n'])).toBe('a\n\nb');
    expect(joinBlocks([])).toBe('');
  });

  it('copies the original: title, subtitle, paragraphs', () => {
    const doc = makeDocument('Rain in Spain', 2);
    expect(originalText(doc)).toBe('Rain in Spain\n\nParagraph 1 of Rain in Spain.\n\nParagraph 2 of Rain in Spain.');
    doc.subtitle = 'Mainly on the plain';
    expect(originalText(doc).split('\n\n').slice(0, 2)).toEqual(['Rain in Spain', 'Mainly on the plain']);
    expect(originalText(null)).toBe('');
  });

  it('copies a bullet summary as a list and a prose one as paragraphs', () => {
    const summary = makeOutcome().summary!;
    expect(summaryText(summary)).toBe('• 西班牙下雨了。\n• 雨主要落在平原。');
    expect(summaryText({ ...summary, style: 'prose' })).toBe('西班牙下雨了。\n\n雨主要落在平原。');
    expect(summaryText(null)).toBe('');
  });

  it('copies the translation, an untranslated paragraph as it stands', () => {
    const translation = makeOutcome().translation!;
    translation.subtitle = '主要在平原';
    translation.paragraphs[1] = { ...translation.paragraphs[1], text: 'Paragraph 2.', untranslated: true };
    expect(translationText(translation)).toBe('西班牙的雨\n\n主要在平原\n\n第1段。\n\nParagraph 2.\n\n第3段。');
    expect(translationText(null)).toBe('');
  });

  it('copies what has streamed so far', () => {
    expect(streamedSummaryText({ summary: 'It rained. ', summaryTranslated: '' })).toBe('It rained.');
    expect(streamedSummaryText({ summary: 'It rained.', summaryTranslated: '下雨了。' })).toBe('It rained.\n\n下雨了。');
    expect(
      streamedTranslationText([
        { id: 'title', text: '西班牙的雨', done: true },
        { id: 'p1', text: '第1', done: false },
      ]),
    ).toBe('西班牙的雨\n\n第1');
  });

  it('copies the bilingual pane interleaved', () => {
    const outcome = makeOutcome(makeDocument('Rain in Spain', 2));
    const rows = bilingualRows(outcome.document, outcome.translation);
    expect(bilingualText(rows)).toBe(
      'Rain in Spain\n\n西班牙的雨\n\nParagraph 1 of Rain in Spain.\n\n第1段。\n\nParagraph 2 of Rain in Spain.\n\n第2段。',
    );
  });
});

describe('copyText', () => {
  it('writes with the async clipboard', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    expect(await copyText('hello')).toBe(true);
    expect(writeText).toHaveBeenCalledWith('hello');
  });

  it('falls back to a hidden textarea when the async clipboard is refused', async () => {
    const writeText = vi.fn().mockRejectedValue(new DOMException('denied', 'NotAllowedError'));
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    let copied: string | null = null;
    const execCommand = vi.fn((cmd: string) => {
      const area = document.activeElement as HTMLTextAreaElement;
      copied = cmd === 'copy' ? area.value.slice(area.selectionStart, area.selectionEnd) : null;
      return true;
    });
    Object.defineProperty(document, 'execCommand', { value: execCommand, configurable: true });
    const input = document.createElement('input');
    document.body.appendChild(input);
    input.focus();

    expect(await copyText('line 1\n\nline 2')).toBe(true);
    expect(copied).toBe('line 1\n\nline 2');
    // The textarea is gone and the focus is back where it was.
    expect(document.querySelector('textarea')).toBeNull();
    expect(document.activeElement).toBe(input);
    input.remove();
  });

  it('uses the textarea where there is no async clipboard, and says when copying failed', async () => {
    Object.defineProperty(document, 'execCommand', { value: () => false, configurable: true });
    expect(await copyText('x')).toBe(false);
    Reflect.deleteProperty(document, 'execCommand');
    // jsdom has no execCommand at all: a failure, not an exception.
    expect(await copyText('x')).toBe(false);
  });
});
