/**
 * The persistent in-app inbox in DynamoDB: one item per (recipient, notification) under
 * `pk` = tenant#recipient, and one counter item per recipient (sort key `#unread`), holding the
 * count (`unread`) and its version (`unreadVersion`): every write of the count adds 1 to the
 * version in the same `ADD`, so a greater version is always a later count.
 *
 * The count is exact under concurrency and repeats because it only ever moves in the same
 * transaction as the item it counts, on that item's condition: an add puts the item only if it
 * is not there yet (and only while the recipient is in the directory); a read flips the item only
 * if it is still unread. A repeated delivery or a repeated read fails its condition and the
 * whole transaction, counter included, does nothing.
 *
 * Listing goes through two indexes sorted by `arrivalKey` (deliveredAt#notificationId), so an
 * inbox reads newest arrival first: `byArrival` (every item) and the sparse `unread` (items
 * carrying `unreadKey`, removed when read). Read items get `expiresAt` (TTL); unread ones never.
 */
import { DeleteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inboxPosition } from '../domain/inbox.ts';
import type { UnreadCount } from '../domain/inbox.ts';
import { RecipientGoneError } from '../ports.ts';
import type { InboxItem, InboxPage, InboxPageQuery, InboxStore } from '../ports.ts';
import { batchDelete } from './dynamo-batch.ts';
import { recipientKey } from './dynamo-recipient-store.ts';
import { failedCondition, maxTransactItems, transactWrite } from './dynamo-transact.ts';
import type { TransactItems } from './dynamo-transact.ts';
import { keyPart } from './dynamo-keys.ts';
import { dataFromAttributes, dataToAttributes } from './dynamo-opaque-json.ts';

/** Sort key of a recipient's unread counter: item ids start with a letter or digit, never `#`. */
export const unreadCounterKey = '#unread';

/** The unread count and its version on a live item; an absent attribute (an item older than versions) reads 0. */
export function unreadCountFromItem(item: Record<string, unknown> | undefined): UnreadCount {
  return {
    unread: typeof item?.unread === 'number' ? item.unread : 0,
    unreadVersion: typeof item?.unreadVersion === 'number' ? item.unreadVersion : 0,
  };
}

/** The partition of a recipient's inbox. */
export function inboxPartition(tenantId: string, recipientId: string): string {
  return `${keyPart(tenantId)}#${keyPart(recipientId)}`;
}

/** Where an item sorts in the listing indexes: by arrival, then id. */
export function arrivalKeyOf(item: Pick<InboxItem, 'deliveredAt' | 'notificationId'>): string {
  return inboxPosition(item);
}

