/**
 * The stuck-retry sweep, the safety net under the schedules: every pending notification well past
 * its time and every sending one whose worker's lease ended goes back on the delivery queue.
 * Delivery is idempotent (conditional claim, per-channel outcomes), so a notification that was in
 * fact on its way is not delivered twice; the sweep only ever adds messages.
 */
import { stuckCriteria } from '../domain/sweeps.ts';
import { logger, notificationLogger } from '../observability/logger.ts';
import type { Clock, DeliveryEnqueuer, NotificationSweepStore } from '../ports.ts';
import { sweepShards } from './sweep-pages.ts';

export interface StuckRetryDeps {
  readonly sweeps: NotificationSweepStore;
  readonly queue: DeliveryEnqueuer;
  readonly clock: Clock;
  readonly settings: {
    /** A pending notification this many seconds past due is stuck. */
    readonly stuckAfterSeconds: number;
    /** At most this many are put back per run; the next run goes on. */
    readonly maxItems: number;
  };
  /** Milliseconds left before the function must have returned. */
  readonly remainingMs: () => number;
}

/** What the sweep reports (and the rule's invocation returns). */
export interface StuckRetryResult {
  /** How many notifications were put back on the delivery queue. */
  readonly retried: number;
  readonly timestamp: string;
}

/** Finds stuck notifications, shard by shard, and puts each back on the delivery queue. */
export async function stuckRetrySweep(deps: StuckRetryDeps): Promise<StuckRetryResult> {
  const now = deps.clock.now();
  const criteria = stuckCriteria(now, deps.settings.stuckAfterSeconds);
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
  const result = { retried, timestamp: now.toISOString() };
  // `sweptAt`: Powertools Logger keeps `timestamp` for the line's own time and drops an attribute of that name.
  const summary = { retried, sweptAt: result.timestamp, found, stoppedBy, pendingDueBy: criteria.pendingDueBy.toISOString() };
  if (retried < found) logger.error('Stuck-retry sweep: the queue refused some messages', summary);
  else logger.info('Stuck-retry sweep done', summary);
  return result;
}
