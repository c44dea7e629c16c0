/**
 * Which user each browser subscription is registered to: one small item per subscription id in
 * the inbox table, keyed `#push-subscription#<id>` / `#owner`. No inbox partition can start with
 * `#` (a tenant id starts with a letter or digit), and the item carries none of the indexes' keys,
 * so it stays out of every listing. Kept there because the functions that register, erase and
 * deliver push targets already write that table (the targets live on the users' live items), and
 * a take-over must write the record and a live item in one transaction.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PushSubscriptionOwners, TargetOwner } from '../ports.ts';
import { liveKey, pushTargetAttributePrefix } from './dynamo-live-state-store.ts';
import { failedCondition, transactWrite } from './dynamo-transact.ts';

/** The key of a subscription's owner record in the inbox table. */
export function subscriptionOwnerKey(subscriptionId: string): { pk: string; notificationId: string } {
  return { pk: `#push-subscription#${subscriptionId}`, notificationId: '#owner' };
}

function ownerFromItem(item: Record<string, unknown> | undefined): TargetOwner | undefined {
  if (!item || typeof item.ownerTenantId !== 'string' || typeof item.ownerUserId !== 'string') return undefined;
  return { tenantId: item.ownerTenantId, userId: item.ownerUserId };
}

/**
 * Deletes a subscription's owner record while it names `owner` (`PushSubscriptionOwners.release`),
 * on its own for the delivering functions, which release gone subscriptions and nothing else.
 */
export async function releaseSubscriptionOwner(db: DynamoDBDocumentClient, tableName: string, subscriptionId: string, owner: TargetOwner): Promise<void> {
  try {
    await db.send(
      new DeleteCommand({
        TableName: tableName,
        Key: subscriptionOwnerKey(subscriptionId),
        ConditionExpression: 'ownerTenantId = :tenantId AND ownerUserId = :userId',
        ExpressionAttributeValues: { ':tenantId': owner.tenantId, ':userId': owner.userId },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export class DynamoPushSubscriptionOwners implements PushSubscriptionOwners {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async claim(subscriptionId: string, owner: TargetOwner): Promise<TargetOwner | undefined> {
    const { Attributes } = await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...subscriptionOwnerKey(subscriptionId), ownerTenantId: owner.tenantId, ownerUserId: owner.userId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return ownerFromItem(Attributes);
  }

  async takeOver(subscriptionId: string, from: TargetOwner, to: TargetOwner): Promise<boolean> {
    const result = await transactWrite(this.db, [
      {
        ConditionCheck: {
          TableName: this.tableName,
          Key: subscriptionOwnerKey(subscriptionId),
          ConditionExpression: 'ownerTenantId = :tenantId AND ownerUserId = :userId',
          ExpressionAttributeValues: { ':tenantId': to.tenantId, ':userId': to.userId },
        },
      },
      {
        Update: {
          TableName: this.tableName,
          Key: liveKey(from.tenantId, from.userId),
          UpdateExpression: 'REMOVE #target',
          // Only where the item exists: an erased user's item must not come back empty.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#target': `${pushTargetAttributePrefix}${subscriptionId}` },
        },
      },
    ]);
    // A live item that is gone holds nothing to take: only the owner record's condition decides.
    return !failedCondition(result, 0);
  }

  async ownerOf(subscriptionId: string): Promise<TargetOwner | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: subscriptionOwnerKey(subscriptionId), ConsistentRead: true }));
    return ownerFromItem(Item);
  }

  async release(subscriptionId: string, owner: TargetOwner): Promise<void> {
    await releaseSubscriptionOwner(this.db, this.tableName, subscriptionId, owner);
  }
}
