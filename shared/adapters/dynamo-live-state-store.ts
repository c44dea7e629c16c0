/**
 * What is live about a recipient, on one item of the inbox table (its unread counter,
 * sort key `#unread`): the count (`unread`) and its version (`unreadVersion`, which every write
 * of the count adds 1 to; absent on items written before it existed, read as 0), and one attribute
 * per open WebSocket connection (`conn:<connectionId>` = when it connected), counted by
 * `connectionCount`. One read gives a delivery both; `$connect` and `$disconnect` add or remove one
 * attribute with one UpdateItem, no read, which moves the count in the same write: a connect is
 * conditioned on the count being under the limit, so the limit holds under concurrent connects
 * without a read. The user's push targets
 * live there too, one attribute each (`push:<id>` = the target as JSON), so the read a delivery
 * makes of the item gives the push channel its targets as well.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LiveConnection, LiveState } from '../domain/delivery.ts';
import type { PushDevice, WebPushSubscription } from '../domain/push-targets.ts';
import { logger } from '../observability/logger.ts';
import type { ConnectOutcome, LiveStateStore, PushTargetList, PushTargetStore } from '../ports.ts';
import { inboxPartition, unreadCountFromItem, unreadCounterKey } from './dynamo-inbox-store.ts';

/** Prefix of the attributes naming open connections on the live item. */
export const connectionAttributePrefix = 'conn:';

/**
 * The attribute counting the `conn:` attributes of a live item (a number; absent is 0), moved by
 * every write that adds or removes one, so that a connect can be conditioned on it.
 */
export const connectionCountAttribute = 'connectionCount';

/** The most connections one forgetting UpdateItem names: its expressions stay far below DynamoDB's 4 KB. */
const forgetChunk = 50;

/** The key of a recipient's live item in the inbox table. */
export function liveKey(tenantId: string, recipientId: string): { pk: string; notificationId: string } {
  return { pk: inboxPartition(tenantId, recipientId), notificationId: unreadCounterKey };
}

/** Prefix of the attributes holding push targets on the live item. */
export const pushTargetAttributePrefix = 'push:';

/** The live state an item of the inbox table (a counter item) holds; nothing when absent. */
export function liveStateFromItem(item: Record<string, unknown> | undefined): LiveState {
  if (!item) return { unread: 0, unreadVersion: 0, connections: [] };
  const connections: LiveConnection[] = [];
  const pushSubscriptions: WebPushSubscription[] = [];
  const devices: PushDevice[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(connectionAttributePrefix) && typeof value === 'string') {
      connections.push({ connectionId: name.slice(connectionAttributePrefix.length), connectedAt: value });
    } else if (name.startsWith(pushTargetAttributePrefix) && typeof value === 'string') {
      const target = JSON.parse(value) as WebPushSubscription | PushDevice;
      if ('endpoint' in target) pushSubscriptions.push(target);
      else devices.push(target);
    }
  }
  const byAge = (a: { createdAt: string }, b: { createdAt: string }): number => a.createdAt.localeCompare(b.createdAt);
  return {
    ...unreadCountFromItem(item),
    connections,
    ...(pushSubscriptions.length > 0 ? { pushSubscriptions: pushSubscriptions.sort(byAge) } : {}),
    ...(devices.length > 0 ? { devices: devices.sort(byAge) } : {}),
  };
}

