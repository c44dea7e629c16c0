/**
 * Contact points a user sets for themself are confirmed before Herald sends them anything but the
 * confirmation itself: otherwise any user could make Herald mail (or text, or call) anyone, from
 * the service's own verified sender. The owner gets a code at the address; until they give it
 * back (`POST /v1/me/verify`), the channel skips the address (`address not verified`). Addresses
 * that admins and senders put in the directory are trusted.
 *
 * One rule for every contact point: e-mail addresses, Telegram chat ids (the code comes from the
 * bot) and webhook URLs (the code comes in a signed POST); a new channel adds its name to
 * {@link verifiableChannels} and reuses all of it. No AWS here.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** The channels whose address a user may set for themself, and must then confirm. */
export const verifiableChannels = ['email', 'sms', 'telegram', 'webhook'] as const;
export type VerifiableChannel = (typeof verifiableChannels)[number];

/** A contact point its owner set and has not confirmed yet. */
export interface PendingVerification {
  /** The address the code was sent to: the channel's address while it is unconfirmed. */
  readonly address: string;
  /** SHA-256 of the code with what it confirms (hex): the code itself is never stored. */
  readonly codeHash: string;
  /** ISO-8601 UTC instants. */
  readonly sentAt: string;
  readonly expiresAt: string;
  /** Wrong codes still allowed; at 0 the address must be set again for a new code. */
  readonly attemptsLeft: number;
}

export type PendingVerifications = Readonly<Partial<Record<VerifiableChannel, PendingVerification>>>;

/** How long a code may be used. */
export const verificationCodeTtlMs = 24 * 60 * 60 * 1000;
/** Wrong codes allowed per code: guessing one of a million codes in 5 tries is a 1-in-200,000 chance. */
export const maxVerificationAttempts = 5;
/** Digits of a code. */
export const verificationCodeDigits = 6;

/** A new random code (`crypto.randomInt`), zero-padded. */
export function newVerificationCode(): string {
  return String(randomInt(0, 10 ** verificationCodeDigits)).padStart(verificationCodeDigits, '0');
}

function codeHash(who: { tenantId: string; id: string }, channel: VerifiableChannel, address: string, code: string): string {
  return createHash('sha256').update(JSON.stringify([who.tenantId, who.id, channel, address, code])).digest('hex');
}

/** The pending verification of `address`, confirmed by `code`, sent at `now`. */
export function pendingVerification(
  who: { tenantId: string; id: string },
  channel: VerifiableChannel,
  address: string,
  code: string,
  now: Date,
): PendingVerification {
  return {
    address,
    codeHash: codeHash(who, channel, address, code),
    sentAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + verificationCodeTtlMs).toISOString(),
    attemptsLeft: maxVerificationAttempts,
  };
}

/** What a code given back for a pending verification comes to. */
export type CodeCheck = 'confirmed' | 'wrong' | 'expired' | 'exhausted';

/** Judges `code` against `pending` at `now` (constant-time comparison of the hashes). */
export function checkVerificationCode(
  who: { tenantId: string; id: string },
  channel: VerifiableChannel,
  pending: PendingVerification,
  code: string,
  now: Date,
): CodeCheck {
  if (pending.attemptsLeft <= 0) return 'exhausted';
  if (Date.parse(pending.expiresAt) <= now.getTime()) return 'expired';
  const given = Buffer.from(codeHash(who, channel, pending.address, code), 'hex');
  const expected = Buffer.from(pending.codeHash, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'confirmed' : 'wrong';
}

/** True when Herald may send to `address` on `channel`: no confirmation of it is pending. */
export function isAddressVerified(pending: PendingVerifications | undefined, channel: VerifiableChannel, address: string): boolean {
  return pending?.[channel]?.address !== address;
}

/** The one message an unconfirmed e-mail address receives: Herald's own words, nothing of the user's. */
export function verificationEmail(code: string): { readonly subject: string; readonly text: string } {
  return {
    subject: 'Your Herald verification code',
    text:
      `Your verification code is ${code}.\n\n` +
      'Enter it to confirm that notifications may be sent to this address. It expires in 24 hours.\n' +
      'If you did not ask for this, ignore this message: nothing will be sent to you.\n',
  };
}

/** The one text an unconfirmed phone number receives: Herald's own words, short enough for one SMS segment. */
export function verificationSms(code: string): string {
  return `Your Herald verification code is ${code}. It expires in 24 hours. Not you? Ignore this message.`;
}

/** The one message an unconfirmed Telegram chat receives from the bot. */
export function verificationTelegramText(code: string): string {
  return `Your Herald verification code is ${code}. Enter it to confirm that notifications may be sent to this chat; it expires in 24 hours. If you did not ask for this, ignore it.`;
}

/** The `data` of the one webhook an unconfirmed URL receives (its `type` is `verification`). */
export function verificationWebhookData(code: string): { readonly code: string; readonly message: string } {
  return { code, message: 'Enter this code to confirm that Herald may post notifications to this URL; it expires in 24 hours.' };
}
