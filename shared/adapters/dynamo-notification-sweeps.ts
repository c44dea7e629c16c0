/**
 * The notifications table as the sweeps read it. Both sweeps query sparse, write-sharded indexes
 * (never a scan): `due` holds exactly the pending and sending notifications, keyed by when they
 * are next due; `cancelled` holds exactly the cancelled ones, keyed by when they were cancelled.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CANCELLED_INDEX_SHARDS, DUE_INDEX_SHARDS } from '../../lib/app-description.ts';
import type { CancelledNotification, NotificationSweepStore, StuckNotification, SweepPage } from '../ports.ts';
import { cancelledShardKey, dueShardKey, notificationKey } from './dynamo-notification-store.ts';

/** Index names, as lib/app-description.ts declares them on the notifications table. */
export const dueIndexName = 'due';
export const cancelledIndexName = 'cancelled';

/** How many conditional deletes run at once. */
const deleteConcurrency = 10;

type Key = Record<string, unknown>;

/** A sweep's cursor: the last key a query read (its LastEvaluatedKey), opaque to the use case. */
export function encodeCursor(key: Key | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

/** The ExclusiveStartKey a sweep's cursor stands for. */
export function decodeCursor(cursor: string | undefined): Key | undefined {
  return cursor === undefined ? undefined : (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Key);
}

/** Runs `work` on every item, at most `limit` at once, and settles them all. */
async function settleWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index] as T) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  });
  await Promise.all(lanes);
  return results;
}

/** A sweep page of `items`, with a cursor when the query stopped before the end. */
export function sweepPageOf<T>(items: T[], lastKey: Key | undefined): SweepPage<T> {
  const cursor = encodeCursor(lastKey);
  return cursor === undefined ? { items } : { items, cursor };
}

export class DynamoNotificationSweeps implements NotificationSweepStore {
  readonly shardCount: number;
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
    // Both indexes have as many shards today; the sweeps page `shardCount` of each.
    if (DUE_INDEX_SHARDS !== CANCELLED_INDEX_SHARDS) throw new Error('The due and cancelled indexes must have as many shards');
    this.shardCount = DUE_INDEX_SHARDS;
  }

  async pageStuck(
    shard: number,
    criteria: { readonly pendingDueBy: Date; readonly leaseEndedBefore: Date },
    limit: number,
    cursor?: string,
  ): Promise<SweepPage<StuckNotification>> {
    const latest = new Date(Math.max(criteria.pendingDueBy.getTime(), criteria.leaseEndedBefore.getTime()));
    const exclusiveStartKey = decodeCursor(cursor);
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: dueIndexName,
        // A sending notification was due before it was claimed, so `dueAt` bounds both kinds. A
        // filter may not name a key attribute (`dueAt`), so the pending test reads what `dueAt`
        // is made of: the scheduled time and the retry time (see nextDueAt).
        KeyConditionExpression: 'dueShard = :shard AND dueAt <= :latest',
        FilterExpression:
          '(#status = :pending AND scheduledAt <= :pendingDueBy AND (attribute_not_exists(nextAttemptAt) OR nextAttemptAt <= :pendingDueBy))' +
          ' OR (#status = :sending AND leaseUntil < :leaseEndedBefore)',
        ProjectionExpression: 'tenantId, id, #status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':shard': dueShardKey(shard),
          ':latest': latest.toISOString(),
          ':pending': 'pending',
          ':sending': 'sending',
          ':pendingDueBy': criteria.pendingDueBy.toISOString(),
          ':leaseEndedBefore': criteria.leaseEndedBefore.getTime(),
        },
        Limit: limit,
        ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
      }),
    );
    const items = (result.Items ?? []).map((item) => ({
      tenantId: String(item.tenantId),
      id: String(item.id),
      status: item.status === 'sending' ? ('sending' as const) : ('pending' as const),
    }));
    return sweepPageOf(items, result.LastEvaluatedKey);
  }

  async pageCancelled(shard: number, before: Date, limit: number, cursor?: string): Promise<SweepPage<CancelledNotification>> {
    const exclusiveStartKey = decodeCursor(cursor);
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: cancelledIndexName,
        KeyConditionExpression: 'cancelledShard = :shard AND cancelledAt < :before',
        ProjectionExpression: 'tenantId, id, cancelledAt',
        ExpressionAttributeValues: { ':shard': cancelledShardKey(shard), ':before': before.toISOString() },
        Limit: limit,
        ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
      }),
    );
    const items = (result.Items ?? []).map((item) => ({
      tenantId: String(item.tenantId),
      id: String(item.id),
      cancelledAt: String(item.cancelledAt),
    }));
    return sweepPageOf(items, result.LastEvaluatedKey);
  }

  async deleteCancelled(
    notifications: readonly Pick<CancelledNotification, 'tenantId' | 'id'>[],
  ): Promise<{ deleted: number; errors: unknown[] }> {
    const results = await settleWithConcurrency(notifications, deleteConcurrency, async (n) => {
      try {
        // Conditional: only ever a cancelled notification, and a concurrent sweep's delete counts once.
        await this.db.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: notificationKey(n.tenantId, n.id),
            ConditionExpression: '#status = :cancelled',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':cancelled': 'cancelled' },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    });
    return {
      deleted: results.filter((r) => r.status === 'fulfilled' && r.value).length,
      errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
    };
  }
}
