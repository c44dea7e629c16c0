/**
 * The broadcasts table as the stuck-retry sweep reads it: the sparse, write-sharded `due` index.
 * Every write that makes a broadcast `scheduled` sets `dueShard`/`dueAt` (the instant its schedule
 * fires for), and every write that takes it out of `scheduled` removes them in the same conditional
 * write (shared/adapters/dynamo-broadcast-store.ts), so the index holds exactly the scheduled
 * broadcasts. A broadcast found there long past `dueAt` is one whose schedule never started it.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BROADCAST_DUE_INDEX_SHARDS } from '../../lib/app-description.ts';
import type { BroadcastSweepStore, OverdueBroadcast, SweepPage } from '../ports.ts';
import { writeShardOf } from './dynamo-keys.ts';
import { decodeCursor, sweepPageOf } from './dynamo-notification-sweeps.ts';

/** The index's name, as lib/app-description.ts declares it on the broadcasts table. */
export const broadcastDueIndexName = 'due';

/** The partition key value of the broadcasts' `due` shard number `shard`. */
export function broadcastDueShardKey(shard: number): string {
  return `due#${shard}`;
}

/** What a write that makes a broadcast `scheduled` sets: its shard of the `due` index and its due instant (ISO-8601 UTC). */
export function broadcastDueAttributes(id: string, scheduledAt: string): { dueShard: string; dueAt: string } {
  return { dueShard: broadcastDueShardKey(writeShardOf(id, BROADCAST_DUE_INDEX_SHARDS)), dueAt: new Date(scheduledAt).toISOString() };
}

export class DynamoBroadcastSweeps implements BroadcastSweepStore {
  readonly shardCount = BROADCAST_DUE_INDEX_SHARDS;
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async pageOverdue(shard: number, dueBy: Date, limit: number, cursor?: string): Promise<SweepPage<OverdueBroadcast>> {
    const exclusiveStartKey = decodeCursor(cursor);
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: broadcastDueIndexName,
        KeyConditionExpression: 'dueShard = :shard AND dueAt <= :dueBy',
        // Only scheduled broadcasts carry the keys; the filter is a second line should a write ever miss removing them.
        FilterExpression: '#status = :scheduled',
        ProjectionExpression: 'tenantId, id, dueAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':shard': broadcastDueShardKey(shard), ':dueBy': dueBy.toISOString(), ':scheduled': 'scheduled' },
        Limit: limit,
        ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
      }),
    );
    const items = (result.Items ?? []).map((item) => ({ tenantId: String(item.tenantId), id: String(item.id), dueAt: String(item.dueAt) }));
    return sweepPageOf(items, result.LastEvaluatedKey);
  }
}
