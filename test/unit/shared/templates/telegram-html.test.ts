/** Telegram's HTML parse mode as the Bot API reads it: the text it shows, or why it refuses the HTML. */
import { describe, expect, it } from 'vitest';
import { readTelegramHtml } from '../../../../shared/templates/telegram-html.ts';

describe('readTelegramHtml', () => {
  it('shows the text of supported, balanced tags with their entities decoded', () => {
    // Act + Assess
    expect(readTelegramHtml('<b>Bill</b> &lt;due&gt; &amp; <a href="https://x.example">paid</a> &#x1F600; &#233;')).toEqual({ text: 'Bill <due> & paid 😀 é' });
  });

  it.each([
    ['<b>open', 'can\'t find end tag corresponding to start tag "b"'],
    ['<b>x</i>', 'unmatched end tag at byte offset 4, expected "</>"'],
    ['<div>x</div>', 'unsupported start tag "div" at byte offset 0'],
    ['a < b', 'unclosed start tag at byte offset 2'],
    ['a <3> b', 'unsupported start tag at byte offset 2'],
    ['a & b', 'unsupported entity at byte offset 2'],
    ['&nbsp;', 'unsupported entity at byte offset 0'],
    // Numbers that name no character: past U+10FFFF, and a surrogate half.
    ['a &#x110000; b', 'unsupported entity at byte offset 2'],
    ['&#99999999;', 'unsupported entity at byte offset 0'],
    ['&#xd800;', 'unsupported entity at byte offset 0'],
  ])('refuses %j, saying why as Telegram does', (html, error) => {
    // Act + Assess
    expect(readTelegramHtml(html)).toEqual({ error });
  });
});
