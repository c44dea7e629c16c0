import { describe, expect, it } from 'vitest';
import { answerSocketMessage, closeConnection, openConnection } from '../../../../shared/use-cases/connections.ts';
import { FakeClock, FakeSocketPoster, InMemoryConnectionStore } from '../../fakes/index.ts';
import { plainUser, tenantId } from '../../fakes/fixtures.ts';

describe('WebSocket connections', () => {
  it('records a connection under its user, expiring after the TTL', async () => {
    // Prepare
    const connections = new InMemoryConnectionStore();
    const clock = new FakeClock('2030-01-01T12:00:00.000Z');

    // Act
    await openConnection({ connections, clock, ttlSeconds: 7500 }, plainUser, 'conn-1');

    // Assess
    expect(await connections.listByUser(tenantId, plainUser.sub)).toEqual([
      { connectionId: 'conn-1', tenantId, userId: plainUser.sub, connectedAt: '2030-01-01T12:00:00.000Z' },
    ]);
    expect(connections.expiresAtOf('conn-1')?.toISOString()).toBe('2030-01-01T14:05:00.000Z');
  });

  it('forgets a connection that closed', async () => {
    // Prepare
    const connections = new InMemoryConnectionStore();
    const clock = new FakeClock();
    await openConnection({ connections, clock, ttlSeconds: 60 }, plainUser, 'conn-1');

    // Act
    await closeConnection({ connections }, 'conn-1');

    // Assess
    expect(connections.ids()).toEqual([]);
  });

  it.each([
    ['ping', { type: 'pong' }],
    ['dance', { type: 'error', message: 'Unknown action: dance' }],
    [undefined, { type: 'error', message: 'Unknown action: (none)' }],
  ])('answers the action %j with %j', async (action, reply) => {
    // Prepare
    const sockets = new FakeSocketPoster();
    sockets.open('conn-1');

    // Act
    await answerSocketMessage({ sockets }, 'conn-1', action);

    // Assess
    expect(sockets.posted).toEqual([{ connectionId: 'conn-1', payload: reply }]);
  });
});
