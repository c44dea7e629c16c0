/** `herald tail` against a WebSocket server that behaves as API Gateway does with idle and old connections. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { followSocket, unreadInOrder } from '../../../cli/commands/tail.ts';
import type { Frame } from '../../../cli/commands/tail.ts';

const servers: WebSocketServer[] = [];

async function server(): Promise<{ wss: WebSocketServer; url: URL }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await once(wss, 'listening');
  return { wss, url: new URL(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/?token=t`) };
}

const notification = (id: string): string => JSON.stringify({ type: 'notification', notification: { id, title: 't', message: 'm', priority: 'normal', scheduledAt: 'x' } });

afterEach(async () => {
  for (const wss of servers.splice(0)) {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
});

describe('followSocket', () => {
  it('pings to keep the connection from idling out, and connects again when the server closes it with 1001', async () => {
    // Prepare: the first connection is closed as API Gateway closes one at its 2 hours; the second
    // answers pings with pongs and sends a notification once it has been pinged.
    const { wss, url } = await server();
    let connections = 0;
    wss.on('connection', (socket) => {
      connections += 1;
      if (connections === 1) {
        socket.send(notification('ntf_1'));
        socket.close(1001, 'Going away');
        return;
      }
      socket.on('message', (data) => {
        if (JSON.parse(String(data)).action !== 'ping') return;
        socket.send(JSON.stringify({ type: 'pong' }));
        socket.send(notification('ntf_2'));
      });
    });
    const frames: Frame[] = [];

    // Act
    await followSocket({ url, count: 2, keepAliveMs: 20, onFrame: (frame) => frames.push(frame) });

    // Assess: both notifications, no pong.
    expect(connections).toBe(2);
    expect(frames.map((f) => f.notification?.id)).toEqual(['ntf_1', 'ntf_2']);
  });

  it('ends when the server closes the connection otherwise', async () => {
    // Prepare
    const { wss, url } = await server();
    let connections = 0;
    wss.on('connection', (socket) => {
      connections += 1;
      socket.close(1000, 'bye');
    });

    // Act
    await followSocket({ url, onFrame: () => undefined });

    // Assess
    expect(connections).toBe(1);
  });
});

describe('the unread counts tail shows', () => {
  it('drops an inboxChanged frame older than the newest count shown, and the count of an older notification frame', () => {
    // Prepare: a read's frame (version 6) arrives before the delivery's (version 5) it overtook
    const inOrder = unreadInOrder();
    const frames: Frame[] = [
      { type: 'inboxChanged', unread: 2, unreadVersion: 6 },
      { type: 'inboxChanged', unread: 3, unreadVersion: 5 },
      { type: 'notification', notification: { id: 'ntf_1', title: 't', message: 'm', priority: 'normal', scheduledAt: 'x' }, unread: 3, unreadVersion: 5 },
      { type: 'inboxChanged', unread: 1, unreadVersion: 7 },
    ];

    // Act
    const shown = frames.map(inOrder);

    // Assess
    expect(shown).toEqual([
      { type: 'inboxChanged', unread: 2, unreadVersion: 6 },
      undefined,
      { type: 'notification', notification: { id: 'ntf_1', title: 't', message: 'm', priority: 'normal', scheduledAt: 'x' } },
      { type: 'inboxChanged', unread: 1, unreadVersion: 7 },
    ]);
  });

  it('takes a count without a version (an older deployment) as version 0: shown first, dropped after a versioned one', () => {
    // Prepare
    const inOrder = unreadInOrder();

    // Act
    const shown = [
      { type: 'inboxChanged', unread: 4 },
      { type: 'inboxChanged', unread: 5, unreadVersion: 1 },
      { type: 'inboxChanged', unread: 4 },
    ].map(inOrder);

    // Assess
    expect(shown.map((f) => f?.unread)).toEqual([4, 5, undefined]);
  });

  it('passes only the newest count a socket carries to its follower', async () => {
    // Prepare: the server sends a newer count, then an older one, then a notification
    const { wss, url } = await server();
    wss.on('connection', (socket) => {
      socket.send(JSON.stringify({ type: 'inboxChanged', unread: 0, unreadVersion: 9 }));
      socket.send(JSON.stringify({ type: 'inboxChanged', unread: 1, unreadVersion: 8 }));
      socket.send(notification('ntf_3'));
    });
    const frames: Frame[] = [];

    // Act
    await followSocket({ url, count: 1, onFrame: (frame) => frames.push(frame) });

    // Assess
    expect(frames.map((f) => f.type === 'inboxChanged' ? f.unread : f.notification?.id)).toEqual([0, 'ntf_3']);
  });
});
