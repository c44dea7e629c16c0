/**
 * `herald recipients import` against an HTTP server that answers as Herald's API does when it says
 * "not now" (429 and 503 with `Retry-After`) or refuses a batch whole (413): the same batch is sent
 * again after the wait asked for; a refusal stops the import with what was imported, what was not
 * sent and from which line, on stdout, and exit 1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runInRepo } from '../support/processes.ts';

/** What the server answers each batch, in turn: a status (with its Retry-After), or 200 and, once the list is spent, every entry applied. */
let answers: { status: number; retryAfter?: string }[] = [];
/** The ids of each batch the server was sent. */
let received: string[][] = [];
let server: ReturnType<typeof createServer>;
let url: string;
let scratch: string;

function answer(request: IncomingMessage, response: ServerResponse): void {
  let text = '';
  request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  request.on('end', () => {
    const ids = (JSON.parse(text) as { recipients: { id: string }[] }).recipients.map((r) => r.id);
    received.push(ids);
    const next = answers.shift();
    if (next && next.status !== 200) {
      response.writeHead(next.status, { 'content-type': 'application/json', ...(next.retryAfter ? { 'retry-after': next.retryAfter } : {}) });
      response.end(JSON.stringify({ error: { code: next.status === 429 ? 'TOO_MANY_REQUESTS' : next.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'SERVICE_UNAVAILABLE', message: `said ${next.status}` } }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ succeeded: ids.map((id, index) => ({ index, id, created: true })), failed: [] }));
  });
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  scratch = await mkdtemp(join(tmpdir(), 'herald-import-'));
  // 250 recipients: three batches of 100, 100 and 50, the first on lines 2-101.
  await writeFile(join(scratch, 'people.csv'), ['id,email', ...Array.from({ length: 250 }, (_, i) => `p${i},p${i}@example.com`)].join('\n'));
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  await rm(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  answers = [];
  received = [];
});

const importIt = (...flags: string[]) => runInRepo(['node', 'cli/herald.ts', ...flags, '--url', url, '--token', 't', 'recipients', 'import', join(scratch, 'people.csv')], {});

describe('herald recipients import', () => {
  it('sends a batch again after the wait a 429 or a 503 asks for, and imports the whole file', async () => {
    // Prepare: the second batch is refused twice, for now
    answers = [{ status: 200 }, { status: 429, retryAfter: '1' }, { status: 503, retryAfter: '1' }];

    // Act
    const run = await importIt('--json');

    // Assess: the second batch sent three times; every entry applied once in the end
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ total: 250, succeeded: 250, failed: [], notSent: 0 });
    expect(received.map((ids) => ids.length)).toEqual([100, 100, 100, 100, 50]);
    expect(received[1]).toEqual(received[2]);
    expect(new Set(received.flat()).size).toBe(250);
  }, 30_000);

  it('stops at a batch refused whole, saying what was imported, what was not sent and from which line on stdout, the refusal on stderr', async () => {
    // Prepare: the second batch is too large for the server
    answers = [{ status: 200 }, { status: 413 }];

    // Act
    const human = await importIt();

    // Assess
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('imported 100 of 250 recipients\nstopped with 150 not sent, from line 102\n');
    expect(human.stderr).toContain('herald: 413 PAYLOAD_TOO_LARGE: said 413');
    expect(received.map((ids) => ids.length)).toEqual([100, 100]);
  }, 30_000);
});
