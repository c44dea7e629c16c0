/**
 * Broadcasts in DynamoDB. Three kinds of item share the table:
 * - `tenant#broadcast`: the broadcast itself, small on purpose (no message body) because it is
 *   updated once per delivery batch: status, counters, fan-out position. Only it carries
 *   `tenantId` and `id`, so only it is in the `byTenant` listing index.
 * - `tenant#broadcast#content`: the message and data, written once.
 * - `tenant#broadcast#audience#n`: slice n of an explicit audience (1,000 ids), written once; an
 *   explicit list of 10,000 ids of 128 characters would not fit the 400 KB item limit.
 *
 * Index bookkeeping: a scheduled broadcast item carries `dueShard`/`dueAt` (the sparse `due` index
 * the stuck-retry sweep reads, shared/adapters/dynamo-broadcast-sweeps.ts). The writes that make a
 * broadcast scheduled (`create` of a scheduled one, `schedule`) set them; those that take it out of
 * scheduled (`revertToDraft`, `start`, `cancel`) remove them in the same conditional write.
 *
 * The broadcast item is in no transaction: it is written with plain UpdateItems many times a second
 * (counters per batch, fan-out pages), and DynamoDB refuses a plain write of an item an ongoing
 * transaction includes (`TransactionConflictException`, "Transaction conflict handling"). Every
 * transition, the cancel included, is a conditional UpdateItem; counters move with `ADD`, one
 * write per batch. A cancel wins over the rows' claims because each delivery worker reads the
 * status with a consistent GetItem after its claim committed (shared/delivery/engine.ts).
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { audienceSliceSize, finalStatus, sliceSizeOf } from '../domain/broadcast.ts';
import type { Broadcast, BroadcastAudience, BroadcastContent, BroadcastCounts, FanoutPhase } from '../domain/broadcast.ts';
import { broadcastIdBound } from '../domain/ids.ts';
import type {
  BroadcastCountsDelta,
  BroadcastListPage,
  BroadcastListQuery,
  BroadcastStore,
  FanoutPageClaim,
} from '../ports.ts';
import { batchDelete, batchPut } from './dynamo-batch.ts';
import { logger } from '../observability/logger.ts';
import { broadcastDueAttributes } from './dynamo-broadcast-sweeps.ts';
import { keyPart } from './dynamo-keys.ts';
import { dataFromAttributes, dataToAttributes, templateFromAttributes, templateToAttributes } from './dynamo-opaque-json.ts';
import { transactWrite } from './dynamo-transact.ts';

/** The key of a broadcast item: the tenant is part of every key. */
export function broadcastKey(tenantId: string, id: string): { pk: string } {
  return { pk: `${keyPart(tenantId)}#${id}` };
}

/** The key of a broadcast's content item (its message and data, written once). */
export function contentKey(tenantId: string, id: string): { pk: string } {
  return { pk: `${keyPart(tenantId)}#${id}#content` };
}

function sliceKey(tenantId: string, id: string, slice: number): { pk: string } {
  return { pk: `${keyPart(tenantId)}#${id}#audience#${slice}` };
}

/** Counter attributes: top-level numbers, as `ADD` requires. */
const counterAttributes = {
  total: 'recipientsTotal',
  sent: 'recipientsSent',
  failed: 'recipientsFailed',
  cancelled: 'recipientsCancelled',
  held: 'recipientsHeld',
} as const satisfies Record<keyof BroadcastCounts, string>;

interface BroadcastItem extends Record<string, unknown> {
  pk: string;
  tenantId: string;
  id: string;
  createdBy: string;
  title: string;
  type: string;
  priority: Broadcast['priority'];
  channels: Broadcast['channels'];
  audience: BroadcastAudience;
  status: Broadcast['status'];
  scheduledAt?: string;
  timezone?: string;
  localTime?: string;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  cancelledAt?: string;
  lastError?: string;
  recipientsTotal: number;
  recipientsSent: number;
  recipientsFailed: number;
  recipientsCancelled: number;
  phase?: FanoutPhase;
  page?: number;
  cursor?: string;
  leaseUntil?: number;
  claimToken?: string;
  run: number;
  /** Only while scheduled: the `due` index's shard and the instant the start is due. */
  dueShard?: string;
  dueAt?: string;
}

