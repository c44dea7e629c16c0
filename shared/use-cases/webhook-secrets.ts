/**
 * A tenant's webhook signing secret: made on first use (the first webhook, or an admin reading
 * it), shown to admins, rotated by them. After a rotation the old secret still signs, beside the
 * new one, for a grace period (shared/domain/standard-webhooks.ts), so receivers can switch over.
 */
import { randomBytes } from 'node:crypto';
import type { Caller } from '../domain/caller.ts';
import { isAdmin } from '../domain/caller.ts';
import { newWebhookSecret, retiredSecrets, rotateWebhookSecrets, signingSecrets } from '../domain/standard-webhooks.ts';
import type { WebhookSecrets } from '../domain/standard-webhooks.ts';
import { ConflictError, ForbiddenError } from '../errors.ts';
import type { Clock, WebhookSecretStore } from '../ports.ts';

export interface WebhookSecretDeps {
  readonly secrets: WebhookSecretStore;
  readonly clock: Clock;
}

/** The tenant's secrets, made (once, whoever races) when it has none. */
export async function tenantWebhookSecrets(deps: WebhookSecretDeps, tenantId: string): Promise<WebhookSecrets> {
  const stored = await deps.secrets.get(tenantId);
  if (stored) return stored;
  const made = rotateWebhookSecrets(undefined, newWebhookSecret(randomBytes), deps.clock.now());
  if (await deps.secrets.save(tenantId, made, undefined)) return made;
  const winner = await deps.secrets.get(tenantId);
  if (!winner) throw new ConflictError('The webhook secret kept changing; try again');
  return winner;
}

/** What signs the tenant's webhooks now: the current secret, and the previous within its grace. */
export async function currentSigningSecrets(deps: WebhookSecretDeps, tenantId: string): Promise<string[]> {
  return signingSecrets(await tenantWebhookSecrets(deps, tenantId), deps.clock.now());
}

function requireAdmin(caller: Caller): void {
  if (!isAdmin(caller)) throw new ForbiddenError('Only tenant admins may see or rotate the webhook secret');
}

/** The view of the secrets an admin gets. */
export function toWebhookSecretView(secrets: WebhookSecrets, now: Date): Record<string, unknown> {
  const [previous, ...earlier] = retiredSecrets(secrets, now);
  return {
    secret: secrets.current,
    createdAt: secrets.createdAt,
    previousSecret: previous?.secret ?? null,
    previousValidUntil: previous?.validUntil ?? null,
    earlierSecrets: earlier.map(({ secret, validUntil }) => ({ secret, validUntil })),
  };
}

/** `GET /v1/settings/webhook-secret` (admins). */
export async function getWebhookSecret(deps: WebhookSecretDeps, caller: Caller): Promise<WebhookSecrets> {
  requireAdmin(caller);
  return tenantWebhookSecrets(deps, caller.tenantId);
}

/** `POST /v1/settings/webhook-secret/rotate` (admins): a new secret; the old one signs too for the grace period. */
export async function rotateWebhookSecret(deps: WebhookSecretDeps, caller: Caller): Promise<WebhookSecrets> {
  requireAdmin(caller);
  const existing = await tenantWebhookSecrets(deps, caller.tenantId);
  const next = rotateWebhookSecrets(existing, newWebhookSecret(randomBytes), deps.clock.now());
  if (!(await deps.secrets.save(caller.tenantId, next, existing))) throw new ConflictError('The webhook secret was rotated by someone else meanwhile; read it again');
  return next;
}
