/**
 * The text alternative of an HTML e-mail when its template has no text part: the words a reader
 * sees, with line breaks where blocks begin and end, table cells apart, and each link's address
 * after its text. Not a layout engine: tables and styles are flattened. Character references are
 * decoded as HTML decodes them (the `entities` library: every named reference of the HTML
 * standard, numeric ones with its replacements, a NUL or a surrogate as U+FFFD). No AWS here.
 */
import { decodeHTML } from 'entities/lib/decode.js';

/** The elements that begin and end a line (a block), as a reader of the HTML sees them. */
const blockTag = /^<\/?(?:p|div|h[1-6]|ul|ol|li|tr|table|blockquote|section|article|header|footer|pre|hr)\b/i;

/** Where a block begins or ends: one line break however many meet (`</li></ul>`). */
const blockEdge = Symbol('block edge');

/** Plain text of an HTML document or fragment. */
export function htmlToText(html: string): string {
  const cleaned = html
    .replace(/<(script|style|head)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<a\b[^>]*?href\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a\s*>/gi, (_whole, _quote, href: string, label: string) =>
      label.replace(/<[^>]*>/g, '').trim() === href ? href : `${label} (${href})`,
    );
  // Text and tags alternate; each text is decoded on its own, so a decoded `&lt;` is never a tag.
  const parts = cleaned.split(/(<[^>]*>)/).flatMap((piece, index): (string | typeof blockEdge)[] => {
    if (index % 2 === 0) return [decodeHTML(piece)];
    if (/^<br\b/i.test(piece)) return ['\n'];
    if (blockTag.test(piece)) return /^<li\b/i.test(piece) ? [blockEdge, '- '] : [blockEdge];
    return /^<\/t[dh]\b/i.test(piece) ? [' '] : [];
  });
  let text = '';
  let atEdge = false;
  for (const part of parts) {
    if (part === blockEdge) atEdge = true;
    else if (!atEdge) text += part;
    else if (part.trim() !== '') {
      text += `\n${part}`;
      atEdge = false;
    }
  }
  return text
    .replace(/\u00a0/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