function toItem(b: Broadcast): BroadcastItem {
  return {
    ...broadcastKey(b.tenantId, b.id),
    tenantId: b.tenantId,
    id: b.id,
    createdBy: b.createdBy,
    title: b.title,
    type: b.type,
    priority: b.priority,
    channels: b.channels,
    audience: b.audience,
    status: b.status,
    ...(b.scheduledAt !== undefined ? { scheduledAt: b.scheduledAt } : {}),
    ...(b.timezone !== undefined ? { timezone: b.timezone } : {}),
    ...(b.localTime !== undefined ? { localTime: b.localTime } : {}),
    createdAt: b.createdAt,
    recipientsTotal: b.counts.total,
    recipientsSent: b.counts.sent,
    recipientsFailed: b.counts.failed,
    recipientsCancelled: b.counts.cancelled,
    run: b.run,
    ...(b.status === 'scheduled' && b.scheduledAt !== undefined ? broadcastDueAttributes(b.id, b.scheduledAt) : {}),
  };
}

/** The content a content item holds. */
export function contentFromItem(item: Record<string, unknown>): BroadcastContent {
  const { data } = dataFromAttributes(item);
  const template = templateFromAttributes(item);
  return { message: String(item.message), ...(data ? { data } : {}), ...(template ? { template } : {}) };
}

/** The broadcast a broadcast item holds. */
export function broadcastFromItem(item: Record<string, unknown>): Broadcast {
  const i = item as BroadcastItem;
  const optional = <K extends keyof Broadcast>(key: K, value: Broadcast[K] | undefined): Partial<Broadcast> =>
    value === undefined ? {} : { [key]: value };
  return {
    tenantId: i.tenantId,
    id: i.id,
    createdBy: i.createdBy,
    title: i.title,
    type: i.type,
    priority: i.priority,
    channels: i.channels,
    audience: i.audience,
    status: i.status,
    createdAt: i.createdAt,
    ...optional('scheduledAt', i.scheduledAt),
    ...optional('timezone', i.timezone),
    ...optional('localTime', i.localTime),
    ...optional('startedAt', i.startedAt),
    ...optional('completedAt', i.completedAt),
    ...optional('cancelledAt', i.cancelledAt),
    ...optional('lastError', i.lastError),
    counts: {
      total: Number(i.recipientsTotal ?? 0),
      sent: Number(i.recipientsSent ?? 0),
      failed: Number(i.recipientsFailed ?? 0),
      cancelled: Number(i.recipientsCancelled ?? 0),
      ...(i.recipientsHeld !== undefined ? { held: Number(i.recipientsHeld) } : {}),
    },
    ...(i.phase !== undefined
      ? {
          fanout: {
            phase: i.phase,
            page: Number(i.page ?? 0),
            ...(i.leaseUntil !== undefined ? { leaseUntil: Number(i.leaseUntil) } : {}),
          },
        }
      : {}),
    run: Number(i.run ?? 0),
  };
}

type Update = Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>;

/** How many index pages a listing reads at most to fill one page when filters drop items. */
const maxListQueries = 5;

