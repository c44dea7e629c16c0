/**
 * The SSRF guard of webhooks: on a non-local stage (`public-https`) nothing is sent to a private,
 * loopback, link-local or otherwise non-public address, whether written as a literal or reached
 * through a host name, and only https is taken; locally (`any`) plain http to loopback works. The
 * sends are real (node:http to a server this test runs), so the guard is proven at the connect.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWebhookUrl, isPublicAddress, WebhookTargetRefusedError } from '../../../../shared/adapters/webhook-guard.ts';
import { httpWebhookSender, WebhookAnswerError, WebhookTimeoutError } from '../../../../shared/adapters/webhook-sender.ts';
import { classifyWebhookError } from '../../../../shared/delivery/channels/webhook.ts';

let server: Server;
let port: number;
const hits: string[] = [];
const trickles = new Set<NodeJS.Timeout>();

/** Writes `text` to the socket one character every 50 ms, and keeps writing `filler` after it. */
function trickle(write: (chunk: string) => void, text: string, filler: string): void {
  let sent = 0;
  const timer = setInterval(() => {
    write(sent < text.length ? (text[sent] ?? '') : filler);
    sent++;
  }, 50);
  trickles.add(timer);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    if (req.url === '/slow') return; // never answers
    // Never quiet for long, never done: the status line and headers a character at a time, then header lines for ever.
    if (req.url === '/trickled-headers') return trickle((chunk) => res.socket?.write(chunk), 'HTTP/1.1 200 OK\r\n', 'x');
    // A prompt 200 whose body never ends.
    if (req.url === '/endless-body') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return trickle((chunk) => res.write(chunk), '', '.');
    }
    res.writeHead(req.url === '/gone' ? 410 : 204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const timer of trickles) clearInterval(timer);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('isPublicAddress', () => {
  it('takes public unicast addresses only', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111']) expect(isPublicAddress(address), address).toBe(true);
    const refused = [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:169.254.169.254',
      '2002:7f00:1::1',
      'not-an-ip',
    ];
    for (const address of refused) expect(isPublicAddress(address), address).toBe(false);
  });
});

describe('the webhook guard off the local stack (public-https)', () => {
  const guarded = httpWebhookSender('public-https', 2_000);

  it('refuses plain http, and https to a literal non-public address, before connecting', async () => {
    for (const url of [`http://example.com/hook`, `https://127.0.0.1:${port}/`, 'https://[::1]/', 'https://169.254.169.254/latest/meta-data/', 'https://[::ffff:10.0.0.1]/']) {
      expect(() => checkWebhookUrl(new URL(url), 'public-https'), url).toThrow(WebhookTargetRefusedError);
      await expect(guarded.post(url, {}, '{}'), url).rejects.toBeInstanceOf(WebhookTargetRefusedError);
    }
  });

  it('refuses a host name that resolves to a loopback address at the connect, and sends nothing', async () => {
    // Prepare
    const before = hits.length;

    // Act
    const refusal = await guarded.post(`https://localhost:${port}/named`, {}, '{}').catch((error: unknown) => error);

    // Assess
    expect(refusal).toBeInstanceOf(WebhookTargetRefusedError);
    expect((refusal as Error).message).toMatch(/resolves to (127\.0\.0\.1|::1)/);
    expect(classifyWebhookError(refusal)).toEqual({ kind: 'permanent' });
    expect(hits.length).toBe(before);
  });
});

describe('the webhook sender on the local stack (any)', () => {
  const local = httpWebhookSender('any', 300);

  it('posts over plain http to loopback, and throws a non-2xx answer with its status', async () => {
    await expect(local.post(`http://127.0.0.1:${port}/ok`, { 'webhook-id': 'msg_1' }, '{}')).resolves.toBe(204);
    const gone = await local.post(`http://localhost:${port}/gone`, {}, '{}').catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(WebhookAnswerError);
    expect(classifyWebhookError(gone)).toEqual({ kind: 'gone' });
  });

  it('gives up on a receiver that does not answer in time, as a transient failure', async () => {
    const timeout = await local.post(`http://127.0.0.1:${port}/slow`, {}, '{}').catch((error: unknown) => error);
    expect(timeout).toBeInstanceOf(WebhookTimeoutError);
    expect(classifyWebhookError(timeout)).toEqual({ kind: 'transient' });
  });

  it('gives up on a receiver that trickles its answer: the limit bounds the whole wait, not each silence', async () => {
    // Act
    const started = Date.now();
    const timeout = await local.post(`http://127.0.0.1:${port}/trickled-headers`, {}, '{}').catch((error: unknown) => error);

    // Assess
    expect(timeout).toBeInstanceOf(WebhookTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('settles on the status of an answer whose body never ends', async () => {
    await expect(local.post(`http://127.0.0.1:${port}/endless-body`, {}, '{}')).resolves.toBe(200);
  });
});

describe('classifyWebhookError', () => {
  it('reads 408, 429 and 5xx as transient, 410 as gone, other 4xx and redirects as permanent', () => {
    const verdict = (status: number): string => classifyWebhookError(new WebhookAnswerError(status)).kind;
    expect([408, 429, 500, 503].map(verdict)).toEqual(['transient', 'transient', 'transient', 'transient']);
    expect(verdict(410)).toBe('gone');
    expect([400, 401, 403, 404, 413, 301].map(verdict)).toEqual(['permanent', 'permanent', 'permanent', 'permanent', 'permanent', 'permanent']);
    expect(classifyWebhookError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toEqual({ kind: 'transient' });
  });
});
