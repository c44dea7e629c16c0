/**
 * Telegram text in the Bot API's `HTML` parse mode ("Formatting options", core.telegram.org/bots/api):
 * only `<`, `>` and `&` must be escaped outside tags, as `&lt;`, `&gt;` and `&amp;`, and `&quot;`
 * is understood (numeric entities too). A template's own tags (`<b>`, `<a href>`) stay; every
 * variable is escaped by the renderer. Text that is not a template (the fallback title and message)
 * goes through {@link escapeTelegramHtml} whole.
 */

/** The parse mode Herald's Telegram text is written for. */
export const telegramParseMode = 'HTML' as const;

/** `text` safe to send in the HTML parse mode: shown exactly as written. */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The longest text `sendMessage` takes (characters, after entity parsing; Bot API, sendMessage). */
export const maxTelegramTextLength = 4096;

/** The tags the HTML parse mode supports ("Formatting options", core.telegram.org/bots/api). */
const supportedTags = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote']);
const namedEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/**
 * What a text in the HTML parse mode shows, or why Telegram refuses it ("can't parse entities: …"):
 * tags must be supported and balanced, `<` and `&` must start a tag or an entity (`&lt;`, `&gt;`,
 * `&amp;`, `&quot;`, numeric). The local Bot API answers by it; a template's Telegram section is
 * checked by it when rendered, so a preview shows what Telegram would refuse.
 */
export function readTelegramHtml(html: string): { readonly text: string } | { readonly error: string } {
  const open: string[] = [];
  let text = '';
  for (let i = 0; i < html.length; ) {
    const c = html[i] ?? '';
    if (c === '<') {
      const end = html.indexOf('>', i);
      if (end < 0) return { error: `unclosed start tag at byte offset ${i}` };
      const tag = /^<\s*(\/?)\s*([a-z-]+)/i.exec(html.slice(i, end + 1));
      if (!tag) return { error: `unsupported start tag at byte offset ${i}` };
      const name = (tag[2] ?? '').toLowerCase();
      if (!supportedTags.has(name)) return { error: `unsupported start tag "${name}" at byte offset ${i}` };
      if (tag[1] === '/') {
        if (open.pop() !== name) return { error: `unmatched end tag at byte offset ${i}, expected "</${open.at(-1) ?? ''}>"` };
      } else {
        open.push(name);
      }
      i = end + 1;
    } else if (c === '&') {
      const entity = /^&(#x[0-9a-f]+|#\d+|[a-z]+);/i.exec(html.slice(i, i + 12));
      const name = entity?.[1] ?? '';
      const decoded = name.startsWith('#x') ? String.fromCodePoint(parseInt(name.slice(2), 16)) : name.startsWith('#') ? String.fromCodePoint(Number(name.slice(1))) : namedEntities[name.toLowerCase()];
      if (!entity || decoded === undefined) return { error: `unsupported entity at byte offset ${i}` };
      text += decoded;
      i += entity[0].length;
    } else {
      text += c;
      i += 1;
    }
  }
  if (open.length > 0) return { error: `can't find end tag corresponding to start tag "${open.at(-1) ?? ''}"` };
  return { text };
}
