/**
 * Logs are structured JSON, and every line about a notification names the notification and its
 * tenant — including the lines of a failed attempt and of a retry.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../../../shared/observability/logger.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, awsError } from '../../fakes/fixtures.ts';

afterEach(() => {
  vi.restoreAllMocks();
  logger.setLogLevel('WARN');
});

describe('notification logs', () => {
  it('name the notification and its tenant on every line of a delivery, a failure and a retry', async () => {
    // Prepare: the email fails once with a transient error, so the first attempt logs a retry.
    const world = aDeliveryWorld({ start: '2030-01-01T12:00:00.000Z' });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const n = aNotification({ scheduledAt: '2030-01-01T12:00:00.000Z' });
    world.notifications.seed(n);
    world.mailer.failures.add(awsError('ServiceUnavailable', 503));
    const ref = { kind: 'notification', tenantId: n.tenantId, notificationId: n.id } as const;

    // Act
    const lines = await captureLogs(async () => {
      await world.deliverOne(ref);
      world.clock.advanceSeconds(301);
      await world.deliverOne(ref);
    });

    // Assess
    // The engine logs a failed send, the retry it decides, and the delivery that succeeds.
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(['Channel delivery failed; will retry', 'Delivery will be retried', 'Delivered']));
    for (const line of lines) {
      expect(line).toMatchObject({ tenantId: n.tenantId, notificationId: n.id, service: 'herald' });
      expect(typeof line.message).toBe('string');
    }
  });
});