export class DynamoLiveStateStore implements LiveStateStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async get(tenantId: string, recipientId: string): Promise<LiveState> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: liveKey(tenantId, recipientId), ConsistentRead: true }));
    return liveStateFromItem(result.Item);
  }

  async connect(tenantId: string, userId: string, connection: LiveConnection, maxConnections: number): Promise<ConnectOutcome> {
    const key = liveKey(tenantId, userId);
    let written: Record<string, unknown> | undefined;
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #connection = :connectedAt ADD #count :one',
          // The limit, in the write that takes the place: two connects at once cannot both take the last one.
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
          ExpressionAttributeNames: { '#connection': `${connectionAttributePrefix}${connection.connectionId}`, '#count': connectionCountAttribute },
          ExpressionAttributeValues: { ':connectedAt': connection.connectedAt, ':one': 1, ':max': maxConnections },
          // The item as written, in the same call: the caller sees which recorded connections are past their age.
          ReturnValues: 'ALL_NEW',
        }),
      );
      written = result.Attributes;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      // Refused: the state as it is, so the caller can forget the expired ones and try again.
      const found = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      return { recorded: false, live: liveStateFromItem(found.Item) };
    }
    const live = liveStateFromItem(written);
    await this.recount(key, written, live.connections.length);
    if (live.connections.length > maxConnections) {
      // A count that had drifted below the connections listed (an item written before the count
      // existed) let this one through: the limit holds all the same, and the place is given back.
      // If that fails, it is refused all the same, and holds the place until it is forgotten as
      // expired (2 hours), or as gone when a delivery's post to it answers 410.
      await this.forget(tenantId, userId, [connection.connectionId]).catch((error: unknown) => {
        logger.warn('Could not forget a connection refused past the limit; it holds a place until it expires', { tenantId, error: error as Error });
      });
      return { recorded: false, live: { ...live, connections: live.connections.filter((c) => c.connectionId !== connection.connectionId) } };
    }
    return { recorded: true, live };
  }

  /**
   * Sets the count to the connections the item lists when the two disagree: an item written before
   * the count existed, or a connection id recorded twice. Conditioned on the count as read, so a
   * concurrent connect or forget (which moved it) wins; best effort, the next connect tries again.
   */
  private async recount(key: Record<string, string>, item: Record<string, unknown> | undefined, listed: number): Promise<void> {
    const counted = item?.[connectionCountAttribute];
    if (typeof counted !== 'number' || counted === listed) return;
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #count = :listed',
          ConditionExpression: '#count = :counted',
          ExpressionAttributeNames: { '#count': connectionCountAttribute },
          ExpressionAttributeValues: { ':listed': listed, ':counted': counted },
        }),
      )
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      });
  }

  async forgetConnections(tenantId: string, userId: string, connectionIds: readonly string[]): Promise<void> {
    for (let i = 0; i < connectionIds.length; i += forgetChunk) {
      const chunk = connectionIds.slice(i, i + forgetChunk);
      // Usually every one named is still there: one UpdateItem for them all.
      if (await this.forget(tenantId, userId, chunk)) continue;
      if (chunk.length > 1) for (const id of chunk) await this.forget(tenantId, userId, [id]);
    }
  }

  /**
   * Removes the named connections and takes them off the count, only if every one of them is there
   * (so the count moves by exactly what was removed); false when any was not (forgotten already,
   * or the item gone with an erasure, which this must not bring back).
   */
  private async forget(tenantId: string, userId: string, connectionIds: readonly string[]): Promise<boolean> {
    const names: Record<string, string> = { '#count': connectionCountAttribute };
    connectionIds.forEach((id, i) => (names[`#c${i}`] = `${connectionAttributePrefix}${id}`));
    const refs = connectionIds.map((_, i) => `#c${i}`);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: liveKey(tenantId, userId),
          UpdateExpression: `REMOVE ${refs.join(', ')} ADD #count :minus`,
          ConditionExpression: refs.map((ref) => `attribute_exists(${ref})`).join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':minus': -connectionIds.length },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      return false;
    }
  }
}

/**
 * The users' push targets on their live items: one attribute per target, written and removed by
 * one UpdateItem each. Registering past the limit drops the oldest in the same update.
 */
export class DynamoPushTargetStore implements PushTargetStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async list(tenantId: string, userId: string): Promise<PushTargetList> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: liveKey(tenantId, userId), ConsistentRead: true }));
    const live = liveStateFromItem(result.Item);
    return { subscriptions: live.pushSubscriptions ?? [], devices: live.devices ?? [] };
  }

  async add(tenantId: string, userId: string, target: WebPushSubscription | PushDevice, max: number): Promise<readonly (WebPushSubscription | PushDevice)[]> {
    const current = await this.list(tenantId, userId);
    const same: readonly (WebPushSubscription | PushDevice)[] = 'endpoint' in target ? current.subscriptions : current.devices;
    const others = same.filter((t) => t.id !== target.id);
    const dropped = others.slice(0, Math.max(0, others.length + 1 - max));
    const names: Record<string, string> = { '#t': `${pushTargetAttributePrefix}${target.id}` };
    dropped.forEach((d, i) => (names[`#d${i}`] = `${pushTargetAttributePrefix}${d.id}`));
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: liveKey(tenantId, userId),
        UpdateExpression: `SET #t = :target${dropped.length > 0 ? ` REMOVE ${dropped.map((_, i) => `#d${i}`).join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':target': JSON.stringify(target) },
      }),
    );
    return dropped;
  }

  async remove(tenantId: string, userId: string, id: string): Promise<WebPushSubscription | PushDevice | undefined> {
    // Read first: a request naming nothing the user has writes nothing (not even a refused update).
    const current = await this.list(tenantId, userId);
    if (![...current.subscriptions, ...current.devices].some((t) => t.id === id)) return undefined;
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: liveKey(tenantId, userId),
          UpdateExpression: 'REMOVE #t',
          ConditionExpression: 'attribute_exists(#t)',
          ExpressionAttributeNames: { '#t': `${pushTargetAttributePrefix}${id}` },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const old = result.Attributes?.[`${pushTargetAttributePrefix}${id}`];
      return typeof old === 'string' ? (JSON.parse(old) as WebPushSubscription | PushDevice) : undefined;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  async forget(tenantId: string, userId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const names = Object.fromEntries(ids.map((id, i) => [`#t${i}`, `${pushTargetAttributePrefix}${id}`]));
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: liveKey(tenantId, userId),
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ExpressionAttributeNames: names,
          // Only where the item exists: an erased recipient's item must not come back empty.
          ConditionExpression: 'attribute_exists(pk)',
        }),
      )
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      });
  }
}
