/**
 * The recipient rows of broadcasts in DynamoDB: pk = tenant#broadcast#shard, recipientId, spread
 * over write shards so one big broadcast never funnels into a single partition, with the sparse
 * `byStatus` index (statusKey = tenant#broadcast#status#shard) of the final rows (sent, failed,
 * cancelled) for the recipients route, retry and the watch's recount. A pending row, or one a
 * worker holds, has no `statusKey`: the fan-out's put writes no index entry and the outcome adds
 * one instead of moving one (a delete and a put), 8 writes per recipient instead of 10. Pending
 * rows are found by a filtered Query of their shard instead, which only the recipients route
 * (`status=pending`) and the watch's repair ask for. (Rows written before kept a `pending` key,
 * which their outcome moves as before.) The index holds keys only, so a page of it reads its rows
 * with a BatchGetItem.
 *
 * Which writes are batched and why that is safe:
 * - Pending rows are written with BatchWriteItem, unconditionally. Only the fan-out writes them,
 *   one page at a time under a lease, and only while resolving, before the first delivery: a row
 *   written again is rewritten identical, and nothing can have moved on from pending yet.
 * - Outcomes are written with BatchWriteItem too, but only for rows the worker claimed with a
 *   conditional write. The claim's lease outlives the worker (its invocation's deadline), and no
 *   other write touches a row in `sending`, so nobody else can have changed it meanwhile.
 * - Every other transition (claim, cancel, retry) is a conditional UpdateItem.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, QueryCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { BROADCAST_RECIPIENT_SHARDS } from '../../lib/app-description.ts';
import { publicRecipientStatus, recipientShard } from '../domain/broadcast.ts';
import type { BroadcastRecipient, BroadcastRecipientStatus, RecipientClaim } from '../domain/broadcast.ts';
import type { Channel, ChannelDelivery } from '../domain/notification.ts';
import { mayHaveReached } from '../domain/channel-reach.ts';
import type { BroadcastRecipientStore, RecipientRowPage } from '../ports.ts';
import { batchGet, batchPut } from './dynamo-batch.ts';
import { keyPart } from './dynamo-keys.ts';

/** The partition key of the shard that holds a recipient's row. */
export function recipientRowKey(tenantId: string, broadcastId: string, recipientId: string, shards = BROADCAST_RECIPIENT_SHARDS): { pk: string; recipientId: string } {
  return { pk: shardKey(tenantId, broadcastId, recipientShard(recipientId, shards)), recipientId };
}

function shardKey(tenantId: string, broadcastId: string, shard: number): string {
  return `${keyPart(tenantId)}#${broadcastId}#${shard}`;
}

function statusKey(tenantId: string, broadcastId: string, status: BroadcastRecipientStatus, shard: number): string {
  return `${keyPart(tenantId)}#${broadcastId}#${status}#${shard}`;
}

/** Writes in flight at once when a page of rows is written (each a BatchWriteItem of 25). */
const writeLanes = 4;

/**
 * Rows a page of pending rows reads at most, by default: they are not in the status index, so a
 * page is a filtered Query of the shard, which reads this many rows to find up to `limit` pending ones.
 */
const defaultPendingPageReads = 1_000;

/** The public `pending`: rows waiting, and rows a worker holds. */
const pendingFilter = {
  FilterExpression: '#status IN (:pending, :sending)',
  ExpressionAttributeNames: { '#status': 'status' },
} as const;
const pendingValues = { ':pending': 'pending', ':sending': 'sending' } as const;

interface RowItem extends Record<string, unknown> {
  pk: string;
  recipientId: string;
  statusKey: string;
  claimToken?: string;
  expiresAt?: number;
}

function fromItem(item: Record<string, unknown>): BroadcastRecipient {
  const { pk: _pk, statusKey: _statusKey, claimToken: _claimToken, expiresAt: _expiresAt, shard: _shard, ...row } = item as RowItem;
  return row as unknown as BroadcastRecipient;
}

function isCheckFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

type Update = Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>;

