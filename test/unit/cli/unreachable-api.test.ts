/** `herald` against an API it cannot reach at all: one line naming the URL, the reason and what to check, exit 1. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unreachableApi } from '../../../cli/herald.ts';
import { runInRepo } from '../support/processes.ts';

/** fetch's own failure, as undici throws it: a TypeError whose cause is the system's error. */
function fetchFailed(cause: Record<string, unknown>): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(String(cause.code ?? 'failure')), cause) });
}

describe('herald when the API cannot be reached', () => {
  it('names the URL and the reason for a host that does not resolve', () => {
    // Act
    const said = unreachableApi(fetchFailed({ code: 'ENOTFOUND', hostname: 'herald.example.invalid' }), { url: 'https://herald.example.invalid/' });

    // Assess
    expect(said).toBe("cannot reach https://herald.example.invalid (ENOTFOUND): check --url or HERALD_URL (locally: npm start's HTTP API, http://127.0.0.1:3000 by default)");
  });

  it('keeps saying to start a local stack when nothing listens', () => {
    // Act
    const said = unreachableApi(fetchFailed({ code: 'ECONNREFUSED', address: '127.0.0.1', port: 3000 }), {});

    // Assess
    expect(said).toBe('nothing answers at 127.0.0.1:3000: start a local stack (npm start) or pass --url / HERALD_URL');
  });

  it('leaves any other error alone', () => {
    // Act + Assess
    expect(unreachableApi(new TypeError('x is not a function'), {})).toBeUndefined();
    expect(unreachableApi(new Error('fetch failed'), {})).toBeUndefined();
  });

  describe('run as a command', () => {
    let server: ReturnType<typeof createServer>;
    let port: number;
    beforeAll(async () => {
      server = createServer((_request, response) => response.end('{}'));
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      ({ port } = server.address() as AddressInfo);
    });
    afterAll(async () => {
      await new Promise<void>((done) => server.close(() => done()));
    });

    it('says in one line, not with a stack trace, that https to a plain http port fails', async () => {
      // Act
      const run = await runInRepo(['node', 'cli/herald.ts', '--url', `https://127.0.0.1:${port}`, '--token', 't', 'list'], {});

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^herald: cannot reach https://127\\.0\\.0\\.1:${port} \\(\\w+\\): check --url or HERALD_URL .*\\n$`));
    });

    it('says it as one JSON value with --json, as every other failure', async () => {
      // Act
      const run = await runInRepo(['node', 'cli/herald.ts', '--json', '--url', `https://127.0.0.1:${port}`, '--token', 't', 'list'], {});

      // Assess
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stderr)).toEqual({ error: expect.stringMatching(/^cannot reach https:\/\/127\.0\.0\.1:\d+ /), body: null });
    });
  });
});
