/**
 * Logs are structured JSON, and every line about a notification names the notification and its
 * tenant — including the lines of a failed attempt and of a retry.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../../../shared/observability/logger.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, awsError } from '../../fakes/fixtures.ts';

afterEach(() => {
  vi.restoreAllMocks();
  logger.setLogLevel('WARN');
});

/** Captures what the logger writes (stdout, and stderr for warnings and errors) while `act` runs, one parsed JSON object a line. */
async function captureLogs(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
    return true;
  };
  const writes = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  logger.setLogLevel('DEBUG');
  try {
    await act();
  } finally {
    for (const write of writes) write.mockRestore();
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

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
