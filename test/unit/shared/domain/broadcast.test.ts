import { describe, expect, it } from 'vitest';
import {
  broadcastProgress,
  broadcastStatuses,
  canTransition,
  finalStatus,
  isFinished,
  isReadyToFinish,
  publicRecipientStatus,
  recipientShard,
  statusesAllowing,
  toBroadcastRecipientView,
  toBroadcastView,
  zeroCounts,
} from '../../../../shared/domain/broadcast.ts';
import type { Broadcast, BroadcastCounts } from '../../../../shared/domain/broadcast.ts';
import { broadcastIdBound, broadcastIdPattern, newBroadcastId } from '../../../../shared/domain/ids.ts';

function aBroadcast(overrides: Partial<Broadcast> = {}): Broadcast {
  return {
    tenantId: 'acme',
    id: newBroadcastId(new Date('2030-01-01T00:00:00.000Z')),
    createdBy: 'sam',
    title: 'Maintenance tonight',
    type: 'system',
    priority: 'normal',
    channels: ['inbox', 'websocket'],
    audience: { kind: 'groups', groups: ['staff'] },
    status: 'sending',
    createdAt: '2030-01-01T00:00:00.000Z',
    counts: zeroCounts,
    run: 0,
    ...overrides,
  };
}

const counts = (c: Partial<BroadcastCounts>): BroadcastCounts => ({ ...zeroCounts, ...c });

describe('broadcast transitions', () => {
  it('lets a draft be scheduled or cancelled, and nothing else', () => {
    // Prepare / Act
    const allowed = broadcastStatuses.filter((to) => canTransition('draft', to));

    // Assess
    expect(allowed).toEqual(['scheduled', 'cancelled']);
  });

  it('lets only completed and failed broadcasts go back to sending (a retry)', () => {
    // Act
    const from = statusesAllowing('sending');

    // Assess
    expect(from).toEqual(['scheduled', 'completed', 'failed']);
  });

  it('never lets a cancelled broadcast move again', () => {
    // Act / Assess
    expect(broadcastStatuses.filter((to) => canTransition('cancelled', to))).toEqual([]);
  });
});

describe('broadcastProgress', () => {
  it('shows 0 percent until the fan-out has counted its recipients', () => {
    // Prepare
    const resolving = aBroadcast({ fanout: { phase: 'resolving', page: 3 }, counts: counts({ total: 0 }) });

    // Act
    const progress = broadcastProgress(resolving);

    // Assess
    expect(progress).toEqual({ total: 0, sent: 0, failed: 0, pending: 0, cancelled: 0, held: 0, percent: 0 });
  });

  it('counts sent, failed and cancelled recipients as done once the total is final', () => {
    // Prepare
    const b = aBroadcast({ fanout: { phase: 'delivering', page: 0 }, counts: counts({ total: 8, sent: 3, failed: 1, cancelled: 1 }) });

    // Act
    const progress = broadcastProgress(b);

    // Assess
    expect(progress).toEqual({ total: 8, sent: 3, failed: 1, cancelled: 1, pending: 3, held: 0, percent: 62 });
  });

  it('shows a broadcast cancelled before it started as finished: 100 percent, completed when cancelled', () => {
    // Prepare
    const cancelledAt = '2030-01-01T10:00:00.000Z';
    const cancelled = aBroadcast({ status: 'cancelled', cancelledAt });
    const cancelling = aBroadcast({ status: 'cancelled', cancelledAt, fanout: { phase: 'resolving', page: 1 } });

    // Act
    const view = toBroadcastView(cancelled);
    const stillCancelling = toBroadcastView(cancelling);

    // Assess
    expect(view).toMatchObject({ completedAt: cancelledAt, progress: { total: 0, pending: 0, percent: 100 } });
    expect(stillCancelling).toMatchObject({ completedAt: null, progress: { percent: 0 } });
  });

  it('shows 100 percent for an empty audience once counted', () => {
    // Act / Assess
    expect(broadcastProgress(aBroadcast({ fanout: { phase: 'delivering', page: 0 } })).percent).toBe(100);
  });
});

