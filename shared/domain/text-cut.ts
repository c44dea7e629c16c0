/**
 * Cutting text to a provider's limit without breaking a character: limits come in code points
 * (Telegram's characters, an SMS's) or in UTF-8 bytes (SNS's SMS, a push payload), and a cut by
 * UTF-16 unit (`String.prototype.slice`) can leave half of a surrogate pair, which no encoder of
 * a request can send (`encodeURIComponent` throws URIError on it).
 */

/** What a cut text may hold at most; either or both. */
export interface TextLimits {
  /** Code points (what Telegram and SMS count as characters). */
  readonly maxCodePoints?: number;
  /** Bytes once encoded as UTF-8. */
  readonly maxUtf8Bytes?: number;
}

/** The cut's usual mark: U+2026 HORIZONTAL ELLIPSIS, one code point, 3 bytes in UTF-8. */
const ellipsis = '…';

/** UTF-8 bytes of one code point (a lone surrogate is sent as U+FFFD: 3 bytes). */
function utf8BytesOf(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  return codePoint < 0x10000 ? 3 : 4;
}

/**
 * `text` as it is when it fits `limits`; otherwise its longest prefix of whole code points that
 * fits with `mark` (`…` unless said) after it. Throws RangeError when the limits leave no room for
 * the mark itself.
 */
export function cutText(text: string, limits: TextLimits, mark: string = ellipsis): string {
  const maxCodePoints = limits.maxCodePoints ?? Number.POSITIVE_INFINITY;
  const maxBytes = limits.maxUtf8Bytes ?? Number.POSITIVE_INFINITY;
  const markCodePoints = [...mark].length;
  const markBytes = [...mark].reduce((sum, char) => sum + utf8BytesOf(char.codePointAt(0) as number), 0);
  if (maxCodePoints < markCodePoints || maxBytes < markBytes) throw new RangeError('A cut text must have room for at least its mark');
  // Where the prefix that still leaves room for the mark ends (UTF-16 index).
  let keepEnd = 0;
  let codePoints = 0;
  let bytes = 0;
  for (let index = 0; index < text.length; ) {
    const codePoint = text.codePointAt(index) as number;
    const units = codePoint > 0xffff ? 2 : 1;
    codePoints += 1;
    bytes += utf8BytesOf(codePoint);
    if (codePoints > maxCodePoints || bytes > maxBytes) return `${text.slice(0, keepEnd)}${mark}`;
    index += units;
    if (codePoints <= maxCodePoints - markCodePoints && bytes <= maxBytes - markBytes) keepEnd = index;
  }
  return text;
}
