/**
 * DNS rebinding: a page whose name was made to resolve to 127.0.0.1 sends its own name in `Host`.
 * The local stack's HTTP servers (the emulators through `listen`) answer only names a stranger's
 * page cannot take: an IP address as written, `localhost`, `*.localhost`, the name it listens on.
 */
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLocalHostHeader } from '../../../local/host-guard.ts';
import { closeServer } from '../../../local/http-gateway.ts';
import { listen } from '../../../local/listen.ts';

let server: Server;
let port: number;
let served = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    served++;
    res.writeHead(200).end('mail of everyone');
  });
  port = await listen(server, 0, '127.0.0.1');
});

afterAll(async () => {
  await closeServer(server);
});

function statusFor(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('an emulator behind listen()', () => {
  it('answers 403 to a name that could be a stranger\'s, and serves nothing to it', async () => {
    // Prepare
    const before = served;

    // Act
    const refused = await statusFor(`attacker.example:${port}`);

    // Assess
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain('mail of everyone');
    expect(served).toBe(before);
  });

  it('serves its address, localhost and its subdomains', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'mail.localhost', `[::1]:${port}`]) expect((await statusFor(host)).status, host).toBe(200);
  });
});

describe('isLocalHostHeader', () => {
  it('takes IP literals, localhost, *.localhost and the name listened on; refuses other names', () => {
    for (const host of [undefined, '127.0.0.1', '10.0.0.5:3000', '[::1]:3000', 'localhost.', 'LocalHost:1', 'a.b.localhost', 'devbox:3000']) expect(isLocalHostHeader(host, 'devbox'), String(host)).toBe(true);
    for (const host of ['attacker.example', 'localhost.attacker.example', '127.0.0.1.nip.io', 'devbox.attacker.example', 'bad host', '']) expect(isLocalHostHeader(host, 'devbox'), host).toBe(false);
  });
});
