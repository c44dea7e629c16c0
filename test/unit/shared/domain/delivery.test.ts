/** The pure rules of delivery (shared/domain/delivery.ts), the same for a notification and a broadcast recipient. */
import { describe, expect, it } from 'vitest';
import {
  answerToFullConnections,
  maxConnectionRetryAfterMs,
  maxFramedConnectionsPerUser,
  maxOpenConnectionsPerUser,
  openConnections,
  readinessOf,
  recordedStep,
  settle,
  toSocketFrame,
  unitKey,
} from '../../../../shared/domain/delivery.ts';
import type { ChannelResult, DeliveryContent, DeliveryUnit } from '../../../../shared/domain/delivery.ts';
import type { Channel, ChannelDelivery } from '../../../../shared/domain/notification.ts';
import type { RetryPolicy } from '../../../../shared/domain/retry-policy.ts';

const now = new Date('2030-01-01T12:00:00.000Z');
const t = now.getTime();
const policy: RetryPolicy = { baseSeconds: 300, factor: 2, maxRetries: 3, jitter: 0, capSeconds: 43_200 };
const at = now.toISOString();

const content: DeliveryContent = {
  id: 'ntf_1',
  title: 'Standup',
  message: 'in 5 minutes',
  type: 'reminder',
  priority: 'normal',
  createdAt: '2029-12-31T00:00:00.000Z',
  scheduledAt: at,
};

function aUnit(overrides: Partial<DeliveryUnit> = {}): DeliveryUnit {
  return {
    ref: { kind: 'notification', tenantId: 'acme', notificationId: 'ntf_1' },
    tenantId: 'acme',
    recipientId: 'bob',
    status: 'pending',
    dueAt: t,
    attempts: 0,
    channels: ['inbox', 'email'],
    deliveries: {},
    content,
    ...overrides,
  };
}

describe('unitKey', () => {
  it('names a notification and a broadcast recipient apart, and each uniquely', () => {
    // Act
    const keys = [
      unitKey({ kind: 'notification', tenantId: 'acme', notificationId: 'x' }),
      unitKey({ kind: 'notification', tenantId: 'acme', notificationId: 'x', recipientId: 'bob' }),
      unitKey({ kind: 'notification', tenantId: 'globex', notificationId: 'x' }),
      unitKey({ kind: 'broadcast', tenantId: 'acme', broadcastId: 'x', recipientId: 'bob' }),
      unitKey({ kind: 'broadcast', tenantId: 'acme', broadcastId: 'x', recipientId: 'carol' }),
    ];

    // Assess: naming the recipient does not make a notification another unit
    expect(keys[0]).toBe(keys[1]);
    expect(new Set([keys[0], ...keys.slice(2)]).size).toBe(4);
  });
});

describe('readinessOf', () => {
  it.each<[string, Partial<DeliveryUnit>, number, ReturnType<typeof readinessOf>]>([
    ['a pending unit that is due', { dueAt: t }, 0, { kind: 'claimable', takeover: false }],
    ['a pending unit due later', { dueAt: t + 5_000 }, 0, { kind: 'notYetDue', at: t + 5_000 }],
    ['a pending unit due within the hold', { dueAt: t + 1_500 }, 2_000, { kind: 'claimable', takeover: false }],
    ['a pending unit due just past the hold', { dueAt: t + 2_001 }, 2_000, { kind: 'notYetDue', at: t + 2_001 }],
    ['a unit whose worker holds its lease', { status: 'sending', leaseUntil: t + 30_000 }, 0, { kind: 'leased', until: t + 30_000 }],
    ['a unit whose lease ends this very instant', { status: 'sending', leaseUntil: t }, 0, { kind: 'leased', until: t }],
    ['a unit whose lease ran out', { status: 'sending', leaseUntil: t - 1 }, 0, { kind: 'claimable', takeover: true }],
    ['a sending unit with no lease recorded', { status: 'sending' }, 0, { kind: 'leased', until: t }],
    ['a sent unit', { status: 'sent' }, 0, { kind: 'final', status: 'sent' }],
    ['a failed unit', { status: 'failed' }, 0, { kind: 'final', status: 'failed' }],
    ['a cancelled unit', { status: 'cancelled' }, 0, { kind: 'final', status: 'cancelled' }],
  ])('reads %s', (_, overrides, holdMs, expected) => {
    // Act
    const readiness = readinessOf(aUnit(overrides), now, holdMs);

    // Assess
    expect(readiness).toEqual(expected);
  });
});