/**
 * A row due at its recipient's own wall time: `localDueAt`, and not before then (`nextAttemptAt`,
 * which the claim's `due` guard reads), when that is still ahead.
 */
export function localDueAttributes(dueMs: number | undefined, at: Date): { localDueAt?: string; nextAttemptAt?: string } {
  if (dueMs === undefined) return {};
  const due = new Date(dueMs).toISOString();
  return dueMs > at.getTime() ? { localDueAt: due, nextAttemptAt: due } : { localDueAt: due };
}

export class DynamoBroadcastRecipientStore implements BroadcastRecipientStore {
  readonly shardCount: number;
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionDays: number;
  private readonly pendingPageReads: number;

  /**
   * Final rows expire `retentionDays` after their outcome. `pendingPageReads`: rows a page of
   * pending rows reads at most, besides its `limit` (@default 1,000).
   */
  constructor(
    db: DynamoDBDocumentClient,
    tableName: string,
    options: { readonly retentionDays: number; readonly shardCount?: number; readonly pendingPageReads?: number },
  ) {
    this.db = db;
    this.tableName = tableName;
    this.retentionDays = options.retentionDays;
    this.shardCount = options.shardCount ?? BROADCAST_RECIPIENT_SHARDS;
    this.pendingPageReads = options.pendingPageReads ?? defaultPendingPageReads;
  }

  async putPending(tenantId: string, broadcastId: string, recipientIds: readonly string[], at: Date, localDue?: ReadonlyMap<string, number>): Promise<void> {
    const now = at.toISOString();
    const items = recipientIds.map((recipientId) => {
      const shard = recipientShard(recipientId, this.shardCount);
      return {
        pk: shardKey(tenantId, broadcastId, shard),
        recipientId,
        tenantId,
        broadcastId,
        status: 'pending',
        attempts: 0,
        deliveries: {},
        run: 0,
        ...localDueAttributes(localDue?.get(recipientId), at),
        createdAt: now,
        updatedAt: now,
      };
    });
    const laneSize = Math.ceil(items.length / writeLanes);
    const lanes: Record<string, unknown>[][] = [];
    for (let start = 0; start < items.length; start += laneSize) lanes.push(items.slice(start, start + laneSize));
    await Promise.all(lanes.map((lane) => batchPut(this.db, this.tableName, lane)));
  }

  async countShard(tenantId: string, broadcastId: string, shard: number, after?: string): Promise<number> {
    const pk = shardKey(tenantId, broadcastId, shard);
    return this.count(
      { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true },
      after !== undefined ? { pk, recipientId: after } : undefined,
    );
  }

  async countByStatus(tenantId: string, broadcastId: string, status: BroadcastRecipientStatus, shard: number): Promise<number> {
    if (status === 'pending') {
      return this.count({
        KeyConditionExpression: 'pk = :pk',
        ...pendingFilter,
        ExpressionAttributeValues: { ':pk': shardKey(tenantId, broadcastId, shard), ...pendingValues },
      });
    }
    return this.count({
      IndexName: 'byStatus',
      KeyConditionExpression: 'statusKey = :statusKey',
      ExpressionAttributeValues: { ':statusKey': statusKey(tenantId, broadcastId, status, shard) },
    });
  }

  async pageShard(tenantId: string, broadcastId: string, shard: number, limit: number, after?: string): Promise<RecipientRowPage> {
    const pk = shardKey(tenantId, broadcastId, shard);
    return this.page({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
      Limit: limit,
      ...(after !== undefined ? { ExclusiveStartKey: { pk, recipientId: after } } : {}),
    });
  }

