/** The recipient directory in DynamoDB, one item per recipient, keyed by tenant and id. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Recipient } from '../domain/recipient.ts';
import type { RecipientStore } from '../ports.ts';
import { batchGet } from './dynamo-batch.ts';

function recipientKey(tenantId: string, id: string): { pk: string } {
  return { pk: `${tenantId}#${id}` };
}

function fromItem(item: Record<string, unknown>): Recipient {
  const { pk: _pk, ...recipient } = item;
  return recipient as unknown as Recipient;
}

export class DynamoRecipientStore implements RecipientStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async put(recipient: Recipient): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...recipientKey(recipient.tenantId, recipient.id), ...recipient },
      }),
    );
  }

  async get(tenantId: string, id: string): Promise<Recipient | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: recipientKey(tenantId, id), ConsistentRead: true }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async getMany(tenantId: string, ids: readonly string[]): Promise<Recipient[]> {
    const items = await batchGet(this.db, this.tableName, ids.map((id) => recipientKey(tenantId, id)));
    return items.map(fromItem);
  }
}
