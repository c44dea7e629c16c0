/**
 * Tenant metrics in DynamoDB: one item per (tenant, shard, UTC hour) holding a number attribute
 * per counter. Adding is one UpdateItem `ADD` (atomic, so concurrent writers all count) on a
 * random shard, so a busy tenant spreads its counter writes over METRICS_SHARDS partitions;
 * reading a window is one Query per shard over the hours, never a scan.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { METRICS_SHARDS } from '../../lib/app-description.ts';
import { hourKey, isMetricName } from '../domain/metrics.ts';
import type { MetricCounts, MetricName } from '../domain/metrics.ts';
import type { MetricsStore } from '../ports.ts';
import { keyPart } from './dynamo-keys.ts';

/** Counters are kept this long, beyond the longest window a report may ask for (31 days). */
export const metricsRetentionDays = 40;

/** The partition key of one shard of a tenant's counters. */
export function metricsPartition(tenantId: string, shard: number): string {
  return `${keyPart(tenantId)}#${shard}`;
}

export class DynamoMetricsStore implements MetricsStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly pickShard: () => number;

  constructor(db: DynamoDBDocumentClient, tableName: string, pickShard: () => number = () => Math.floor(Math.random() * METRICS_SHARDS)) {
    this.db = db;
    this.tableName = tableName;
    this.pickShard = pickShard;
  }

  async add(tenantId: string, at: Date, counts: MetricCounts): Promise<void> {
    const entries = Object.entries(counts).filter(([, value]) => value !== undefined && value !== 0) as [MetricName, number][];
    if (entries.length === 0) return;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':expiresAt': Math.floor(at.getTime() / 1000) + metricsRetentionDays * 24 * 60 * 60,
    };
    const additions = entries.map(([name, value], i) => {
      names[`#m${i}`] = name;
      values[`:m${i}`] = value;
      return `#m${i} :m${i}`;
    });
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: metricsPartition(tenantId, this.pickShard()), hour: hourKey(at) },
        UpdateExpression: `ADD ${additions.join(', ')} SET expiresAt = if_not_exists(expiresAt, :expiresAt)`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async sum(tenantId: string, from: Date, to: Date): Promise<MetricCounts> {
    const totals: Partial<Record<MetricName, number>> = {};
    const shards = Array.from({ length: METRICS_SHARDS }, (_, shard) => shard);
    await Promise.all(
      shards.map(async (shard) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk AND #hour BETWEEN :from AND :to',
              ExpressionAttributeNames: { '#hour': 'hour' },
              ExpressionAttributeValues: { ':pk': metricsPartition(tenantId, shard), ':from': hourKey(from), ':to': hourKey(to) },
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          );
          for (const item of page.Items ?? []) {
            for (const [name, value] of Object.entries(item)) {
              if (isMetricName(name) && typeof value === 'number') totals[name] = (totals[name] ?? 0) + value;
            }
          }
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return totals;
  }
}
