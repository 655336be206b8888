// The bilingual layout: each block of the article (title, subtitle, paragraphs) followed by its
// translation, matched by paragraph id. Works on a finished translation or on what has streamed
// so far.
import { NO_PARAGRAPH, type StreamParagraph } from './stream';
import type { Document, Translation } from './types';

export interface BilingualRow {
  /** Unique within the rows (the keyed each block's key). */
  key: string;
  kind: 'title' | 'subtitle' | 'paragraph';
  /** 'title', 'subtitle' or the paragraph id, for the hover highlight; null for stray text. */
  pid: string | null;
  /** The original text; null for translated text no original block matched. */
  original: string | null;
  /** The translation; null when there is none (yet), or the model left the block untranslated. */
  translated: string | null;
  /** The model did not translate it: the original is shown once, marked. */
  untranslated: boolean;
  /** The translation is still streaming in. */
  streaming: boolean;
  warnings: string[];
}

interface Translated {
  text: string;
  untranslated: boolean;
  streaming: boolean;
  warnings: string[];
}

function translatedBlocks(
  translation: Translation | null,
  streamed: readonly StreamParagraph[],
): Map<string, Translated> {
  const blocks = new Map<string, Translated>();
  const put = (id: string, text: string | null | undefined, extra: Partial<Translated> = {}) => {
    if (text) blocks.set(id, { text, untranslated: false, streaming: false, warnings: [], ...extra });
  };
  if (translation) {
    put('title', translation.title);
    put('subtitle', translation.subtitle);
    for (const p of translation.paragraphs) {
      put(p.id, p.text, { untranslated: !!p.untranslated, warnings: p.warnings ?? [] });
    }
  } else {
    for (const p of streamed) put(p.id, p.text, { streaming: !p.done });
  }
  return blocks;
}

/**
 * The rows of the bilingual pane. `translation` is the finished one (null while streaming or
 * when there is none); `streamed` what the translation stream holds.
 */
export function bilingualRows(
  doc: Document,
  translation: Translation | null,
  streamed: readonly StreamParagraph[] = [],
): BilingualRow[] {
  const translated = translatedBlocks(translation, streamed);
  const rows: BilingualRow[] = [];
  const add = (kind: BilingualRow['kind'], pid: string, original: string | null | undefined) => {
    const t = translated.get(pid);
    translated.delete(pid);
    if (!original && !t) return;
    rows.push({
      key: `${kind}:${pid}`,
      kind,
      pid,
      original: original || null,
      translated: t && !t.untranslated ? t.text : null,
      untranslated: !!t?.untranslated,
      streaming: !!t?.streaming,
      warnings: t?.warnings ?? [],
    });
  };
  add('title', 'title', doc.title);
  add('subtitle', 'subtitle', doc.subtitle);
  for (const p of doc.paragraphs) add('paragraph', p.id, p.text);
  // Translated text no original block matches (tokens without a paragraph id): kept, at the end.
  for (const [id, t] of translated) {
    rows.push({
      key: `stray:${id}`,
      kind: 'paragraph',
      pid: id === NO_PARAGRAPH ? null : id,
      original: null,
      translated: t.text,
      untranslated: false,
      streaming: t.streaming,
      warnings: t.warnings,
    });
  }
  return rows;
}