function idOfArrivalKey(arrivalKey: string): string {
  return arrivalKey.slice(arrivalKey.indexOf('#') + 1);
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function fromItem(item: Record<string, unknown>): InboxItem {
  const { pk: _pk, arrivalKey: _arrivalKey, unreadKey: _unreadKey, expiresAt: _expiresAt, ...stored } = item;
  const { data, rest } = dataFromAttributes(stored);
  return { ...(rest as unknown as InboxItem), ...(data !== undefined ? { data } : {}) };
}

/** The attributes of a new (unread) inbox item: its fields, `data` as JSON text, its index keys. */
export function inboxItemAttributes(item: InboxItem): Record<string, unknown> {
  const pk = inboxPartition(item.tenantId, item.recipientId);
  const { readAt: _readAt, data, ...fields } = item;
  return { pk, ...fields, ...dataToAttributes(data), arrivalKey: arrivalKeyOf(item), unreadKey: pk };
}

export class DynamoInboxStore implements InboxStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly recipientsTable: () => string;

  /** `recipientsTable` is read on first add only: functions that never add need no access to it. */
  constructor(db: DynamoDBDocumentClient, tableName: string, recipientsTable: () => string) {
    this.db = db;
    this.tableName = tableName;
    this.recipientsTable = recipientsTable;
  }

  async add(item: InboxItem): Promise<boolean> {
    const pk = inboxPartition(item.tenantId, item.recipientId);
    const result = await transactWrite(this.db, [
      {
        ConditionCheck: {
          TableName: this.recipientsTable(),
          Key: recipientKey(item.tenantId, item.recipientId),
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: inboxItemAttributes(item),
          ConditionExpression: 'attribute_not_exists(notificationId)',
        },
      },
      this.countBy(pk, 1),
    ]);
    if (result.ok) return true;
    if (failedCondition(result, 1)) return false;
    throw new RecipientGoneError(item.tenantId, item.recipientId);
  }

  async list(tenantId: string, recipientId: string): Promise<InboxItem[]> {
    const items: InboxItem[] = [];
    let after: string | undefined;
    do {
      const page = await this.page(tenantId, recipientId, { unreadOnly: false, limit: 100, ...(after ? { after } : {}) });
      items.push(...page.items);
      after = page.after;
    } while (after);
    return items;
  }

  async page(tenantId: string, recipientId: string, query: InboxPageQuery): Promise<InboxPage> {
    const pk = inboxPartition(tenantId, recipientId);
    const partitionAttribute = query.unreadOnly ? 'unreadKey' : 'pk';
    const startKey = query.after
      ? { [partitionAttribute]: pk, pk, arrivalKey: query.after, notificationId: idOfArrivalKey(query.after) }
      : undefined;
    // One more than asked: whether there is a next page is then known, not guessed.
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: query.unreadOnly ? 'unread' : 'byArrival',
        KeyConditionExpression: '#partition = :pk',
        ExpressionAttributeNames: { '#partition': partitionAttribute },
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        Limit: query.limit + 1,
        ExclusiveStartKey: startKey,
      }),
    );
    const found = result.Items ?? [];
    const items = found.slice(0, query.limit);
    const more = found.length > query.limit || (result.LastEvaluatedKey !== undefined && items.length > 0);
    const last = items[items.length - 1];
    return { items: items.map(fromItem), ...(more && last ? { after: String(last.arrivalKey) } : {}) };
  }

  async unreadCount(tenantId: string, recipientId: string): Promise<UnreadCount> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: inboxPartition(tenantId, recipientId), notificationId: unreadCounterKey },
        ConsistentRead: true,
        ProjectionExpression: 'unread, unreadVersion',
      }),
    );
    const count = unreadCountFromItem(result.Item);
    return { ...count, unread: Math.max(0, count.unread) };
  }

  async markRead(
    tenantId: string,
    recipientId: string,
    id: string,
    at: Date,
    expiresAt: Date,
  ): Promise<'read' | 'alreadyRead' | 'missing'> {
    if (id === unreadCounterKey) return 'missing';
    const pk = inboxPartition(tenantId, recipientId);
    // Read first: an item that is not there, or already read, is answered without a write.
    const found = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, notificationId: id }, ConsistentRead: true, ProjectionExpression: 'pk, unreadKey' }),
    );
    if (!found.Item) return 'missing';
    if (found.Item.unreadKey === undefined) return 'alreadyRead';
    const result = await transactWrite(this.db, [this.flipToRead(pk, id, at, expiresAt), this.countBy(pk, -1)]);
    // Read by someone else in between (the flip's condition failed): already read.
    return result.ok ? 'read' : 'alreadyRead';
  }

  async markManyRead(tenantId: string, recipientId: string, ids: readonly string[], at: Date, expiresAt: Date): Promise<number> {
    const pk = inboxPartition(tenantId, recipientId);
    let read = 0;
    const candidates = ids.filter((id) => id !== unreadCounterKey);
    for (let start = 0; start < candidates.length; start += maxTransactItems - 1) {
      let chunk = candidates.slice(start, start + maxTransactItems - 1);
      // Items read meanwhile fail their condition: drop them and flip the rest.
      while (chunk.length > 0) {
        const flips: TransactItems = chunk.map((id) => this.flipToRead(pk, id, at, expiresAt));
        const result = await transactWrite(this.db, [...flips, this.countBy(pk, -chunk.length)]);
        if (result.ok) {
          read += chunk.length;
          break;
        }
        chunk = chunk.filter((_, index) => !failedCondition(result, index));
      }
    }
    return read;
  }

  async removeAll(tenantId: string, recipientId: string): Promise<number> {
    const pk = inboxPartition(tenantId, recipientId);
    let removed = 0;
    let counterFound = false;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ProjectionExpression: 'pk, notificationId',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = (page.Items ?? []).filter((key) => key.notificationId !== unreadCounterKey);
      counterFound ||= keys.length < (page.Items ?? []).length;
      await batchDelete(this.db, this.tableName, keys);
      removed += keys.length;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // The counter goes last: an erasure interrupted before it leaves a count, never lost items.
    // (Only when there is one: erasing nothing writes nothing.)
    if (counterFound) await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { pk, notificationId: unreadCounterKey } }));
    return removed;
  }

  private flipToRead(pk: string, id: string, at: Date, expiresAt: Date): TransactItems[number] {
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk, notificationId: id },
        UpdateExpression: 'SET readAt = :at, expiresAt = :expiresAt REMOVE unreadKey',
        ConditionExpression: 'attribute_exists(unreadKey)',
        ExpressionAttributeValues: { ':at': at.toISOString(), ':expiresAt': epochSeconds(expiresAt) },
      },
    };
  }

  /** The counter's move by `delta`, its version one up in the same write. */
  private countBy(pk: string, delta: number): TransactItems[number] {
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk, notificationId: unreadCounterKey },
        UpdateExpression: 'ADD unread :delta, unreadVersion :one',
        ExpressionAttributeValues: { ':delta': delta, ':one': 1 },
      },
    };
  }
}
