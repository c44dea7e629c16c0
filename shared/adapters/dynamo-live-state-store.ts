/**
 * What is live about a recipient, on one item of the inbox table (its unread counter,
 * sort key `#unread`): the count, and one attribute per open WebSocket connection
 * (`conn:<connectionId>` = when it connected). One read gives a delivery both; `$connect` and
 * `$disconnect` add or remove one attribute with one UpdateItem, no read.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LiveConnection, LiveState } from '../domain/delivery.ts';
import type { LiveStateStore } from '../ports.ts';
import { inboxPartition, unreadCounterKey } from './dynamo-inbox-store.ts';

/** Prefix of the attributes naming open connections on the live item. */
export const connectionAttributePrefix = 'conn:';

/** The key of a recipient's live item in the inbox table. */
export function liveKey(tenantId: string, recipientId: string): { pk: string; notificationId: string } {
  return { pk: inboxPartition(tenantId, recipientId), notificationId: unreadCounterKey };
}

/** The live state an item of the inbox table (a counter item) holds; nothing when absent. */
export function liveStateFromItem(item: Record<string, unknown> | undefined): LiveState {
  if (!item) return { unread: 0, connections: [] };
  const connections: LiveConnection[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(connectionAttributePrefix) && typeof value === 'string') {
      connections.push({ connectionId: name.slice(connectionAttributePrefix.length), connectedAt: value });
    }
  }
  return { unread: typeof item.unread === 'number' ? item.unread : 0, connections };
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

  async connect(tenantId: string, userId: string, connection: LiveConnection): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: liveKey(tenantId, userId),
        UpdateExpression: 'SET #connection = :connectedAt',
        ExpressionAttributeNames: { '#connection': `${connectionAttributePrefix}${connection.connectionId}` },
        ExpressionAttributeValues: { ':connectedAt': connection.connectedAt },
      }),
    );
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
