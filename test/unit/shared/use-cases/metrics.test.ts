import { describe, expect, it } from 'vitest';
import { channels } from '../../../../shared/domain/notification.ts';
import { ForbiddenError } from '../../../../shared/errors.ts';
import { getTenantMetrics } from '../../../../shared/use-cases/metrics.ts';
import { FakeClock, InMemoryMetricsStore } from '../../fakes/index.ts';
import { admin, plainUser, sender, tenantId } from '../../fakes/fixtures.ts';

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('getTenantMetrics', () => {
  it('sums the counters of the whole hours the period reaches into, and reports zeros for the rest', async () => {
    // Prepare
    const clock = new FakeClock('2030-01-01T12:20:00.000Z');
    const metrics = new InMemoryMetricsStore();
    await metrics.add(tenantId, new Date('2030-01-01T10:59:59.000Z'), { 'notifications.pending': 100 });
    await metrics.add(tenantId, new Date('2030-01-01T11:00:00.000Z'), { 'notifications.pending': 2, 'deliveries.email.failed': 1 });
    await metrics.add(tenantId, new Date('2030-01-01T12:10:00.000Z'), { 'notifications.pending': 3, 'notifications.sent': 4 });
    await metrics.add('globex', new Date('2030-01-01T12:10:00.000Z'), { 'notifications.sent': 50 });

    // Act
    const report = await getTenantMetrics({ metrics, clock }, admin, 3600);

    // Assess: 12:20 - 1 h = 11:20, so the window starts at 11:00
    expect(report).toEqual({
      period: 3600,
      from: '2030-01-01T11:00:00.000Z',
      to: '2030-01-01T12:20:00.000Z',
      granularity: 'hour',
      notifications: { pending: 5, sending: 0, sent: 4, failed: 0, cancelled: 0 },
      deliveries: {
        ...Object.fromEntries(channels.map((channel) => [channel, { sent: 0, unconfirmed: 0, skipped: 0, failed: 0 }])),
        email: { sent: 0, unconfirmed: 0, skipped: 0, failed: 1 },
        push: { sent: 0, unconfirmed: 0, skipped: 0, failed: 0 },
        sms: { sent: 0, unconfirmed: 0, skipped: 0, failed: 0 },
      },
      // No SES account in these deps.
      email: null,
    });
  });

  it.each([
    ['a sender', sender],
    ['a plain user', plainUser],
  ])('refuses %s', async (_who, caller) => {
    // Prepare
    const metrics = new InMemoryMetricsStore();

    // Act
    const error = await rejectionOf(getTenantMetrics({ metrics, clock: new FakeClock() }, caller, 3600));

    // Assess
    expect(error).toBeInstanceOf(ForbiddenError);
  });
});
