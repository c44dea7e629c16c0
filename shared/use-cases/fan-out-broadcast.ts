/**
 * The fan-out of a broadcast, one bounded step per fan-out message, so a million recipients never
 * meets the 15-minute Lambda limit. Each step enqueues the next one.
 *
 * - `start` (from the broadcast's one schedule): SCHEDULED → SENDING, then `resolve` page 0 and the
 *   `watch`.
 * - `resolve` page n: under a lease on the broadcast item, reads one page of the audience (an
 *   explicit slice, one page of a group through the directory's membership index, or one page of
 *   the tenant's directory; never a scan) and writes one pending row per recipient with
 *   BatchWriteItem. Nothing is delivered while resolving, so a page written twice (a redelivered
 *   message, a worker that died mid-page) rewrites the same pending rows: no duplicate. Committing
 *   the page moves the fan-out on, conditionally, so only one invocation ever does.
 * - `count`: counts the rows once, so the total is final before the first delivery and progress
 *   never goes backwards; a broadcast whose rows fit one page it dispatches itself from the rows
 *   it read, a larger one gets one `dispatch` walk per write shard.
 * - `dispatch`: reads a page of a shard's rows (of every shard's, `everyShard`: a small broadcast
 *   walked again by the watch or the cancel nudge) and puts the due pending ones on the broadcast
 *   delivery queue, 25 recipients per message, 10 messages per SendMessageBatch. When the
 *   broadcast was cancelled, it cancels them instead.
 * - `retry`: walks a shard's failed rows (status index) back to pending and enqueues them.
 * - `cancel`: the API's nudge after a cancel: walks every shard to cancel what is pending.
 * - `watch`: every `watchSeconds` while the broadcast is unfinished; when nothing moved for two
 *   looks, it restarts the stalled step, re-enqueues rows a lost message left pending, or recounts
 *   the counters a crash left short, then ends the broadcast. The safety net, never the path.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import { broadcastProgress, isFinished, sliceSizeOf, isReadyToFinish, isTotalFinal, recipientsPerDeliveryMessage } from '../domain/broadcast.ts';
import type { Broadcast, BroadcastRecipient } from '../domain/broadcast.ts';
import { describeError } from '../domain/delivery-errors.ts';
import { groupCursorSchema } from '../domain/message-schemas.ts';
import type { FanoutMessage } from '../domain/message-schemas.ts';
import { logger } from '../observability/logger.ts';
import type { Recipient } from '../domain/recipient.ts';
import { recipientLocalDue } from '../domain/schedule-times.ts';
import { sleepUntil } from '../domain/sleep-until.ts';
import { noTenantSettings } from '../domain/tenant-settings.ts';
import type { BroadcastDeliveryQueue, BroadcastRecipientStore, BroadcastStore, Clock, FanoutQueue, RecipientStore, TenantSettingsStore } from '../ports.ts';
import { chunk, mapLimited } from './map-limited.ts';

export interface FanoutDeps {
  readonly broadcasts: BroadcastStore;
  readonly rows: BroadcastRecipientStore;
  /** The directory: a group's members through its membership index, or the whole tenant, in pages. */
  readonly recipients: Pick<RecipientStore, 'list' | 'getMany'>;
  /** The tenant's default zone, for a broadcast at each recipient's own wall time; absent: none (UTC). */
  readonly tenantSettings?: Pick<TenantSettingsStore, 'get'>;
  readonly fanout: FanoutQueue;
  readonly delivery: BroadcastDeliveryQueue;
  readonly clock: Clock;
  readonly settings: {
    /** Audience entries resolved, or rows read, per step. */
    readonly pageSize: number;
    /** Seconds between two looks of the watch (at most 900, the SQS delay limit). */
    readonly watchSeconds: number;
  };
  /** How a start waits for its last moments. @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the invocation running a step knows about itself. */
export interface StepInvocation {
  /** When the invocation is stopped (its timeout); a lease it takes outlives it. */
  readonly deadline: Date;
}

/** What became of a fan-out message: done with, or to be seen again after `seconds`. */
export type FanoutOutcome = { readonly kind: 'done'; readonly note: string } | { readonly kind: 'later'; readonly seconds: number; readonly reason: string };

