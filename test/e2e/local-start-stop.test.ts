/**
 * `npm start` (local/main.ts) as an operator runs it: the SES quotas it reads from its
 * environment, and a stop with WebSockets open that logs nothing wrong (the endpoints the
 * functions call stop after the functions, and the functions after the gateways that invoke them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, signToken } from '../../local/jwt-keys.ts';
import { connectSocket, eventually } from './support/harness.ts';
import type { SocketClient } from './support/harness.ts';
import { repoRoot, spawnInRepo, startMain } from '../unit/support/processes.ts';
import type { Running } from '../unit/support/processes.ts';

/** The lines of `text` that report something wrong: error-level logs, failures, refused connections. */
function troubleIn(text: string): string[] {
  return text.split('\n').filter((line) => /"level":"(ERROR|CRITICAL)"|ECONNREFUSED|ECONNRESET|\bfailed\b|Error:/i.test(line));
}

describe('npm start, stopped through npm', () => {
  it('stops the stack when npm itself is sent SIGTERM (a process manager, kill <npm pid>), leaving its port free', async () => {
    // Prepare: npm start, as an operator runs it, on free ports
    const started = spawnInRepo(['npm', 'start'], { HERALD_HTTP_PORT: '0', HERALD_WS_PORT: '0', HERALD_SES_PORT: '0', HERALD_TELEGRAM_PORT: '0' });
    let exitCode: number | null | undefined;
    void started.exited.then((code) => (exitCode = code));
    const ready = await eventually(
      // The whole banner: its last line is printed once the stack is up and listening for signals.
      async () => ({ http: /HTTP API (http:\/\/\S+) \|/.exec(started.output.stdout)?.[1], banner: started.output.stdout.includes('Get a token with'), exitCode }),
      (state) => (state.http !== undefined && state.banner) || state.exitCode !== undefined,
      30_000,
    );
    if (ready.http === undefined) throw new Error(`npm start exited with ${ready.exitCode}: ${started.output.stderr}`);

    // Act
    started.child.kill('SIGTERM');
    await started.exited;

    // Assess: the stack said it stopped, and nothing answers on its port any more
    expect(started.output.stdout).toContain('Received SIGTERM, stopping the local stack');
    await expect(fetch(`${ready.http}/health`)).rejects.toThrow();
  }, 60_000);
});

describe('npm start', () => {
  let main: Running | undefined;
  let dataDir: string;
  let urls: { http: string; ws: string };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'herald-start-stop-'));
    main = startMain({ POWERTOOLS_LOG_LEVEL: 'INFO', HERALD_SES_MAX_SEND_RATE: '7', HERALD_SES_MAX_24_HOUR_SEND: '500', HERALD_DATA_DIR: dataDir });
    const started = main;
    let exitCode: number | null | undefined;
    void started.exited.then((code) => (exitCode = code));
    const ready = await eventually(
      async () => ({ http: /HTTP API (http:\/\/\S+) \|/.exec(started.output.stdout)?.[1], ws: /WebSocket API (ws:\/\/\S+) \|/.exec(started.output.stdout)?.[1], exitCode }),
      (state) => state.ws !== undefined || state.exitCode !== undefined,
      30_000,
    );
    if (ready.http === undefined || ready.ws === undefined) throw new Error(`npm start exited with ${ready.exitCode}: ${started.output.stderr}`);
    urls = { http: ready.http, ws: ready.ws };
  }, 40_000);

  afterAll(async () => {
    if (main && main.child.exitCode === null) {
      main.child.kill('SIGTERM');
      await main.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('holds SES to the quotas HERALD_SES_MAX_SEND_RATE and HERALD_SES_MAX_24_HOUR_SEND set', async () => {
    // Act
    const ses = await (await fetch(`${urls.http}/_local/ses`)).json();

    // Assess
    expect(ses).toEqual({ quota: { maxSendRate: 7, max24HourSend: 500, sentLast24Hours: 0 }, sends: [] });
  });

  it('stops with WebSockets open, running their $disconnect, and logs nothing wrong', async () => {
    // Prepare: erin is connected three times and a notification is on its way to her sockets
    const started = main as Running;
    const keyFile = join(repoRoot, '.herald', 'jwt-signing-key.json');
    const token = (sub: string, role?: 'admin'): Promise<string> =>
      signToken({ sub, ...(role ? { role } : {}), issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE }, { keyFile });
    const admin = await token('ops', 'admin');
    const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    expect((await fetch(`${urls.http}/v1/recipients/erin`, { method: 'PUT', headers, body: '{}' })).status).toBeLessThan(300);
    const sockets: SocketClient[] = [];
    for (let i = 0; i < 3; i += 1) sockets.push(await connectSocket(urls.ws, await token('erin')));
    const created = await fetch(`${urls.http}/v1/notifications`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ recipients: ['erin'], title: 'Going away', message: 'Sent as the stack stops', channels: ['websocket', 'inbox'] }),
    });
    expect(created.status).toBe(201);
    const before = { stdout: started.output.stdout.length, stderr: started.output.stderr.length };

    // Act
    started.child.kill('SIGTERM');
    const code = await started.exited;

    // Assess
    expect(code).toBe(0);
    const logged = started.output.stdout.slice(before.stdout) + started.output.stderr.slice(before.stderr);
    expect(troubleIn(logged)).toEqual([]);
    expect(logged).toContain('Received SIGTERM, stopping the local stack...');
    expect((logged.match(/"message":"Disconnected"/g) ?? []).length).toBe(3);
  }, 60_000);
});
