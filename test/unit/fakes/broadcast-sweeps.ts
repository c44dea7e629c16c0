/**
 * In-memory BroadcastSweepStore over an InMemoryBroadcastStore's `due` index entries: the same
 * rule as the Dynamo adapter (an entry due at or before the cutoff, still scheduled), shards by id hash.
 */
import type { BroadcastSweepStore, OverdueBroadcast, SweepPage } from '../../../shared/ports.ts';
import type { InMemoryBroadcastStore } from './broadcast-store.ts';
import { pageOf, shardOf } from './notification-sweeps.ts';

export class InMemoryBroadcastSweeps implements BroadcastSweepStore {
  readonly shardCount: number;
  private readonly store: InMemoryBroadcastStore;
  /** How many page reads were made. */
  pageReads = 0;

  constructor(store: InMemoryBroadcastStore, shardCount = 4) {
    this.store = store;
    this.shardCount = shardCount;
  }

  async pageOverdue(shard: number, dueBy: Date, limit: number, cursor?: string): Promise<SweepPage<OverdueBroadcast>> {
    this.pageReads++;
    const items = this.store
      .dueEntries()
      .filter((e) => shardOf(e.id, this.shardCount) === shard && e.status === 'scheduled' && Date.parse(e.dueAt) <= dueBy.getTime())
      .map((e) => ({ tenantId: e.tenantId, id: e.id, dueAt: e.dueAt }));
    return pageOf(items, (b) => b.dueAt, limit, cursor);
  }
}