describe('recordedStep', () => {
  it('decides nothing for a channel with no record', () => {
    // Act
    const step = recordedStep(undefined);

    // Assess
    expect(step).toBeUndefined();
  });

  it('never repeats an intent an earlier attempt left: it is unconfirmed, naming that attempt', () => {
    // Act
    const step = recordedStep({ status: 'sending', at, detail: 'attempt 2' });

    // Assess
    expect(step).toEqual({ kind: 'unconfirmed', detail: 'an earlier attempt stopped while sending (attempt 2)' });
  });

  it('names the instant of an intent without a detail', () => {
    // Act
    const step = recordedStep({ status: 'sending', at });

    // Assess
    expect(step).toEqual({ kind: 'unconfirmed', detail: `an earlier attempt stopped while sending (${at})` });
  });

  it.each<ChannelDelivery['status']>(['sent', 'unconfirmed', 'skipped', 'failed'])('keeps a %s outcome as it is', (status) => {
    // Act
    const step = recordedStep({ status, at });

    // Assess
    expect(step).toEqual({ kind: 'keep' });
  });
});

describe('settle', () => {
  const sent: ChannelDelivery = { status: 'sent', at };
  const failed: ChannelDelivery = { status: 'failed', at, error: 'rejected' };
  const retry = (error: string): ChannelResult => ({ kind: 'retry', error, category: 'unavailable' });
  const throttled = (error: string, retryAfterMs: number): ChannelResult => ({ kind: 'throttled', error, category: 'throttled', retryAfterMs });

  it('finishes a unit when any channel did not fail', () => {
    // Act
    const settlement = settle(['inbox', 'email'], { inbox: sent, email: failed }, [], 1, policy, now);

    // Assess
    expect(settlement).toEqual({ kind: 'finish' });
  });

  it('finishes a unit one of whose channels may have gone out, though the others failed or were skipped', () => {
    // Act
    const settlement = settle(
      ['inbox', 'websocket', 'email'],
      { inbox: failed, websocket: { status: 'skipped', at }, email: { status: 'unconfirmed', at, detail: 'no answer' } },
      [],
      1,
      policy,
      now,
    );

    // Assess
    expect(settlement).toEqual({ kind: 'finish' });
  });

  it('fails a unit whose channels were all skipped: it reached nobody, each reason named', () => {
    // Act
    const settlement = settle(['websocket', 'email'], { websocket: { status: 'skipped', at, detail: 'not connected' }, email: { status: 'skipped', at } }, [], 1, policy, now);

    // Assess
    expect(settlement).toEqual({ kind: 'fail', error: 'Nothing to deliver it to (websocket: skipped, not connected; email: skipped)', category: 'unreachable' });
  });

  it('fails a unit whose channels failed or were skipped, with the category of the first failure', () => {
    // Act
    const settlement = settle(
      ['websocket', 'inbox', 'email'],
      { websocket: { status: 'skipped', at, detail: 'not connected' }, inbox: { ...failed, error: 'template welcome no longer exists', errorCategory: 'unrenderable' }, email: failed },
      [],
      1,
      policy,
      now,
    );

    // Assess
    expect(settlement).toEqual({
      kind: 'fail',
      error: 'No channel delivered it (websocket: skipped, not connected; inbox: template welcome no longer exists; email: rejected)',
      category: 'unrenderable',
    });
  });

  it('fails a unit when every channel failed, naming each reason', () => {
    // Act
    const settlement = settle(['websocket', 'email'], { websocket: { status: 'failed', at }, email: failed }, [], 1, policy, now);

    // Assess
    expect(settlement).toEqual({ kind: 'fail', error: 'Every channel failed (websocket: failed; email: rejected)', category: 'unclassified' });
  });

  it.each([
    [1, 300],
    [2, 600],
    [3, 1_200],
  ])('releases a unit with a channel to retry after attempt %i, for the policy\'s %i s', (attempts, seconds) => {
    // Act
    const settlement = settle(['inbox', 'email'] as Channel[], { inbox: sent }, [retry('email: 503')], attempts, policy, now);

    // Assess
    expect(settlement).toEqual({ kind: 'release', error: 'email: 503', category: 'unavailable', nextAttemptAt: t + seconds * 1000, refundAttempt: false });
  });

  it('fails a unit whose last attempt had a channel to retry, as exhausted', () => {
    // Act
    const settlement = settle(['email'], {}, [retry('email: 503')], 4, policy, now);

    // Assess
    expect(settlement).toEqual({ kind: 'fail', error: 'Gave up after 4 attempts: email: 503', category: 'unavailable', exhausted: true });
  });

  it('releases a throttled unit after the provider\'s hint, handing the attempt back', () => {
    // Act
    const settlement = settle(['email'], {}, [throttled('email: slow down', 2_000)], 4, policy, now);

    // Assess: even past the last attempt, throttling alone never fails a unit
    expect(settlement).toEqual({ kind: 'release', error: 'email: slow down', category: 'throttled', nextAttemptAt: t + 2_000, refundAttempt: true });
  });

  it('waits for the longest hint when several channels are throttled', () => {
    // Act
    const settlement = settle(['websocket', 'email'], {}, [throttled('websocket: 429', 500), throttled('email: slow down', 3_000)], 1, policy, now);

    // Assess
    expect(settlement).toMatchObject({ kind: 'release', nextAttemptAt: t + 3_000, refundAttempt: true, error: 'websocket: 429; email: slow down' });
  });

  it('spends the attempt when a retry and a throttle come together, waiting for the longer of the backoff and the hint', () => {
    // Act
    const short = settle(['websocket', 'email'], {}, [retry('websocket: 500'), throttled('email: slow down', 1_000)], 1, policy, now);
    const long = settle(['websocket', 'email'], {}, [retry('websocket: 500'), throttled('email: quota', 3_600_000)], 1, policy, now);

    // Assess
    expect(short).toEqual({ kind: 'release', error: 'websocket: 500; email: slow down', category: 'unavailable', nextAttemptAt: t + 300_000, refundAttempt: false });
    expect(long).toMatchObject({ kind: 'release', nextAttemptAt: t + 3_600_000, refundAttempt: false });
  });
});