  async pageByStatus(
    tenantId: string,
    broadcastId: string,
    status: BroadcastRecipientStatus,
    shard: number,
    limit: number,
    after?: string,
  ): Promise<RecipientRowPage> {
    if (status === 'pending') return this.pagePending(tenantId, broadcastId, shard, limit, after);
    const key = statusKey(tenantId, broadcastId, status, shard);
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byStatus',
        KeyConditionExpression: 'statusKey = :statusKey',
        ExpressionAttributeValues: { ':statusKey': key },
        Limit: limit,
        ...(after !== undefined
          ? { ExclusiveStartKey: { statusKey: key, pk: shardKey(tenantId, broadcastId, shard), recipientId: after } }
          : {}),
      }),
    );
    // The index holds keys only: the rows are read from the table (strongly consistent), and one
    // that has left this status since the index listed it is left out, as is one deleted since.
    const keys = (page.Items ?? []).map((item) => ({ pk: item.pk, recipientId: item.recipientId }));
    const found = new Map((await batchGet(this.db, this.tableName, keys)).map((item) => [item.recipientId, item]));
    const rows = keys.flatMap(({ recipientId }) => {
      const item = found.get(recipientId);
      return item?.statusKey === key ? [fromItem(item)] : [];
    });
    const last = page.LastEvaluatedKey?.recipientId;
    return { rows, ...(typeof last === 'string' ? { after: last } : {}) };
  }

  /**
   * Up to `limit` pending rows of a shard, from a filtered Query that reads at most the larger of
   * `limit` and `pendingPageReads` rows (strongly consistent): a page may hold fewer than `limit`,
   * or none, with `after` set when the shard goes on.
   */
  private async pagePending(tenantId: string, broadcastId: string, shard: number, limit: number, after?: string): Promise<RecipientRowPage> {
    const pk = shardKey(tenantId, broadcastId, shard);
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ...pendingFilter,
        ExpressionAttributeValues: { ':pk': pk, ...pendingValues },
        ConsistentRead: true,
        Limit: Math.max(limit, this.pendingPageReads),
        ...(after !== undefined ? { ExclusiveStartKey: { pk, recipientId: after } } : {}),
      }),
    );
    const rows = (page.Items ?? []).map(fromItem);
    if (rows.length > limit) {
      const kept = rows.slice(0, limit);
      return { rows: kept, after: (kept[kept.length - 1] as BroadcastRecipient).recipientId };
    }
    const last = page.LastEvaluatedKey?.recipientId;
    return { rows, ...(typeof last === 'string' ? { after: last } : {}) };
  }

  async getMany(tenantId: string, broadcastId: string, recipientIds: readonly string[]): Promise<BroadcastRecipient[]> {
    const keys = recipientIds.map((id) => recipientRowKey(tenantId, broadcastId, id, this.shardCount));
    return (await batchGet(this.db, this.tableName, keys)).map(fromItem);
  }

  async claim(
    tenantId: string,
    broadcastId: string,
    recipientId: string,
    now: Date,
    leaseUntil: Date,
  ): Promise<RecipientClaim | undefined> {
    const token = randomUUID();
    const set = {
      UpdateExpression: 'SET #status = :sending, leaseUntil = :leaseUntil, claimToken = :token, updatedAt = :now ADD attempts :one',
      ExpressionAttributeNames: { '#status': 'status' },
    };
    const values = {
      ':sending': 'sending',
      ':leaseUntil': leaseUntil.getTime(),
      ':token': token,
      ':now': now.toISOString(),
      ':one': 1,
    };
    // The usual case: a pending row that is due.
    const fresh = await this.update(tenantId, broadcastId, recipientId, {
      ...set,
      ConditionExpression: '#status = :pending AND (attribute_not_exists(nextAttemptAt) OR nextAttemptAt <= :now)',
      ExpressionAttributeValues: { ...values, ':pending': 'pending' },
    });
    if (fresh) return { row: fresh, token, takeover: false };
    // A row whose worker died holding it: its lease ended, and that worker's invocation with it.
    const taken = await this.update(tenantId, broadcastId, recipientId, {
      ...set,
      ConditionExpression: '#status = :sending AND leaseUntil < :nowMs',
      ExpressionAttributeValues: { ...values, ':nowMs': now.getTime() },
    });
    return taken ? { row: taken, token, takeover: true } : undefined;
  }

  async finish(rows: readonly BroadcastRecipient[], at: Date): Promise<void> {
    const expiresAt = Math.floor(at.getTime() / 1000) + this.retentionDays * 24 * 60 * 60;
    const items = rows.map((row) => {
      const { leaseUntil: _leaseUntil, ...rest } = row;
      const shard = recipientShard(row.recipientId, this.shardCount);
      const final = row.status !== 'pending' && row.status !== 'sending';
      return {
        ...rest,
        pk: shardKey(row.tenantId, row.broadcastId, shard),
        ...(final ? { statusKey: statusKey(row.tenantId, row.broadcastId, publicRecipientStatus(row.status), shard), expiresAt } : {}),
      };
    });
    await batchPut(this.db, this.tableName, items);
  }

  async cancel(tenantId: string, broadcastId: string, recipientId: string, at: Date): Promise<boolean> {
    const shard = recipientShard(recipientId, this.shardCount);
    const cancelled = await this.update(tenantId, broadcastId, recipientId, {
      UpdateExpression: 'SET #status = :cancelled, statusKey = :statusKey, updatedAt = :at, expiresAt = :expiresAt',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':cancelled': 'cancelled',
        ':pending': 'pending',
        ':statusKey': statusKey(tenantId, broadcastId, 'cancelled', shard),
        ':at': at.toISOString(),
        ':expiresAt': Math.floor(at.getTime() / 1000) + this.retentionDays * 24 * 60 * 60,
      },
    });
    return cancelled !== undefined;
  }

  async requeue(row: BroadcastRecipient, run: number, at: Date): Promise<boolean> {
    // A channel that may have reached the recipient is never repeated: the failed and skipped ones are forgotten.
    const retried = (Object.entries(row.deliveries) as [Channel, ChannelDelivery][]).filter(([, delivery]) => !mayHaveReached(delivery)).map(([channel]) => channel);
    const names: Record<string, string> = { '#status': 'status' };
    retried.forEach((channel, index) => (names[`#ch${index}`] = channel));
    const forget = retried.map((_, index) => `deliveries.#ch${index}`);
    const requeued = await this.update(row.tenantId, row.broadcastId, row.recipientId, {
      UpdateExpression: `SET #status = :pending, run = :run, attempts = :zero, updatedAt = :at REMOVE ${[
        'statusKey',
        'lastError',
        'lastErrorCategory',
        'nextAttemptAt',
        'expiresAt',
        // Counted off when it failed; left by a commit before holds ended with their attempt.
        'heldUntil',
        'heldReason',
        ...forget,
      ].join(', ')}`,
      ConditionExpression: '#status = :failed AND updatedAt = :seen',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: {
        ':pending': 'pending',
        ':failed': 'failed',
        ':run': run,
        ':zero': 0,
        ':at': at.toISOString(),
        ':seen': row.updatedAt,
      },
    });
    return requeued !== undefined;
  }

  private async count(input: Omit<QueryCommandInput, 'TableName' | 'Select'>, from?: Record<string, unknown>): Promise<number> {
    let total = 0;
    let startKey: Record<string, unknown> | undefined = from;
    do {
      const page = await this.db.send(
        new QueryCommand({ TableName: this.tableName, Select: 'COUNT', ...input, ExclusiveStartKey: startKey }),
      );
      total += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return total;
  }

  private async page(input: Omit<QueryCommandInput, 'TableName'>): Promise<RecipientRowPage> {
    const page = await this.db.send(new QueryCommand({ TableName: this.tableName, ...input }));
    const rows = (page.Items ?? []).map(fromItem);
    const last = page.LastEvaluatedKey?.recipientId;
    return { rows, ...(typeof last === 'string' ? { after: last } : {}) };
  }

  /** A conditional update of one row; `undefined` when its condition did not hold. */
  private async update(tenantId: string, broadcastId: string, recipientId: string, update: Update): Promise<BroadcastRecipient | undefined> {
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: recipientRowKey(tenantId, broadcastId, recipientId, this.shardCount),
          ReturnValues: 'ALL_NEW',
          ...update,
        }),
      );
      return result.Attributes ? fromItem(result.Attributes) : undefined;
    } catch (error) {
      if (isCheckFailure(error)) return undefined;
      throw error;
    }
  }
}
