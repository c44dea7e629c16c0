/**
 * The recipient directory of a tenant: registering, listing (whole or by group), batch upserts
 * and erasure. Admins and senders manage the directory of their own tenant; a plain user may
 * only read their own record. Every write re-reads and retries when another write of the same
 * recipient came first, so concurrent writers never lose each other's changes.
 */
import * as z from 'zod';
import type { Caller } from '../domain/caller.ts';
import { canManageTenant } from '../domain/caller.ts';
import { decodeCursor, encodeCursor } from '../domain/page-cursor.ts';
import { countFitting } from '../domain/payload-budget.ts';
import { applyRecipientChanges, toRecipientView } from '../domain/recipient.ts';
import type { Recipient, RecipientChanges } from '../domain/recipient.ts';
import { batchRecipientEntrySchema, idSchema } from '../domain/schemas.ts';
import type { ListRecipientsQuery, PutRecipientBody } from '../domain/schemas.ts';
import { refuseUnreachableWebhook, webhookUrlProblem } from '../domain/webhook-targets.ts';
import type { WebhookTargetMode } from '../domain/webhook-targets.ts';
import { ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../errors.ts';
import { toValidationError } from '../http/validation.ts';
import { unregisterOwnEndpoint } from './push-targets.ts';
import { logger } from '../observability/logger.ts';
import type {
  Clock,
  DeliveryScheduler,
  DeviceEndpoints,
  InboxStore,
  LiveStateStore,
  NotificationListing,
  NotificationStore,
  PushSubscriptionOwners,
  RecipientStore,
  SocketPoster,
} from '../ports.ts';

export interface RecipientDeps {
  readonly recipients: RecipientStore;
  readonly clock: Clock;
  /** Which webhook URLs may be stored (`HERALD_WEBHOOK_TARGETS`). @default 'public-https' */
  readonly webhookTargets?: WebhookTargetMode;
}

/** What an erasure touches besides the directory. */
export interface ErasureDeps extends RecipientDeps {
  readonly inbox: InboxStore;
  readonly live: Pick<LiveStateStore, 'get'>;
  readonly notifications: NotificationStore;
  readonly listing: NotificationListing;
  readonly scheduler: DeliveryScheduler;
  readonly sockets: Pick<SocketPoster, 'disconnect'>;
  /** The devices' SNS platform endpoints, deleted with the user (each holds the token and the user's ids) unless another user's now. */
  readonly devices: Pick<DeviceEndpoints, 'read' | 'unregister'>;
  /** The browser subscriptions' owner records, removed with the user (each names them). */
  readonly subscriptionOwners: Pick<PushSubscriptionOwners, 'release'>;
}

/** How many times a write is re-applied after losing a race with another write of the recipient. */
const writeAttempts = 5;
/** How many batch entries (or erasure cancels) are written at once. */
const writeConcurrency = 16;

/** Refuses (403) a caller who may not manage the directory: admins and senders may. */
export function requireManager(caller: Caller): void {
  if (!canManageTenant(caller)) throw new ForbiddenError('Only admins and senders may manage recipients');
}

/**
 * Applies `changes` to the stored recipient (creating it when absent), re-reading and retrying
 * when another write came first. `undefined` when it kept losing.
 */
async function changeRecipient(
  deps: RecipientDeps,
  tenantId: string,
  id: string,
  changes: RecipientChanges,
  known?: { readonly previous: Recipient | undefined },
): Promise<{ recipient: Recipient; created: boolean } | undefined> {
  let previous = known ? known.previous : await deps.recipients.get(tenantId, id);
  for (let attempt = 0; attempt < writeAttempts; attempt++) {
    const next = applyRecipientChanges(tenantId, id, previous, changes, deps.clock.now());
    if (await deps.recipients.save(next, previous)) return { recipient: next, created: !previous };
    previous = await deps.recipients.get(tenantId, id);
  }
  return undefined;
}

/**
 * Registers or replaces a recipient of the caller's tenant (admins and senders only): addresses,
 * locale, time zone and groups become what the body says; the recipient's own channel switches are kept.
 */
export async function putRecipient(
  deps: RecipientDeps,
  caller: Caller,
  id: string,
  body: PutRecipientBody,
): Promise<{ recipient: Recipient; created: boolean }> {
  requireManager(caller);
  refuseUnreachableWebhook(body.webhookUrl, deps.webhookTargets);
  const written = await changeRecipient(deps, caller.tenantId, id, {
    email: body.email ?? null,
    phone: body.phone ?? null,
    telegramChatId: body.telegramChatId ?? null,
    webhookUrl: body.webhookUrl ?? null,
    locale: body.locale ?? null,
    timezone: body.timezone ?? null,
    groups: body.groups ?? [],
    ...(body.quietHours !== undefined ? { quietHours: body.quietHours } : {}),
  });
  if (!written) throw new ConflictError(`Recipient ${id} kept changing while it was being written; try again`);
  return written;
}

/** Reads a recipient: admins and senders read anyone of their tenant, a user only themself. */
export async function getRecipient(deps: RecipientDeps, caller: Caller, id: string): Promise<Recipient> {
  const recipient = canManageTenant(caller) || id === caller.sub ? await deps.recipients.get(caller.tenantId, id) : undefined;
  if (!recipient) throw new NotFoundError(`Recipient ${id} not found`);
  return recipient;
}

function directoryCursorSchema(group: string | undefined): z.ZodType<{ after: string }> {
  return z.object({ directory: z.literal(group ?? '*'), after: idSchema });
}

/** A page of the tenant's directory in id order, or of one group's members (admins and senders). */
export async function listRecipients(
  deps: RecipientDeps,
  caller: Caller,
  query: ListRecipientsQuery,
): Promise<{ items: Record<string, unknown>[]; nextCursor: string | null }> {
  requireManager(caller);
  let after: string | undefined;
  if (query.cursor !== undefined) {
    after = decodeCursor(query.cursor, directoryCursorSchema(query.group))?.after;
    if (after === undefined) {
      throw new ValidationError('cursor is not one this listing handed out', {
        details: [{ field: 'cursor', message: 'is not a cursor of this listing (pass the nextCursor of the previous page, with the same group)' }],
      });
    }
  }
  const page = await deps.recipients.list(caller.tenantId, {
    limit: query.limit,
    ...(query.group !== undefined ? { group: query.group } : {}),
    ...(after !== undefined ? { after } : {}),
  });
  const views = page.recipients.map(toRecipientView);
  // A page stops where its answer would outgrow the Lambda response quota (payload-budget.ts).
  const fitting = countFitting(views);
  const next = fitting < views.length ? page.recipients[fitting - 1]?.id : page.after;
  return {
    items: views.slice(0, fitting),
    nextCursor: next ? encodeCursor({ directory: query.group ?? '*', after: next }) : null,
  };
}

/** Why one entry of a batch was not applied. */
export interface BatchFailure {
  readonly index: number;
  readonly id: string | null;
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

export interface BatchUpsertResult {
  readonly succeeded: readonly { readonly index: number; readonly id: string; readonly created: boolean }[];
  readonly failed: readonly BatchFailure[];
}

function invalidEntry(index: number, entry: unknown, error: z.ZodError): BatchFailure {
  // In the words of every other 400 ("is required", "must be an array"), not zod's defaults.
  const details = toValidationError(error, 'entry').details as { field: string; message: string }[];
  const rawId = typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
  return {
    index,
    id: typeof rawId === 'string' ? rawId : null,
    error: { code: 'VALIDATION_ERROR', message: details.map((d) => `${d.field} ${d.message}`).join('; '), details },
  };
}

/**
 * Upserts up to 1,000 recipients (admins and senders). Each entry stands alone: the fields it
 * gives are set (`null` clears), the ones it leaves out are kept, and it succeeds or fails by
 * itself, for being invalid, repeated, or not written.
 */
export async function upsertRecipients(deps: RecipientDeps, caller: Caller, entries: readonly unknown[]): Promise<BatchUpsertResult> {
  requireManager(caller);
  const failed: BatchFailure[] = [];
  const valid: { index: number; entry: z.infer<typeof batchRecipientEntrySchema> }[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const parsed = batchRecipientEntrySchema.safeParse(entry, { reportInput: true }); // its input tells a field left out
    const unreachable = parsed.success && typeof parsed.data.webhookUrl === 'string' ? webhookUrlProblem(parsed.data.webhookUrl, deps.webhookTargets ?? 'public-https') : undefined;
    if (!parsed.success) failed.push(invalidEntry(index, entry, parsed.error));
    else if (unreachable) {
      failed.push({
        index,
        id: parsed.data.id,
        error: { code: 'VALIDATION_ERROR', message: `webhookUrl ${unreachable}`, details: [{ field: 'webhookUrl', message: unreachable }] },
      });
    }
    else if (seen.has(parsed.data.id)) {
      failed.push({
        index,
        id: parsed.data.id,
        error: { code: 'DUPLICATE_ID', message: `${parsed.data.id} appears earlier in this batch; only its first entry is applied` },
      });
    } else {
      seen.add(parsed.data.id);
      valid.push({ index, entry: parsed.data });
    }
  });

  const existing = new Map((await deps.recipients.getMany(caller.tenantId, [...seen])).map((r) => [r.id, r]));
  const succeeded: { index: number; id: string; created: boolean }[] = [];
  await forEachConcurrently(valid, writeConcurrency, async ({ index, entry }) => {
    const { id, groups, ...fields } = entry;
    try {
      // `null` clears, as for every other field: no groups.
      const changes = { ...fields, ...(groups !== undefined ? { groups: groups ?? [] } : {}) };
      const written = await changeRecipient(deps, caller.tenantId, id, changes, { previous: existing.get(id) });
      if (written) succeeded.push({ index, id, created: written.created });
      else failed.push({ index, id, error: { code: 'CONFLICT', message: `${id} kept changing while it was being written; retry it` } });
    } catch (error) {
      logger.error('A batch entry could not be written', { tenantId: caller.tenantId, recipientId: id, error: error as Error });
      failed.push({ index, id, error: { code: 'WRITE_FAILED', message: `${id} could not be written; retry it` } });
    }
  });
  const byIndex = <T extends { index: number }>(a: T, b: T): number => a.index - b.index;
  return { succeeded: succeeded.sort(byIndex), failed: failed.sort(byIndex) };
}

/** What an erasure removed. */
export interface ErasureReport {
  readonly id: string;
  readonly cancelledNotifications: number;
  readonly removedInboxItems: number;
  readonly removedConnections: number;
  /** Browser subscriptions and devices, each device's SNS endpoint deleted. */
  readonly removedPushTargets: number;
}

/**
 * Erases a recipient (admins and senders): their record and group memberships, then their pending
 * notifications (cancelled through the conditional pending → cancelled, so a delivery racing it
 * either claimed first or never delivers), their connections (each open WebSocket closed by the
 * server: the client hears a close; the `$connect` authorizer checks only the token, so a reconnect
 * is accepted and receives nothing), their push targets (each device's SNS platform endpoint,
 * which holds its token and the user's ids in `CustomUserData`, deleted, and each browser
 * subscription's owner record) and their inbox. The record goes
 * first, so from then on no notification can be created for them and no inbox item added (the
 * inbox add is conditional on the record). Repeating it finishes an erasure that was cut short;
 * 404 only when there was nothing at all to erase.
 * @throws ServiceUnavailableError (503) when a device's SNS endpoint, or a browser subscription's owner record, could not be deleted: the inbox and the targets are kept, so that repeating it deletes them
 */
export async function eraseRecipient(deps: ErasureDeps, caller: Caller, id: string): Promise<ErasureReport> {
  requireManager(caller);
  const { tenantId } = caller;
  const log = logger.createChild({ persistentKeys: { tenantId, recipientId: id } });

  let existed = false;
  for (let attempt = 0; !existed; attempt++) {
    const current = await deps.recipients.get(tenantId, id);
    if (!current) break;
    if (attempt === writeAttempts) throw new ConflictError(`Recipient ${id} kept changing while it was being erased; try again`);
    existed = await deps.recipients.remove(current);
  }

  let cancelledNotifications = 0;
  let olderThan: string | undefined;
  do {
    const page = await deps.listing.list({
      tenantId,
      scope: { kind: 'recipient', recipientId: id },
      status: 'pending',
      limit: 100,
      ...(olderThan !== undefined ? { olderThan } : {}),
    });
    await forEachConcurrently(page.items, writeConcurrency, async (n) => {
      const { cancelled } = await deps.notifications.cancel(tenantId, n.id, deps.clock.now());
      if (!cancelled) return; // Claimed for delivery meanwhile: it delivers to nobody (the record is gone).
      cancelledNotifications++;
      await deps.scheduler.unschedule(cancelled).catch((error: unknown) => {
        log.warn('Could not delete the schedule of an erased recipient notification', { notificationId: n.id, error: error as Error });
      });
    });
    olderThan = page.olderThan;
  } while (olderThan !== undefined);

  // Their connection records live on the inbox's live item, which goes with the inbox. Each socket
  // is closed first; one that cannot be closed stays open but receives nothing (nothing is sent to
  // an erased recipient).
  const live = await deps.live.get(tenantId, id);
  const { connections } = live;
  await forEachConcurrently(connections, writeConcurrency, async ({ connectionId }) => {
    await deps.sockets.disconnect(connectionId).catch((error: unknown) => {
      log.warn('Could not close a connection of an erased recipient', { connectionId, error: error as Error });
    });
  });
  // Their push targets live on the same item. A device's SNS endpoint outlives it unless deleted,
  // with the token and the user's ids in it: it goes first, and the item stays until it has. One
  // whose user data names another user is theirs now (they signed in on the phone as this user's
  // record was read): it stays.
  // SNS's AuthorizationError is no passing failure: the endpoint is of an application this
  // deployment no longer names (moved from APNS_SANDBOX to APNS, or FCM removed), outside its grant,
  // and no repeat would delete it. It is left to the operator, named in the log.
  const devices = live.devices ?? [];
  const unregister = async ({ endpointArn }: { readonly endpointArn: string }): Promise<void> => {
    await unregisterOwnEndpoint(deps.devices, endpointArn, tenantId, id).catch((error: unknown) => {
      if ((error as Error).name !== 'AuthorizationErrorException') throw error;
      log.error("An erased recipient's device endpoint is not Herald's to delete (its application is not this deployment's): delete it in SNS", { endpointArn, error: error as Error });
    });
  };
  await forEachConcurrently(devices, writeConcurrency, unregister).catch((error: unknown) => {
    throw new ServiceUnavailableError(`Recipient ${id} is erased but for their devices' push endpoints, which SNS did not delete; repeat the request`, { cause: error });
  });
  // Each browser subscription's owner record names the user: it goes before the item that lists
  // them, so that a repeat finds them. One another user holds now is theirs, and stays.
  const subscriptions = live.pushSubscriptions ?? [];
  await forEachConcurrently(subscriptions, writeConcurrency, (s) => deps.subscriptionOwners.release(s.id, { tenantId, userId: id })).catch((error: unknown) => {
    throw new ServiceUnavailableError(`Recipient ${id} is erased but for their browser subscriptions' owner records, which could not be deleted; repeat the request`, { cause: error });
  });
  const removedPushTargets = devices.length + subscriptions.length;
  const removedConnections = connections.length;
  const removedInboxItems = await deps.inbox.removeAll(tenantId, id);

  if (!existed && cancelledNotifications === 0 && removedConnections === 0 && removedInboxItems === 0 && removedPushTargets === 0) {
    throw new NotFoundError(`Recipient ${id} not found`);
  }
  log.info('Erased a recipient', { cancelledNotifications, removedInboxItems, removedConnections, removedPushTargets });
  return { id, cancelledNotifications, removedInboxItems, removedConnections, removedPushTargets };
}

/** Runs `work` on every item, at most `limit` at once; the first failure is thrown once all settled. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  const results = await Promise.allSettled(lanes);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
