/**
 * Listing notifications newest first from the table's indexes, never a scan:
 * - a recipient's: `byRecipient` (one partition per recipient);
 * - a creator's: `byCreator`, and a whole tenant's: `byTenant`, both write-sharded over
 *   LISTING_INDEX_SHARDS partitions, because one tenant (or one sending service) would otherwise
 *   put every notification write into one index partition (1,000 writes/s). A page queries every
 *   shard and merges them.
 *
 * Ids sort by creation time, so the sort key serves both "newest first" and the `from`/`to`
 * range (a key condition).
 *
 * The three indexes hold keys only (`KEYS_ONLY`): the claim and the commit of a notification then
 * write none of them, 6 index writes fewer per notification. So each query page of keys is
 * followed by a BatchGetItem of its items (strongly consistent: the status listed is the current
 * one, not the index's), and status, type and creator are tested on the items read. As with a
 * FilterExpression, a page may then hold fewer than `limit` items (even none) and still have a
 * next page; each shard reads at most `maxRoundsPerShard` query pages per request. An item the
 * index still lists but the table no longer holds (deleted in between) is left out.
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
import { batchGet } from './dynamo-batch.ts';
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

/** Whether a notification passes the query's filters (status, type, and a recipient's listing by creator). */
function matchesFilters(query: NotificationListQuery): ((n: Notification) => boolean) | undefined {
  const createdBy = query.scope.kind === 'recipient' ? query.scope.createdBy : undefined;
  if (query.status === undefined && query.type === undefined && createdBy === undefined) return undefined;
  return (n) =>
    (query.status === undefined || n.status === query.status) &&
    (query.type === undefined || n.type === query.type) &&
    (createdBy === undefined || n.createdBy === createdBy);
}

export interface DynamoNotificationListingOptions {
  /**
   * Query pages each shard may read for one listing page (each up to 1 MB).
   * @default 5
   */
  readonly maxRoundsPerShard?: number;
  /**
   * Keys a filtered listing reads per round, whose items it then reads and filters.
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
    const filter = matchesFilters(query);
    const reads = await Promise.all(
      target.partitions.map((partition) => this.readShard(target, partition, { low, high, filter, query })),
    );
    return mergeNewestFirst(reads, query.limit);
  }

  private async readShard(
    target: ListingTarget,
    partition: string,
    range: { low: string; high: string; filter: ((n: Notification) => boolean) | undefined; query: NotificationListQuery },
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
          ExpressionAttributeNames: { '#partition': target.keyAttribute },
          ExpressionAttributeValues: { ':partition': partition, ':low': low, ':high': high },
          ScanIndexForward: false,
          // One more than needed: the previous page's last item may be among them.
          Limit: filter ? this.filteredReadSize : query.limit - items.length + 1,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      const keys = (page.Items ?? []).filter((key) => key.id !== query.olderThan);
      for (const item of await this.itemsOf(keys)) {
        const notification = notificationFromItem(item);
        if (!filter || filter(notification)) items.push(notification);
      }
      startKey = page.LastEvaluatedKey;
      rounds++;
    } while (startKey && items.length < query.limit && rounds < this.maxRoundsPerShard);
    return { items, ...(startKey ? { lastEvaluatedId: String(startKey.id) } : {}) };
  }

  /** The items of the listed keys, in the keys' order; those the table no longer holds are left out. */
  private async itemsOf(keys: readonly Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    if (keys.length === 0) return [];
    const found = new Map((await batchGet(this.db, this.tableName, keys.map((key) => ({ pk: key.pk })))).map((item) => [item.pk, item]));
    return keys.flatMap((key) => {
      const item = found.get(key.pk);
      return item ? [item] : [];
    });
  }
}
