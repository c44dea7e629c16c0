/** `herald tail` against a WebSocket server that behaves as API Gateway does with idle and old connections. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { followSocket } from '../../../cli/commands/tail.ts';
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