describe('the end of a broadcast', () => {
  it('is failed when nobody got it and someone failed, completed otherwise', () => {
    // Act / Assess
    expect(finalStatus(counts({ total: 2, failed: 2 }))).toBe('failed');
    expect(finalStatus(counts({ total: 2, failed: 1, sent: 1 }))).toBe('completed');
    expect(finalStatus(counts({ total: 0 }))).toBe('completed');
  });

  it('is ready only once the total is final and every recipient reached a final state', () => {
    // Prepare
    const delivering = { fanout: { phase: 'delivering' as const, page: 0 } };

    // Act / Assess
    expect(isReadyToFinish(aBroadcast({ ...delivering, counts: counts({ total: 2, sent: 1 }) }))).toBe(false);
    expect(isReadyToFinish(aBroadcast({ ...delivering, counts: counts({ total: 2, sent: 1, failed: 1 }) }))).toBe(true);
    expect(isReadyToFinish(aBroadcast({ fanout: { phase: 'counting', page: 0 }, counts: counts({ total: 0 }) }))).toBe(false);
    expect(isReadyToFinish(aBroadcast({ ...delivering, status: 'completed', counts: counts({ total: 1, sent: 1 }) }))).toBe(false);
  });

  it('settles a cancelled broadcast once, when its last recipient is final', () => {
    // Prepare
    const cancelled = aBroadcast({ status: 'cancelled', fanout: { phase: 'delivering', page: 0 }, counts: counts({ total: 3, sent: 1, cancelled: 2 }) });

    // Act / Assess
    expect(isReadyToFinish(cancelled)).toBe(true);
    expect(isReadyToFinish({ ...cancelled, completedAt: '2030-01-01T00:10:00.000Z' })).toBe(false);
    expect(isFinished(cancelled)).toBe(false);
    expect(isFinished({ ...cancelled, completedAt: '2030-01-01T00:10:00.000Z' })).toBe(true);
  });

  it('treats a broadcast cancelled before it started as finished', () => {
    // Act / Assess
    expect(isFinished(aBroadcast({ status: 'cancelled' }))).toBe(true);
    expect(isFinished(aBroadcast({ status: 'sending' }))).toBe(false);
  });
});

describe('views', () => {
  it('shows an explicit audience by its size, not its ids, and the content when given', () => {
    // Prepare
    const b = aBroadcast({ audience: { kind: 'recipients', count: 3 } });

    // Act
    const view = toBroadcastView(b, { message: 'Back at 2am', data: { ticket: 7 } });

    // Assess
    expect(view).toMatchObject({ audience: { recipientCount: 3 }, message: 'Back at 2am', data: { ticket: 7 }, scheduledAt: null });
  });

  it('shows a row held by a worker as pending', () => {
    // Act / Assess
    expect(publicRecipientStatus('sending')).toBe('pending');
    expect(
      toBroadcastRecipientView({
        tenantId: 'acme',
        broadcastId: 'brd_x',
        recipientId: 'bob',
        status: 'sending',
        attempts: 1,
        deliveries: {},
        run: 0,
        createdAt: 'a',
        updatedAt: 'b',
      }, 'diagnostic'),
    ).toMatchObject({ recipientId: 'bob', status: 'pending', error: null });
  });

  it('shows when a row is next tried only while it will be: not once it is cancelled, sent or failed', () => {
    // Prepare: a row held for quiet hours, then each way it can end with the attribute left on it
    const held = { tenantId: 'acme', broadcastId: 'brd_x', recipientId: 'bob', attempts: 0, deliveries: {}, run: 0, createdAt: 'a', updatedAt: 'b', nextAttemptAt: '2030-01-01T13:00:00.000Z' };

    // Act
    const views = (['pending', 'sending', 'cancelled', 'sent', 'failed'] as const).map((status) => toBroadcastRecipientView({ ...held, status }, 'diagnostic').nextAttemptAt);

    // Assess
    expect(views).toEqual(['2030-01-01T13:00:00.000Z', '2030-01-01T13:00:00.000Z', null, null, null]);
  });
});

describe('broadcast ids and shards', () => {
  it('makes prefixed, sortable ids that fit their pattern and creation-time bounds', () => {
    // Prepare
    const at = new Date('2030-05-05T05:05:05.000Z');

    // Act
    const id = newBroadcastId(at);

    // Assess
    expect(id).toMatch(broadcastIdPattern);
    expect(id >= broadcastIdBound(at, 'first') && id <= broadcastIdBound(at, 'last')).toBe(true);
    expect(id > broadcastIdBound(new Date(at.getTime() - 1), 'last')).toBe(true);
  });

  it('spreads recipients over every shard, always to the same one', () => {
    // Prepare
    const ids = Array.from({ length: 1_000 }, (_, i) => `user-${i}`);

    // Act
    const shards = ids.map((id) => recipientShard(id, 16));

    // Assess
    expect(new Set(shards).size).toBe(16);
    expect(recipientShard('user-7', 16)).toBe(shards[7]);
  });
});
