/**
 * Notifications in DynamoDB. Every state transition is a conditional UpdateItem, so a duplicate
 * SQS message, a late schedule or a racing cancel can never deliver twice or deliver a
 * cancelled notification.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DUE_INDEX_SHARDS } from '../../lib/app-description.ts';
import type { Channel, ChannelDelivery, Notification } from '../domain/notification.ts';
import { ClaimLostError } from '../ports.ts';
import type { Claim, NotificationStore } from '../ports.ts';
import { batchDelete, batchPut } from './dynamo-batch.ts';

/** The partition key of a notification: the tenant is part of every key. */
export function notificationKey(tenantId: string, id: string): { pk: string } {
  return { pk: `${tenantId}#${id}` };
}

/** The write shard of the `due` index for an id: spreads pending items over partitions. */
export function dueShard(id: string): string {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `due#${hash % DUE_INDEX_SHARDS}`;
}

type NotificationItem = Notification & Record<string, unknown> & {
  pk: string;
  recipientKey: string;
  dueShard?: string;
  dueAt?: string;
  claimToken?: string;
  expiresAt?: number;
};

function toItem(n: Notification): NotificationItem {
  return {
    ...n,
    ...notificationKey(n.tenantId, n.id),
    recipientKey: `${n.tenantId}#${n.recipientId}`,
    // Only pending and sending notifications are in the sparse `due` index the sweep reads.
    dueShard: dueShard(n.id),
    dueAt: n.scheduledAt,
  };
}

function fromItem(item: Record<string, unknown>): Notification {
  const {
    pk: _pk,
    recipientKey: _recipientKey,
    dueShard: _dueShard,
    dueAt: _dueAt,
    claimToken: _claimToken,
    expiresAt: _expiresAt,
    ...notification
  } = item as unknown as NotificationItem;
  return notification;
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export class DynamoNotificationStore implements NotificationStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async createMany(notifications: readonly Notification[]): Promise<void> {
    await batchPut(this.db, this.tableName, notifications.map(toItem));
  }

  async deleteMany(tenantId: string, ids: readonly string[]): Promise<void> {
    await batchDelete(this.db, this.tableName, ids.map((id) => notificationKey(tenantId, id)));
  }

  async get(tenantId: string, id: string): Promise<Notification | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: notificationKey(tenantId, id), ConsistentRead: true }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async cancel(tenantId: string, id: string, at: Date): Promise<Notification | undefined> {
    return this.conditionalUpdate({
      Key: notificationKey(tenantId, id),
      UpdateExpression: 'SET #status = :cancelled, cancelledAt = :at REMOVE dueShard, dueAt',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':cancelled': 'cancelled', ':pending': 'pending', ':at': at.toISOString() },
    });
  }

  async claim(tenantId: string, id: string, now: Date, leaseSeconds: number): Promise<Claim | undefined> {
    const token = randomUUID();
    const leaseUntil = new Date(now.getTime() + leaseSeconds * 1000);
    const notification = await this.conditionalUpdate({
      Key: notificationKey(tenantId, id),
      UpdateExpression:
        'SET #status = :sending, leaseUntil = :leaseUntil, claimToken = :token, attempts = attempts + :one',
      // A sending notification whose lease expired belongs to a worker that died: take it over.
      ConditionExpression: '#status = :pending OR (#status = :sending AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':sending': 'sending',
        ':pending': 'pending',
        ':leaseUntil': leaseUntil.getTime(),
        ':now': now.getTime(),
        ':token': token,
        ':one': 1,
      },
    });
    return notification ? { notification, token, leaseUntil } : undefined;
  }

  async recordDelivery(claim: Claim, channel: Channel, delivery: ChannelDelivery): Promise<void> {
    await this.updateUnderClaim(claim, {
      UpdateExpression: 'SET deliveries.#channel = :delivery',
      ExpressionAttributeNames: { '#channel': channel },
      ExpressionAttributeValues: { ':delivery': delivery },
    });
  }

  async markSent(claim: Claim, sentAt: Date, expiresAt: Date): Promise<void> {
    await this.updateUnderClaim(claim, {
      UpdateExpression:
        'SET #status = :sent, sentAt = :sentAt, expiresAt = :expiresAt REMOVE leaseUntil, claimToken, dueShard, dueAt, lastError',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':sent': 'sent',
        ':sentAt': sentAt.toISOString(),
        ':expiresAt': epochSeconds(expiresAt),
      },
    });
  }

  async markFailed(claim: Claim, error: string, at: Date, expiresAt: Date): Promise<void> {
    await this.updateUnderClaim(claim, {
      UpdateExpression:
        'SET #status = :failed, failedAt = :at, lastError = :error, expiresAt = :expiresAt REMOVE leaseUntil, claimToken, dueShard, dueAt',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':at': at.toISOString(),
        ':error': error,
        ':expiresAt': epochSeconds(expiresAt),
      },
    });
  }

  async release(claim: Claim, error: string): Promise<void> {
    await this.updateUnderClaim(claim, {
      UpdateExpression: 'SET #status = :pending, lastError = :error REMOVE leaseUntil, claimToken',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending', ':error': error },
    });
  }

  private async updateUnderClaim(
    claim: Claim,
    update: {
      UpdateExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<void> {
    const { tenantId, id } = claim.notification;
    const updated = await this.conditionalUpdate({
      Key: notificationKey(tenantId, id),
      UpdateExpression: update.UpdateExpression,
      ConditionExpression: '#claimStatus = :claimStatus AND claimToken = :claimToken',
      ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#claimStatus': 'status' },
      ExpressionAttributeValues: {
        ...update.ExpressionAttributeValues,
        ':claimStatus': 'sending',
        ':claimToken': claim.token,
      },
    });
    if (!updated) throw new ClaimLostError(id);
  }

  /** Runs a conditional update; `undefined` when its condition did not hold. */
  private async conditionalUpdate(input: {
    Key: Record<string, string>;
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  }): Promise<Notification | undefined> {
    try {
      const result = await this.db.send(
        new UpdateCommand({ TableName: this.tableName, ReturnValues: 'ALL_NEW', ...input }),
      );
      return result.Attributes ? fromItem(result.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}