/** A start due within this many ms waits for its time here rather than going back on the queue. */
const startHoldMs = 2_000;
/** A lease outlives its holder's deadline by this much: a write sent just before it still lands first. */
const leaseMarginMs = 5_000;
/** Conditional row writes in flight at once (cancel, retry). */
const rowConcurrency = 16;
/** Looks without progress after which the watch repairs; it repairs again after 4, 8, 16, ... looks. */
const stallLooks = 2;

function done(note: string): FanoutOutcome {
  return { kind: 'done', note };
}

function broadcastLog(tenantId: string, broadcastId: string): ReturnType<typeof logger.createChild> {
  return logger.createChild({ persistentKeys: { tenantId, broadcastId } });
}

/** Runs one fan-out step. */
export async function runFanoutStep(deps: FanoutDeps, message: FanoutMessage, invocation: StepInvocation): Promise<FanoutOutcome> {
  switch (message.kind) {
    case 'start':
      return start(deps, message);
    case 'resolve':
      return resolve(deps, message, invocation);
    case 'count':
      return count(deps, message);
    case 'dispatch':
      return dispatch(deps, message);
    case 'retry':
      return retry(deps, message);
    case 'cancel':
      return cancel(deps, message);
    case 'watch':
      return watch(deps, message);
  }
}

type Step<K extends FanoutMessage['kind']> = Extract<FanoutMessage, { kind: K }>;

async function start(deps: FanoutDeps, message: Step<'start'>): Promise<FanoutOutcome> {
  const { tenantId, broadcastId } = message;
  const now = deps.clock.now();
  const broadcast = await deps.broadcasts.get(tenantId, broadcastId);
  if (!broadcast) return done('no such broadcast');
  if (broadcast.status === 'sending' && isStartedButUntouched(broadcast, now)) {
    // This very message started it, then failed to send the first steps: send them again.
    await sendFirstSteps(deps, broadcast);
    return done('first steps sent again');
  }
  if (broadcast.status !== 'scheduled') return done(`broadcast is ${broadcast.status}`);
  const dueAt = Date.parse(broadcast.scheduledAt ?? now.toISOString());
  const dueInMs = dueAt - now.getTime();
  // The schedule fires ahead of time on purpose: hold the message until its time, the last
  // moments here (a message delayed in whole seconds comes up to a second early), until the
  // clock reads it (a timer may end a millisecond short).
  if (dueInMs > startHoldMs) return { kind: 'later', seconds: Math.ceil((dueInMs - startHoldMs) / 1000), reason: 'not yet due' };
  await sleepUntil(() => deps.clock.now().getTime(), dueAt, deps.sleep ?? ((ms: number): Promise<void> => sleepMs(ms)));
  const started = await deps.broadcasts.start(tenantId, broadcastId, deps.clock.now());
  if (!started) return done('started by another worker, or cancelled');
  await sendFirstSteps(deps, started);
  broadcastLog(tenantId, broadcastId).info('Broadcast started', { audience: started.audience.kind });
  return done('started');
}

/** Started, but its first page never taken: the steps that follow a start may be missing. */
function isStartedButUntouched(b: Broadcast, now: Date): boolean {
  const fanout = b.fanout;
  return fanout?.phase === 'resolving' && fanout.page === 0 && (fanout.leaseUntil === undefined || fanout.leaseUntil < now.getTime());
}

/** The watch first: should the second send fail, the watch restarts the fan-out. */
async function sendFirstSteps(deps: FanoutDeps, b: Broadcast): Promise<void> {
  const ref = { tenantId: b.tenantId, broadcastId: b.id };
  await deps.fanout.send([{ kind: 'watch', ...ref, seen: signature(b), stalls: 0 }], deps.settings.watchSeconds);
  await deps.fanout.send([{ kind: 'resolve', ...ref, page: 0 }]);
}

