/** The recipient directory of a tenant. */
import { ForbiddenError, NotFoundError } from '../errors.ts';
import { canManageTenant } from '../domain/caller.ts';
import type { Caller } from '../domain/caller.ts';
import type { Recipient } from '../domain/recipient.ts';
import type { PutRecipientBody } from '../domain/schemas.ts';
import type { Clock, RecipientStore } from '../ports.ts';

export interface RecipientDeps {
  readonly recipients: RecipientStore;
  readonly clock: Clock;
}

/** Registers or replaces a recipient of the caller's tenant (admins and senders only). */
export async function putRecipient(
  deps: RecipientDeps,
  caller: Caller,
  id: string,
  body: PutRecipientBody,
): Promise<{ recipient: Recipient; created: boolean }> {
  if (!canManageTenant(caller)) throw new ForbiddenError('Only admins and senders may manage recipients');
  const now = deps.clock.now().toISOString();
  const existing = await deps.recipients.get(caller.tenantId, id);
  const recipient: Recipient = {
    tenantId: caller.tenantId,
    id,
    ...(body.email !== undefined ? { email: body.email } : {}),
    ...(body.timezone !== undefined ? { timezone: body.timezone } : {}),
    groups: body.groups ?? [],
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await deps.recipients.put(recipient);
  return { recipient, created: !existing };
}

/** Reads a recipient: admins and senders read anyone of their tenant, a user only themself. */
export async function getRecipient(deps: RecipientDeps, caller: Caller, id: string): Promise<Recipient> {
  const recipient = canManageTenant(caller) || id === caller.sub ? await deps.recipients.get(caller.tenantId, id) : undefined;
  if (!recipient) throw new NotFoundError(`Recipient ${id} not found`);
  return recipient;
}
