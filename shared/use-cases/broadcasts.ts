/**
 * Broadcasts through the API: create, schedule, read, list, cancel, retry, and the outcome of each
 * recipient. Admins and senders only; a sender sees the broadcasts it created, an admin the whole
 * tenant. The fan-out itself runs in the fan-out function (see fan-out-broadcast.ts).
 */
import * as z from '../zod-mini.ts';
import { canManageTenant, isAdmin } from '../domain/caller.ts';
import { admitTemplate } from './templates.ts';
import type { TemplateRef } from '../domain/template.ts';
import type { Caller } from '../domain/caller.ts';
import { audienceSliceSize, broadcastRecipientStatuses, zeroCounts } from '../domain/broadcast.ts';
import type { Broadcast, BroadcastAudience, BroadcastContent, BroadcastRecipient } from '../domain/broadcast.ts';
import { channels as allChannels } from '../domain/notification.ts';
import { newBroadcastId } from '../domain/ids.ts';
import { decodeCursor, encodeCursor } from '../domain/page-cursor.ts';
import type {
  BroadcastAudienceBody,
  CreateBroadcastBody,
  ListBroadcastRecipientsQuery,
  ListBroadcastsQuery,
  ScheduleBroadcastBody,
} from '../domain/schemas.ts';
import { broadcastId, subjectId } from '../domain/id-schemas.ts';
import { ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import type { BroadcastRecipientStore, BroadcastScheduler, BroadcastStore, Clock, CreateRecord, CreateRecords, FanoutQueue, RecipientStore, TemplateStore } from '../ports.ts';
import { rollBackCreate, takeCreateIds } from './create-records.ts';
import type { CreateKey } from './create-records.ts';
import { registeredRecipients } from './registered-recipients.ts';
import { checkScheduleAhead, clockSkewToleranceMs, resolveBroadcastTime } from '../domain/schedule-times.ts';
import type { LocalTimeAdjustment } from '../domain/time.ts';

export interface BroadcastDeps {
  readonly broadcasts: BroadcastStore;
  /** Where the recipients a create names (`recipientIds`) must be registered. */
  readonly recipients: Pick<RecipientStore, 'getMany'>;
  readonly rows: BroadcastRecipientStore;
  readonly scheduler: BroadcastScheduler;
  readonly fanout: FanoutQueue;
  readonly clock: Clock;
  /** Where a `template` of a create is found. @default none: a create naming a template fails */
  readonly templates?: Pick<TemplateStore, 'get'>;
  /**
   * Where a create with an `Idempotency-Key` keeps the id it is about to write.
   * @default none: a create given a key fails
   */
  readonly createRecords?: CreateRecords;
}

/** The title, message and template of a create: its own, or its template's (checked against its payload). */
async function broadcastContentOf(
  deps: Pick<BroadcastDeps, 'templates'>,
  tenantId: string,
  body: Pick<CreateBroadcastBody, 'title' | 'message' | 'template'>,
): Promise<{ readonly title: string; readonly message: string; readonly template?: TemplateRef }> {
  if (body.template) {
    if (!deps.templates) throw new Error('This function was given no template store');
    return admitTemplate({ templates: deps.templates }, tenantId, body.template);
  }
  // The schema requires both when there is no template.
  return { title: body.title ?? '', message: body.message ?? '' };
}

/** What `POST /v1/broadcasts` answers. */
export interface CreatedBroadcast {
  readonly broadcastId: string;
  readonly status: Broadcast['status'];
  /** Set when its wall time (in a named zone) fell in a DST gap or overlap. */
  readonly adjusted?: LocalTimeAdjustment;
}

function requireManager(caller: Caller): void {
  if (!canManageTenant(caller)) throw new ForbiddenError('Only admins and senders may manage broadcasts');
}

function scheduledAtError(message: string): ValidationError {
  return new ValidationError(`scheduledAt ${message}`, { details: [{ field: 'scheduledAt', message }] });
}

/** The time a broadcast goes out: in the future (a few seconds of skew are "now"), at most 2 years ahead. */
function resolveScheduledAt(requested: string | undefined, now: Date): Date {
  if (requested === undefined) return now;
  const at = new Date(requested);
  if (at.getTime() < now.getTime() - clockSkewToleranceMs) throw scheduledAtError('must not be in the past');
  checkScheduleAhead(at.getTime(), now);
  return at.getTime() < now.getTime() ? now : at;
}

function toAudience(body: BroadcastAudienceBody): BroadcastAudience {
  if (body.recipientIds) return { kind: 'recipients', count: body.recipientIds.length, sliceSize: audienceSliceSize };
  if (body.groups) return { kind: 'groups', groups: body.groups };
  return { kind: 'all' };
}

/** What {@link createBroadcast} would refuse (403, 400, 404), without writing: run before an idempotent create takes its key. */
export async function checkCreateBroadcast(deps: Pick<BroadcastDeps, 'clock' | 'templates' | 'recipients'>, caller: Caller, body: CreateBroadcastBody): Promise<void> {
  requireManager(caller);
  if (!(body.draft && body.scheduledAt === undefined)) resolveBroadcastTime(body, deps.clock.now());
  await broadcastContentOf(deps, caller.tenantId, body);
  if (body.audience.recipientIds) await registeredRecipients(deps.recipients, caller.tenantId, body.audience.recipientIds);
}

/**
 * Creates a broadcast: a draft, or scheduled at `scheduledAt` (now when omitted) with one schedule.
 * With `origin.idempotency` (the request's `Idempotency-Key`), a retry after an attempt that died
 * before answering creates that attempt's broadcast (the same id and time; written only if it is
 * not there, left as it is if it is, its schedule made again) rather than a second one, and
 * answers its status as it is now (`sending` once started, `cancelled` if cancelled since);
 * without, it costs no AWS call more (shared/use-cases/create-records.ts).
 * @throws NotFoundError (404, `details.missing`) when `recipientIds` names a recipient not registered
 * @throws ServiceUnavailableError (503) when its schedule could not be made: the broadcast is rolled back, unless it
 *   started meanwhile (`details.broadcastId`): a retry with the same key then answers it
 */
export async function createBroadcast(
  deps: BroadcastDeps,
  caller: Caller,
  body: CreateBroadcastBody,
  origin: { readonly idempotency?: CreateKey } = {},
): Promise<CreatedBroadcast> {
  requireManager(caller);
  const started = deps.clock.now();
  const attempt = await takeCreateIds(deps.createRecords, origin.idempotency, 1, started, newBroadcastId, async ([id]) =>
    id === undefined ? [] : abandonBroadcast(deps, caller.tenantId, id),
  );
  // A retry resolves its time against the first attempt's clock: the same instant, not refused for having passed.
  const { now } = attempt;
  const time = body.draft && body.scheduledAt === undefined ? undefined : resolveBroadcastTime(body, now);
  const scheduledAt = time ? new Date(time.epochMs) : undefined;
  const words = await broadcastContentOf(deps, caller.tenantId, body);
  // The named recipients are checked once, here: one erased afterwards fails its own row.
  if (body.audience.recipientIds) await registeredRecipients(deps.recipients, caller.tenantId, body.audience.recipientIds);
  const broadcast: Broadcast = {
    tenantId: caller.tenantId,
    id: attempt.ids[0] ?? newBroadcastId(now),
    createdBy: caller.sub,
    title: words.title,
    type: body.type,
    priority: body.priority,
    channels: body.channels ?? [...allChannels],
    audience: toAudience(body.audience),
    status: body.draft ? 'draft' : 'scheduled',
    ...(scheduledAt ? { scheduledAt: scheduledAt.toISOString() } : {}),
    createdAt: now.toISOString(),
    counts: zeroCounts,
    run: 0,
    ...(time?.timezone ? { timezone: time.timezone } : {}),
    ...(time?.localTime ? { localTime: time.localTime } : {}),
  };
  const content: BroadcastContent = {
    message: words.message,
    ...(body.data ? { data: body.data } : {}),
    ...(words.template ? { template: words.template } : {}),
  };
  // A retry never overwrites: the broadcast its dead attempt wrote may have started or been cancelled since.
  const existing = attempt.retry ? await deps.broadcasts.get(caller.tenantId, broadcast.id) : undefined;
  if (!existing) await deps.broadcasts.create(broadcast, content, body.audience.recipientIds);
  const current = existing ?? broadcast;
  if (current.status === 'scheduled' && current.scheduledAt) {
    try {
      // The schedule is named after the broadcast: one the dead attempt made is replaced, at the same time.
      await deps.scheduler.schedule({ ...current, scheduledAt: current.scheduledAt }, started);
    } catch (error) {
      // Nothing would ever send it: take it back, so that the client can simply retry.
      const undone = await rollBackBroadcast(deps, current, attempt.record);
      throw rolledBackBroadcastError(current.id, undone, attempt.record !== undefined, error);
    }
  }
  // A retry answers the broadcast as it is now (started, or cancelled since), not as the body would make it.
  logger.info('Broadcast created', { tenantId: current.tenantId, broadcastId: current.id, status: current.status, retry: attempt.retry });
  return { broadcastId: current.id, status: current.status, ...(time?.adjustment ? { adjusted: time.adjustment } : {}) };
}

/**
 * Removes a broadcast whose schedule could not be made; with a key, under its record. One that has
 * started meanwhile (the stuck-retry sweep, or a schedule its dead first attempt made, started its
 * fan-out) cannot be taken back: it is left to go on, and its record to a retry that completes the
 * create. Resolves with true when the broadcast is undone, false when it started, and `undefined`
 * when the rollback failed: that is logged, and a broadcast left scheduled is started by the
 * stuck-retry sweep, or found by a retry, which converges on it.
 */
async function rollBackBroadcast(deps: BroadcastDeps, broadcast: Broadcast, record: CreateRecord | undefined): Promise<boolean | undefined> {
  try {
    const kept = await rollBackCreate(deps.createRecords, record, deps.clock.now(), async () => ((await deps.broadcasts.remove(broadcast)) ? [] : [broadcast.id]));
    return kept.length === 0;
  } catch (error) {
    logger.error('Could not roll back a broadcast whose schedule could not be made; the sweep may start it', {
      tenantId: broadcast.tenantId,
      broadcastId: broadcast.id,
      error: error as Error,
    });
    return undefined;
  }
}

/**
 * The 503 of a create whose schedule could not be made, saying what its rollback left: nothing; a
 * broadcast that started meanwhile (`details.broadcastId`), which a retry must not create again;
 * or, when the rollback failed, a broadcast that may still go out.
 */
function rolledBackBroadcastError(broadcastId: string, undone: boolean | undefined, keyed: boolean, cause: unknown): ServiceUnavailableError {
  if (undone) return new ServiceUnavailableError('Could not schedule the broadcast; nothing was created, retry later', { cause });
  const advice = keyed ? 'retry with the same Idempotency-Key to get its answer, not a second broadcast' : 'a retry would make a second one';
  const what = undone === false ? 'but it had already started, and goes on' : 'nor withdraw it: it may still go out';
  return new ServiceUnavailableError(`Could not schedule the broadcast, ${what} (details.broadcastId); ${advice}`, { cause, details: { broadcastId } });
}

/**
 * Finishes the rollback of a broadcast that died part-way: removed unless it has started (nothing
 * can take that back): then resolves with its id, and a retry completes the create with it.
 */
async function abandonBroadcast(deps: BroadcastDeps, tenantId: string, id: string): Promise<readonly string[]> {
  const left = await deps.broadcasts.get(tenantId, id);
  return left && !(await deps.broadcasts.remove(left)) ? [id] : [];
}

/** A broadcast the caller may see: a sender its own, an admin any of the tenant's (else 404). */
async function visibleBroadcast(deps: Pick<BroadcastDeps, 'broadcasts'>, caller: Caller, id: string): Promise<Broadcast> {
  requireManager(caller);
  const broadcast = await deps.broadcasts.get(caller.tenantId, id);
  if (!broadcast || (!isAdmin(caller) && broadcast.createdBy !== caller.sub)) throw new NotFoundError(`Broadcast ${id} not found`);
  return broadcast;
}

/** A broadcast with its content, for `GET /v1/broadcasts/{id}`. */
export async function getBroadcast(
  deps: Pick<BroadcastDeps, 'broadcasts'>,
  caller: Caller,
  id: string,
): Promise<{ broadcast: Broadcast; content?: BroadcastContent }> {
  const broadcast = await visibleBroadcast(deps, caller, id);
  const content = await deps.broadcasts.getContent(caller.tenantId, id);
  return content ? { broadcast, content } : { broadcast };
}

/**
 * Moves a draft to scheduled: at `scheduledAt` (an instant, for every recipient: a plan in a zone or
 * in each recipient's zone gives way to it), else its planned time if still ahead (each recipient's
 * wall time, for a `recipient` plan), else now.
 */
export async function scheduleBroadcast(deps: BroadcastDeps, caller: Caller, id: string, body: ScheduleBroadcastBody): Promise<Broadcast> {
  const existing = await visibleBroadcast(deps, caller, id);
  if (existing.status !== 'draft') {
    throw new ConflictError(`Broadcast ${id} is ${existing.status}; only a draft can be scheduled`, { details: { status: existing.status } });
  }
  const now = deps.clock.now();
  const planned = existing.scheduledAt !== undefined && Date.parse(existing.scheduledAt) > now.getTime() ? existing.scheduledAt : undefined;
  const scheduledAt = resolveScheduledAt(body.scheduledAt ?? planned, now);
  const scheduled = await deps.broadcasts.schedule(caller.tenantId, id, scheduledAt, body.scheduledAt !== undefined);
  if (!scheduled?.scheduledAt) {
    const current = await deps.broadcasts.get(caller.tenantId, id);
    throw new ConflictError(`Broadcast ${id} is ${current?.status ?? 'gone'}; only a draft can be scheduled`, { details: { status: current?.status } });
  }
  try {
    await deps.scheduler.schedule({ ...scheduled, scheduledAt: scheduled.scheduledAt }, now);
  } catch (error) {
    await deps.broadcasts.revertToDraft(caller.tenantId, id);
    throw new ServiceUnavailableError('Could not schedule the broadcast; it is still a draft, retry later', { cause: error });
  }
  return scheduled;
}

/**
 * Cancels a broadcast that has not finished: nothing more is fanned out or delivered, and every
 * recipient not yet delivered ends `cancelled` (the fan-out sees to that).
 */
export async function cancelBroadcast(deps: BroadcastDeps, caller: Caller, id: string): Promise<Broadcast> {
  const seen = await visibleBroadcast(deps, caller, id);
  // What was read already says no: refused without a write (the conditional write settles races).
  const cancelled = ['draft', 'scheduled', 'sending'].includes(seen.status) ? await deps.broadcasts.cancel(caller.tenantId, id, deps.clock.now()) : undefined;
  if (!cancelled) {
    const current = await deps.broadcasts.get(caller.tenantId, id);
    throw new ConflictError(`Broadcast ${id} is ${current?.status ?? 'gone'}; only a draft, scheduled or sending broadcast can be cancelled`, {
      details: { status: current?.status },
    });
  }
  const log = { tenantId: caller.tenantId, broadcastId: id };
  if (cancelled.fanout === undefined) {
    // It never started: the state already stops it; removing the schedule only saves a firing.
    try {
      await deps.scheduler.unschedule(cancelled);
    } catch (error) {
      logger.warn('Could not delete the schedule of a cancelled broadcast', { ...log, error: error as Error });
    }
  } else {
    try {
      // The fan-out cancels the rows nobody is delivering; without this nudge, the watch would.
      await deps.fanout.send([{ kind: 'cancel', tenantId: caller.tenantId, broadcastId: id }]);
    } catch (error) {
      logger.warn('Could not nudge the fan-out of a cancelled broadcast; its watch will', { ...log, error: error as Error });
    }
  }
  logger.info('Broadcast cancelled', log);
  return cancelled;
}

/** Puts the failed recipients of a completed or failed broadcast back through delivery. */
export async function retryBroadcast(deps: BroadcastDeps, caller: Caller, id: string): Promise<Broadcast> {
  const seen = await visibleBroadcast(deps, caller, id);
  // What was read already says no: refused without a write (the conditional write settles races).
  const retryable = (seen.status === 'completed' || seen.status === 'failed') && seen.counts.failed > 0;
  const reopened = retryable ? await deps.broadcasts.reopen(caller.tenantId, id, deps.clock.now()) : undefined;
  if (!reopened) {
    const current = await deps.broadcasts.get(caller.tenantId, id);
    throw new ConflictError(
      `Broadcast ${id} is ${current?.status ?? 'gone'} with ${current?.counts.failed ?? 0} failed recipient(s); only a completed or failed broadcast with failed recipients can be retried`,
      { details: { status: current?.status, failed: current?.counts.failed } },
    );
  }
  // Reopened, the broadcast shows `sending` and its watch restarts the walk should this send fail.
  await deps.fanout.send([
    { kind: 'retry', tenantId: caller.tenantId, broadcastId: id, run: reopened.run },
    { kind: 'watch', tenantId: caller.tenantId, broadcastId: id, seen: '', stalls: 0 },
  ]);
  logger.info('Broadcast retry started', { tenantId: caller.tenantId, broadcastId: id, run: reopened.run });
  return reopened;
}

export interface BroadcastList {
  readonly items: readonly Broadcast[];
  /** Opaque; pass it back as `cursor` for the next page. `null` on the last page. */
  readonly nextCursor: string | null;
}

const listCursorSchema = z.object({ olderThan: broadcastId });

function invalidCursor(): ValidationError {
  return new ValidationError('Invalid query: cursor is not a cursor this API returned', {
    details: [{ field: 'cursor', message: 'is not a cursor this API returned' }],
  });
}

/** The broadcasts the caller may see, newest first: an admin the tenant's, a sender its own. */
export async function listBroadcasts(deps: Pick<BroadcastDeps, 'broadcasts'>, caller: Caller, query: ListBroadcastsQuery): Promise<BroadcastList> {
  requireManager(caller);
  const position = query.cursor === undefined ? undefined : decodeCursor(query.cursor, listCursorSchema);
  if (query.cursor !== undefined && !position) throw invalidCursor();
  const page = await deps.broadcasts.list({
    tenantId: caller.tenantId,
    ...(isAdmin(caller) ? {} : { createdBy: caller.sub }),
    ...(query.status !== undefined ? { status: query.status } : {}),
    ...(query.from !== undefined ? { createdFrom: new Date(query.from) } : {}),
    ...(query.to !== undefined ? { createdTo: new Date(query.to) } : {}),
    limit: query.limit,
    ...(position ? { olderThan: position.olderThan } : {}),
  });
  return { items: page.items, nextCursor: page.olderThan === undefined ? null : encodeCursor({ olderThan: page.olderThan }) };
}

export interface BroadcastRecipientList {
  readonly items: readonly BroadcastRecipient[];
  readonly nextCursor: string | null;
}

const recipientsCursorSchema = z.object({
  broadcast: broadcastId,
  status: z.enum([...broadcastRecipientStatuses, 'any']),
  shard: z.int().check(z.minimum(0)),
  after: z.optional(subjectId),
});

/** Reads one page of the recipients route makes at most; past them it answers what it found, and a cursor. */
const recipientPageReads = 32;

/**
 * The recipients of a broadcast and their outcome, with `status` from the status index (final
 * statuses) or a filtered read of the rows (`pending`). Rows are spread over write shards: a page
 * goes through the shards in turn, in recipient id order within each, and its cursor says where
 * it stopped. A page makes at most {@link recipientPageReads} reads, so one may hold fewer than
 * `limit` items (even none) with a `nextCursor`: pending rows, few among many final ones, take
 * more reads to find.
 */
export async function listBroadcastRecipients(
  deps: Pick<BroadcastDeps, 'broadcasts' | 'rows'>,
  caller: Caller,
  id: string,
  query: ListBroadcastRecipientsQuery,
): Promise<BroadcastRecipientList> {
  await visibleBroadcast(deps, caller, id);
  const status = query.status ?? 'any';
  let position = { shard: 0, after: undefined as string | undefined };
  if (query.cursor !== undefined) {
    const decoded = decodeCursor(query.cursor, recipientsCursorSchema);
    // A cursor of another broadcast or another filter would skip rows: refuse it.
    if (!decoded || decoded.broadcast !== id || decoded.status !== status || decoded.shard >= deps.rows.shardCount) throw invalidCursor();
    position = { shard: decoded.shard, after: decoded.after };
  }
  const items: BroadcastRecipient[] = [];
  let { shard, after } = position;
  for (let reads = 0; shard < deps.rows.shardCount && items.length < query.limit && reads < recipientPageReads; reads++) {
    const limit = query.limit - items.length;
    const page =
      status === 'any'
        ? await deps.rows.pageShard(caller.tenantId, id, shard, limit, after)
        : await deps.rows.pageByStatus(caller.tenantId, id, status, shard, limit, after);
    items.push(...page.rows);
    if (page.after !== undefined) {
      after = page.after;
    } else {
      shard++;
      after = undefined;
    }
  }
  const more = shard < deps.rows.shardCount;
  return {
    items,
    nextCursor: more ? encodeCursor({ broadcast: id, status, shard, ...(after !== undefined ? { after } : {}) }) : null,
  };
}
