/**
 * The stuck-retry sweep, the safety net under the schedules: every pending notification well past
 * its time and every sending one whose worker's lease ended goes back on the delivery queue, and
 * every broadcast still scheduled well past its start gets a `start` on the fan-out queue.
 * Delivery is idempotent (conditional claim, per-channel outcomes), so a notification that was in
 * fact on its way is not delivered twice; the fan-out's start is a conditional SCHEDULED → SENDING,
 * so a broadcast its schedule did start is not started twice. The sweep only ever adds messages.
 */
import type { FanoutMessage } from '../domain/schemas.ts';
import { stuckCriteria } from '../domain/sweeps.ts';
import { logger, notificationLogger } from '../observability/logger.ts';
import type { BroadcastSweepStore, Clock, DeliveryEnqueuer, FanoutQueue, NotificationSweepStore } from '../ports.ts';
import { sweepShards } from './sweep-pages.ts';
import type { SweepStop } from './sweep-pages.ts';

export interface StuckRetryDeps {
  readonly sweeps: NotificationSweepStore;
  readonly queue: DeliveryEnqueuer;
  /** The scheduled broadcasts by due time, and the fan-out queue their `start` goes to. */
  readonly broadcasts: { readonly sweeps: BroadcastSweepStore; readonly fanout: FanoutQueue };
  readonly clock: Clock;
  readonly settings: {
    /** A pending notification, or a scheduled broadcast, this many seconds past due is stuck. */
    readonly stuckAfterSeconds: number;
    /** At most this many notifications are put back per run, and as many broadcasts started; the next run goes on. */
    readonly maxItems: number;
  };
  /** Milliseconds left before the function must have returned. */
  readonly remainingMs: () => number;
}

/** What the sweep reports (and the rule's invocation returns). */
export interface StuckRetryResult {
  /** How many notifications were put back on the delivery queue. */
  readonly retried: number;
  /** How many overdue scheduled broadcasts were sent a `start` on the fan-out queue. */
  readonly broadcastStarts: number;
  readonly timestamp: string;
}

/**
 * Finds overdue scheduled broadcasts and stuck notifications, shard by shard, and sends each its
 * message (a `start` on the fan-out queue, a delivery message). A queue that refuses a broadcast's
 * start is logged and counted out. Neither part stops the other: when reading the broadcasts fails
 * (an index still backfilling after a deploy), the notifications are swept all the same and the
 * error is thrown afterwards, so that the invocation still fails. Other errors throw.
 */
export async function stuckRetrySweep(deps: StuckRetryDeps): Promise<StuckRetryResult> {
  const now = deps.clock.now();
  const criteria = stuckCriteria(now, deps.settings.stuckAfterSeconds);
  // Broadcasts first: a handful at most, one Query per shard when none is overdue, so a backlog of
  // notifications cannot leave a broadcast unstarted for the whole run's time.
  const progress = { found: 0, started: 0 };
  let broadcastsFailed: unknown;
  const broadcasts = await startOverdueBroadcasts(deps, criteria.pendingDueBy, progress).catch((error: unknown) => {
    broadcastsFailed = error;
    logger.error('Stuck-retry sweep could not read the scheduled broadcasts; sweeping the notifications all the same', { error: error as Error });
    return { ...progress, stoppedBy: 'error' as const };
  });
  let retried = 0;
  const { found, stoppedBy } = await sweepShards({
    shardCount: deps.sweeps.shardCount,
    maxItems: deps.settings.maxItems,
    remainingMs: deps.remainingMs,
    readPage: (shard, limit, cursor) => deps.sweeps.pageStuck(shard, criteria, limit, cursor),
    handle: async (stuck) => {
      for (const n of stuck) notificationLogger(n.tenantId, n.id).info('Putting a stuck notification back on the delivery queue', { status: n.status });
      retried += await deps.queue.enqueue(stuck.map((n) => ({ tenantId: n.tenantId, notificationId: n.id })));
    },
  });
  const result = { retried, broadcastStarts: broadcasts.started, timestamp: now.toISOString() };
  // `sweptAt`: Powertools Logger keeps `timestamp` for the line's own time and drops an attribute of that name.
  const summary = {
    retried,
    broadcastStarts: broadcasts.started,
    sweptAt: result.timestamp,
    found,
    stoppedBy,
    pendingDueBy: criteria.pendingDueBy.toISOString(),
    broadcastsFound: broadcasts.found,
    broadcastsStoppedBy: broadcasts.stoppedBy,
  };
  if (retried < found || broadcasts.started < broadcasts.found) logger.error('Stuck-retry sweep: the queue refused some messages', summary);
  else logger.info('Stuck-retry sweep done', summary);
  if (broadcastsFailed !== undefined) throw broadcastsFailed;
  return result;
}

/**
 * Sends a `start` for every broadcast still scheduled at or before `dueBy`, within the run's bounds;
 * keeps its counts in `progress` as it goes, so that they survive an error.
 */
async function startOverdueBroadcasts(
  deps: StuckRetryDeps,
  dueBy: Date,
  progress: { found: number; started: number },
): Promise<{ found: number; started: number; stoppedBy: SweepStop }> {
  const { stoppedBy } = await sweepShards({
    shardCount: deps.broadcasts.sweeps.shardCount,
    maxItems: deps.settings.maxItems,
    remainingMs: deps.remainingMs,
    readPage: (shard, limit, cursor) => deps.broadcasts.sweeps.pageOverdue(shard, dueBy, limit, cursor),
    handle: async (overdue) => {
      progress.found += overdue.length;
      for (const b of overdue) {
        logger.warn('Starting a scheduled broadcast its schedule never started', { tenantId: b.tenantId, broadcastId: b.id, dueAt: b.dueAt });
      }
      const starts = overdue.map((b): FanoutMessage => ({ kind: 'start', tenantId: b.tenantId, broadcastId: b.id }));
      try {
        await deps.broadcasts.fanout.send(starts);
        progress.started += starts.length;
      } catch (error) {
        // Left scheduled, so the next run finds them again; the notifications still get their turn.
        logger.error('Could not send the start of overdue broadcasts', { broadcastIds: overdue.map((b) => b.id), error: error as Error });
      }
    },
  });
  return { ...progress, stoppedBy };
}
