/**
 * An in-memory NotificationStore with the conditional semantics of DynamoNotificationStore:
 * claim only from pending or an expired lease, writes under a claim check status and token,
 * cancel only from pending.
 */
import { randomUUID } from 'node:crypto';
import { notificationIdBound } from '../../../shared/domain/ids.ts';
import type { Channel, ChannelDelivery, Notification } from '../../../shared/domain/notification.ts';
import { mayHaveReached } from '../../../shared/domain/channel-reach.ts';
import { ClaimLostError } from '../../../shared/ports.ts';
import type { CancelOutcome, Claim, NotificationListing, NotificationListPage, NotificationListQuery, NotificationStore } from '../../../shared/ports.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A notification as the fake keeps it: the item, with the attributes the Dynamo adapter keeps beside it. */
export interface StoredNotification {
  notification: Mutable<Notification>;
  claimToken?: string;
  /** TTL, as the Dynamo adapter writes it (epoch seconds). */
  expiresAt?: number;
}

function key(tenantId: string, id: string): string {
  return `${tenantId}#${id}`;
}

function copy(n: Notification): Notification {
  return structuredClone(n);
}

export class InMemoryNotificationStore implements NotificationStore, NotificationListing {
  private readonly items = new Map<string, StoredNotification>();

  /** Seeds a notification as it would be in the table. */
  seed(notification: Notification, extra: { claimToken?: string } = {}): void {
    this.items.set(key(notification.tenantId, notification.id), {
      notification: structuredClone(notification) as Mutable<Notification>,
      ...extra,
    });
  }

  /**
   * The stored record itself (not a copy), or `undefined`: for another fake (the delivery store)
   * that writes notifications as the Dynamo adapter does, under the same conditions.
   */
  record(tenantId: string, id: string): StoredNotification | undefined {
    return this.items.get(key(tenantId, id));
  }

  /** Every stored notification (copies). */
  all(): Notification[] {
    return [...this.items.values()].map((item) => copy(item.notification));
  }

  /** The TTL the store would write for a notification (epoch seconds), if any. */
  expiresAtOf(tenantId: string, id: string): number | undefined {
    return this.items.get(key(tenantId, id))?.expiresAt;
  }

  async createMany(notifications: readonly Notification[]): Promise<void> {
    for (const n of notifications) {
      if (this.items.has(key(n.tenantId, n.id))) throw new Error(`Notification ${n.id} already exists`);
    }
    for (const n of notifications) this.seed(n);
  }

  /** How many times `createMissing` wrote a notification (one that already existed is not written). */
  missingWrites = 0;

  async createMissing(notifications: readonly Notification[]): Promise<void> {
    for (const n of notifications) {
      if (this.items.has(key(n.tenantId, n.id))) continue;
      this.seed(n);
      this.missingWrites++;
    }
  }

