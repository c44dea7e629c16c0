import { describe, expect, it } from 'vitest';
import { maxFramedConnectionsPerUser, openConnections } from '../../../../shared/domain/delivery.ts';
import type { LiveConnection } from '../../../../shared/domain/delivery.ts';
import { postFrame } from '../../../../shared/use-cases/socket-frames.ts';
import { FakeSocketPoster } from '../../fakes/socket-poster.ts';

const now = new Date('2030-01-01T12:00:00.000Z');
const owner = { tenantId: 'acme', userId: 'bob' };

/** `n` connections c0..c(n-1), c0 the newest, a second apart. */
function connections(n: number): LiveConnection[] {
  return Array.from({ length: n }, (_, i) => ({ connectionId: `c${i}`, connectedAt: new Date(now.getTime() - (i + 1) * 1000).toISOString() }));
}

function aWorld(): { sockets: FakeSocketPoster; forgotten: string[][]; deps: Parameters<typeof postFrame>[0] } {
  const sockets = new FakeSocketPoster();
  const forgotten: string[][] = [];
  return {
    sockets,
    forgotten,
    deps: { sockets, live: { forgetConnections: async (_tenant, _user, ids) => void forgotten.push([...ids]) } },
  };
}

describe('postFrame', () => {
  it('posts to the newest 25 open connections and no older one', async () => {
    // Prepare
    const world = aWorld();
    const all = connections(30);
    world.sockets.open(...all.map((c) => c.connectionId));

    // Act
    const posting = await postFrame(world.deps, owner, openConnections({ connections: [...all].reverse() }, now), { type: 'x' });

    // Assess
    expect(posting).toEqual({ posted: maxFramedConnectionsPerUser, gone: [], failures: [] });
    expect(world.sockets.posted.map((p) => p.connectionId).sort()).toEqual(all.slice(0, 25).map((c) => c.connectionId).sort());
    expect(world.forgotten).toEqual([]);
  });

  it('gives the place of each gone connection to the next older one, and forgets the gone ones', async () => {
    // Prepare: the 27 newest were closed without their $disconnect; the 3 oldest are open
    const world = aWorld();
    const all = connections(30);
    world.sockets.open('c27', 'c28', 'c29');

    // Act
    const posting = await postFrame(world.deps, owner, all, { type: 'x' });

    // Assess
    expect(posting.posted).toBe(3);
    expect(world.sockets.posted.map((p) => p.connectionId).sort()).toEqual(['c27', 'c28', 'c29']);
    expect(posting.gone).toHaveLength(27);
    expect(world.forgotten.flat().sort()).toEqual(all.slice(0, 27).map((c) => c.connectionId).sort());
  });

  it('keeps the place of a connection whose post failed otherwise: the frame may have arrived', async () => {
    // Prepare: 26 open; the first post fails with a 500
    const world = aWorld();
    const all = connections(26);
    world.sockets.open(...all.map((c) => c.connectionId));
    world.sockets.failures.add(Object.assign(new Error('Internal'), { name: 'InternalServerErrorException', $metadata: { httpStatusCode: 500 } }));

    // Act
    const posting = await postFrame(world.deps, owner, all, { type: 'x' });

    // Assess: 24 posted, 1 failed, the 26th never tried
    expect(posting.posted).toBe(24);
    expect(posting.failures).toHaveLength(1);
    expect(world.sockets.posted.map((p) => p.connectionId)).not.toContain('c25');
  });

  it('fails nothing when the gone connections cannot be forgotten', async () => {
    // Prepare
    const world = aWorld();
    world.sockets.open('c1');
    const deps = { ...world.deps, live: { forgetConnections: async (): Promise<void> => Promise.reject(new Error('throttled')) } };

    // Act
    const posting = await postFrame(deps, owner, connections(2), { type: 'x' });

    // Assess
    expect(posting).toMatchObject({ posted: 1, gone: ['c0'] });
  });
});
