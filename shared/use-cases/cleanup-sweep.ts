/**
 * The cleanup sweep: deletes cancelled notifications once their retention has passed. Sent and
 * failed notifications, read inbox items and stale connections need no sweep: DynamoDB TTL
 * removes them (`expiresAt`); pending ones carry no TTL and never expire.
 */
import { describeError } from '../domain/delivery-errors.ts';
import { cancelledCutoff } from '../domain/sweeps.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, NotificationSweepStore } from '../ports.ts';
import { sweepShards } from './sweep-pages.ts';

export interface CleanupDeps {
  readonly sweeps: NotificationSweepStore;
  readonly clock: Clock;
  readonly settings: {
    /** Cancelled notifications go this many days after their cancellation. */
    readonly cancelledRetentionDays: number;
    /** At most this many are deleted per run; the next run goes on. */
    readonly maxItems: number;
  };
  /** Milliseconds left before the function must have returned. */
  readonly remainingMs: () => number;
}

/** What the sweep reports (and the rule's invocation returns); the keys are the operators' names. */
export interface CleanupResult {
  /** How many this run deleted (one deleted meanwhile by a concurrent run is not counted). */
  readonly deleted: number;
  /** How many cancelled before the cutoff this run found (at most the per-run bound). */
  readonly before_cutoff: number;
  readonly cutoff_date: string;
  readonly timestamp: string;
}

/** Deletes the cancelled notifications older than their retention, shard by shard. */
export async function cleanupSweep(deps: CleanupDeps): Promise<CleanupResult> {
  const now = deps.clock.now();
  const cutoff = cancelledCutoff(now, deps.settings.cancelledRetentionDays);
  let deleted = 0;
  let failed = 0;
  const { found, stoppedBy } = await sweepShards({
    shardCount: deps.sweeps.shardCount,
    maxItems: deps.settings.maxItems,
    remainingMs: deps.remainingMs,
    readPage: (shard, limit, cursor) => deps.sweeps.pageCancelled(shard, cutoff, limit, cursor),
    handle: async (cancelled) => {
      const result = await deps.sweeps.deleteCancelled(cancelled);
      deleted += result.deleted;
      failed += result.errors.length;
      // The next run finds what this one could not delete: it is still cancelled and still old.
      if (result.errors.length > 0) logger.warn('Cleanup sweep: some deletes failed', { failed: result.errors.length, error: describeError(result.errors[0]) });
    },
  });
  const result: CleanupResult = { deleted, before_cutoff: found, cutoff_date: cutoff.toISOString(), timestamp: now.toISOString() };
  // `sweptAt`: Powertools Logger keeps `timestamp` for the line's own time and drops an attribute of that name.
  const { timestamp: sweptAt, ...counts } = result;
  logger.info('Cleanup sweep done', { ...counts, sweptAt, failed, stoppedBy });
  return result;
}
