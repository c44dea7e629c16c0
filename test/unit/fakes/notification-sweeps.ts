/**
 * In-memory NotificationSweepStore over an InMemoryNotificationStore: the same rules as the
 * Dynamo adapter (stuck = pending past the cutoff by its next due time, or sending with an ended
 * lease; cleanup = cancelled before the cutoff, deleted only while cancelled), shards by id hash.
 */
import { nextDueAt } from '../../../shared/domain/notification.ts';
import type { Notification } from '../../../shared/domain/notification.ts';
import type { CancelledNotification, NotificationSweepStore, StuckNotification, SweepPage } from '../../../shared/ports.ts';
import type { InMemoryNotificationStore } from './notification-store.ts';
import { ScriptedFailures } from './failures.ts';

export function shardOf(id: string, shards: number): number {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % shards;
}

/**
 * A page after `cursor` in (sort key, id) order. Like DynamoDB's ExclusiveStartKey, the cursor is
 * the last key read, not a position, so deleting what was read does not skip anything.
 */
export function pageOf<T extends { id: string }>(
  items: readonly T[],
  sortKey: (item: T) => string,
  limit: number,
  cursor: string | undefined,
): SweepPage<T> {
  const keyOf = (item: T): string => `${sortKey(item)}|${item.id}`;
  const ordered = [...items].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const after = cursor === undefined ? ordered : ordered.filter((item) => keyOf(item) > cursor);
  const slice = after.slice(0, limit);
  const last = slice.at(-1);
  return after.length > limit && last ? { items: slice, cursor: keyOf(last) } : { items: slice };
}

export class InMemoryNotificationSweeps implements NotificationSweepStore {
  readonly shardCount: number;
  private readonly store: InMemoryNotificationStore;
  /** How many page reads were made. */
  pageReads = 0;
  /** Errors the next deletes throw (one per notification). */
  readonly deleteFailures = new ScriptedFailures();

  constructor(store: InMemoryNotificationStore, shardCount = 4) {
    this.store = store;
    this.shardCount = shardCount;
  }

  async pageStuck(
    shard: number,
    criteria: { readonly pendingDueBy: Date; readonly leaseEndedBefore: Date },
    limit: number,
    cursor?: string,
  ): Promise<SweepPage<StuckNotification>> {
    this.pageReads++;
    const stuck = (n: Notification): boolean =>
      (n.status === 'pending' && nextDueAt(n).getTime() <= criteria.pendingDueBy.getTime()) ||
      (n.status === 'sending' && n.leaseUntil !== undefined && n.leaseUntil < criteria.leaseEndedBefore.getTime());
    const items = this.inShard(shard).filter(stuck);
    const page = pageOf(items, (n) => nextDueAt(n).toISOString(), limit, cursor);
    return {
      ...page,
      items: page.items.map((n) => ({ tenantId: n.tenantId, id: n.id, status: n.status as 'pending' | 'sending' })),
    };
  }

  async pageCancelled(shard: number, before: Date, limit: number, cursor?: string): Promise<SweepPage<CancelledNotification>> {
    this.pageReads++;
    const items = this.inShard(shard)
      .filter((n) => n.status === 'cancelled' && n.cancelledAt !== undefined && Date.parse(n.cancelledAt) < before.getTime())
      .map((n) => ({ tenantId: n.tenantId, id: n.id, cancelledAt: n.cancelledAt ?? '' }));
    return pageOf(items, (c) => c.cancelledAt, limit, cursor);
  }

  async deleteCancelled(
    notifications: readonly Pick<CancelledNotification, 'tenantId' | 'id'>[],
  ): Promise<{ deleted: number; errors: unknown[] }> {
    let deleted = 0;
    const errors: unknown[] = [];
    for (const { tenantId, id } of notifications) {
      try {
        this.deleteFailures.throwNext();
      } catch (error) {
        errors.push(error);
        continue;
      }
      const current = await this.store.get(tenantId, id);
      if (current?.status !== 'cancelled') continue;
      await this.store.deleteMany(tenantId, [id]);
      deleted++;
    }
    return { deleted, errors };
  }

  private inShard(shard: number): Notification[] {
    return this.store.all().filter((n) => shardOf(n.id, this.shardCount) === shard);
  }
}
