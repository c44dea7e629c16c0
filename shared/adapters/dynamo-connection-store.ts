/**
 * Open WebSocket connections in DynamoDB, found by user through the `byUser` index. Records
 * expire through TTL, so a connection whose `$disconnect` never ran does not linger.
 */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Connection, ConnectionStore } from '../ports.ts';

function userKey(tenantId: string, userId: string): string {
  return `${tenantId}#${userId}`;
}

export class DynamoConnectionStore implements ConnectionStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async put(connection: Connection, expiresAt: Date): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...connection,
          userKey: userKey(connection.tenantId, connection.userId),
          expiresAt: Math.floor(expiresAt.getTime() / 1000),
        },
      }),
    );
  }

  async remove(connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { connectionId } }));
  }

  async listByUser(tenantId: string, userId: string): Promise<Connection[]> {
    const connections: Connection[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byUser',
          KeyConditionExpression: 'userKey = :userKey',
          ExpressionAttributeValues: { ':userKey': userKey(tenantId, userId) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        connections.push({
          connectionId: item.connectionId as string,
          tenantId: item.tenantId as string,
          userId: item.userId as string,
          connectedAt: item.connectedAt as string,
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return connections;
  }
}
