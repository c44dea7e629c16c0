/**
 * The delivery engine counts each channel's outcome where the dashboard looks for it: delivered
 * (and how late), retried, failed, throttled; and writes them out once per batch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverUnits } from '../../../../shared/delivery/engine.ts';
import type { UnitRef } from '../../../../shared/domain/delivery.ts';
import type { Channel } from '../../../../shared/domain/notification.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { DeliveryCountName } from '../../../../shared/observability/metric-names.ts';
import type { DeliveryMetricsRecorder } from '../../../../shared/ports.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, awsError, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

/** A recorder that keeps what it was told, flushed or not. */
function aRecorder(): DeliveryMetricsRecorder & { counts: string[]; latenesses: [Channel, number][]; flushes: number } {
  const recorder = {
    counts: [] as string[],
    latenesses: [] as [Channel, number][],
    flushes: 0,
    count: (channel: Channel, name: DeliveryCountName): void => void recorder.counts.push(`${channel}:${name}`),
    lateness: (channel: Channel, ms: number): void => void recorder.latenesses.push([channel, ms]),
    flush: (): void => void (recorder.flushes += 1),
  };
  return recorder;
}

describe('the engine’s delivery metrics', () => {
  it('counts a delivery per channel with its lateness (the inbox’s once its item is written), a transient failure as retried, and flushes once per batch', async () => {
    // Prepare: due at noon, delivered 1.5 s later; the e-mail meets a transient SES error.
    const world = aDeliveryWorld({ start: '2030-01-01T12:00:01.500Z' });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    await world.live.connect(tenantId, 'bob', { connectionId: 'conn-1', connectedAt: '2030-01-01T12:00:00.000Z' });
    world.sockets.open('conn-1');
    const n = aNotification({ scheduledAt: '2030-01-01T12:00:00.000Z' });
    world.notifications.seed(n);
    world.mailer.failures.add(awsError('ServiceUnavailable', 503));
    const metrics = aRecorder();
    const ref: UnitRef = { kind: 'notification', tenantId, notificationId: n.id };

    // Act
    await deliverUnits({ ...world.deps, metrics }, [ref], { deadline: new Date('2030-01-01T12:05:00.000Z') });

    // Assess
    expect(metrics.counts.sort()).toEqual(['email:Retried', 'inbox:Delivered', 'websocket:Delivered']);
    expect(metrics.latenesses).toEqual([
      ['websocket', 1500],
      ['inbox', 1500],
    ]);
    expect(metrics.flushes).toBe(1);
  });

  it('counts the last attempt of a channel out of retries as failed, not retried', async () => {
    // Prepare: the fourth attempt (the policy's last), and SES still failing
    const world = aDeliveryWorld({ start: '2030-01-01T12:00:01.500Z' });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const n = aNotification({ scheduledAt: '2030-01-01T12:00:00.000Z', channels: ['email'], attempts: 3 });
    world.notifications.seed(n);
    world.mailer.failures.add(awsError('ServiceUnavailable', 503));
    const metrics = aRecorder();

    // Act
    await deliverUnits({ ...world.deps, metrics }, [{ kind: 'notification', tenantId, notificationId: n.id }], { deadline: new Date('2030-01-01T12:05:00.000Z') });

    // Assess
    expect((await world.notifications.get(tenantId, n.id))?.status).toBe('failed');
    expect(metrics.counts).toEqual(['email:Failed']);
  });

  it('counts every channel still to be tried on the last attempt as failed: a throttled one too', async () => {
    // Prepare: the last attempt; SES fails (a retry) and the socket post is throttled
    const world = aDeliveryWorld({ start: '2030-01-01T12:00:01.500Z' });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    await world.live.connect(tenantId, 'bob', { connectionId: 'conn-1', connectedAt: '2030-01-01T12:00:00.000Z' });
    world.sockets.open('conn-1');
    const n = aNotification({ scheduledAt: '2030-01-01T12:00:00.000Z', channels: ['email', 'websocket'], attempts: 3 });
    world.notifications.seed(n);
    world.mailer.failures.add(awsError('ServiceUnavailable', 503));
    world.sockets.failures.add(awsError('TooManyRequestsException', 429));
    const metrics = aRecorder();

    // Act
    await deliverUnits({ ...world.deps, metrics }, [{ kind: 'notification', tenantId, notificationId: n.id }], { deadline: new Date('2030-01-01T12:05:00.000Z') });

    // Assess: both recorded failed, both counted so
    const stored = await world.notifications.get(tenantId, n.id);
    expect([stored?.status, stored?.deliveries.email?.status, stored?.deliveries.websocket?.status]).toEqual(['failed', 'failed', 'failed']);
    expect(metrics.counts.sort()).toEqual(['email:Failed', 'websocket:Failed']);
  });

  it('counts an inbox whose template version is gone as failed, and measures no lateness for it', async () => {
    // Prepare: a notification pinned to a template version that does not exist
    const world = aDeliveryWorld({ start: '2030-01-01T12:00:01.000Z' });
    await world.recipients.put(aRecipient({ id: 'bob' }));
    const n = aNotification({ scheduledAt: '2030-01-01T12:00:00.000Z', channels: ['inbox'], template: { id: 'welcome', version: 9, payload: {} } });
    world.notifications.seed(n);
    const metrics = aRecorder();
    const templates = { get: async (): Promise<undefined> => undefined };

    // Act
    await deliverUnits({ ...world.deps, templates, metrics }, [{ kind: 'notification', tenantId, notificationId: n.id }], { deadline: new Date('2030-01-01T12:05:00.000Z') });

    // Assess
    expect(metrics.counts).toEqual(['inbox:Failed']);
    expect(metrics.latenesses).toEqual([]);
  });
});
