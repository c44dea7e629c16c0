/**
 * End to end on the local stack: the WebSocket connections one user may hold open at once are
 * bounded (`maxOpenConnectionsPerUser`), so a reconnect loop cannot grow the user's live item
 * towards DynamoDB's 400 KB: the connect past the limit is refused in the handshake with 429 and
 * its reason, other users are not affected, and a connection that closes frees its place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxOpenConnectionsPerUser } from '../../shared/domain/delivery.ts';
import { connectSocket, eventually, HandshakeRefusedError, startHarness } from './support/harness.ts';
import type { Harness, SocketClient } from './support/harness.ts';

let h: Harness;
const sockets: SocketClient[] = [];

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  await h?.close();
});

/** Opens `count` connections for one token, a few at a time (as a reconnect loop would). */
async function openMany(token: string, count: number): Promise<SocketClient[]> {
  const opened: SocketClient[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => connectSocket(h.stack.wsUrl, token)));
    opened.push(...batch);
    sockets.push(...batch);
  }
  return opened;
}

async function refusalOf(token: string): Promise<unknown> {
  return connectSocket(h.stack.wsUrl, token).then(
    (socket) => {
      sockets.push(socket);
      return socket;
    },
    (error: unknown) => error,
  );
}

describe('the open connections of a user', () => {
  it('refuses the connection past the limit with 429 and why, takes other users, and takes one again once one closes', async () => {
    // Prepare: a client that opens connections and never closes them
    const leaky = await h.token('leaky');
    const opened = await openMany(leaky, maxOpenConnectionsPerUser);

    // Act
    const refused = await refusalOf(leaky);
    const someoneElse = await refusalOf(await h.token('someone-else'));

    // Assess
    expect(refused).toBeInstanceOf(HandshakeRefusedError);
    expect((refused as HandshakeRefusedError).status).toBe(429);
    expect(JSON.parse((refused as HandshakeRefusedError).body)).toMatchObject({
      error: { code: 'TOO_MANY_REQUESTS', details: { maxConnections: maxOpenConnectionsPerUser } },
    });
    expect(someoneElse).not.toBeInstanceOf(Error);

    // Act: one closes; its $disconnect frees its place
    await opened[0]?.close();
    const again = await eventually(
      () => refusalOf(leaky),
      (outcome) => !(outcome instanceof HandshakeRefusedError),
    );

    // Assess
    expect(again).not.toBeInstanceOf(Error);
  }, 60_000);
});
