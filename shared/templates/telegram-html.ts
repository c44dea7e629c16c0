/**
 * Reading Telegram's HTML parse mode as the Bot API does ("Formatting options",
 * core.telegram.org/bots/api). Its own module: only template rendering (a chunk loaded on first
 * use) and the local Bot API need it, not a delivering function's cold start.
 */

/** The tags the HTML parse mode supports ("Formatting options", core.telegram.org/bots/api). */
const supportedTags = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote']);
const namedEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** The character a numeric entity names; none for a number that names no Unicode scalar value (a surrogate, past U+10FFFF). */
function characterOf(codePoint: number): string | undefined {
  return codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff) ? undefined : String.fromCodePoint(codePoint);
}

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
      const decoded = name.startsWith('#x') ? characterOf(parseInt(name.slice(2), 16)) : name.startsWith('#') ? characterOf(Number(name.slice(1))) : namedEntities[name.toLowerCase()];
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
