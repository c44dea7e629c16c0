/**
 * The persistent in-app inbox in DynamoDB: one item per (recipient, notification), written
 * with a condition so a repeated delivery never adds a second copy.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InboxItem, InboxStore } from '../ports.ts';

function fromItem(item: Record<string, unknown>): InboxItem {
  const { pk: _pk, expiresAt: _expiresAt, ...inboxItem } = item;
  return inboxItem as unknown as InboxItem;
}

export class DynamoInboxStore implements InboxStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async add(item: InboxItem): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `${item.tenantId}#${item.recipientId}`, ...item },
          ConditionExpression: 'attribute_not_exists(notificationId)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async list(tenantId: string, recipientId: string): Promise<InboxItem[]> {
    const items: InboxItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${tenantId}#${recipientId}` },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
