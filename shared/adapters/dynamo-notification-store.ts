/**
 * Notifications in DynamoDB. Every state transition is a conditional UpdateItem, so a duplicate
 * SQS message, a late schedule or a racing cancel can never deliver twice or deliver a
 * cancelled notification.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CANCELLED_INDEX_SHARDS, DUE_INDEX_SHARDS, LISTING_INDEX_SHARDS } from '../../lib/app-description.ts';
import type { Channel, ChannelDelivery, Notification, NotificationStatus } from '../domain/notification.ts';
import { mayHaveReached } from '../domain/channel-reach.ts';
import { ClaimLostError } from '../ports.ts';
import type { CancelOutcome, Claim, NotificationStore } from '../ports.ts';
import { batchDelete, batchGet, batchPut, chunkConcurrency } from './dynamo-batch.ts';
import { mapLimited } from '../use-cases/map-limited.ts';
import { keyPart, writeShardOf } from './dynamo-keys.ts';
import { dataFromAttributes, dataToAttributes, templateFromAttributes, templateToAttributes } from './dynamo-opaque-json.ts';

/** The partition key of a notification: the tenant is part of every key. */
export function notificationKey(tenantId: string, id: string): { pk: string } {
  return { pk: `${keyPart(tenantId)}#${id}` };
}

/** The write shard of the `due` index for an id: spreads pending items over partitions. */
export function dueShard(id: string): string {
  return dueShardKey(writeShardOf(id, DUE_INDEX_SHARDS));
}

/** The partition key value of `due` shard number `shard`. */
export function dueShardKey(shard: number): string {
  return `due#${shard}`;
}

/** The write shard of the `cancelled` index for an id, where the cleanup sweep finds it. */
export function cancelledShard(id: string): string {
  return cancelledShardKey(writeShardOf(id, CANCELLED_INDEX_SHARDS));
}

/** The partition key value of `cancelled` shard number `shard`. */
export function cancelledShardKey(shard: number): string {
  return `cancelled#${shard}`;
}

/** The partition key value of a recipient in the `byRecipient` index. */
export function recipientListingKey(tenantId: string, recipientId: string): string {
  return `${keyPart(tenantId)}#${keyPart(recipientId)}`;
}

/** The partition key value of shard `shard` of a tenant in the `byTenant` listing index. */
export function tenantListingKey(tenantId: string, shard: number): string {
  return `${keyPart(tenantId)}#${shard}`;
}

/** The partition key value of shard `shard` of a creator in the `byCreator` listing index. */
export function creatorListingKey(tenantId: string, createdBy: string, shard: number): string {
  return `${keyPart(tenantId)}#${keyPart(createdBy)}#${shard}`;
}

/** The keys of the listing indexes (`byTenant`, `byCreator`): write-sharded by id, set once at creation. */
function listingKeys(n: Pick<Notification, 'tenantId' | 'id' | 'createdBy'>): { tenantKey: string; creatorKey: string } {
  const shard = writeShardOf(n.id, LISTING_INDEX_SHARDS);
  return { tenantKey: tenantListingKey(n.tenantId, shard), creatorKey: creatorListingKey(n.tenantId, n.createdBy, shard) };
}

/**
 * Index bookkeeping, kept by every write below: `dueShard`/`dueAt` (the sparse `due` index the
 * stuck-retry sweep reads) exist exactly while a notification is pending or sending, `dueAt`
 * being when it is next due; `cancelledShard` (with `cancelledAt`, the sparse `cancelled` index
 * the cleanup sweep reads) exists exactly while it is cancelled; `expiresAt` (TTL) only once it is
 * sent or failed, so a pending notification never expires.
 */
type NotificationItem = Notification & Record<string, unknown> & {
  pk: string;
  recipientKey: string;
  tenantKey: string;
  creatorKey: string;
  dueShard?: string;
  dueAt?: string;
  cancelledShard?: string;
  claimToken?: string;
  expiresAt?: number;
};

