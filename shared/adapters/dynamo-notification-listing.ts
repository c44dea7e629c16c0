/**
 * Listing notifications newest first from the table's indexes, never a scan:
 * - a recipient's: `byRecipient` (one partition per recipient);
 * - a creator's: `byCreator`, and a whole tenant's: `byTenant`, both write-sharded over
 *   LISTING_INDEX_SHARDS partitions, because one tenant (or one sending service) would otherwise
 *   put every notification write into one index partition (1,000 writes/s). A page queries every
 *   shard and merges them.
 *
 * Ids sort by creation time, so the sort key serves both "newest first" and the `from`/`to`
 * range (a key condition). Status, type and creator are FilterExpressions: DynamoDB applies them
 * after reading, so a page may hold fewer than `limit` items (even none) and still have a next
 * page; each shard reads at most `maxRoundsPerShard` query pages per request.
 *
 * The position between pages is one id: every item older than it is yet to be listed. A shard
 * that stopped reading early (its last evaluated key) bounds what the page may return, so no item
 * is skipped or listed twice across pages, however the shards interleave.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LISTING_INDEX_SHARDS } from '../../lib/app-description.ts';
import { notificationIdBound } from '../domain/ids.ts';
import type { Notification } from '../domain/notification.ts';
import type { NotificationListing, NotificationListPage, NotificationListQuery } from '../ports.ts';
import { creatorListingKey, notificationFromItem, recipientListingKey, tenantListingKey } from './dynamo-notification-store.ts';

/** Ids are `ntf_` + 26 Crockford characters: these bound every one of them. */
const lowestId = 'ntf_';
const highestId = 'ntf_~';

/** What one shard gave: its matching items, newest first, and where it stopped if not at its end. */
export interface ShardRead {
  readonly items: readonly Notification[];
  readonly lastEvaluatedId?: string;
}

/**
 * Merges shard reads into one page, newest first. Items below the highest point where a shard
 * stopped are held back (another shard may have unread items above them): the next page starts
 * there instead.
 */
export function mergeNewestFirst(reads: readonly ShardRead[], limit: number): NotificationListPage {
  const stops = reads.flatMap((read) => (read.lastEvaluatedId === undefined ? [] : [read.lastEvaluatedId]));
  const frontier = stops.length > 0 ? stops.reduce((a, b) => (a > b ? a : b)) : undefined;
  const candidates = reads
    .flatMap((read) => read.items)
    .filter((n) => frontier === undefined || n.id >= frontier)
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const items = candidates.slice(0, limit);
  const last = items.at(-1);
  if (candidates.length > limit && last) return { items, olderThan: last.id };
  if (frontier !== undefined) return { items, olderThan: items.length === limit && last ? last.id : frontier };
  return { items };
}

interface ListingTarget {
  readonly indexName: string;
  readonly keyAttribute: string;
  readonly partitions: readonly string[];
}

function targetOf(query: NotificationListQuery): ListingTarget {
  const shards = Array.from({ length: LISTING_INDEX_SHARDS }, (_, shard) => shard);
  switch (query.scope.kind) {
    case 'recipient':
      return {
        indexName: 'byRecipient',
        keyAttribute: 'recipientKey',
        partitions: [recipientListingKey(query.tenantId, query.scope.recipientId)],
      };
    case 'creator': {
      const { createdBy } = query.scope;
      return {
        indexName: 'byCreator',
        keyAttribute: 'creatorKey',
        partitions: shards.map((shard) => creatorListingKey(query.tenantId, createdBy, shard)),
      };
    }
    case 'tenant':
      return {
        indexName: 'byTenant',
        keyAttribute: 'tenantKey',
        partitions: shards.map((shard) => tenantListingKey(query.tenantId, shard)),
      };
  }
}

interface Filter {
  readonly expression?: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

function filterOf(query: NotificationListQuery): Filter {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (query.status !== undefined) {
    conditions.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = query.status;
  }
  if (query.type !== undefined) {
    conditions.push('#type = :type');
    names['#type'] = 'type';
    values[':type'] = query.type;
  }
  if (query.scope.kind === 'recipient' && query.scope.createdBy !== undefined) {
    conditions.push('createdBy = :createdBy');
    values[':createdBy'] = query.scope.createdBy;
  }
  return { ...(conditions.length > 0 ? { expression: conditions.join(' AND ') } : {}), names, values };
}

export interface DynamoNotificationListingOptions {
  /**
   * Query pages each shard may read for one listing page (each up to 1 MB).
   * @default 5
   */
  readonly maxRoundsPerShard?: number;
  /**
   * Items a filtered query evaluates per round (DynamoDB applies `Limit` before the filter).
   * @default 200
   */
  readonly filteredReadSize?: number;
}

export class DynamoNotificationListing implements NotificationListing {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly maxRoundsPerShard: number;
  private readonly filteredReadSize: number;

  constructor(db: DynamoDBDocumentClient, tableName: string, options: DynamoNotificationListingOptions = {}) {
    this.db = db;
    this.tableName = tableName;
    this.maxRoundsPerShard = options.maxRoundsPerShard ?? 5;
    this.filteredReadSize = options.filteredReadSize ?? 200;
  }

  async list(query: NotificationListQuery): Promise<NotificationListPage> {
    const low = query.createdFrom ? notificationIdBound(query.createdFrom, 'first') : lowestId;
    let high = query.createdTo ? notificationIdBound(query.createdTo, 'last') : highestId;
    // The previous page's last id is inclusive here (BETWEEN); it is dropped from what is read.
    if (query.olderThan !== undefined && query.olderThan < high) high = query.olderThan;
    if (low > high) return { items: [] };

    const target = targetOf(query);
    const filter = filterOf(query);
    const reads = await Promise.all(
      target.partitions.map((partition) => this.readShard(target, partition, { low, high, filter, query })),
    );
    return mergeNewestFirst(reads, query.limit);
  }

  private async readShard(
    target: ListingTarget,
    partition: string,
    range: { low: string; high: string; filter: Filter; query: NotificationListQuery },
  ): Promise<ShardRead> {
    const { low, high, filter, query } = range;
    const items: Notification[] = [];
    let startKey: Record<string, unknown> | undefined;
    let rounds = 0;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: target.indexName,
          KeyConditionExpression: '#partition = :partition AND id BETWEEN :low AND :high',
          ...(filter.expression ? { FilterExpression: filter.expression } : {}),
          ExpressionAttributeNames: { '#partition': target.keyAttribute, ...filter.names },
          ExpressionAttributeValues: { ':partition': partition, ':low': low, ':high': high, ...filter.values },
          ScanIndexForward: false,
          // One more than needed: the previous page's last item may be among them.
          Limit: filter.expression ? this.filteredReadSize : query.limit - items.length + 1,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.id !== query.olderThan) items.push(notificationFromItem(item));
      }
      startKey = page.LastEvaluatedKey;
      rounds++;
    } while (startKey && items.length < query.limit && rounds < this.maxRoundsPerShard);
    return { items, ...(startKey ? { lastEvaluatedId: String(startKey.id) } : {}) };
  }
}
