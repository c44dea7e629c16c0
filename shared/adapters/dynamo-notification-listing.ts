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
 * The three indexes hold the keys and the two filters set at creation, `type` and `createdBy`
 * (`INCLUDE`): the claim and the commit of a notification change none of it, so they write none of
 * them, 6 index writes fewer per notification. Those two filters are FilterExpressions on the
 * index query, applied after `Limit`. The items are read from the table with BatchGetItem
 * (strongly consistent: the status listed is the current one, not the index's):
 * - without a status filter, the shards' keys are merged first and only the page's items are
 *   read, in one call;
 * - with one, each query page of keys is followed by a read of its items, which are tested.
 * With any filter a page may hold fewer than `limit` items (even none) and still have a next
 * page; each shard reads at most `maxRoundsPerShard` query pages per request. An item the index
 * still lists but the table no longer holds (deleted in between) is left out, so a page may be
 * short by it.
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

/** What one shard gave: its matching entries (items, or listed keys), newest first, and where it stopped if not at its end. */
export interface ShardRead<T extends { readonly id: string } = Notification> {
  readonly items: readonly T[];
  readonly lastEvaluatedId?: string;
}

/**
 * Merges shard reads into one page, newest first. Entries below the highest point where a shard
 * stopped are held back (another shard may have unread ones above them): the next page starts
 * there instead.
 */
export function mergeNewestFirst<T extends { readonly id: string }>(reads: readonly ShardRead<T>[], limit: number): { readonly items: T[]; readonly olderThan?: string } {
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

/** A notification the index listed: its id and its item's table key. */
interface ListedKey {
  readonly id: string;
  readonly pk: unknown;
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

/** A FilterExpression of the query's filters the index holds (type, creator), if any. */
interface IndexFilter {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

/**
 * The type and creator filters, which the listing indexes project (set at creation, never
 * changed): a FilterExpression on the index query, as DynamoDB applies after `Limit`.
 */
function indexFilterOf(query: NotificationListQuery): IndexFilter | undefined {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (query.type !== undefined) {
    conditions.push('#type = :type');
    names['#type'] = 'type';
    values[':type'] = query.type;
  }
  if (query.scope.kind === 'recipient' && query.scope.createdBy !== undefined) {
    conditions.push('createdBy = :createdBy');
    values[':createdBy'] = query.scope.createdBy;
  }
  return conditions.length > 0 ? { expression: conditions.join(' AND '), names, values } : undefined;
}

export interface DynamoNotificationListingOptions {
  /**
   * Query pages each shard may read for one listing page (each up to 1 MB).
   * @default 5
   */
  readonly maxRoundsPerShard?: number;
  /**
   * Index entries a filtered listing evaluates per round (DynamoDB applies `Limit` before the
   * FilterExpression; with a status filter, the items of the keys are then read and tested).
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
    const filter = indexFilterOf(query);
    const range = { low, high, query, filter };
    const { status } = query;
    if (status === undefined) {
      // The page is known from the keys alone: the shards' keys are merged first and only the
      // page's items are read, in one BatchGetItem.
      const reads = await Promise.all(target.partitions.map((partition) => this.readShard(target, partition, range, async (keys) => keys)));
      const page = mergeNewestFirst(reads, query.limit);
      const items = (await this.itemsOf(page.items)).map(notificationFromItem);
      return { items, ...(page.olderThan !== undefined ? { olderThan: page.olderThan } : {}) };
    }
    // The status changes with every claim and commit, so the index does not hold it: each page of
    // keys is followed by a read of its items, which are tested.
    const reads = await Promise.all(
      target.partitions.map((partition) =>
        this.readShard(target, partition, range, async (keys) =>
          (await this.itemsOf(keys)).map(notificationFromItem).filter((n) => n.status === status),
        ),
      ),
    );
    return mergeNewestFirst(reads, query.limit);
  }

  /**
   * Reads one shard's keys newest first, page by page, turning each page of keys into entries
   * with `take` (the keys themselves, or their items that pass the status filter), until `limit`
   * entries or `maxRoundsPerShard` pages. A page asks for `filteredReadSize` keys when a filter
   * applies after it (the index filter, or the items' status), else one more than the entries
   * still missing (the previous page's last id may be among them).
   */
  private async readShard<T extends { readonly id: string }>(
    target: ListingTarget,
    partition: string,
    range: { low: string; high: string; query: NotificationListQuery; filter: IndexFilter | undefined },
    take: (keys: readonly ListedKey[]) => Promise<readonly T[]>,
  ): Promise<ShardRead<T>> {
    const { low, high, query, filter } = range;
    const filtered = filter !== undefined || query.status !== undefined;
    const entries: T[] = [];
    let startKey: Record<string, unknown> | undefined;
    let rounds = 0;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: target.indexName,
          KeyConditionExpression: '#partition = :partition AND id BETWEEN :low AND :high',
          ...(filter ? { FilterExpression: filter.expression } : {}),
          ExpressionAttributeNames: { '#partition': target.keyAttribute, ...filter?.names },
          ExpressionAttributeValues: { ':partition': partition, ':low': low, ':high': high, ...filter?.values },
          ScanIndexForward: false,
          Limit: filtered ? this.filteredReadSize : query.limit - entries.length + 1,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      const keys = (page.Items ?? []).filter((key) => key.id !== query.olderThan).map((key) => ({ id: String(key.id), pk: key.pk }));
      entries.push(...(await take(keys)));
      startKey = page.LastEvaluatedKey;
      rounds++;
    } while (startKey && entries.length < query.limit && rounds < this.maxRoundsPerShard);
    return { items: entries, ...(startKey ? { lastEvaluatedId: String(startKey.id) } : {}) };
  }

  /** The items of the listed keys, in the keys' order; those the table no longer holds are left out. */
  private async itemsOf(keys: readonly ListedKey[]): Promise<Record<string, unknown>[]> {
    if (keys.length === 0) return [];
    const found = new Map((await batchGet(this.db, this.tableName, keys.map((key) => ({ pk: key.pk })))).map((item) => [item.pk, item]));
    return keys.flatMap((key) => {
      const item = found.get(key.pk);
      return item ? [item] : [];
    });
  }
}