export class DynamoBroadcastStore implements BroadcastStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async create(broadcast: Broadcast, content: BroadcastContent, recipientIds: readonly string[] = []): Promise<void> {
    const { tenantId, id } = broadcast;
    const slices: Record<string, unknown>[] = [];
    const size = broadcast.audience.kind === 'recipients' ? sliceSizeOf(broadcast.audience) : audienceSliceSize;
    for (let start = 0, slice = 0; start < recipientIds.length; start += size, slice++) {
      slices.push({ ...sliceKey(tenantId, id, slice), ids: recipientIds.slice(start, start + size) });
    }
    // The parts first: the broadcast item is what makes the broadcast exist.
    await batchPut(this.db, this.tableName, [
      { ...contentKey(tenantId, id), message: content.message, ...dataToAttributes(content.data), ...templateToAttributes(content.template) },
      ...slices,
    ]);
    try {
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: toItem(broadcast), ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      await this.removeParts(tenantId, id, slices.length);
      throw error;
    }
  }

  /**
   * Takes back the parts of a create whose broadcast item could not be put, which nothing would
   * ever read or remove. An error answer does not mean the item was not written (a timeout, a
   * throttled retry of a call that got through), and another attempt of the same create may write
   * it meanwhile: the parts go in one TransactWriteItems only if the item is not there (a
   * ConditionCheck beside the Deletes: at most the content and four slices of 250 ids). Best
   * effort: a failure is logged, and the parts are left.
   */
  private async removeParts(tenantId: string, id: string, slices: number): Promise<void> {
    try {
      await transactWrite(this.db, [
        { ConditionCheck: { TableName: this.tableName, Key: broadcastKey(tenantId, id), ConditionExpression: 'attribute_not_exists(pk)' } },
        ...[contentKey(tenantId, id), ...Array.from({ length: slices }, (_, slice) => sliceKey(tenantId, id, slice))].map((Key) => ({
          Delete: { TableName: this.tableName, Key },
        })),
      ]);
    } catch (error) {
      logger.warn('Could not take back the parts of a broadcast whose item could not be written; they stay, unread', { tenantId, broadcastId: id, error: error as Error });
    }
  }

  /**
   * Withdrawn first (cancelled, out of the `due` index) by a conditional UpdateItem, unless its
   * fan-out started (the start sets `startedAt` in the write that leaves `scheduled`): nothing
   * starts a cancelled broadcast, so every part can then go in one unconditional BatchWriteItem. A
   * refused withdrawal reads the item once, to tell a broadcast that started from one not there.
   */
  async remove(broadcast: Pick<Broadcast, 'tenantId' | 'id' | 'audience'>): Promise<boolean> {
    const { tenantId, id, audience } = broadcast;
    const withdrawn = await this.update(tenantId, id, {
      UpdateExpression: 'SET #status = :cancelled REMOVE dueShard, dueAt',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(startedAt)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':cancelled': 'cancelled' },
    });
    if (!withdrawn && (await this.get(tenantId, id))) return false;
    const slices = audience.kind === 'recipients' ? Math.ceil(audience.count / sliceSizeOf(audience)) : 0;
    await batchDelete(this.db, this.tableName, [
      broadcastKey(tenantId, id),
      contentKey(tenantId, id),
      ...Array.from({ length: slices }, (_, slice) => sliceKey(tenantId, id, slice)),
    ]);
    return true;
  }

  async get(tenantId: string, id: string): Promise<Broadcast | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: broadcastKey(tenantId, id), ConsistentRead: true }),
    );
    return result.Item ? broadcastFromItem(result.Item) : undefined;
  }

  async getContent(tenantId: string, id: string): Promise<BroadcastContent | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: contentKey(tenantId, id), ConsistentRead: true }),
    );
    return result.Item ? contentFromItem(result.Item) : undefined;
  }

  async audienceSlice(tenantId: string, id: string, slice: number): Promise<readonly string[]> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: sliceKey(tenantId, id, slice), ConsistentRead: true }),
    );
    return (result.Item?.ids as string[] | undefined) ?? [];
  }

  async list(query: BroadcastListQuery): Promise<BroadcastListPage> {
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':tenantId': query.tenantId,
      ':first': broadcastIdBound(query.createdFrom ?? new Date(0), 'first'),
      ':last': broadcastIdBound(query.createdTo ?? new Date(2 ** 48 - 1), 'last'),
    };
    if (query.status) {
      filters.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = query.status;
    }
    if (query.createdBy) {
      filters.push('createdBy = :createdBy');
      values[':createdBy'] = query.createdBy;
    }
    const items: Broadcast[] = [];
    let startKey: Record<string, unknown> | undefined = query.olderThan
      ? { ...broadcastKey(query.tenantId, query.olderThan), tenantId: query.tenantId, id: query.olderThan }
      : undefined;
    for (let round = 0; round < maxListQueries && items.length < query.limit; round++) {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byTenant',
          KeyConditionExpression: 'tenantId = :tenantId AND id BETWEEN :first AND :last',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: query.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []).map(broadcastFromItem));
      startKey = page.LastEvaluatedKey;
      if (!startKey) break;
    }
    const last = startKey?.id;
    return { items, ...(typeof last === 'string' ? { olderThan: last } : {}) };
  }

  async schedule(tenantId: string, id: string, scheduledAt: Date, replacesPlan: boolean): Promise<Broadcast | undefined> {
    const due = broadcastDueAttributes(id, scheduledAt.toISOString());
    return this.update(tenantId, id, {
      // TIMEZONE and LOCALTIME are reserved words in expressions.
      UpdateExpression: `SET #status = :scheduled, scheduledAt = :at, dueShard = :dueShard, dueAt = :dueAt${replacesPlan ? ' REMOVE #timezone, #localTime' : ''}`,
      ConditionExpression: '#status = :draft',
      ExpressionAttributeNames: { '#status': 'status', ...(replacesPlan ? { '#timezone': 'timezone', '#localTime': 'localTime' } : {}) },
      ExpressionAttributeValues: {
        ':scheduled': 'scheduled',
        ':draft': 'draft',
        ':at': scheduledAt.toISOString(),
        ':dueShard': due.dueShard,
        ':dueAt': due.dueAt,
      },
    });
  }

  async revertToDraft(tenantId: string, id: string): Promise<void> {
    await this.update(tenantId, id, {
      UpdateExpression: 'SET #status = :draft REMOVE dueShard, dueAt',
      ConditionExpression: '#status = :scheduled',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':scheduled': 'scheduled', ':draft': 'draft' },
    });
  }

  async start(tenantId: string, id: string, at: Date): Promise<Broadcast | undefined> {
    return this.update(tenantId, id, {
      UpdateExpression: 'SET #status = :sending, startedAt = :at, phase = :resolving, page = :zero REMOVE #cursor, leaseUntil, claimToken, dueShard, dueAt',
      ConditionExpression: '#status = :scheduled',
      ExpressionAttributeNames: { '#status': 'status', '#cursor': 'cursor' },
      ExpressionAttributeValues: {
        ':sending': 'sending',
        ':scheduled': 'scheduled',
        ':resolving': 'resolving',
        ':zero': 0,
        ':at': at.toISOString(),
      },
    });
  }

  async cancel(tenantId: string, id: string, at: Date): Promise<Broadcast | undefined> {
    // A plain conditional write: the delivery workers read the status after claiming (the engine's
    // withdrawal), so nothing needs a transaction with the broadcast item in it.
    return this.update(tenantId, id, {
      UpdateExpression: 'SET #status = :cancelled, cancelledAt = :at REMOVE dueShard, dueAt',
      ConditionExpression: '#status IN (:draft, :scheduled, :sending)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':cancelled': 'cancelled',
        ':draft': 'draft',
        ':scheduled': 'scheduled',
        ':sending': 'sending',
        ':at': at.toISOString(),
      },
    });
  }

  async reopen(tenantId: string, id: string, _at: Date): Promise<Broadcast | undefined> {
    return this.update(tenantId, id, {
      UpdateExpression: 'SET #status = :sending, run = run + :one REMOVE completedAt, lastError',
      ConditionExpression: '#status IN (:completed, :failed) AND recipientsFailed > :zero',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':sending': 'sending', ':completed': 'completed', ':failed': 'failed', ':one': 1, ':zero': 0 },
    });
  }

  async claimPage(tenantId: string, id: string, page: number, now: Date, leaseUntil: Date): Promise<FanoutPageClaim | undefined> {
    const token = randomUUID();
    const result = await this.updateRaw(tenantId, id, {
      UpdateExpression: 'SET leaseUntil = :leaseUntil, claimToken = :token',
      ConditionExpression:
        '#status IN (:sending, :cancelled) AND phase = :resolving AND page = :page AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':sending': 'sending',
        ':cancelled': 'cancelled',
        ':resolving': 'resolving',
        ':page': page,
        ':now': now.getTime(),
        ':leaseUntil': leaseUntil.getTime(),
        ':token': token,
      },
    });
    if (!result) return undefined;
    const cursor = result.cursor;
    return { broadcast: broadcastFromItem(result), page, token, ...(typeof cursor === 'string' ? { cursor } : {}) };
  }

  async commitPage(claim: FanoutPageClaim, next: string | undefined): Promise<boolean> {
    const { tenantId, id } = claim.broadcast;
    const common = {
      ConditionExpression: 'claimToken = :token AND phase = :resolving AND page = :page',
      ExpressionAttributeNames: { '#cursor': 'cursor' },
    };
    const values = { ':token': claim.token, ':resolving': 'resolving', ':page': claim.page };
    const updated =
      next === undefined
        ? await this.updateRaw(tenantId, id, {
            ...common,
            UpdateExpression: 'SET phase = :counting REMOVE #cursor, leaseUntil, claimToken',
            ExpressionAttributeValues: { ...values, ':counting': 'counting' },
          })
        : await this.updateRaw(tenantId, id, {
            ...common,
            UpdateExpression: 'SET page = :next, #cursor = :cursor REMOVE leaseUntil, claimToken',
            ExpressionAttributeValues: { ...values, ':next': claim.page + 1, ':cursor': next },
          });
    return updated !== undefined;
  }

  async releasePage(claim: FanoutPageClaim): Promise<void> {
    await this.updateRaw(claim.broadcast.tenantId, claim.broadcast.id, {
      UpdateExpression: 'REMOVE leaseUntil, claimToken',
      ConditionExpression: 'claimToken = :token',
      ExpressionAttributeValues: { ':token': claim.token },
    });
  }

  async setTotal(tenantId: string, id: string, total: number): Promise<Broadcast | undefined> {
    return this.update(tenantId, id, {
      UpdateExpression: 'SET phase = :delivering, recipientsTotal = :total',
      ConditionExpression: 'phase = :counting',
      ExpressionAttributeValues: { ':delivering': 'delivering', ':counting': 'counting', ':total': total },
    });
  }

  async addCounts(tenantId: string, id: string, delta: BroadcastCountsDelta, lastError?: string): Promise<Broadcast | undefined> {
    const adds: string[] = [];
    const values: Record<string, unknown> = {};
    for (const key of ['sent', 'failed', 'cancelled', 'held'] as const) {
      const amount = delta[key];
      if (amount === undefined || amount === 0) continue;
      adds.push(`${counterAttributes[key]} :${key}`);
      values[`:${key}`] = amount;
    }
    const parts: string[] = [];
    if (lastError !== undefined) {
      parts.push('SET lastError = :lastError');
      values[':lastError'] = lastError;
    }
    if (adds.length > 0) parts.push(`ADD ${adds.join(', ')}`);
    if (parts.length === 0) return this.get(tenantId, id);
    return this.update(tenantId, id, {
      UpdateExpression: parts.join(' '),
      // Never bring a removed broadcast back as a bare counter item.
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: values,
    });
  }

  async correctCounts(seen: Broadcast, counts: Omit<BroadcastCounts, 'total'>): Promise<Broadcast | undefined> {
    return this.update(seen.tenantId, seen.id, {
      UpdateExpression: 'SET recipientsSent = :sent, recipientsFailed = :failed, recipientsCancelled = :cancelled',
      ConditionExpression: sameCounts,
      ExpressionAttributeValues: {
        ...seenCountValues(seen),
        ':sent': counts.sent,
        ':failed': counts.failed,
        ':cancelled': counts.cancelled,
      },
    });
  }

  async finish(seen: Broadcast, at: Date): Promise<Broadcast | undefined> {
    if (seen.status === 'cancelled') {
      return this.update(seen.tenantId, seen.id, {
        UpdateExpression: 'SET completedAt = :at',
        ConditionExpression: `#status = :cancelled AND attribute_not_exists(completedAt) AND phase = :delivering AND ${sameCounts}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...seenCountValues(seen), ':cancelled': 'cancelled', ':delivering': 'delivering', ':at': at.toISOString() },
      });
    }
    return this.update(seen.tenantId, seen.id, {
      // With nobody failed, an error met on the way (a fan-out page tried again, an earlier run) is history.
      UpdateExpression: `SET #status = :final, completedAt = :at${seen.counts.failed === 0 ? ' REMOVE lastError' : ''}`,
      ConditionExpression: `#status = :sending AND run = :run AND phase = :delivering AND ${sameCounts}`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ...seenCountValues(seen),
        ':sending': 'sending',
        ':delivering': 'delivering',
        ':run': seen.run,
        ':final': finalStatus(seen.counts),
        ':at': at.toISOString(),
      },
    });
  }

  async recordError(tenantId: string, id: string, error: string): Promise<void> {
    await this.update(tenantId, id, {
      UpdateExpression: 'SET lastError = :error',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':error': error },
    });
  }

  private async update(tenantId: string, id: string, update: Update): Promise<Broadcast | undefined> {
    const item = await this.updateRaw(tenantId, id, update);
    return item ? broadcastFromItem(item) : undefined;
  }

  /** Runs a conditional update; `undefined` when its condition did not hold. */
  private async updateRaw(tenantId: string, id: string, update: Update): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.db.send(
        new UpdateCommand({ TableName: this.tableName, Key: broadcastKey(tenantId, id), ReturnValues: 'ALL_NEW', ...update }),
      );
      return result.Attributes;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

const sameCounts =
  'recipientsTotal = :seenTotal AND recipientsSent = :seenSent AND recipientsFailed = :seenFailed AND recipientsCancelled = :seenCancelled';

function seenCountValues(seen: Broadcast): Record<string, number> {
  return {
    ':seenTotal': seen.counts.total,
    ':seenSent': seen.counts.sent,
    ':seenFailed': seen.counts.failed,
    ':seenCancelled': seen.counts.cancelled,
  };
}
