/**
 * What is live about a recipient, on one item of the inbox table (its unread counter,
 * sort key `#unread`): the count (`unread`) and its version (`unreadVersion`, which every write
 * of the count adds 1 to; absent on items written before it existed, read as 0), and one attribute per open WebSocket connection
 * (`conn:<connectionId>` = when it connected). One read gives a delivery both; `$connect` and
 * `$disconnect` add or remove one attribute with one UpdateItem, no read. The user's push targets
 * live there too, one attribute each (`push:<id>` = the target as JSON), so the read a delivery
 * makes of the item gives the push channel its targets as well.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LiveConnection, LiveState } from '../domain/delivery.ts';
import type { PushDevice, WebPushSubscription } from '../domain/push-targets.ts';
import type { LiveStateStore, PushTargetList, PushTargetStore } from '../ports.ts';
import { inboxPartition, unreadCountFromItem, unreadCounterKey } from './dynamo-inbox-store.ts';

/** Prefix of the attributes naming open connections on the live item. */
export const connectionAttributePrefix = 'conn:';

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

  async connect(tenantId: string, userId: string, connection: LiveConnection): Promise<LiveState> {
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: liveKey(tenantId, userId),
        UpdateExpression: 'SET #connection = :connectedAt',
        ExpressionAttributeNames: { '#connection': `${connectionAttributePrefix}${connection.connectionId}` },
        ExpressionAttributeValues: { ':connectedAt': connection.connectedAt },
        // The item as written, in the same call: the caller sees which recorded connections are past their age.
        ReturnValues: 'ALL_NEW',
      }),
    );
    return liveStateFromItem(result.Attributes);
  }

  async forgetConnections(tenantId: string, userId: string, connectionIds: readonly string[]): Promise<void> {
    if (connectionIds.length === 0) return;
    const names = Object.fromEntries(connectionIds.map((id, i) => [`#c${i}`, `${connectionAttributePrefix}${id}`]));
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: liveKey(tenantId, userId),
        UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
        ExpressionAttributeNames: names,
        // Only where the item exists: an erased recipient's item must not come back empty.
        ConditionExpression: 'attribute_exists(pk)',
      }),
    ).catch((error: unknown) => {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    });
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