describe('toSocketFrame', () => {
  it('carries a notification with its new unread count and that count\'s version', () => {
    // Act
    const frame = toSocketFrame({ ...content, data: { room: 'B' } }, { unread: 3, unreadVersion: 12 });

    // Assess
    expect(frame).toEqual({
      type: 'notification',
      notification: { id: 'ntf_1', title: 'Standup', message: 'in 5 minutes', type: 'reminder', priority: 'normal', data: { room: 'B' }, scheduledAt: at },
      unread: 3,
      unreadVersion: 12,
    });
  });

  it('names the broadcast, gives empty data, and leaves out a count it does not know', () => {
    // Act
    const frame = toSocketFrame({ ...content, id: 'brd_1', broadcastId: 'brd_1', scheduledAt: null });

    // Assess
    expect(frame).toEqual({
      type: 'notification',
      notification: { id: 'brd_1', broadcastId: 'brd_1', title: 'Standup', message: 'in 5 minutes', type: 'reminder', priority: 'normal', data: {}, scheduledAt: null },
    });
  });

  it('keeps a count of zero and a version of zero', () => {
    // Act
    const frame = toSocketFrame(content, { unread: 0, unreadVersion: 0 });

    // Assess
    expect(frame).toMatchObject({ unread: 0, unreadVersion: 0 });
  });
});

