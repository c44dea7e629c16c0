import { beforeAll, describe, expect, it } from 'vitest';
import { MeteredNotificationStore } from '../../../../shared/adapters/metered-notification-store.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { InMemoryMetricsStore, InMemoryNotificationStore } from '../../fakes/index.ts';
import { aNotification, awsError, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = new Date('2030-01-01T12:00:00.000Z');

function setUp(): { store: MeteredNotificationStore; inner: InMemoryNotificationStore; metrics: InMemoryMetricsStore } {
  const inner = new InMemoryNotificationStore();
  const metrics = new InMemoryMetricsStore();
  return { store: new MeteredNotificationStore(inner, () => metrics), inner, metrics };
}

describe('MeteredNotificationStore', () => {
  it('counts creations per tenant, in the hour they were created', async () => {
    // Prepare
    const { store, metrics } = setUp();
    const createdAt = '2030-01-01T12:30:00.000Z';

    // Act
    await store.createMany([aNotification({ createdAt }), aNotification({ createdAt }), aNotification({ createdAt, tenantId: 'globex' })]);

    // Assess
    expect(metrics.hour(tenantId, new Date(createdAt))).toEqual({ 'notifications.pending': 2 });
    expect(metrics.hour('globex', new Date(createdAt))).toEqual({ 'notifications.pending': 1 });
  });

  it('counts a delivery\'s claim, channel outcomes and end, but not an intent to send', async () => {
    // Prepare
    const { store, inner, metrics } = setUp();
    const n = aNotification();
    inner.seed(n);

    // Act
    const claim = await store.claim(tenantId, n.id, noon, 60);
    if (!claim) throw new Error('not claimed');
    await store.recordDelivery(claim, 'inbox', { status: 'sent', at: noon.toISOString() });
    await store.recordDelivery(claim, 'email', { status: 'sending', at: noon.toISOString() });
    await store.recordDelivery(claim, 'email', { status: 'failed', at: noon.toISOString(), error: 'MessageRejected' });
    await store.markFailed(claim, 'Every channel failed', noon, noon);

    // Assess
    expect(metrics.hour(tenantId, noon)).toEqual({
      'notifications.sending': 1,
      'deliveries.inbox.sent': 1,
      'deliveries.email.failed': 1,
      'notifications.failed': 1,
    });
  });

  it('counts nothing for a transition whose condition did not hold', async () => {
    // Prepare
    const { store, inner, metrics } = setUp();
    const n = aNotification({ status: 'sent' });
    inner.seed(n);

    // Act
    const cancelled = await store.cancel(tenantId, n.id, noon);
    const claimed = await store.claim(tenantId, n.id, noon, 60);
    const requeued = await store.requeueFailed(tenantId, n.id, noon, noon);

    // Assess
    expect([cancelled, claimed, requeued]).toEqual([undefined, undefined, undefined]);
    expect(metrics.hour(tenantId, noon)).toEqual({});
  });

  it('counts a cancel, a sent and a manual retry', async () => {
    // Prepare
    const { store, inner, metrics } = setUp();
    const pending = aNotification();
    const failed = aNotification({ status: 'failed' });
    const toSend = aNotification();
    for (const n of [pending, failed, toSend]) inner.seed(n);

    // Act
    await store.cancel(tenantId, pending.id, noon);
    await store.requeueFailed(tenantId, failed.id, noon, noon);
    const claim = await store.claim(tenantId, toSend.id, noon, 60);
    if (!claim) throw new Error('not claimed');
    await store.markSent(claim, noon, noon);

    // Assess
    expect(metrics.hour(tenantId, noon)).toEqual({
      'notifications.cancelled': 1,
      'notifications.pending': 1,
      'notifications.sending': 1,
      'notifications.sent': 1,
    });
  });

  it('never fails a transition because its count could not be written', async () => {
    // Prepare
    const { store, inner, metrics } = setUp();
    const n = aNotification();
    inner.seed(n);
    metrics.addFailures.add(awsError('ProvisionedThroughputExceededException', 400));

    // Act
    const cancelled = await store.cancel(tenantId, n.id, noon);

    // Assess
    expect(cancelled?.status).toBe('cancelled');
    expect((await inner.get(tenantId, n.id))?.status).toBe('cancelled');
  });

  it('works in a function that has no metrics table, counting nothing', async () => {
    // Prepare
    const inner = new InMemoryNotificationStore();
    const store = new MeteredNotificationStore(inner, () => {
      throw new Error('Invalid table metrics configuration: HERALD_TABLE_METRICS: required');
    });
    const n = aNotification();
    inner.seed(n);

    // Act
    const cancelled = await store.cancel(tenantId, n.id, noon);

    // Assess
    expect(cancelled?.status).toBe('cancelled');
  });
});
