/**
 * Reads a write-sharded index the way both sweeps do: one page per shard in turn, each page at
 * most a fair share of the run's budget (so a backlog in one shard cannot starve the others),
 * oldest first within a shard, until every shard is read, `maxItems` items are handled, or the
 * function's time is nearly up.
 */
import type { SweepPage } from '../ports.ts';

/** Items read per query. */
export const sweepPageSize = 100;
/** No new page is started with less time than this left: a query and its handling fit well within. */
export const sweepReserveMs = 10_000;

/** Why a sweep stopped. */
export type SweepStop = 'done' | 'limit' | 'time';

export interface ShardedSweep<T> {
  readonly shardCount: number;
  readonly maxItems: number;
  readonly remainingMs: () => number;
  readPage(shard: number, limit: number, cursor: string | undefined): Promise<SweepPage<T>>;
  /** Handles one page's items (never more than the budget left). */
  handle(items: readonly T[]): Promise<void>;
}

/** Runs the sweep; resolves with how many items it handed to `handle` and why it stopped. */
export async function sweepShards<T>(sweep: ShardedSweep<T>): Promise<{ found: number; stoppedBy: SweepStop }> {
  const cursors = new Map<number, string | undefined>();
  for (let shard = 0; shard < sweep.shardCount; shard++) cursors.set(shard, undefined);
  let found = 0;
  while (cursors.size > 0) {
    for (const [shard, cursor] of [...cursors]) {
      const budget = sweep.maxItems - found;
      if (budget <= 0) return { found, stoppedBy: 'limit' };
      if (sweep.remainingMs() < sweepReserveMs) return { found, stoppedBy: 'time' };
      // A fair share per page, so that a backlog in one shard cannot use a run's whole budget.
      const share = Math.ceil(sweep.maxItems / sweep.shardCount);
      const page = await sweep.readPage(shard, Math.min(sweepPageSize, share, budget), cursor);
      const items = page.items.slice(0, budget);
      found += items.length;
      if (items.length > 0) await sweep.handle(items);
      if (page.cursor === undefined) cursors.delete(shard);
      else cursors.set(shard, page.cursor);
    }
  }
  return { found, stoppedBy: 'done' };
}
