import { describe, expect, it } from 'vitest';
import {
  canTransition,
  defaultChannels,
  isTerminal,
  notificationStatuses,
  statusesAllowing,
  toNotificationView,
  toSocketMessage,
} from '../../../../shared/domain/notification.ts';
import type { NotificationStatus } from '../../../../shared/domain/notification.ts';
import { aNotification } from '../../fakes/fixtures.ts';

/** The life of a notification as ARCHITECTURE.md draws it, written out independently of the code. */
const allowed = new Set([
  'pending→sending',
  'pending→cancelled',
  // A reschedule (or send-now) moves a pending notification's time: now a transition of its own.
  'pending→pending',
  'sending→sending',
  'sending→sent',
  'sending→failed',
  'sending→pending',
  'failed→pending',
]);
const everyPair = notificationStatuses.flatMap((from) => notificationStatuses.map((to) => [from, to] as const));
const allowedPairs = everyPair.filter(([from, to]) => allowed.has(`${from}→${to}`));
const forbiddenPairs = everyPair.filter(([from, to]) => !allowed.has(`${from}→${to}`));

describe('notification state transitions', () => {
  it.each(allowedPairs)('allows %s → %s', (from, to) => {
    // Prepare: the pair comes from the table

    // Act
    const result = canTransition(from, to);

    // Assess
    expect(result).toBe(true);
  });

  it.each(forbiddenPairs)('forbids %s → %s', (from, to) => {
    // Prepare: the pair comes from the table

    // Act
    const result = canTransition(from, to);

    // Assess
    expect(result).toBe(false);
  });

  it.each<[NotificationStatus, NotificationStatus[]]>([
    ['sending', ['pending', 'sending']],
    ['cancelled', ['pending']],
    ['sent', ['sending']],
    ['failed', ['sending']],
    ['pending', ['pending', 'sending', 'failed']],
  ])('lets a conditional write into %s start only from %j', (to, expected) => {
    // Prepare: the target state comes from the table

    // Act
    const from = statusesAllowing(to);

    // Assess
    expect(from.sort()).toEqual(expected.sort());
  });
});

describe('isTerminal', () => {
  it.each<[NotificationStatus, boolean]>([
    ['pending', false],
    ['sending', false],
    ['sent', true],
    ['failed', true],
    ['cancelled', true],
  ])('says %s is terminal: %s', (status, expected) => {
    // Prepare: the status comes from the table

    // Act
    const terminal = isTerminal(status);

    // Assess
    expect(terminal).toBe(expected);
  });
});

describe('defaultChannels', () => {
  it('adds email when the recipient has an address', () => {
    // Prepare
    const recipient = { email: 'bob@example.com' };

    // Act
    const result = defaultChannels(recipient);

    // Assess
    expect(result).toEqual(['inbox', 'websocket', 'email', 'push']);
  });

  it.each([{}, { email: '' }, { phone: '' }])('uses only inbox, websocket and push without an address (%j)', (recipient) => {
    // Prepare: the recipient comes from the table

    // Act
    const result = defaultChannels(recipient);

    // Assess: push is tried like websocket, and skipped when the user registered no target
    expect(result).toEqual(['inbox', 'websocket', 'push']);
  });

  it('adds sms when the recipient has a phone number', () => {
    expect(defaultChannels({ email: 'bob@example.com', phone: '+14155550100' })).toEqual(['inbox', 'websocket', 'email', 'push', 'sms']);
  });
});

describe('views of a notification', () => {
  it('gives live clients the content but none of the bookkeeping', () => {
    // Prepare
    const n = aNotification({ data: { room: 'B' }, status: 'sending', attempts: 2, lastError: 'email: boom' });

    // Act
    const frame = toSocketMessage(n);

    // Assess
    expect(frame).toEqual({
      type: 'notification',
      notification: {
        id: n.id,
        title: n.title,
        message: n.message,
        type: n.type,
        priority: n.priority,
        data: { room: 'B' },
        scheduledAt: n.scheduledAt,
      },
    });
  });

  it('shows API callers nulls rather than missing fields and hides the tenant and creator', () => {
    // Prepare
    const n = aNotification();

    // Act
    const view = toNotificationView(n, 'diagnostic');

    // Assess
    expect(view).toMatchObject({ id: n.id, data: {}, sentAt: null, lastError: null, status: 'pending' });
    expect(view).not.toHaveProperty('tenantId');
    expect(view).not.toHaveProperty('createdBy');
  });

  it('shows when a pending notification is tried again and why it waits, and no retry time once it is final', () => {
    // Prepare
    const waiting = aNotification({ status: 'pending', lastError: 'email: Throttling: Daily message quota exceeded.', nextAttemptAt: '2030-01-01T13:00:00.000Z' });
    const sent = aNotification({ status: 'sent', nextAttemptAt: '2030-01-01T13:00:00.000Z' });

    // Act
    const views = [toNotificationView(waiting, 'diagnostic'), toNotificationView(sent, 'diagnostic')];

    // Assess
    expect(views[0]).toMatchObject({ status: 'pending', nextAttemptAt: '2030-01-01T13:00:00.000Z', lastError: expect.stringContaining('Daily message quota exceeded') });
    expect(views[1]).toMatchObject({ status: 'sent', nextAttemptAt: null });
  });
});
