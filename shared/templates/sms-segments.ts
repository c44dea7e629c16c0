/**
 * How long an SMS is, as the network counts it (3GPP TS 23.038 for the alphabet, TS 23.040 for
 * concatenation): text entirely in the GSM 7-bit default alphabet (with its extension table, whose
 * characters take two septets) goes as GSM-7, 160 septets in one message or 153 per part of a
 * concatenated one (the user-data header takes 7); anything else goes as UCS-2, 70 UTF-16 code
 * units in one message or 67 per part. No AWS here.
 */

import { cutText } from '../domain/text-cut.ts';

/** The most characters (code points) an SMS body carries: 10 GSM segments' worth, under SNS's 1,600. */
export const maxSmsLength = 1_400;

/**
 * The most UTF-8 bytes an SMS body carries: "The total size quota for a single SMS publish action
 * is 1,600 bytes" (SNS Developer Guide, "Publishing SMS messages to a mobile phone"); a text in
 * Cyrillic or Greek reaches it at ~800 characters, one in CJK at ~530.
 */
export const maxSmsBytes = 1_600;

/**
 * An SMS body as it is sent: cut between characters to {@link maxSmsLength} and
 * {@link maxSmsBytes}, `…` at the cut, or `...` in a text of the GSM alphabet: `…` is not in it,
 * and would make the whole message UCS-2, twice the segments (1,400 GSM characters are 10, as
 * UCS-2 21).
 */
export function smsBody(text: string): string {
  const limits = { maxCodePoints: maxSmsLength, maxUtf8Bytes: maxSmsBytes };
  return cutText(text, limits, smsSegments(text).encoding === 'GSM-7' ? '...' : '…');
}

/** The GSM 7-bit default alphabet (TS 23.038, 6.2.1). */
const gsmBasic = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** Its extension table: each takes an escape septet and its own (TS 23.038, 6.2.1.1). */
const gsmExtension = new Set('\f^{}\\[~]|€');

/** One message's capacity, and one part's when concatenated. */
export const smsLimits = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
} as const;

/** The encoding `text` needs, its length in that encoding's units (septets or UTF-16 code units), and its segments. */
export function smsSegments(text: string): { readonly encoding: 'GSM-7' | 'UCS-2'; readonly units: number; readonly segments: number } {
  let septets = 0;
  let gsm = true;
  for (const char of text) {
    if (gsmBasic.has(char)) septets += 1;
    else if (gsmExtension.has(char)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  const encoding = gsm ? 'GSM-7' : 'UCS-2';
  const units = gsm ? septets : text.length;
  const { single, part } = smsLimits[encoding];
  const segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
  return { encoding, units, segments };
}