async function resolve(deps: FanoutDeps, message: Step<'resolve'>, invocation: StepInvocation): Promise<FanoutOutcome> {
  const { tenantId, broadcastId, page } = message;
  const now = deps.clock.now();
  const leaseUntil = new Date(Math.max(invocation.deadline.getTime(), now.getTime()) + leaseMarginMs);
  const claim = await deps.broadcasts.claimPage(tenantId, broadcastId, page, now, leaseUntil);
  if (!claim) {
    const current = await deps.broadcasts.get(tenantId, broadcastId);
    const fanout = current?.fanout;
    if (fanout?.phase === 'resolving' && fanout.page === page && fanout.leaseUntil !== undefined && fanout.leaseUntil >= now.getTime()) {
      // Another invocation holds the page; look again when its lease ends, in case it died.
      return { kind: 'later', seconds: Math.max(1, Math.ceil((fanout.leaseUntil - now.getTime()) / 1000)), reason: 'page leased by another invocation' };
    }
    return done('page already resolved');
  }
  const log = broadcastLog(tenantId, broadcastId);
  try {
    let next: string | undefined;
    let written = 0;
    // A broadcast cancelled while resolving stops here: the rows written so far get cancelled.
    if (claim.broadcast.status === 'sending') {
      const resolved = await resolveAudiencePage(deps, claim.broadcast, page, claim.cursor);
      const localDue = await localDueTimes(deps, claim.broadcast, resolved);
      if (resolved.ids.length > 0) await deps.rows.putPending(tenantId, broadcastId, resolved.ids, now, localDue);
      written = resolved.ids.length;
      next = resolved.next;
    }
    if (!(await deps.broadcasts.commitPage(claim, next))) {
      log.warn('Lost the fan-out page to another invocation (the lease ran out)', { page });
      return done('page lost');
    }
    log.info('Fan-out page resolved', { page, rows: written, more: next !== undefined });
    await deps.fanout.send([next === undefined ? { kind: 'count', tenantId, broadcastId } : { kind: 'resolve', tenantId, broadcastId, page: page + 1 }]);
    return done('page resolved');
  } catch (error) {
    // Let a retry take the page over at once instead of after the lease.
    await deps.broadcasts.releasePage(claim).catch(() => undefined);
    await deps.broadcasts.recordError(tenantId, broadcastId, `fan-out page ${page}: ${describeError(error)}`).catch(() => undefined);
    throw error;
  }
}

/**
 * For a broadcast at each recipient's own wall time: when each recipient of a page gets it, read
 * in their zone (theirs, the tenant's default, UTC) as the page is resolved.
 */
async function localDueTimes(deps: FanoutDeps, broadcast: Broadcast, page: { ids: readonly string[]; recipients?: readonly Recipient[] }): Promise<Map<string, number> | undefined> {
  if (broadcast.localTime === undefined || page.ids.length === 0) return undefined;
  const recipients = page.recipients ?? (await deps.recipients.getMany(broadcast.tenantId, page.ids));
  const settings = deps.tenantSettings ? await deps.tenantSettings.get(broadcast.tenantId) : noTenantSettings;
  const byId = new Map(recipients.map((r) => [r.id, r]));
  const localTime = broadcast.localTime;
  return new Map(page.ids.map((id) => [id, recipientLocalDue(localTime, byId.get(id), settings)]));
}