  async deleteMany(tenantId: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) this.items.delete(key(tenantId, id));
  }

  async get(tenantId: string, id: string): Promise<Notification | undefined> {
    const item = this.items.get(key(tenantId, id));
    return item ? copy(item.notification) : undefined;
  }

  async cancel(tenantId: string, id: string, at: Date): Promise<CancelOutcome> {
    const item = this.items.get(key(tenantId, id));
    if (!item) return {};
    if (item.notification.status !== 'pending') return { status: item.notification.status };
    item.notification.status = 'cancelled';
    item.notification.cancelledAt = at.toISOString();
    return { cancelled: copy(item.notification) };
  }

  async claim(tenantId: string, id: string, now: Date, leaseSeconds: number): Promise<Claim | undefined> {
    const item = this.items.get(key(tenantId, id));
    if (!item) return undefined;
    const n = item.notification;
    const leaseExpired = n.status === 'sending' && n.leaseUntil !== undefined && n.leaseUntil < now.getTime();
    if (n.status !== 'pending' && !leaseExpired) return undefined;
    const token = randomUUID();
    const leaseUntil = new Date(now.getTime() + leaseSeconds * 1000);
    n.status = 'sending';
    n.leaseUntil = leaseUntil.getTime();
    n.attempts += 1;
    item.claimToken = token;
    return { notification: copy(n), token, leaseUntil };
  }

  async recordDelivery(claim: Claim, channel: Channel, delivery: ChannelDelivery): Promise<void> {
    const n = this.underClaim(claim);
    n.deliveries = { ...n.deliveries, [channel]: delivery };
  }

  async forgetDelivery(claim: Claim, channel: Channel): Promise<void> {
    const n = this.underClaim(claim);
    const { [channel]: _forgotten, ...rest } = n.deliveries;
    n.deliveries = rest;
  }

  async markSent(claim: Claim, sentAt: Date, expiresAt: Date): Promise<void> {
    const n = this.underClaim(claim);
    n.status = 'sent';
    n.sentAt = sentAt.toISOString();
    delete n.leaseUntil;
    delete n.lastError;
    this.finish(claim, expiresAt);
  }

  async markFailed(claim: Claim, error: string, _at: Date, expiresAt: Date): Promise<void> {
    const n = this.underClaim(claim);
    n.status = 'failed';
    n.lastError = error;
    delete n.leaseUntil;
    this.finish(claim, expiresAt);
  }

  async release(claim: Claim, error: string, nextAttemptAt?: Date): Promise<void> {
    const n = this.underClaim(claim);
    n.status = 'pending';
    n.lastError = error;
    if (nextAttemptAt) n.nextAttemptAt = nextAttemptAt.toISOString();
    delete n.leaseUntil;
    const item = this.items.get(key(claim.notification.tenantId, claim.notification.id));
    if (item) delete item.claimToken;
  }

  async reschedule(tenantId: string, id: string, scheduledAt: Date): Promise<Notification | undefined> {
    const item = this.items.get(key(tenantId, id));
    if (item?.notification.status !== 'pending') return undefined;
    item.notification.scheduledAt = scheduledAt.toISOString();
    delete item.notification.nextAttemptAt;
    return copy(item.notification);
  }

  async requeueFailed(tenantId: string, id: string, scheduledAt: Date, _at: Date): Promise<Notification | undefined> {
    const item = this.items.get(key(tenantId, id));
    if (item?.notification.status !== 'failed') return undefined;
    const n = item.notification;
    n.status = 'pending';
    n.scheduledAt = scheduledAt.toISOString();
    n.attempts = 0;
    n.deliveries = Object.fromEntries(Object.entries(n.deliveries).filter(([, d]) => mayHaveReached(d)));
    delete n.nextAttemptAt;
    delete n.leaseUntil;
    delete item.expiresAt;
    delete item.claimToken;
    return copy(n);
  }

  /** The listing of the Dynamo adapter, by brute force: same scopes, filters and positions. */
  async list(query: NotificationListQuery): Promise<NotificationListPage> {
    const { scope } = query;
    const matching = this.all()
      .filter((n) => n.tenantId === query.tenantId)
      .filter((n) =>
        scope.kind === 'tenant'
          ? true
          : scope.kind === 'creator'
            ? n.createdBy === scope.createdBy
            : n.recipientId === scope.recipientId && (scope.createdBy === undefined || n.createdBy === scope.createdBy),
      )
      .filter((n) => query.status === undefined || n.status === query.status)
      .filter((n) => query.type === undefined || n.type === query.type)
      .filter((n) => query.createdFrom === undefined || n.id >= notificationIdBound(query.createdFrom, 'first'))
      .filter((n) => query.createdTo === undefined || n.id <= notificationIdBound(query.createdTo, 'last'))
      .filter((n) => query.olderThan === undefined || n.id < query.olderThan)
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    return matching.length > query.limit && last ? { items, olderThan: last.id } : { items };
  }

  private finish(claim: Claim, expiresAt: Date): void {
    const item = this.items.get(key(claim.notification.tenantId, claim.notification.id));
    if (!item) return;
    delete item.claimToken;
    item.expiresAt = Math.floor(expiresAt.getTime() / 1000);
  }

  /** The stored notification, if the claim still holds (status sending, same token). */
  private underClaim(claim: Claim): Mutable<Notification> {
    const { tenantId, id } = claim.notification;
    const item = this.items.get(key(tenantId, id));
    if (item?.notification.status !== 'sending' || item.claimToken !== claim.token) throw new ClaimLostError(id);
    return item.notification;
  }
}
