import { describe, expect, it } from 'vitest';
import { zeroCounts } from '../../../../shared/domain/broadcast.ts';
import type { Broadcast } from '../../../../shared/domain/broadcast.ts';
import { newBroadcastId } from '../../../../shared/domain/ids.ts';
import { announceBroadcastProgress } from '../../../../shared/use-cases/broadcast-progress.ts';
import { InMemoryBroadcastStore } from '../../fakes/broadcast-store.ts';
import { FakeClock } from '../../fakes/clock.ts';
import { InMemoryLiveStateStore } from '../../fakes/live-state-store.ts';
import { FakeSocketPoster } from '../../fakes/socket-poster.ts';

function aBroadcast(overrides: Partial<Broadcast> = {}): Broadcast {
  return {
    tenantId: 'acme',
    id: newBroadcastId(new Date('2030-01-01T00:00:00.000Z')),
    createdBy: 'sam',
    title: 'Maintenance tonight',
    type: 'system',
    priority: 'normal',
    channels: ['inbox'],
    audience: { kind: 'groups', groups: ['staff'] },
    status: 'sending',
    createdAt: '2030-01-01T00:00:00.000Z',
    counts: { ...zeroCounts, total: 4, sent: 3 },
    fanout: { phase: 'delivering', page: 0 },
    run: 0,
    ...overrides,
  };
}

function aWorld(): { broadcasts: InMemoryBroadcastStore; live: InMemoryLiveStateStore; sockets: FakeSocketPoster; clock: FakeClock } {
  return { broadcasts: new InMemoryBroadcastStore(), live: new InMemoryLiveStateStore(), sockets: new FakeSocketPoster(), clock: new FakeClock() };
}

describe('live broadcast progress', () => {
  it("tells the broadcast's creator its counters on each open connection, once per broadcast of the batch", async () => {
    // Prepare
    const world = aWorld();
    const broadcast = aBroadcast();
    await world.broadcasts.create(broadcast, { message: 'Down at 22:00' });
    await world.live.connect('acme', 'sam', { connectionId: 'c1', connectedAt: '2030-01-01T11:59:00.000Z' });
    await world.live.connect('acme', 'sam', { connectionId: 'c2', connectedAt: '2030-01-01T11:59:30.000Z' });
    await world.live.connect('acme', 'ann', { connectionId: 'c3', connectedAt: '2030-01-01T11:59:30.000Z' });
    world.sockets.open('c1', 'c2', 'c3');

    // Act
    const named = { tenantId: 'acme', broadcastId: broadcast.id };
    await announceBroadcastProgress(world, [named, named]);

    // Assess
    expect(world.sockets.posted.map((p) => p.connectionId).sort()).toEqual(['c1', 'c2']);
    expect(world.sockets.posted[0]?.payload).toEqual({
      type: 'broadcastProgress',
      broadcast: { id: broadcast.id, status: 'sending', title: 'Maintenance tonight', progress: { total: 4, sent: 3, failed: 0, cancelled: 0, pending: 1, held: 0, percent: 75 } },
    });
  });

  it('forgets the connections that are gone, and posts nothing for a broadcast that no longer exists', async () => {
    // Prepare
    const world = aWorld();
    const broadcast = aBroadcast();
    await world.broadcasts.create(broadcast, { message: 'Down at 22:00' });
    await world.live.connect('acme', 'sam', { connectionId: 'closed', connectedAt: '2030-01-01T11:59:00.000Z' });

    // Act
    await announceBroadcastProgress(world, [{ tenantId: 'acme', broadcastId: broadcast.id }, { tenantId: 'acme', broadcastId: 'brd_01JAAAAAAAAAAAAAAAAAAAAAAA' }]);

    // Assess
    expect(world.sockets.posted).toEqual([]);
    expect(world.live.connectionIds('acme', 'sam')).toEqual([]);
  });
});