/** One page of the audience: its recipient ids and where the next page starts (none after the last). */
async function resolveAudiencePage(
  deps: FanoutDeps,
  broadcast: Broadcast,
  page: number,
  cursor: string | undefined,
): Promise<{ ids: readonly string[]; recipients?: readonly Recipient[]; next?: string }> {
  const { tenantId, id, audience } = broadcast;
  switch (audience.kind) {
    case 'recipients': {
      // An explicit list is stored in slices (`sliceSizeOf`): page n is slice n.
      const ids = await deps.broadcasts.audienceSlice(tenantId, id, page);
      return (page + 1) * sliceSizeOf(audience) < audience.count ? { ids, next: String(page + 1) } : { ids };
    }
    case 'all': {
      const found = await deps.recipients.list(tenantId, { limit: deps.settings.pageSize, ...(cursor ? { after: cursor } : {}) });
      return { ids: found.recipients.map((r) => r.id), recipients: found.recipients, ...(found.after !== undefined ? { next: found.after } : {}) };
    }
    case 'groups': {
      const position = cursor === undefined ? { g: 0 } : groupCursorSchema.parse(JSON.parse(cursor));
      const group = audience.groups[position.g];
      if (group === undefined) return { ids: [] };
      const found = await deps.recipients.list(tenantId, {
        group,
        limit: deps.settings.pageSize,
        ...(position.after !== undefined ? { after: position.after } : {}),
      });
      const ids = found.recipients.map((r) => r.id);
      const recipients = found.recipients;
      // A recipient in two groups is resolved twice; its row is simply written again, still pending.
      if (found.after !== undefined) return { ids, recipients, next: JSON.stringify({ g: position.g, after: found.after }) };
      return position.g + 1 < audience.groups.length ? { ids, recipients, next: JSON.stringify({ g: position.g + 1 }) } : { ids, recipients };
    }
  }
}

function allShards(deps: FanoutDeps): number[] {
  return Array.from({ length: deps.rows.shardCount }, (_, shard) => shard);
}

/**
 * Counts the rows once. The first page of every shard is read whole and only what is past it is
 * counted (a COUNT reads the rows all the same, so it costs the same read units): a broadcast
 * whose rows all fit those pages, and one page in all, is dispatched from the rows in hand, with
 * no second read of its 16 shards and no walk message.
 */
async function count(deps: FanoutDeps, message: Step<'count'>): Promise<FanoutOutcome> {
  const { tenantId, broadcastId } = message;
  const broadcast = await deps.broadcasts.get(tenantId, broadcastId);
  if (broadcast?.fanout?.phase !== 'counting') return done('not counting');
  const pages = await Promise.all(allShards(deps).map((shard) => deps.rows.pageShard(tenantId, broadcastId, shard, deps.settings.pageSize)));
  const beyond = await Promise.all(pages.map((page, shard) => (page.after === undefined ? 0 : deps.rows.countShard(tenantId, broadcastId, shard, page.after))));
  const rows = pages.flatMap((page) => page.rows);
  const total = rows.length + beyond.reduce((sum, n) => sum + n, 0);
  const counted = await deps.broadcasts.setTotal(tenantId, broadcastId, total);
  if (!counted) return done('counted by another invocation');
  broadcastLog(tenantId, broadcastId).info('Broadcast recipients counted', { total });
  if (total === rows.length && total <= deps.settings.pageSize) {
    const cancelling = counted.status === 'cancelled';
    if (cancelling || counted.status === 'sending') await dispatchRows(deps, counted, rows, cancelling, deps.clock.now());
  } else {
    await sendDispatchWalks(deps, counted);
  }
  await finishIfReady(deps, counted);
  return done('counted');
}

/**
 * Sends the walks of a counted broadcast's rows: one per write shard, or, when its rows fit one
 * page, one step over every shard. A small audience spread over 16 shards would otherwise go out
 * in a part-filled delivery message per shard (100 recipients: 16 messages of 6 or 7 instead of 4
 * of 25), and each message costs its worker a read of the broadcast, a load, a claim and a commit.
 */
async function sendDispatchWalks(deps: FanoutDeps, broadcast: Broadcast): Promise<void> {
  if (broadcast.counts.total <= deps.settings.pageSize) {
    await deps.fanout.send([{ kind: 'dispatch', tenantId: broadcast.tenantId, broadcastId: broadcast.id, run: broadcast.run, everyShard: true }]);
    return;
  }
  await deps.fanout.send(
    allShards(deps).map((shard) => ({ kind: 'dispatch', tenantId: broadcast.tenantId, broadcastId: broadcast.id, run: broadcast.run, shard })),
  );
}

/**
 * True when a row should go (back) to delivery now: pending and due, or held by a worker that died,
 * or never tried and due at its recipient's own wall time (the delivery engine puts it back on the
 * queue until then, one message per instant).
 */
