/**
 * The check every create that names its recipients makes (a notification, a broadcast to
 * `recipientIds`, a recurring notification): each must be registered in the tenant's directory.
 */
import type { Recipient } from '../domain/recipient.ts';
import { NotFoundError } from '../errors.ts';
import type { RecipientStore } from '../ports.ts';

/**
 * Reads the named recipients of `tenantId` and answers them by id. @throws NotFoundError (404, `details.missing`: the ids not registered,
 * in the order given) when any is not registered
 */
export async function registeredRecipients(recipients: Pick<RecipientStore, 'getMany'>, tenantId: string, ids: readonly string[]): Promise<Map<string, Recipient>> {
  const found = await recipients.getMany(tenantId, ids);
  const byId = new Map(found.map((recipient) => [recipient.id, recipient]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new NotFoundError(`Recipients not registered: ${missing.join(', ')}`, { details: { missing } });
  return byId;
}
