import { describe, expect, it } from 'vitest';
import { answerSocketMessage, closeConnection, openConnection } from '../../../../shared/use-cases/connections.ts';
import { maxOpenConnectionsPerUser, openConnections } from '../../../../shared/domain/delivery.ts';
import { TooManyRequestsError } from '../../../../shared/errors.ts';
import { FakeClock, FakeSocketPoster, InMemoryLiveStateStore } from '../../fakes/index.ts';
import { plainUser, tenantId } from '../../fakes/fixtures.ts';

describe('WebSocket connections', () => {
  it('records a connection on its user\'s live state, which deliveries stop trying after two hours', async () => {
    // Prepare
    const live = new InMemoryLiveStateStore();
    const clock = new FakeClock('2030-01-01T12:00:00.000Z');

    // Act
    await openConnection({ live, clock }, plainUser, 'conn-1');

    // Assess: a connection record has no TTL any more (it is an attribute of the live item);
    // one whose $disconnect was lost is skipped once API Gateway must have closed it (2 h + 5 min).
    const state = await live.get(tenantId, plainUser.sub);
    expect(state.connections).toEqual([{ connectionId: 'conn-1', connectedAt: '2030-01-01T12:00:00.000Z' }]);
    expect(openConnections(state, new Date('2030-01-01T14:04:59.999Z')).map((c) => c.connectionId)).toEqual(['conn-1']);
    expect(openConnections(state, new Date('2030-01-01T14:05:00.000Z'))).toEqual([]);
  });

  it('forgets, at a connect, the connections recorded two hours and more ago whose $disconnect never came', async () => {
    // Prepare: conn-old's $disconnect was lost 3 hours ago; conn-recent opened an hour ago
    const live = new InMemoryLiveStateStore();
    const clock = new FakeClock('2030-01-01T09:00:00.000Z');
    await openConnection({ live, clock }, plainUser, 'conn-old');
    clock.advanceSeconds(2 * 60 * 60);
    await openConnection({ live, clock }, plainUser, 'conn-recent');
    clock.advanceSeconds(60 * 60);

    // Act
    await openConnection({ live, clock }, plainUser, 'conn-new');

    // Assess
    expect(live.connectionIds(tenantId, plainUser.sub).sort()).toEqual(['conn-new', 'conn-recent']);
  });

  it('records a connection even when forgetting the expired ones fails', async () => {
    // Prepare
    const live = new InMemoryLiveStateStore();
    const clock = new FakeClock('2030-01-01T09:00:00.000Z');
    await openConnection({ live, clock }, plainUser, 'conn-old');
    clock.advanceSeconds(3 * 60 * 60);
    live.forgetConnections = async () => Promise.reject(new Error('throttled'));

    // Act
    await openConnection({ live, clock }, plainUser, 'conn-new');

    // Assess: the connect stands; the expired one is left for the next connect
    expect(live.connectionIds(tenantId, plainUser.sub).sort()).toEqual(['conn-new', 'conn-old']);
  });

  it('refuses a connection past the most a user may have open, saying so and when to try again', async () => {
    // Prepare: a user at the limit of 3, all open
    const live = new InMemoryLiveStateStore();
    const clock = new FakeClock('2030-01-01T12:00:00.000Z');
    for (const id of ['c1', 'c2', 'c3']) await openConnection({ live, clock, maxConnections: 3 }, plainUser, id);

    // Act
    const refusal = await openConnection({ live, clock, maxConnections: 3 }, plainUser, 'c4').catch((error: unknown) => error);

    // Assess: a 429 naming the limit; the oldest surely ends in 2 h 5 min, so a minute at most
    expect(refusal).toBeInstanceOf(TooManyRequestsError);
    expect(refusal).toMatchObject({ statusCode: 429, retryAfterSeconds: 60, details: { maxConnections: 3, retryAfterSeconds: 60 } });
    expect((refusal as Error).message).toMatch(/3 WebSocket connections open, the most allowed/);
    expect(live.connectionIds(tenantId, plainUser.sub).sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('refuses past the configured limit by default', async () => {
    // Prepare
    const live = new InMemoryLiveStateStore();
    const clock = new FakeClock('2030-01-01T12:00:00.000Z');
    for (let i = 0; i < maxOpenConnectionsPerUser; i += 1) await openConnection({ live, clock }, plainUser, `c${i}`);

    // Act
    const refusal = await openConnection({ live, clock }, plainUser, 'one-more').catch((error: unknown) => error);

    // Assess
    expect(refusal).toBeInstanceOf(TooManyRequestsError);
  });

  it('takes a connection at the limit when some recorded ones are past API Gateway\'s two hours, forgetting them', async () => {
    // Prepare: c1 and c2 were recorded 3 hours ago and their $disconnect never came; c3 is open
    const live = new InMemoryLiveStateStore();
    const clock = new FakeClock('2030-01-01T09:00:00.000Z');
    for (const id of ['c1', 'c2']) await openConnection({ live, clock, maxConnections: 3 }, plainUser, id);
    clock.advanceSeconds(3 * 60 * 60);
    await openConnection({ live, clock, maxConnections: 3 }, plainUser, 'c3');
    // (c3's connect forgot them already: put them back, as a forgetting that failed would leave them)
    await live.connect(tenantId, plainUser.sub, { connectionId: 'c1', connectedAt: '2030-01-01T09:00:00.000Z' });
    await live.connect(tenantId, plainUser.sub, { connectionId: 'c2', connectedAt: '2030-01-01T09:00:00.000Z' });

    // Act
    await openConnection({ live, clock, maxConnections: 3 }, plainUser, 'c4');

    // Assess
    expect(live.connectionIds(tenantId, plainUser.sub).sort()).toEqual(['c3', 'c4']);
  });

  it('refuses with 429, soon to try again, when forgetting the expired ones at the limit fails', async () => {
    // Prepare: at the limit of 2, c1 recorded 3 hours ago (its $disconnect lost), the forgetting throttled
    const live = new InMemoryLiveStateStore();
    const clock = new FakeClock('2030-01-01T09:00:00.000Z');
    await live.connect(tenantId, plainUser.sub, { connectionId: 'c1', connectedAt: '2030-01-01T09:00:00.000Z' });
    clock.advanceSeconds(3 * 60 * 60);
    await live.connect(tenantId, plainUser.sub, { connectionId: 'c2', connectedAt: clock.now().toISOString() });
    live.forgetConnections = async () => Promise.reject(new Error('throttled'));

    // Act
    const refusal = await openConnection({ live, clock, maxConnections: 2 }, plainUser, 'c3').catch((error: unknown) => error);

    // Assess: the client is told to come back shortly (a 500 would end herald tail), and nothing is recorded
    expect(refusal).toBeInstanceOf(TooManyRequestsError);
    expect(refusal).toMatchObject({ statusCode: 429, retryAfterSeconds: 1 });
    expect(live.connectionIds(tenantId, plainUser.sub).sort()).toEqual(['c1', 'c2']);
  });

  it('forgets a connection that closed, and only that one', async () => {
    // Prepare
    const live = new InMemoryLiveStateStore();
    const clock = new FakeClock();
    await openConnection({ live, clock }, plainUser, 'conn-1');
    await openConnection({ live, clock }, plainUser, 'conn-2');

    // Act
    await closeConnection({ live }, plainUser, 'conn-1');

    // Assess
    expect(live.connectionIds(tenantId, plainUser.sub)).toEqual(['conn-2']);
  });

  it.each([
    ['ping', { type: 'pong' }],
    ['dance', { type: 'error', message: 'Unknown action: dance: send JSON: {"action":"ping"} or {"action":"markRead","id":"<inbox item id>"}' }],
    [undefined, { type: 'error', message: 'Unknown action: (none): send JSON: {"action":"ping"} or {"action":"markRead","id":"<inbox item id>"}' }],
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
