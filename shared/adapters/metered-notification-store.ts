/**
 * A NotificationStore that counts every transition it makes into the tenant's hourly metrics
 * (shared/domain/metrics.ts). Counting wraps the store rather than the use cases, so every
 * transition is counted whoever makes it (the API, the delivery worker, a sweep), and only once
 * it succeeded: a conditional write that lost its race counts nothing.
 *
 * A count is written after its transition and never fails it: a lost count is logged. So
 * metrics may undercount when the metrics table is unavailable, and a create rolled back after
 * a scheduler outage counts as created and cancelled, which is what the table saw.
 */
import { deliveryMetric, statusMetric } from '../domain/metrics.ts';
import type { MetricCounts } from '../domain/metrics.ts';
import type { Channel, ChannelDelivery, Notification } from '../domain/notification.ts';
import { describeError } from '../domain/delivery-errors.ts';
import { logger } from '../observability/logger.ts';
import type { Claim, MetricsStore, NotificationStore } from '../ports.ts';

export class MeteredNotificationStore implements NotificationStore {
  private readonly inner: NotificationStore;
  private readonly metrics: () => MetricsStore;

  /** `metrics` is resolved at the first count, so a function without a metrics table still works (and logs). */
  constructor(inner: NotificationStore, metrics: () => MetricsStore) {
    this.inner = inner;
    this.metrics = metrics;
  }

  async createMany(notifications: readonly Notification[]): Promise<void> {
    await this.inner.createMany(notifications);
    const byTenant = new Map<string, Notification[]>();
    for (const n of notifications) {
      const created = byTenant.get(n.tenantId);
      if (created) created.push(n);
      else byTenant.set(n.tenantId, [n]);
    }
    for (const [tenantId, created] of byTenant) {
      const first = created[0] as Notification;
      await this.count(tenantId, first.id, new Date(first.createdAt), { [statusMetric('pending')]: created.length });
    }
  }

  deleteMany(tenantId: string, ids: readonly string[]): Promise<void> {
    return this.inner.deleteMany(tenantId, ids);
  }

  get(tenantId: string, id: string): Promise<Notification | undefined> {
    return this.inner.get(tenantId, id);
  }

  async cancel(tenantId: string, id: string, at: Date): Promise<Notification | undefined> {
    const cancelled = await this.inner.cancel(tenantId, id, at);
    if (cancelled) await this.count(tenantId, id, at, { [statusMetric('cancelled')]: 1 });
    return cancelled;
  }

  async claim(tenantId: string, id: string, now: Date, leaseSeconds: number): Promise<Claim | undefined> {
    const claim = await this.inner.claim(tenantId, id, now, leaseSeconds);
    if (claim) await this.count(tenantId, id, now, { [statusMetric('sending')]: 1 });
    return claim;
  }

  async recordDelivery(claim: Claim, channel: Channel, delivery: ChannelDelivery): Promise<void> {
    await this.inner.recordDelivery(claim, channel, delivery);
    const metric = deliveryMetric(channel, delivery.status);
    if (metric) await this.count(claim.notification.tenantId, claim.notification.id, new Date(delivery.at), { [metric]: 1 });
  }

  forgetDelivery(claim: Claim, channel: Channel): Promise<void> {
    return this.inner.forgetDelivery(claim, channel);
  }

  async markSent(claim: Claim, sentAt: Date, expiresAt: Date): Promise<void> {
    await this.inner.markSent(claim, sentAt, expiresAt);
    await this.count(claim.notification.tenantId, claim.notification.id, sentAt, { [statusMetric('sent')]: 1 });
  }

  async markFailed(claim: Claim, error: string, at: Date, expiresAt: Date): Promise<void> {
    await this.inner.markFailed(claim, error, at, expiresAt);
    await this.count(claim.notification.tenantId, claim.notification.id, at, { [statusMetric('failed')]: 1 });
  }

  /** Not counted: a claim released for a retry is still the same delivery attempt's story. */
  release(claim: Claim, error: string, nextAttemptAt?: Date): Promise<void> {
    return this.inner.release(claim, error, nextAttemptAt);
  }

  /** Not counted: the notification stays pending. */
  reschedule(tenantId: string, id: string, scheduledAt: Date): Promise<Notification | undefined> {
    return this.inner.reschedule(tenantId, id, scheduledAt);
  }

  async requeueFailed(tenantId: string, id: string, scheduledAt: Date, at: Date): Promise<Notification | undefined> {
    const requeued = await this.inner.requeueFailed(tenantId, id, scheduledAt, at);
    if (requeued) await this.count(tenantId, id, at, { [statusMetric('pending')]: 1 });
    return requeued;
  }

  private async count(tenantId: string, notificationId: string, at: Date, counts: MetricCounts): Promise<void> {
    try {
      await this.metrics().add(tenantId, at, counts);
    } catch (error) {
      logger.warn('Could not count a transition in the metrics', { tenantId, notificationId, counts, error: describeError(error) });
    }
  }
}
