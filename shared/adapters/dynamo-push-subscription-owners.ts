/**
 * Which user each browser subscription is registered to: one small item per subscription id in
 * the inbox table, keyed `#push-subscription#<id>` / `#owner`. No inbox partition can start with
 * `#` (a tenant id starts with a letter or digit), and the item carries none of the indexes' keys,
 * so it stays out of every listing. Kept there because the functions that register, erase and
 * deliver push targets already write that table (the targets live on the users' live items), and
 * a take-over writes the record and the previous user's live item in one transaction
 * ("TransactWriteItems", DynamoDB API Reference).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { PushSubscriptionOwners, SubscriptionClaim, TargetOwner } from '../ports.ts';
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

/** Rounds of a claim that keeps finding the record changed by other users' claims before it gives up. */
const claimRounds = 5;

/** The owner of a record that was gone when its condition was judged: a claim tries again. */
const nobody: TargetOwner = { tenantId: '', userId: '' };

/** The condition that the owner record still names `owner`. */
function ownedBy(owner: TargetOwner): { ConditionExpression: string; ExpressionAttributeValues: Record<string, string> } {
  return { ConditionExpression: 'ownerTenantId = :tenantId AND ownerUserId = :userId', ExpressionAttributeValues: { ':tenantId': owner.tenantId, ':userId': owner.userId } };
}

export class DynamoPushSubscriptionOwners implements PushSubscriptionOwners {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  async claim(subscriptionId: string, owner: TargetOwner): Promise<SubscriptionClaim> {
    const key = subscriptionOwnerKey(subscriptionId);
    const item = { ...key, ownerTenantId: owner.tenantId, ownerUserId: owner.userId };
    for (let round = 0; round < claimRounds; round++) {
      // Nobody's, or the caller's already: one conditional write.
      const current = await this.putIf(item, 'attribute_not_exists(pk) OR (ownerTenantId = :tenantId AND ownerUserId = :userId)', owner);
      if (current === undefined) return { claimed: true };
      if (current === nobody) continue; // Deleted between the write and its refusal's read: nobody's now.
      // Another user's: moved to the caller only with that user's record losing it, while the record still names them.
      const result = await transactWrite(this.db, [
        { Put: { TableName: this.tableName, Item: item, ...ownedBy(current) } },
        {
          Update: {
            TableName: this.tableName,
            Key: liveKey(current.tenantId, current.userId),
            UpdateExpression: 'REMOVE #target',
            // Only where the item exists: an erased user's item must not come back empty.
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#target': `${pushTargetAttributePrefix}${subscriptionId}` },
          },
        },
      ]);
      if (result.ok) return { claimed: true, from: current };
      if (failedCondition(result, 0)) continue; // Claimed by yet another user meanwhile: from them, then.
      // That user's item is gone (erased): nothing to take from it.
      if ((await this.putIf(item, ownedBy(current).ConditionExpression, current)) === undefined) return { claimed: true, from: current };
    }
    return { claimed: false };
  }

  /** Puts the owner record if `condition` holds (its values from `values`); resolves with the owner that refused it ({@link nobody}: none), undefined when written. */
  private async putIf(item: Record<string, unknown>, condition: string, values: TargetOwner): Promise<TargetOwner | undefined> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':tenantId': values.tenantId, ':userId': values.userId },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return ownerFromItem(error.Item && unmarshall(error.Item)) ?? nobody;
    }
  }

  async ownerOf(subscriptionId: string): Promise<TargetOwner | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: subscriptionOwnerKey(subscriptionId), ConsistentRead: true }));
    return ownerFromItem(Item);
  }

  async release(subscriptionId: string, owner: TargetOwner): Promise<void> {
    await releaseSubscriptionOwner(this.db, this.tableName, subscriptionId, owner);
  }
}