function isDeliverable(row: BroadcastRecipient, now: Date): boolean {
  if (row.status === 'pending') {
    const waitsForItsWallTime = row.localDueAt !== undefined && row.attempts === 0 && row.heldUntil === undefined && row.nextAttemptAt === row.localDueAt;
    return waitsForItsWallTime || row.nextAttemptAt === undefined || Date.parse(row.nextAttemptAt) <= now.getTime();
  }
  return row.status === 'sending' && (row.leaseUntil ?? 0) < now.getTime();
}

/** Rows in the order of their own due time, so that the messages of a dispatch each hold one instant as far as they can. */
function byLocalDue(rows: readonly BroadcastRecipient[]): BroadcastRecipient[] {
  return [...rows].sort((a, b) => (a.localDueAt ?? '').localeCompare(b.localDueAt ?? ''));
}

async function enqueueDeliveries(deps: FanoutDeps, broadcast: Pick<Broadcast, 'tenantId' | 'id'>, recipientIds: readonly string[]): Promise<void> {
  if (recipientIds.length === 0) return;
  await deps.delivery.enqueue(
    chunk(recipientIds, recipientsPerDeliveryMessage).map((ids) => ({ tenantId: broadcast.tenantId, broadcastId: broadcast.id, recipientIds: ids })),
  );
}

async function dispatch(deps: FanoutDeps, message: Step<'dispatch'>): Promise<FanoutOutcome> {
  const { tenantId, broadcastId, shard, run } = message;
  const broadcast = await deps.broadcasts.get(tenantId, broadcastId);
  if (!broadcast || !isTotalFinal(broadcast)) return done('not delivering');
  const cancelling = broadcast.status === 'cancelled';
  if (!cancelling && (broadcast.status !== 'sending' || broadcast.run !== run)) return done(`broadcast is ${broadcast.status}, run ${broadcast.run}`);
  if (message.everyShard) return dispatchEveryShard(deps, broadcast, cancelling);
  if (shard === undefined) {
    await sendDispatchWalks(deps, broadcast);
    return done('walks sent');
  }
  const now = deps.clock.now();
  const page = await deps.rows.pageShard(tenantId, broadcastId, shard, deps.settings.pageSize, message.after);
  await dispatchRows(deps, broadcast, page.rows, cancelling, now);
  if (page.after !== undefined) await deps.fanout.send([{ ...message, after: page.after }]);
  return done(cancelling ? 'shard page cancelled' : 'shard page dispatched');
}

/** Cancels the pending `rows` of a cancelled broadcast, or else puts the deliverable ones on the delivery queue. */
async function dispatchRows(deps: FanoutDeps, broadcast: Broadcast, rows: readonly BroadcastRecipient[], cancelling: boolean, now: Date): Promise<void> {
  if (cancelling) await cancelPendingRows(deps, broadcast, rows, now);
  else await enqueueDeliveries(deps, broadcast, byLocalDue(rows.filter((row) => isDeliverable(row, now))).map((row) => row.recipientId));
}

/**
 * The walk of a broadcast whose rows fit one page: the first page of every shard at once, its
 * recipients packed 25 to a message across shards. A shard that had more than a page goes on in
 * a walk of its own (a page can also end at DynamoDB's 1 MB per Query).
 */
async function dispatchEveryShard(deps: FanoutDeps, broadcast: Broadcast, cancelling: boolean): Promise<FanoutOutcome> {
  const { tenantId, id, run } = broadcast;
  const now = deps.clock.now();
  const pages = await Promise.all(allShards(deps).map((shard) => deps.rows.pageShard(tenantId, id, shard, deps.settings.pageSize)));
  await dispatchRows(
    deps,
    broadcast,
    pages.flatMap((page) => page.rows),
    cancelling,
    now,
  );
  const rest = pages.flatMap((page, shard) =>
    page.after === undefined ? [] : [{ kind: 'dispatch' as const, tenantId, broadcastId: id, run, shard, after: page.after }],
  );
  if (rest.length > 0) await deps.fanout.send(rest);
  return done(cancelling ? 'every shard cancelled' : 'every shard dispatched');
}

/**
 * Cancels the pending rows of a page, each with a conditional write (a worker may be claiming
 * it), and counts them in one write. A row a dead worker still holds goes back to delivery,
 * whose worker sees the cancel and cancels it.
 */
