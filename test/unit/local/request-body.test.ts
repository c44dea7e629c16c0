/**
 * The local stack's one body reader: within its limit the bytes as sent, past it nothing, and a
 * declared length past it refused before a byte is read.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../../../local/request-body.ts';

const limit = 1024;
let server: Server;
let url: string;
let bytesRead = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytesRead += chunk.length));
    void readBody(req, limit).then((body) => {
      res.writeHead(body === undefined ? 413 : 200).end(body === undefined ? 'too large' : `${body.length}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Posts `chunks` chunked (no content-length) or with `contentLength` declared. */
function post(chunks: Buffer[], contentLength?: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: contentLength === undefined ? {} : { 'content-length': contentLength } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    if (contentLength !== undefined && contentLength > limit) {
      // Declared too large: send nothing and see the answer come anyway.
      req.flushHeaders();
      return;
    }
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('readBody', () => {
  it('gives the bytes of a body up to its limit, declared or chunked', async () => {
    // Act
    const declared = await post([Buffer.alloc(limit, 'a')], limit);
    const chunked = await post([Buffer.alloc(600, 'a'), Buffer.alloc(424, 'b')]);

    // Assess
    expect(declared).toEqual({ status: 200, body: `${limit}` });
    expect(chunked).toEqual({ status: 200, body: `${limit}` });
  });

  it('refuses a declared length past the limit before reading a byte', async () => {
    // Prepare
    bytesRead = 0;

    // Act
    const reply = await post([], limit + 1);

    // Assess
    expect(reply.status).toBe(413);
    expect(bytesRead).toBe(0);
  });

  it('refuses a chunked body as soon as it passes the limit', async () => {
    // Act
    const reply = await post([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')]).catch((error: unknown) => ({ status: -1, body: String(error) }));

    // Assess: the refusal, or (when the client is still sending) the connection closed under it; never the body
    expect(reply.status === 413 || reply.status === -1).toBe(true);
    expect(reply.body).not.toBe(`${limit + 176}`);
  });
});