function toItem(n: Notification): NotificationItem {
  const { data, template, ...fields } = n;
  return {
    ...fields,
    // `data` is opaque JSON, kept as text (dynamo-opaque-json.ts); so is a template's payload.
    ...dataToAttributes(data),
    ...templateToAttributes(template),
    ...notificationKey(n.tenantId, n.id),
    recipientKey: recipientListingKey(n.tenantId, n.recipientId),
    ...listingKeys(n),
    // Only pending and sending notifications are in the sparse `due` index the sweep reads.
    dueShard: dueShard(n.id),
    dueAt: n.scheduledAt,
  };
}

/** The notification an item of the table (or of one of its indexes) holds. */
export function notificationFromItem(item: Record<string, unknown>): Notification {
  const {
    pk: _pk,
    recipientKey: _recipientKey,
    tenantKey: _tenantKey,
    creatorKey: _creatorKey,
    dueShard: _dueShard,
    dueAt: _dueAt,
    cancelledShard: _cancelledShard,
    claimToken: _claimToken,
    expiresAt: _expiresAt,
    ...stored
  } = item as unknown as NotificationItem;
  const { data, rest } = dataFromAttributes(stored);
  const template = templateFromAttributes(rest);
  const { templateJson: _templateJson, ...fields } = rest as Record<string, unknown>;
  return { ...(fields as unknown as Notification), ...(data !== undefined ? { data } : {}), ...(template ? { template } : {}) };
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

  /**
   * One BatchGetItem per 100 notifications finds those already there; each missing one is then a
   * PutItem on the condition that it still does not exist (BatchWriteItem takes no condition), so
   * an item is never overwritten, whatever wrote it meanwhile. Costs nothing more than the reads
   * when every item exists (a retry of a create that died after its writes).
   */
  async createMissing(notifications: readonly Notification[]): Promise<void> {
    const [first] = notifications;
    if (!first) return;
    const found = await batchGet(this.db, this.tableName, notifications.map((n) => notificationKey(n.tenantId, n.id)));
    const existing = new Set(found.map((item) => item.pk));
    const missing = notifications.filter((n) => !existing.has(notificationKey(n.tenantId, n.id).pk));
    await mapLimited(missing, chunkConcurrency, async (n) => {
      try {
        await this.db.send(new PutCommand({ TableName: this.tableName, Item: toItem(n), ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
  }

  async deleteMany(tenantId: string, ids: readonly string[]): Promise<void> {
    await batchDelete(this.db, this.tableName, ids.map((id) => notificationKey(tenantId, id)));
  }

  async get(tenantId: string, id: string): Promise<Notification | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: notificationKey(tenantId, id), ConsistentRead: true }),
    );
    return result.Item ? notificationFromItem(result.Item) : undefined;
  }

  /**
   * One conditional UpdateItem; a refused one returns the item as it is
   * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`, "UpdateItem", Amazon DynamoDB API Reference),
   * so the status that refused it costs no read, and no item means none exists.
   */
  async cancel(tenantId: string, id: string, at: Date): Promise<CancelOutcome> {
    let status: NotificationStatus | undefined;
    const cancelled = await this.conditionalUpdate(
      {
        Key: notificationKey(tenantId, id),
        // Out of the `due` index, into the `cancelled` one, where the cleanup sweep finds it.
        UpdateExpression: 'SET #status = :cancelled, cancelledAt = :at, cancelledShard = :shard REMOVE dueShard, dueAt',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':cancelled': 'cancelled',
          ':pending': 'pending',
          ':at': at.toISOString(),
          ':shard': cancelledShard(id),
        },
      },
      // The exception carries the item in the wire format: the Document client does not unmarshall errors.
      (item) => (status = item?.status?.S as NotificationStatus | undefined),
    );
    return cancelled ? { cancelled } : status ? { status } : {};
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

  async forgetDelivery(claim: Claim, channel: Channel): Promise<void> {
    await this.updateUnderClaim(claim, {
      UpdateExpression: 'REMOVE deliveries.#channel',
      ExpressionAttributeNames: { '#channel': channel },
      ExpressionAttributeValues: {},
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

  async release(claim: Claim, error: string, nextAttemptAt?: Date): Promise<void> {
    if (nextAttemptAt === undefined) {
      await this.updateUnderClaim(claim, {
        UpdateExpression: 'SET #status = :pending, lastError = :error REMOVE leaseUntil, claimToken',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending', ':error': error },
      });
      return;
    }
    // Still in the `due` index, now due at the retry: the sweep must not rush a backoff.
    const retryAt = nextAttemptAt.toISOString();
    await this.updateUnderClaim(claim, {
      UpdateExpression:
        'SET #status = :pending, lastError = :error, nextAttemptAt = :retryAt, dueAt = :retryAt REMOVE leaseUntil, claimToken',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending', ':error': error, ':retryAt': retryAt },
    });
  }

  async reschedule(tenantId: string, id: string, scheduledAt: Date): Promise<Notification | undefined> {
    const at = scheduledAt.toISOString();
    return this.conditionalUpdate({
      Key: notificationKey(tenantId, id),
      // Due at the new time in the `due` index too; a retry back-off in progress is overridden, and
      // a quiet-hours hold is decided again when it falls due (shared/domain/delivery.ts).
      UpdateExpression: 'SET scheduledAt = :at, dueAt = :at REMOVE nextAttemptAt, heldUntil, heldReason',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending', ':at': at },
    });
  }

  async requeueFailed(tenantId: string, id: string, scheduledAt: Date, _at: Date): Promise<Notification | undefined> {
    const current = await this.get(tenantId, id);
    if (current?.status !== 'failed') return undefined;
    // A failed notification changes no more (it is terminal), so what was read is what is updated.
    // What reached the recipient stays; the failed and skipped channels are tried again.
    const retried = Object.entries(current.deliveries)
      .filter(([, delivery]) => !mayHaveReached(delivery))
      .map(([channel]) => channel);
    const names: Record<string, string> = { '#status': 'status' };
    const forgotten = retried.map((channel, i) => {
      names[`#ch${i}`] = channel;
      return `deliveries.#ch${i}`;
    });
    const due = scheduledAt.toISOString();
    return this.conditionalUpdate({
      Key: notificationKey(tenantId, id),
      // Back in the `due` index, out of TTL: a pending notification never expires.
      UpdateExpression:
        'SET #status = :pending, scheduledAt = :due, dueAt = :due, dueShard = :shard, attempts = :zero ' +
        `REMOVE ${['expiresAt', 'failedAt', 'nextAttemptAt', 'heldUntil', 'heldReason', 'leaseUntil', 'claimToken', ...forgotten].join(', ')}`,
      ConditionExpression: '#status = :failed',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':pending': 'pending', ':failed': 'failed', ':due': due, ':shard': dueShard(id), ':zero': 0 },
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

  /**
   * Runs a conditional update; `undefined` when its condition did not hold. With `onRefused`, a
   * refused update returns the item as it is, given to `onRefused` (`ReturnValuesOnConditionCheckFailure:
   * ALL_OLD`, "UpdateItem", Amazon DynamoDB API Reference): what refused it costs no read; none, no item.
   */
  private async conditionalUpdate(
    input: {
      Key: Record<string, string>;
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
    onRefused?: (item: ConditionalCheckFailedException['Item']) => void,
  ): Promise<Notification | undefined> {
    try {
      const result = await this.db.send(
        new UpdateCommand({ TableName: this.tableName, ReturnValues: 'ALL_NEW', ...input, ...(onRefused ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } : {}) }),
      );
      return result.Attributes ? notificationFromItem(result.Attributes) : undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      onRefused?.(error.Item);
      return undefined;
    }
  }
}
