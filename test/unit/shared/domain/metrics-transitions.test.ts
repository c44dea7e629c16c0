/**
 * The counting rules on a notification's images before and after a write, as the table's stream
 * gives them: each case is what the synchronous counters (MeteredNotificationStore and the
 * engine) counted for the same transition.
 */
import { describe, expect, it } from 'vitest';
import { changeMetrics, negatedCounts, statusChangeMetric } from '../../../../shared/domain/metrics.ts';
import type { NotificationImage } from '../../../../shared/domain/metrics.ts';

const noon = '2030-01-01T12:00:00.000Z';

function image(overrides: Partial<NotificationImage> = {}): NotificationImage {
  return { tenantId: 'acme', status: 'pending', attempts: 0, deliveries: {}, ...overrides };
}

describe('changeMetrics', () => {
  it('counts a created notification as pending', () => {
    // Act
    const counts = changeMetrics({ after: image() });

    // Assess
    expect(counts).toEqual({ 'notifications.pending': 1 });
  });

  it('counts a claim as sending, but not the intents it records', () => {
    // Prepare
    const before = image();
    const after = image({ status: 'sending', attempts: 1, deliveries: { email: { status: 'sending', at: noon }, websocket: { status: 'sending', at: noon } } });

    // Act
    const counts = changeMetrics({ before, after });

    // Assess
    expect(counts).toEqual({ 'notifications.sending': 1 });
  });

  it('counts the takeover of a lease that ran out as sending, the intent it finds unconfirmed as an outcome', () => {
    // Prepare
    const before = image({ status: 'sending', attempts: 1, deliveries: { email: { status: 'sending', at: noon } } });
    const later = '2030-01-01T12:05:00.000Z';
    const takenOver = image({ status: 'sending', attempts: 2, deliveries: { email: { status: 'sending', at: noon } } });
    const committed = image({ status: 'sent', attempts: 2, deliveries: { email: { status: 'unconfirmed', at: later } } });

    // Act
    const counts = [changeMetrics({ before, after: takenOver }), changeMetrics({ before: takenOver, after: committed })];

    // Assess
    expect(counts).toEqual([{ 'notifications.sending': 1 }, { 'notifications.sent': 1, 'deliveries.email.unconfirmed': 1 }]);
  });

  it('counts a commit\'s end and each channel outcome it records: sent, skipped, failed', () => {
    // Prepare
    const before = image({ status: 'sending', attempts: 1, deliveries: { email: { status: 'sending', at: noon } } });
    const after = image({
      status: 'sent',
      attempts: 1,
      deliveries: { inbox: { status: 'sent', at: noon }, websocket: { status: 'skipped', at: noon }, email: { status: 'sent', at: noon } },
    });

    // Act
    const counts = changeMetrics({ before, after });

    // Assess
    expect(counts).toEqual({ 'notifications.sent': 1, 'deliveries.inbox.sent': 1, 'deliveries.websocket.skipped': 1, 'deliveries.email.sent': 1 });
  });

  it('counts a failed end with its failed channels', () => {
    // Prepare
    const before = image({ status: 'sending', attempts: 1 });
    const after = image({ status: 'failed', attempts: 1, deliveries: { inbox: { status: 'sent', at: noon }, email: { status: 'failed', at: noon } } });

    // Act
    const counts = changeMetrics({ before, after });

    // Assess
    expect(counts).toEqual({ 'notifications.failed': 1, 'deliveries.inbox.sent': 1, 'deliveries.email.failed': 1 });
  });

  it('counts a claim released for a retry by its outcomes only, not as pending again', () => {
    // Prepare
    const before = image({ status: 'sending', attempts: 1, deliveries: { email: { status: 'sending', at: noon } } });
    const after = image({ status: 'pending', attempts: 1, deliveries: { inbox: { status: 'sent', at: noon } } });

    // Act
    const counts = changeMetrics({ before, after });

    // Assess
    expect(counts).toEqual({ 'deliveries.inbox.sent': 1 });
  });

  it('counts a cancel, and a manual retry of a failed notification as pending', () => {
    // Act
    const counts = [
      changeMetrics({ before: image(), after: image({ status: 'cancelled' }) }),
      changeMetrics({ before: image({ status: 'failed', attempts: 4 }), after: image({ attempts: 0 }) }),
    ];

    // Assess
    expect(counts).toEqual([{ 'notifications.cancelled': 1 }, { 'notifications.pending': 1 }]);
  });

  it('counts nothing for a reschedule, a deletion, or an outcome kept as it was', () => {
    // Prepare
    const kept = { inbox: { status: 'sent' as const, at: noon } };

    // Act
    const counts = [
      changeMetrics({ before: image(), after: image() }),
      changeMetrics({ before: image({ status: 'sent' }) }),
      changeMetrics({ before: image({ status: 'sending', attempts: 2, deliveries: kept }), after: image({ status: 'sending', attempts: 2, deliveries: kept }) }),
    ];

    // Assess
    expect(counts).toEqual([{}, {}, {}]);
  });

  it('counts an outcome recorded again at a later time, as each write of it counted', () => {
    // Prepare
    const before = image({ status: 'sending', attempts: 2, deliveries: { inbox: { status: 'sent', at: noon } } });
    const after = image({ status: 'sent', attempts: 2, deliveries: { inbox: { status: 'sent', at: '2030-01-01T12:01:00.000Z' } } });

    // Act
    const counts = changeMetrics({ before, after });

    // Assess
    expect(counts).toEqual({ 'notifications.sent': 1, 'deliveries.inbox.sent': 1 });
  });
});

describe('statusChangeMetric', () => {
  it('counts a sending notification whose attempts did not grow as nothing (an outcome written under the claim)', () => {
    // Act
    const metric = statusChangeMetric(image({ status: 'sending', attempts: 1 }), image({ status: 'sending', attempts: 1 }));

    // Assess
    expect(metric).toBeUndefined();
  });
});

describe('negatedCounts', () => {
  it('turns each count into what takes it back out', () => {
    // Act
    const negated = negatedCounts({ 'notifications.sent': 2, 'deliveries.email.failed': 1 });

    // Assess
    expect(negated).toEqual({ 'notifications.sent': -2, 'deliveries.email.failed': -1 });
  });
});
