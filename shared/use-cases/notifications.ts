/**
 * Scheduling, reading, listing and managing notifications: the rules of the API, on ports only.
 */
import * as z from '../zod-mini.ts';
import { ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../errors.ts';
import { canManageTenant, isAdmin } from '../domain/caller.ts';
import type { Caller } from '../domain/caller.ts';
import { newNotificationId } from '../domain/ids.ts';
import { defaultChannels, toNotificationView } from '../domain/notification.ts';
import { deliveryAudienceOf } from '../domain/delivery-views.ts';
import { countFitting } from '../domain/payload-budget.ts';
import type { Notification } from '../domain/notification.ts';
import type { Recipient } from '../domain/recipient.ts';
import { registeredRecipients } from './registered-recipients.ts';
import { decodeCursor, encodeCursor } from '../domain/page-cursor.ts';
import { notificationId } from '../domain/id-schemas.ts';
import type {
  CreateNotificationsBody,
  ListNotificationsQuery,
  RescheduleNotificationBody,
  RetryNotificationBody,
} from '../domain/schemas.ts';
import type {
  Clock,
  CreateRecord,
  CreateRecords,
  DeliveryScheduler,
  NotificationListing,
  NotificationListScope,
  NotificationStore,
  RecipientStore,
  SelfSendLimits,
  TemplateStore,
  TenantSettingsStore,
} from '../ports.ts';
import { recipientZone, resolveRecipientTimes } from '../domain/schedule-times.ts';
import type { RecipientTime } from '../domain/schedule-times.ts';
import { noTenantSettings } from '../domain/tenant-settings.ts';
import type { LocalTimeAdjustment } from '../domain/time.ts';
import { admitTemplate } from './templates.ts';
import type { TemplatedContent } from './templates.ts';
import { takeSelfSends } from './self-sends.ts';
import { rollBackCreate, takeCreateIds } from './create-records.ts';
import type { CreateKey } from './create-records.ts';
import { logger } from '../observability/logger.ts';

export { clockSkewToleranceMs } from '../domain/schedule-times.ts';

export interface NotificationDeps {
  readonly notifications: NotificationStore;
  readonly recipients: RecipientStore;
  readonly scheduler: DeliveryScheduler;
  readonly clock: Clock;
  /** What plain users may send themselves, per user and tenant. */
  readonly selfSend: SelfSendLimits;
  /** The tenant's default zone, for `timezone: "recipient"`; absent: none (UTC). */
  readonly tenantSettings?: Pick<TenantSettingsStore, 'get'>;
  /** Where a `template` of a create is found. @default none: a create naming a template fails */
  readonly templates?: Pick<TemplateStore, 'get'>;
  /**
   * Where a create with an `Idempotency-Key` keeps the ids it is about to write.
   * @default none: a create given a key fails
   */
  readonly createRecords?: CreateRecords;
}

export type { CreateKey } from './create-records.ts';

/** Where a create comes from: a recurring definition's occurrence, or a request with an `Idempotency-Key`. */
export interface CreateOrigin {
  readonly recurringId?: string;
  /** Set when the request carries an `Idempotency-Key`: a retry of it after a death creates the same notifications. */
  readonly idempotency?: CreateKey;
}

/** One created notification's time, as the create answers it when the request named a zone. */
export interface ScheduledTime {
  readonly notificationId: string;
  readonly recipientId: string;
  /** ISO-8601 UTC. */
  readonly scheduledAt: string;
  readonly timezone: string | null;
  readonly localScheduledAt: string | null;
  /** Set when the wall time asked for did not exist (a gap) or existed twice (an overlap). */
  readonly adjusted?: LocalTimeAdjustment;
}

/** The title and message of a create: its own, or its template's (checked against its payload). */
async function contentOf(
  deps: Pick<NotificationDeps, 'templates'>,
  tenantId: string,
  body: Pick<CreateNotificationsBody, 'title' | 'message' | 'template'>,
): Promise<{ readonly title: string; readonly message: string; readonly template?: TemplatedContent['template'] }> {
  if (body.template) {
    if (!deps.templates) throw new Error('This function was given no template store');
    return admitTemplate({ templates: deps.templates }, tenantId, body.template);
  }
  // The schema requires both when there is no template.
  return { title: body.title ?? '', message: body.message ?? '' };
}

export interface ScheduledNotifications {
  readonly notificationIds: string[];
  readonly count: number;
  /** The earliest of their instants (ISO-8601 UTC). */
  readonly scheduledAt: string;
  /** Each notification's time, when the request named a zone (an instant per zone, DST adjustments). */
  readonly schedule?: ScheduledTime[];
}

/** What a create may go on with: each recipient's time, and its recipients by id (they all exist). */
async function admitCreate(
  deps: Pick<NotificationDeps, 'recipients' | 'selfSend' | 'tenantSettings'>,
  caller: Caller,
  body: CreateNotificationsBody,
  now: Date,
): Promise<{ times: Map<string, RecipientTime>; byId: Map<string, Recipient> }> {
  if (!canManageTenant(caller) && body.recipients.some((id) => id !== caller.sub)) {
    throw new ForbiddenError('Only admins and senders may notify anyone but themselves');
  }
  // The instant is checked before the directory is read: a bad time is a 400 whatever the recipients.
  if (body.timezone !== recipientZone) resolveRecipientTimes(body, [{ id: '' }], noTenantSettings, now);
  const byId = await registeredRecipients(deps.recipients, caller.tenantId, body.recipients);
  const settings = body.timezone === recipientZone && deps.tenantSettings ? await deps.tenantSettings.get(caller.tenantId) : noTenantSettings;
  const times = resolveRecipientTimes(body, body.recipients.map((id) => byId.get(id) ?? { id }), settings, now);
  return { times, byId };
}

/**
 * Everything {@link scheduleNotifications} would refuse (403, 400, 404, 429), found by reading
 * only: an idempotent create runs it before it takes its key, so a refusal writes nothing.
 */
export async function checkScheduleNotifications(
  deps: Pick<NotificationDeps, 'recipients' | 'selfSend' | 'clock' | 'templates'>,
  caller: Caller,
  body: CreateNotificationsBody,
): Promise<void> {
  const now = deps.clock.now();
  await admitCreate(deps, caller, body, now);
  await contentOf(deps, caller.tenantId, body);
  if (!canManageTenant(caller)) {
    const room = await deps.selfSend.check(caller, body.recipients.length, now);
    if (!room.ok) await takeSelfSends(deps, caller, body.recipients.length, now, 'recipients');
  }
}

/**
 * Creates one pending notification per recipient and puts each on its way to delivery. With
 * `origin.idempotency` (the request's `Idempotency-Key`), a retry after an attempt that died
 * before answering creates that attempt's notifications (the same ids and times, the missing
 * ones written, none overwritten, their schedules made again) and answers as it would have;
 * without, it costs no AWS call more.
 * @throws ServiceUnavailableError (503) when the notifications could not be scheduled: they are rolled back, but for
 *   those already delivered or being delivered (`details.delivered`), which a retry with the same key completes around
 * @throws IdempotencyInProgressError (409) when another attempt of the same key changed its record meanwhile
 */
export async function scheduleNotifications(
  deps: NotificationDeps,
  caller: Caller,
  body: CreateNotificationsBody,
  origin: CreateOrigin = {},
): Promise<ScheduledNotifications> {
  const started = deps.clock.now();
  const attempt = await takeCreateIds(deps.createRecords, origin.idempotency, body.recipients.length, started, newNotificationId, async (ids) =>
    cancelAndDelete(deps, caller.tenantId, ids),
  );
  // A retry resolves every time against the first attempt's clock: the same instants, and a time
  // it accepted is not refused now for having passed meanwhile (it is then delivered at once).
  const { now } = attempt;
  const { times, byId } = await admitCreate(deps, caller, body, now);
  const content = await contentOf(deps, caller.tenantId, body);

  // A plain user notifies only themself, within the per-user and per-tenant limits (429 beyond).
  // A retry counts again: whether its dead attempt got as far as counting is unknown, and counting
  // twice can only keep a user further inside their limit, never past it.
  if (!canManageTenant(caller)) await takeSelfSends(deps, caller, body.recipients.length, started, 'recipients');

  const timeOf = (recipientId: string): RecipientTime => times.get(recipientId) ?? { epochMs: now.getTime() };
  const notifications: Notification[] = body.recipients.map((recipientId, index) => ({
    tenantId: caller.tenantId,
    id: attempt.ids[index] ?? newNotificationId(now),
    recipientId,
    // Which record it was made for: erased and registered again, the id is someone else.
    ...(byId.get(recipientId) ? { recipientSince: byId.get(recipientId)?.createdAt } : {}),
    createdBy: caller.sub,
    title: content.title,
    message: content.message,
    ...(content.template ? { template: content.template } : {}),
    type: body.type,
    priority: body.priority,
    channels: body.channels ?? defaultChannels(byId.get(recipientId) ?? {}),
    ...(body.data ? { data: body.data } : {}),
    ...(body.relatedObject ? { relatedObject: body.relatedObject } : {}),
    status: 'pending',
    scheduledAt: new Date(timeOf(recipientId).epochMs).toISOString(),
    ...(timeOf(recipientId).timezone ? { timezone: timeOf(recipientId).timezone } : {}),
    ...(origin.recurringId ? { recurringId: origin.recurringId } : {}),
    createdAt: now.toISOString(),
    attempts: 0,
    deliveries: {},
  }));

  // A retry never overwrites: what the first attempt wrote may have been delivered, cancelled or
  // rescheduled since. Its schedules are the same (same ids, same times, so the same names), and a
  // message that reaches the queue twice delivers once (the claim is a conditional write).
  try {
    // A batch write that fails part-way has written some: withdrawn with the rest, or the
    // stuck-retry sweep would deliver them, and the client's retry a second time.
    if (attempt.retry) await deps.notifications.createMissing(notifications);
    else await deps.notifications.createMany(notifications);
    await deps.scheduler.scheduleMany(notifications, deps.clock.now());
  } catch (error) {
    const kept = await rollBack(deps, caller.tenantId, notifications.map((n) => n.id), attempt.record);
    throw rolledBackError(notifications, kept, attempt.record !== undefined, error);
  }

  const earliest = Math.min(...notifications.map((n) => Date.parse(n.scheduledAt)));
  return {
    notificationIds: notifications.map((n) => n.id),
    count: notifications.length,
    scheduledAt: new Date(earliest).toISOString(),
    ...(body.timezone !== undefined
      ? {
          schedule: notifications.map((n) => {
            const { adjustment } = timeOf(n.recipientId);
            // Only its times are read: nothing of its (absent) deliveries.
            const view = toNotificationView(n, 'recipient');
            return {
              notificationId: n.id,
              recipientId: n.recipientId,
              scheduledAt: n.scheduledAt,
              timezone: view.timezone as string | null,
              localScheduledAt: view.localScheduledAt as string | null,
              ...(adjustment ? { adjusted: adjustment } : {}),
            };
          }),
        }
      : {}),
  };
}

/**
 * Cancels the pending ones among `ids` (a message already on the queue then finds nothing to
 * deliver) and deletes those it cancelled and those found cancelled already (a rollback that died
 * part-way). Resolves with the ids it leaves as they are because they are no longer pending
 * (sending, sent, failed: sent straight to the queue, or by the stuck-retry sweep, and delivered
 * or being delivered): nothing can take those back. One whose cancel failed is neither: it may be
 * being delivered, so it is not deleted (a delete would let a retry deliver it twice under a new
 * id); the others are, then the cancel's error is thrown, and the rollback stays unfinished for a
 * retry to finish.
 * @throws the error of the first cancel that failed, once the others are dealt with
 */
async function cancelAndDelete(deps: NotificationDeps, tenantId: string, ids: readonly string[]): Promise<string[]> {
  const at = deps.clock.now();
  const cancels = await Promise.allSettled(ids.map((id) => deps.notifications.cancel(tenantId, id, at)));
  const gone: string[] = [];
  const kept: string[] = [];
  let failure: { readonly reason: unknown } | undefined;
  for (const [index, id] of ids.entries()) {
    const cancel = cancels[index];
    if (cancel === undefined) continue;
    if (cancel.status === 'rejected') {
      failure ??= { reason: cancel.reason };
      continue;
    }
    const status = cancel.value.cancelled?.status ?? cancel.value.status;
    if (status === undefined) continue; // None there.
    // Deleted, not left cancelled: a create that cannot be undone is completed by a retry that writes them again.
    if (status === 'cancelled') gone.push(id);
    else kept.push(id);
  }
  if (gone.length > 0) await deps.notifications.deleteMany(tenantId, gone);
  if (failure) throw failure.reason;
  return kept;
}

/**
 * Undoes a create whose scheduling failed (the scheduler left no schedule behind that it made), so
 * the client can simply retry; with a key, under its record ({@link rollBackCreate}). Resolves with
 * the ids it could not undo (delivered or being delivered), none when the create is undone, and
 * `undefined` when the rollback failed: that is logged, and what it could not undo stays pending,
 * for a retry to converge on or the stuck-retry sweep to deliver late.
 */
async function rollBack(deps: NotificationDeps, tenantId: string, ids: readonly string[], record: CreateRecord | undefined): Promise<readonly string[] | undefined> {
  try {
    return await rollBackCreate(deps.createRecords, record, deps.clock.now(), async () => cancelAndDelete(deps, tenantId, ids));
  } catch (error) {
    logger.error('Could not roll back a create whose scheduling failed; its notifications may stay pending', {
      tenantId,
      count: ids.length,
      firstNotificationId: ids[0],
      error: error as Error,
    });
    return undefined;
  }
}

/**
 * The 503 of a create whose scheduling failed, saying what its rollback left: nothing; or the
 * notifications already delivered or being delivered (`details.delivered`, each with its
 * recipient), which a retry must not create again (with the same `Idempotency-Key` it completes
 * the create without them); or, when the rollback failed, that some may still be delivered.
 */
function rolledBackError(notifications: readonly Notification[], kept: readonly string[] | undefined, keyed: boolean, cause: unknown): ServiceUnavailableError {
  if (kept === undefined) {
    const advice = keyed
      ? 'retry with the same Idempotency-Key: it completes the create without delivering any twice'
      : 'some may still be delivered: list the notifications you created before you retry';
    return new ServiceUnavailableError(`Could not schedule the notifications, nor withdraw them all; ${advice}`, { cause });
  }
  if (kept.length === 0) return new ServiceUnavailableError('Could not schedule the notifications; nothing was created, retry later', { cause });
  const keptIds = new Set(kept);
  const delivered = notifications.filter((n) => keptIds.has(n.id)).map((n) => ({ notificationId: n.id, recipientId: n.recipientId }));
  const advice = keyed
    ? 'retry with the same Idempotency-Key: it completes the create, and delivers none of them twice'
    : 'a retry must leave out their recipients (details.delivered), or they get it twice';
  return new ServiceUnavailableError(
    `Could not schedule the notifications; ${delivered.length} of ${notifications.length} were already delivered or are being delivered, the others were withdrawn: ${advice}`,
    { cause, details: { delivered } },
  );
}

function isVisibleTo(n: Notification, caller: Caller): boolean {
  return n.recipientId === caller.sub || n.createdBy === caller.sub || isAdmin(caller);
}

/** Reads a notification its recipient, its creator or a tenant admin may see. */
export async function getNotification(deps: Pick<NotificationDeps, 'notifications'>, caller: Caller, id: string): Promise<Notification> {
  const n = await deps.notifications.get(caller.tenantId, id);
  if (!n || !isVisibleTo(n, caller)) throw new NotFoundError(`Notification ${id} not found`);
  return n;
}

/** Reads of a notification a change of a pending one makes before it answers 409 (see {@link whilePending}). */
const pendingReads = 3;

/**
 * Runs `change`, a conditional write that needs the notification pending, when `existing` (what
 * was read) is pending, and answers what it wrote; else a 409 naming the status it has. A status
 * read as not pending is read again before the 409, and so is one the write found changed: a
 * delivery attempt that failed hands its claim back (`sending` → `pending`, for its retry), so a
 * cancel that read `sending` could otherwise answer "is pending; only a pending notification can
 * be cancelled". What was read already says no: refused without a write.
 */
async function whilePending(
  deps: Pick<NotificationDeps, 'notifications'>,
  caller: Caller,
  existing: Notification,
  change: () => Promise<Notification | undefined>,
  action: string,
): Promise<Notification> {
  let current: Notification | undefined = existing;
  for (let read = 1; ; read++) {
    const changed = current.status === 'pending' ? await change() : undefined;
    if (changed) return changed;
    current = await deps.notifications.get(caller.tenantId, existing.id);
    if (current?.status !== 'pending' || read === pendingReads) {
      throw new ConflictError(`Notification ${existing.id} is ${current?.status ?? 'gone'}; only a pending notification can be ${action}`, {
        details: { status: current?.status },
      });
    }
  }
}

/** Cancels a pending notification: after this returns it is never delivered on any channel. */
export async function cancelNotification(deps: NotificationDeps, caller: Caller, id: string): Promise<Notification> {
  const existing = await getNotification(deps, caller, id);
  if (existing.createdBy !== caller.sub && !isAdmin(caller)) {
    throw new ForbiddenError('Only the creator of a notification or an admin may cancel it');
  }
  const cancelled = await whilePending(deps, caller, existing, async () => (await deps.notifications.cancel(caller.tenantId, id, deps.clock.now())).cancelled, 'cancelled');
  // The state already guarantees no delivery; removing the schedule only saves a wasted firing.
  try {
    await deps.scheduler.unschedule(cancelled);
  } catch (error) {
    logger.warn('Could not delete the schedule of a cancelled notification', {
      tenantId: caller.tenantId,
      notificationId: id,
      error: error as Error,
    });
  }
  return cancelled;
}

/** A notification the caller may change: its creator or a tenant admin (404 if not visible at all). */
async function getManageable(deps: Pick<NotificationDeps, 'notifications'>, caller: Caller, id: string, action: string): Promise<Notification> {
  const existing = await getNotification(deps, caller, id);
  if (existing.createdBy !== caller.sub && !isAdmin(caller)) {
    throw new ForbiddenError(`Only the creator of a notification or an admin may ${action} it`);
  }
  return existing;
}

/** The 409 for a notification read again and found not `wanted`; undefined when it is `wanted` after all (it moved since the first read). */
async function notInState(deps: Pick<NotificationDeps, 'notifications'>, caller: Caller, id: string, wanted: string, action: string): Promise<ConflictError | undefined> {
  const current = await deps.notifications.get(caller.tenantId, id);
  if (current?.status === wanted) return undefined;
  return new ConflictError(`Notification ${id} is ${current?.status ?? 'gone'}; only a ${wanted} notification can be ${action}`, {
    details: { status: current?.status },
  });
}

/** Rounds of {@link moveSchedule} that follow a time a racing change wrote, before the sweep is left to it. */
const moveScheduleRounds = 3;

/**
 * Moves the schedule of a notification whose time just changed; a failure is a 503 the caller may
 * retry. Two changes racing each other (a double PATCH) write their times in one order and replace
 * the schedule in either order: the schedule of the earlier time could be left, firing late. So
 * each reads the time back after its schedule is made and, when a later write changed it, follows
 * it: whichever replaces the schedule last then reads the last time written.
 */
async function moveSchedule(deps: NotificationDeps, n: Notification, now: Date, afterFailure: string): Promise<void> {
  let scheduled = n;
  for (let round = 1; ; round++) {
    try {
      await deps.scheduler.reschedule(scheduled, now);
    } catch (error) {
      logger.error('Could not move the schedule of a notification', { tenantId: n.tenantId, notificationId: n.id, error: error as Error });
      throw new ServiceUnavailableError(afterFailure, { cause: error });
    }
    const current = await deps.notifications.get(n.tenantId, n.id);
    if (current?.status !== 'pending' || current.scheduledAt === scheduled.scheduledAt || round === moveScheduleRounds) return;
    scheduled = current;
  }
}

/**
 * Moves a pending notification to a new time, and its schedule with it. The time changes by a
 * conditional write (only while pending), so it races safely with a delivery: either the delivery
 * claimed it first (409 here) or it is held until the new time (the consumer checks the time).
 */
export async function rescheduleNotification(
  deps: NotificationDeps,
  caller: Caller,
  id: string,
  body: Pick<RescheduleNotificationBody, 'scheduledAt'>,
): Promise<Notification> {
  const existing = await getManageable(deps, caller, id, 'reschedule');
  const now = deps.clock.now();
  const scheduledAt = new Date(resolveRecipientTimes(body, [{ id }], noTenantSettings, now).get(id)?.epochMs ?? now.getTime());
  const moved = await whilePending(deps, caller, existing, async () => deps.notifications.reschedule(caller.tenantId, id, scheduledAt), 'rescheduled');
  await moveSchedule(deps, moved, now, `Notification ${id} now has its new time, but its schedule could not be moved; repeat the request`);
  return moved;
}

/**
 * What send-now (`pending`) or retry (`failed`) would refuse (404, 403, 409), found by reading
 * only: these idempotent routes run it before they take their key.
 */
export async function checkManageable(deps: Pick<NotificationDeps, 'notifications'>, caller: Caller, id: string, wanted: 'pending' | 'failed'): Promise<void> {
  const existing = await getManageable(deps, caller, id, wanted === 'pending' ? 'send' : 'retry');
  if (existing.status === wanted) return;
  const conflict = await notInState(deps, caller, id, wanted, wanted === 'pending' ? 'sent now' : 'retried');
  if (conflict) throw conflict;
}

/** Delivers a pending notification now: its time becomes now and its schedule gives way to a message on the queue. */
export async function sendNotificationNow(deps: NotificationDeps, caller: Caller, id: string): Promise<Notification> {
  const existing = await getManageable(deps, caller, id, 'send');
  const now = deps.clock.now();
  const moved = await whilePending(deps, caller, existing, async () => deps.notifications.reschedule(caller.tenantId, id, now), 'sent now');
  // Its time is now already: said so, as a repeat queues it and the stuck-retry sweep would deliver it anyway.
  await moveSchedule(deps, moved, now, `Notification ${id} is due now, but could not be queued for delivery; repeat the request (else the stuck-retry sweep delivers it within minutes)`);
  return moved;
}

/**
 * Puts a failed notification back to pending, due after `delayMinutes`, with a fresh retry
 * budget. Failed channels are tried again; a channel that reached the recipient never is.
 */
export async function retryNotification(deps: NotificationDeps, caller: Caller, id: string, body: RetryNotificationBody): Promise<Notification> {
  const existing = await getManageable(deps, caller, id, 'retry');
  const now = deps.clock.now();
  const scheduledAt = new Date(now.getTime() + body.delayMinutes * 60_000);
  const requeued = existing.status === 'failed' ? await deps.notifications.requeueFailed(caller.tenantId, id, scheduledAt, now) : undefined;
  if (!requeued) {
    // A failed notification leaves that state only by a retry: one read again as failed was not so when written.
    throw (await notInState(deps, caller, id, 'failed', 'retried')) ?? new ConflictError(`Notification ${id} changed while being retried; repeat the request`);
  }
  await moveSchedule(
    deps,
    requeued,
    now,
    `Notification ${id} is pending again, but its delivery could not be queued; POST .../send-now to queue it (the stuck-notification sweep also finds it)`,
  );
  return requeued;
}

export interface NotificationListDeps {
  readonly listing: NotificationListing;
}

export interface NotificationList {
  readonly items: readonly Notification[];
  /** Opaque; pass it back as `cursor` for the next page. `null` on the last page. */
  readonly nextCursor: string | null;
}

const listCursorSchema = z.object({ olderThan: notificationId });

/**
 * Whose notifications the caller sees: an admin the whole tenant, a sender the ones it created,
 * anyone else the ones addressed to them. `undefined` when the filter asks for someone else's.
 */
function listScope(caller: Caller, recipientId: string | undefined): NotificationListScope | undefined {
  if (isAdmin(caller)) return recipientId ? { kind: 'recipient', recipientId } : { kind: 'tenant' };
  if (canManageTenant(caller)) {
    return recipientId ? { kind: 'recipient', recipientId, createdBy: caller.sub } : { kind: 'creator', createdBy: caller.sub };
  }
  if (recipientId !== undefined && recipientId !== caller.sub) return undefined;
  return { kind: 'recipient', recipientId: caller.sub };
}

/** Lists the notifications the caller may see, newest first, one page at a time. */
export async function listNotifications(deps: NotificationListDeps, caller: Caller, query: ListNotificationsQuery): Promise<NotificationList> {
  const position = query.cursor === undefined ? undefined : decodeCursor(query.cursor, listCursorSchema);
  if (query.cursor !== undefined && !position) {
    throw new ValidationError('Invalid query: cursor is not a cursor this API returned', {
      details: [{ field: 'cursor', message: 'is not a cursor this API returned' }],
    });
  }
  const scope = listScope(caller, query.recipientId);
  // Another user's notifications are not there for a plain user: an empty list, like any other filter.
  if (!scope) return { items: [], nextCursor: null };
  const page = await deps.listing.list({
    tenantId: caller.tenantId,
    scope,
    ...(query.status !== undefined ? { status: query.status } : {}),
    ...(query.type !== undefined ? { type: query.type } : {}),
    ...(query.from !== undefined ? { createdFrom: new Date(query.from) } : {}),
    ...(query.to !== undefined ? { createdTo: new Date(query.to) } : {}),
    limit: query.limit,
    ...(position ? { olderThan: position.olderThan } : {}),
  });
  // A page stops where its answer would outgrow the Lambda response quota (payload-budget.ts).
  const audience = deliveryAudienceOf(caller);
  const fitting = countFitting(page.items.map((n) => toNotificationView(n, audience)));
  if (fitting < page.items.length) {
    const items = page.items.slice(0, fitting);
    return { items, nextCursor: encodeCursor({ olderThan: items[items.length - 1]?.id ?? page.olderThan }) };
  }
  return { items: page.items, nextCursor: page.olderThan === undefined ? null : encodeCursor({ olderThan: page.olderThan }) };
}