async function cancelPendingRows(deps: FanoutDeps, broadcast: Broadcast, rows: readonly BroadcastRecipient[], now: Date): Promise<void> {
  const pending = rows.filter((row) => row.status === 'pending');
  const cancelled = await mapLimited(pending, rowConcurrency, (row) => deps.rows.cancel(row.tenantId, row.broadcastId, row.recipientId, now));
  const orphaned = rows.filter((row) => row.status === 'sending' && isDeliverable(row, now)).map((row) => row.recipientId);
  await enqueueDeliveries(deps, broadcast, orphaned);
  const n = cancelled.filter(Boolean).length;
  if (n === 0) return;
  // A row held by its recipient's quiet hours was counted held: cancelled, it is held no more.
  const released = pending.filter((row, index) => cancelled[index] && row.heldUntil !== undefined).length;
  const updated = await deps.broadcasts.addCounts(broadcast.tenantId, broadcast.id, { cancelled: n, ...(released > 0 ? { held: -released } : {}) });
  await finishIfReady(deps, updated);
}

async function retry(deps: FanoutDeps, message: Step<'retry'>): Promise<FanoutOutcome> {
  const { tenantId, broadcastId, shard, run } = message;
  const broadcast = await deps.broadcasts.get(tenantId, broadcastId);
  if (!broadcast || broadcast.status !== 'sending' || broadcast.run !== run) return done('retry run over');
  if (shard === undefined) {
    await deps.fanout.send(allShards(deps).map((s) => ({ kind: 'retry', tenantId, broadcastId, run, shard: s })));
    return done('retry walks sent');
  }
  const now = deps.clock.now();
  const page = await deps.rows.pageByStatus(tenantId, broadcastId, 'failed', shard, deps.settings.pageSize, message.after);
  // A row that failed again in this very run is final for it.
  const eligible = page.rows.filter((row) => row.status === 'failed' && row.run < run);
  if (eligible.length > 0) {
    // Take them off the failed count first: a crash then leaves the count short (the watch
    // recounts), never long, which could end the broadcast while rows are pending.
    await deps.broadcasts.addCounts(tenantId, broadcastId, { failed: -eligible.length });
    const requeued = await mapLimited(eligible, rowConcurrency, (row) => deps.rows.requeue(row, run, now));
    const back = eligible.filter((_, index) => requeued[index]);
    if (back.length < eligible.length) await deps.broadcasts.addCounts(tenantId, broadcastId, { failed: eligible.length - back.length });
    await enqueueDeliveries(deps, broadcast, back.map((row) => row.recipientId));
  }
  if (page.after !== undefined) await deps.fanout.send([{ ...message, after: page.after }]);
  return done('shard page retried');
}

async function cancel(deps: FanoutDeps, message: Step<'cancel'>): Promise<FanoutOutcome> {
  const broadcast = await deps.broadcasts.get(message.tenantId, message.broadcastId);
  if (broadcast?.status !== 'cancelled') return done('not cancelled');
  // Still resolving or counting: that step sees the cancel and the walks come after it.
  if (!isTotalFinal(broadcast)) return done('fan-out not yet counted');
  // Every row already final (a retry cancelled before its walk put any back): nothing for the
  // walks to cancel, so nothing after them would settle it. Conditional on the counts read.
  if (await finishIfReady(deps, broadcast)) return done('cancelled with every row final');
  await sendDispatchWalks(deps, broadcast);
  return done('cancel walks sent');
}

/** What the watch compares between two looks: anything that moves while the fan-out progresses. */
function signature(b: Broadcast): string {
  const { total, sent, failed, cancelled } = b.counts;
  return [b.status, b.run, b.fanout?.phase ?? '-', b.fanout?.page ?? '-', total, sent, failed, cancelled].join('|');
}

