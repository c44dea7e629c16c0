/**
 * The WebSocket channel on its own, with a recipient connected more than once: what it reports
 * when none of the connections took the frame.
 */
import { describe, expect, it } from 'vitest';
import { websocketChannel } from '../../../../shared/delivery/channels/websocket.ts';
import type { RecipientContext } from '../../../../shared/delivery/channel.ts';
import type { DeliveryContent } from '../../../../shared/domain/delivery.ts';
import type { SocketPoster } from '../../../../shared/ports.ts';
import { awsError } from '../../fakes/fixtures.ts';

const content: DeliveryContent = { id: 'ntf_1', title: 'Hello', message: 'World', type: 'test', priority: 'normal', createdAt: '2030-01-01T00:00:00.000Z', scheduledAt: null };
const now = new Date('2030-01-01T00:00:00.000Z');
const context: RecipientContext = {
  tenantId: 't',
  recipient: { tenantId: 't', id: 'u', groups: [], createdAt: '', updatedAt: '' },
  live: {
    unread: 0,
    unreadVersion: 0,
    connections: [
      { connectionId: 'slow', connectedAt: now.toISOString() },
      { connectionId: 'busy', connectedAt: now.toISOString() },
    ],
  },
  now,
};

describe('the WebSocket channel', () => {
  it.each([
    ['answers first', 0, 50],
    ['answers last', 50, 0],
  ])('reports a connection that may have the frame, never to be posted again, whether the 500 beside it %s', async (_case, busyAfterMs, slowAfterMs) => {
    // Prepare: one PostToConnection never answers (the frame may be there), the other answers 500
    const delayed = (ms: number, error: Error) => new Promise<never>((_resolve, reject) => setTimeout(() => reject(error), ms));
    const sockets: SocketPoster = {
      post: (connectionId) =>
        connectionId === 'slow' ? delayed(slowAfterMs, Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })) : delayed(busyAfterMs, awsError('InternalServerErrorException', 500)),
      disconnect: async () => 'closed',
    };
    const channel = websocketChannel(sockets, { forgetConnections: async () => undefined });
    const targets = channel.target(context);
    if ('skip' in targets) throw new Error('connected');

    // Act
    const error = await channel.send(targets, channel.render(content, {}), context).catch((e: unknown) => e);

    // Assess: unknown is recorded unconfirmed; a transient verdict would post to "slow" again
    expect(channel.classify(error)).toEqual({ kind: 'unknown' });
  });
});
