/**
 * Each tenant's webhook signing secrets, one small item in the recipients table keyed
 * `#webhook-secrets#<tenant>`: no recipient key can start with `#` (a tenant id starts with a
 * letter or digit), and the item carries no `tenantId`, so it stays out of the directory index.
 * Kept there because every function that delivers or confirms a webhook already reads that table.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WebhookSecrets } from '../domain/standard-webhooks.ts';
import type { WebhookSecretStore } from '../ports.ts';
import { keyPart } from './dynamo-keys.ts';

function secretsKey(tenantId: string): { pk: string } {
  return { pk: `#webhook-secrets#${keyPart(tenantId)}` };
}

export class DynamoWebhookSecretStore implements WebhookSecretStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async get(tenantId: string): Promise<WebhookSecrets | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: secretsKey(tenantId), ConsistentRead: true }));
    if (!Item) return undefined;
    const { current, createdAt, previous, earlier } = Item as WebhookSecrets;
    return { current, createdAt, ...(previous ? { previous } : {}), ...(earlier && earlier.length > 0 ? { earlier } : {}) };
  }

  async save(tenantId: string, next: WebhookSecrets, previous: WebhookSecrets | undefined): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...secretsKey(tenantId), ...next },
          ...(previous
            ? { ConditionExpression: '#current = :current', ExpressionAttributeNames: { '#current': 'current' }, ExpressionAttributeValues: { ':current': previous.current } }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
