/**
 * Webhook signing per the Standard Webhooks specification (standardwebhooks.com, "Signature
 * scheme"): each request carries `webhook-id`, `webhook-timestamp` (epoch seconds) and
 * `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed
 * with the base64 part of a `whsec_` secret. Several signatures let a receiver keep verifying
 * with its old secret while a rotation settles. Pure: the randomness and the clock are passed in.
 */
import { createHash, createHmac } from 'node:crypto';

/** The prefix of a Standard Webhooks secret. */
export const webhookSecretPrefix = 'whsec_';
/** Bytes of a new secret (the spec asks for 24 to 64). */
export const webhookSecretBytes = 32;
/** How long a rotated-out secret still signs, beside the new one (ms). */
export const webhookSecretGraceMs = 24 * 60 * 60 * 1000;

/** A tenant's signing secrets: the current one, and the one it replaced while its grace lasts. */
/** A secret a rotation retired, which still signs until `validUntil` (ISO-8601 UTC). */
export interface RetiredWebhookSecret {
  readonly secret: string;
  readonly validUntil: string;
}

export interface WebhookSecrets {
  readonly current: string;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
  /** The secret the last rotation retired. */
  readonly previous?: RetiredWebhookSecret;
  /** Older retired secrets still in their grace (rotations within a day of each other), newest first. */
  readonly earlier?: readonly RetiredWebhookSecret[];
}

/** At most this many retired secrets sign beside the current one (past it, the oldest stays and the next oldest goes). */
export const maxRetiredWebhookSecrets = 5;

/** A new `whsec_` secret from `bytes` random bytes (give `crypto.randomBytes`). */
export function newWebhookSecret(random: (size: number) => Buffer): string {
  return `${webhookSecretPrefix}${random(webhookSecretBytes).toString('base64')}`;
}

/**
 * The secrets after a rotation at `now`: a new current one, the old one kept for the grace period,
 * and those retired before still in theirs (a second rotation within the day must not cut off the
 * secret receivers still check), at most {@link maxRetiredWebhookSecrets} in all, the oldest kept.
 */
export function rotateWebhookSecrets(existing: WebhookSecrets | undefined, fresh: string, now: Date): WebhookSecrets {
  if (!existing) return { current: fresh, createdAt: now.toISOString() };
  // Past the most kept, the oldest still stays (receivers that never switched check it) and the
  // newest of those before it go: a burst of rotations cuts off no receiver that was up to date.
  const before = retiredSecrets(existing, now);
  const earlier = before.length < maxRetiredWebhookSecrets ? before : [...before.slice(0, maxRetiredWebhookSecrets - 2), ...before.slice(-1)];
  return {
    current: fresh,
    createdAt: now.toISOString(),
    previous: { secret: existing.current, validUntil: new Date(now.getTime() + webhookSecretGraceMs).toISOString() },
    ...(earlier.length > 0 ? { earlier } : {}),
  };
}

/** The retired secrets still in their grace at `now`, newest first. */
export function retiredSecrets(secrets: WebhookSecrets, now: Date): RetiredWebhookSecret[] {
  return [...(secrets.previous ? [secrets.previous] : []), ...(secrets.earlier ?? [])].filter((retired) => Date.parse(retired.validUntil) > now.getTime());
}

/** The secrets that sign at `now`: the current one first, then each retired one while its grace lasts. */
export function signingSecrets(secrets: WebhookSecrets, now: Date): string[] {
  return [secrets.current, ...retiredSecrets(secrets, now).map((retired) => retired.secret)];
}

/** `v1,<signature>` of one secret over `id.timestamp.body`. Throws on a secret without the `whsec_` prefix. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  if (!secret.startsWith(webhookSecretPrefix)) throw new Error('A webhook secret starts with whsec_');
  const key = Buffer.from(secret.slice(webhookSecretPrefix.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The three Standard Webhooks headers of one message, signed with every secret given. */
export function webhookHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => signWebhook(secret, id, timestampSeconds, body)).join(' '),
  };
}

/**
 * The `webhook-id` of what one recipient gets of one notification or broadcast: the same on every
 * attempt, so a receiver can drop a repeat (a webhook that timed out is sent again).
 */
export function webhookMessageId(tenantId: string, contentId: string, recipientId: string): string {
  return `msg_${createHash('sha256').update(JSON.stringify([tenantId, contentId, recipientId])).digest('base64url').slice(0, 27)}`;
}