async function watch(deps: FanoutDeps, message: Step<'watch'>): Promise<FanoutOutcome> {
  const { tenantId, broadcastId } = message;
  const broadcast = await deps.broadcasts.get(tenantId, broadcastId);
  if (!broadcast || isFinished(broadcast)) return done('finished');
  const seen = signature(broadcast);
  const again = async (stalls: number): Promise<void> =>
    deps.fanout.send([{ kind: 'watch', tenantId, broadcastId, seen, stalls }], deps.settings.watchSeconds);
  if (seen !== message.seen) {
    await again(0);
    return done('progressing');
  }
  const stalls = message.stalls + 1;
  // Repair after 2 quiet looks, then after 4, 8, ...: rows waiting out a long retry backoff are quiet too.
  if (stalls < stallLooks || (stalls & (stalls - 1)) !== 0) {
    await again(stalls);
    return done('quiet');
  }
  if (isHeldByQuietHours(broadcast)) {
    // Nothing is lost: every recipient left waits for the end of their quiet hours. Checked all the same.
    broadcastLog(tenantId, broadcastId).info('Broadcast waits for quiet hours; checking its rows', { stalls, held: broadcast.counts.held });
  } else {
    broadcastLog(tenantId, broadcastId).warn('Broadcast fan-out stalled; repairing', { stalls, phase: broadcast.fanout?.phase });
  }
  await repair(deps, broadcast);
  await again(stalls);
  return done('repaired');
}

/** True when the broadcast's total is final and every recipient not yet settled is held by their quiet hours. */
function isHeldByQuietHours(broadcast: Broadcast): boolean {
  if (!isTotalFinal(broadcast)) return false;
  const { pending, held } = broadcastProgress(broadcast);
  return pending > 0 && held >= pending;
}

async function repair(deps: FanoutDeps, broadcast: Broadcast): Promise<void> {
  const { tenantId, id } = broadcast;
  const fanout = broadcast.fanout;
  if (!fanout) return;
  const now = deps.clock.now();
  if (fanout.phase === 'resolving') {
    if (fanout.leaseUntil === undefined || fanout.leaseUntil < now.getTime()) {
      await deps.fanout.send([{ kind: 'resolve', tenantId, broadcastId: id, page: fanout.page }]);
    }
    return;
  }
  if (fanout.phase === 'counting') {
    await deps.fanout.send([{ kind: 'count', tenantId, broadcastId: id }]);
    return;
  }
  const shards = allShards(deps);
  const pending = (await Promise.all(shards.map((s) => deps.rows.countByStatus(tenantId, id, 'pending', s)))).reduce((a, b) => a + b, 0);
  if (pending > 0) {
    // A lost message left rows pending: walk the shards again (duplicates are harmless, each row is claimed).
    await sendDispatchWalks(deps, broadcast);
    return;
  }
  // Every row is final but the counters disagree: a worker died between its rows and its count.
  const tally = async (status: 'sent' | 'failed' | 'cancelled'): Promise<number> =>
    (await Promise.all(shards.map((s) => deps.rows.countByStatus(tenantId, id, status, s)))).reduce((a, b) => a + b, 0);
  const [sent, failed, cancelled] = await Promise.all([tally('sent'), tally('failed'), tally('cancelled')]);
  const { counts } = broadcast;
  let latest: Broadcast | undefined = broadcast;
  if (sent !== counts.sent || failed !== counts.failed || cancelled !== counts.cancelled) {
    broadcastLog(tenantId, id).warn('Broadcast counters corrected from a recount', { counted: { sent, failed, cancelled }, kept: counts });
    latest = await deps.broadcasts.correctCounts(broadcast, { sent, failed, cancelled });
  }
  await finishIfReady(deps, latest);
}

/** Ends the broadcast when every recipient is final (a conditional write: exactly once). */
export async function finishIfReady(
  deps: { readonly broadcasts: Pick<BroadcastStore, 'finish'>; readonly clock: Clock },
  broadcast: Broadcast | undefined,
): Promise<Broadcast | undefined> {
  if (!broadcast || !isReadyToFinish(broadcast)) return undefined;
  const finished = await deps.broadcasts.finish(broadcast, deps.clock.now());
  if (finished) {
    broadcastLog(broadcast.tenantId, broadcast.id).info('Broadcast finished', { status: finished.status, counts: finished.counts });
  }
  return finished;
}