describe('openConnections', () => {
  it('keeps the connections API Gateway can still hold open (2 h, and 5 minutes of slack)', () => {
    // Prepare
    const live = {
      unread: 0,
      connections: [
        { connectionId: 'fresh', connectedAt: '2030-01-01T11:59:00.000Z' },
        { connectionId: 'old', connectedAt: '2030-01-01T09:55:00.001Z' },
        { connectionId: 'stale', connectedAt: '2030-01-01T09:55:00.000Z' },
      ],
    };

    // Act
    const open = openConnections(live, now);

    // Assess
    expect(open.map((c) => c.connectionId)).toEqual(['fresh', 'old']);
  });

  it('gives every open connection of a user, newest first, however many they opened', () => {
    // Prepare: 300 connections, one a second, and one that was never closed two days ago
    const base = Date.parse('2030-01-01T11:00:00.000Z');
    const connections = Array.from({ length: 300 }, (_, i) => ({ connectionId: `c${i}`, connectedAt: new Date(base + i * 1000).toISOString() }));
    const live = { unread: 0, connections: [{ connectionId: 'lost', connectedAt: '2029-12-30T11:00:00.000Z' }, ...connections] };

    // Act
    const open = openConnections(live, now);

    // Assess: which of them a frame reaches is postFrame's (socket-frames.test.ts)
    expect(open.map((c) => c.connectionId)).toEqual(Array.from({ length: 300 }, (_, i) => `c${299 - i}`));
  });
});

describe('answerToFullConnections', () => {
  it('bounds the connections of a user well above those a frame goes to', () => {
    expect(maxOpenConnectionsPerUser).toBeGreaterThanOrEqual(2 * maxFramedConnectionsPerUser);
    expect(maxOpenConnectionsPerUser).toBeLessThanOrEqual(200);
  });

  it('forgets the connections whose $disconnect never came before refusing anyone', () => {
    // Prepare: the user is at the limit, one of them recorded before API Gateway's 2 hours
    const live = {
      unread: 0,
      unreadVersion: 0,
      connections: [
        { connectionId: 'lost', connectedAt: '2030-01-01T09:55:00.000Z' },
        { connectionId: 'open', connectedAt: '2030-01-01T11:00:00.000Z' },
      ],
    };

    // Act
    const answer = answerToFullConnections(live, now);

    // Assess
    expect(answer).toEqual({ kind: 'forgetExpired', expired: [{ connectionId: 'lost', connectedAt: '2030-01-01T09:55:00.000Z' }] });
  });

  it('refuses when every recorded connection may still be open, until the oldest has surely ended, or a minute', () => {
    // Prepare: the oldest ends (2 h 5 min) 30 s from now; in the other state, an hour from now
    const endingSoon = { unread: 0, unreadVersion: 0, connections: [{ connectionId: 'a', connectedAt: '2030-01-01T09:55:30.000Z' }, { connectionId: 'b', connectedAt: '2030-01-01T11:59:00.000Z' }] };
    const endingLater = { unread: 0, unreadVersion: 0, connections: [{ connectionId: 'c', connectedAt: '2030-01-01T11:00:00.000Z' }] };

    // Act
    const soon = answerToFullConnections(endingSoon, now);
    const later = answerToFullConnections(endingLater, now);

    // Assess
    expect(soon).toEqual({ kind: 'refuse', retryAfterMs: 30_000 });
    expect(later).toEqual({ kind: 'refuse', retryAfterMs: maxConnectionRetryAfterMs });
  });
});
