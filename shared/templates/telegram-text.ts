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
