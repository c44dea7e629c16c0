/** `herald tail` against a WebSocket server that behaves as API Gateway does with idle and old connections. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { followSocket, retryDelayMs, unreadInOrder } from '../../../cli/commands/tail.ts';
import type { Frame, Refusal } from '../../../cli/commands/tail.ts';

const servers: WebSocketServer[] = [];
const httpServers: Server[] = [];

/** A WebSocket server whose handshakes `refuse` may answer with a status and a body instead, as API Gateway does for a non-2xx `$connect`. */
async function refusingServer(refuse: (attempt: number) => { status: number; body: string } | undefined): Promise<{ wss: WebSocketServer; url: URL; attempts: () => number }> {
  const wss = new WebSocketServer({ noServer: true });
  servers.push(wss);
  const http = createServer();
  httpServers.push(http);
  let attempts = 0;
  http.on('upgrade', (request, socket, head) => {
    attempts += 1;
    const refusal = refuse(attempts);
    if (!refusal) {
      wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request));
      return;
    }
    socket.end(`HTTP/1.1 ${refusal.status} Refused\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(refusal.body)}\r\n\r\n${refusal.body}`);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return { wss, url: new URL(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/?token=t`), attempts: () => attempts };
}

const tooMany = JSON.stringify({ error: { code: 'TOO_MANY_REQUESTS', message: 'This user has 100 WebSocket connections open, the most allowed', details: { maxConnections: 100 } } });

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
  for (const http of httpServers.splice(0)) {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
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

  it('waits longer after each refusal for too many connections, saying why, and follows once one is taken', async () => {
    // Prepare: the first two handshakes are refused as $connect refuses at a user's limit
    const { wss, url, attempts } = await refusingServer((attempt) => (attempt <= 2 ? { status: 429, body: tooMany } : undefined));
    wss.on('connection', (socket) => socket.send(notification('ntf_1')));
    const refusals: { refusal: Refusal; waitMs: number }[] = [];
    const frames: Frame[] = [];

    // Act
    await followSocket({
      url,
      count: 1,
      firstRetryMs: 20,
      maxRetryMs: 1000,
      onRefused: (refusal, waitMs) => refusals.push({ refusal, waitMs }),
      onFrame: (frame) => frames.push(frame),
    });

    // Assess: no tight loop: each try after a wait, the second at least as long as the first's floor
    expect(attempts()).toBe(3);
    expect(refusals.map((r) => r.refusal)).toEqual([
      { status: 429, message: 'This user has 100 WebSocket connections open, the most allowed' },
      { status: 429, message: 'This user has 100 WebSocket connections open, the most allowed' },
    ]);
    expect(refusals[0]?.waitMs).toBeGreaterThanOrEqual(10);
    expect(refusals[1]?.waitMs).toBeGreaterThanOrEqual(20);
    expect(frames.map((f) => f.notification?.id)).toEqual(['ntf_1']);
  });

  it('ends at any other refusal, naming the status and the reason, without trying again', async () => {
    // Prepare
    const { url, attempts } = await refusingServer(() => ({ status: 401, body: JSON.stringify({ message: 'Unauthorized' }) }));

    // Act
    const outcome = followSocket({ url, onFrame: () => undefined, firstRetryMs: 1 });

    // Assess
    await expect(outcome).rejects.toThrow(/refused the connection: 401 Unauthorized/);
    await expect(outcome).rejects.toThrow('(the token is missing, invalid or expired: a token lasts an hour unless made for longer; locally a new one: npm run token -- --sub <you>)');
    expect(attempts()).toBe(1);
  });

  it('stops waiting to try again when stopped', async () => {
    // Prepare
    const { url } = await refusingServer(() => ({ status: 429, body: tooMany }));
    let stop: (() => void) | undefined;

    // Act
    const following = followSocket({ url, onFrame: () => undefined, firstRetryMs: 60_000, onStop: (s) => (stop = s), onRefused: () => stop?.() });

    // Assess: resolves at once, not after the minute
    await expect(following).resolves.toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it('doubles from the first wait up to the longest, jittered down to half, and never below what the server asked', () => {
    const options = { firstMs: 2000, maxMs: 60_000 };
    expect([1, 2, 3, 6, 7, 20].map((n) => retryDelayMs(n, 0.999_999, options))).toEqual([2000, 4000, 8000, 60_000, 60_000, 60_000]);
    expect(retryDelayMs(3, 0, options)).toBe(4000);
    expect(retryDelayMs(1, 0, { ...options, askedMs: 30_000 })).toBe(30_000);
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
