/**
 * Per-tenant request quotas in DynamoDB, in the rate-limits table beside the send budgets: one
 * item per tenant and second (`api#t:<tenant>#<epochSecond>`) whose `used` each request raises
 * with a conditional `ADD`, refused once it reaches the quota. Items expire an hour after their
 * second.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RequestQuota } from '../ports.ts';
import { keyPart } from './dynamo-keys.ts';

const slotTtlSeconds = 60 * 60;

export class DynamoRequestQuota implements RequestQuota {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: () => string;
  private readonly perSecond: number;

  /** `perSecond`: the requests one tenant may make per second, all its callers together. */
  constructor(db: DynamoDBDocumentClient, tableName: () => string, perSecond: number) {
    this.db = db;
    this.tableName = tableName;
    this.perSecond = perSecond;
  }

  async take(tenantId: string, now: Date): Promise<{ readonly retryAfterSeconds?: number }> {
    const second = Math.floor(now.getTime() / 1000);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName(),
          Key: { pk: `api#t:${keyPart(tenantId)}#${second}` },
          UpdateExpression: 'ADD used :one SET expiresAt = if_not_exists(expiresAt, :expires)',
          ConditionExpression: 'attribute_not_exists(used) OR used < :cap',
          ExpressionAttributeValues: { ':one': 1, ':cap': this.perSecond, ':expires': second + slotTtlSeconds },
        }),
      );
      return {};
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The next second has a fresh quota (Retry-After counts whole seconds).
      return { retryAfterSeconds: 1 };
    }
  }
}
