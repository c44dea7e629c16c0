/**
 * `npm run smoke` against the local stack, as an operator runs it against a deployment: every
 * check passes and is printed; a failing one stops the run with exit code 1.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

const exec = promisify(execFile);
const script = resolve(import.meta.dirname, '../../scripts/smoke.ts');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the script as `npm run smoke` does, in its own process. */
async function smoke(args: readonly string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [script, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run smoke against the local stack', () => {
  let h: Harness;
  let user: string;
  let stranger: string;
  let withoutEmail: string;
  beforeAll(async () => {
    h = await startHarness();
    const admin = await h.token('ops', { role: 'admin' });
    expect((await h.api('PUT', '/v1/recipients/smoke-user', { token: admin, body: { email: 'smoke-user@example.com' } })).status).toBe(201);
    expect((await h.api('PUT', '/v1/recipients/no-mail', { token: admin, body: {} })).status).toBe(201);
    user = await h.token('smoke-user');
    stranger = await h.token('not-in-the-directory');
    withoutEmail = await h.token('no-mail');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('passes every check, printing each step, and exits 0', async () => {
    // Act
    const run = await smoke(['--url', h.stack.httpUrl, '--ws', h.stack.wsUrl, '--token', user, '--timeout', '30']);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const steps = run.stdout.split('\n').filter((line) => line.startsWith('ok '));
    expect(steps.map((line) => line.replace(/ \(\d+ ms\)$/, '').replace(/^ok\s+/, ''))).toEqual([
      'the token names its user (sub)',
      'the API is up (GET /health)',
      "the token's user is in the directory (GET /v1/me)",
      'a WebSocket connection opens with the token',
      'a notification scheduled 5 s ahead arrives over the WebSocket',
      'a notification scheduled an hour ahead is cancelled before its time',
      'the e-mail channel sent it (SES accepted the message)',
    ]);
    expect(run.stdout).toContain('All checks passed.');
  }, 90_000);

  it('passes at any hour of the smoke user\'s quiet hours: its notifications are urgent', async () => {
    // Prepare: quiet hours around now, in UTC
    const admin = await h.token('ops', { role: 'admin' });
    const wall = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
    const quietHours = { start: wall(Date.now() - 3_600_000), end: wall(Date.now() + 3_600_000) };
    expect((await h.api('PUT', '/v1/recipients/night-owl', { token: admin, body: { email: 'night-owl@example.com', timezone: 'UTC', quietHours } })).status).toBe(201);

    // Act
    const run = await smoke(['--url', h.stack.httpUrl, '--ws', h.stack.wsUrl, '--token', await h.token('night-owl'), '--timeout', '30']);

    // Assess
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toContain('All checks passed.');
  });

  it('stops at the first failing check, saying what to do, and exits 1', async () => {
    // Act
    const run = await smoke(['--url', h.stack.httpUrl, '--ws', h.stack.wsUrl, '--token', stranger, '--timeout', '10']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}the token's user is in the directory \(GET \/v1\/me\): not-in-the-directory is not in the directory/);
    expect(run.stdout).not.toContain('WebSocket');
    expect(run.stdout).not.toContain('All checks passed.');
  });

  it('says the API refuses the token, and why it may, when a token of another audience is given', async () => {
    // Prepare
    const otherAudience = await h.token('smoke-user', { audience: 'not-herald' });

    // Act
    const run = await smoke(['--url', h.stack.httpUrl, '--ws', h.stack.wsUrl, '--token', otherAudience, '--timeout', '10']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}the token's user is in the directory \(GET \/v1\/me\): GET \/v1\/me answered 401 .*: the API refuses the token; it has expired, or is not one of the issuer and audience the stage accepts/);
  });

  it('names the WebSocket URL and the flag to check when nothing answers there', async () => {
    // Prepare: a port that was free a moment ago
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((done) => server.close(() => done()));

    // Act
    const run = await smoke(['--url', h.stack.httpUrl, '--ws', `ws://127.0.0.1:${port}`, '--token', user, '--timeout', '10']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAIL  a WebSocket connection opens with the token: the connection to ws://127.0.0.1:${port} was refused or failed: check --ws, the stack output WebSocketUrl`);
  });

  it('fails the e-mail check when the channel did not send, after the others passed', async () => {
    // Act
    const run = await smoke(['--url', h.stack.httpUrl, '--ws', h.stack.wsUrl, '--token', withoutEmail, '--timeout', '30']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('ok    a notification scheduled an hour ahead is cancelled before its time');
    expect(run.stdout).toMatch(/FAIL {2}the e-mail channel sent it \(SES accepted the message\): e-mail skipped/);
  }, 90_000);
});

describe('npm run smoke without a deployment', () => {
  it('says nothing answers at the URL, with the system\'s reason and the flag to check, when nothing listens there', async () => {
    // Prepare: a port that was free a moment ago
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((done) => server.close(() => done()));

    // Act
    const run = await smoke(['--url', `http://127.0.0.1:${port}`, '--ws', `ws://127.0.0.1:${port}`, '--token', 'a.eyJzdWIiOiJ4In0.b']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAIL  the API is up (GET /health): nothing answers at http://127.0.0.1:${port} (ECONNREFUSED): check --url, the stack output HttpApiUrl`);
  });

  it('prints its usage with --help and exits 0', async () => {
    // Act
    const run = await smoke(['--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: npm run smoke -- --url <HttpApiUrl> --ws <WebSocketUrl> --token <jwt>/);
  });

  it.each([
    [['--url', 'http://127.0.0.1:1'], /Missing --ws, --token/],
    [['--url', 'ftp://x', '--ws', 'ws://x', '--token', 't'], /--url must be a http: or https: URL/],
    [['--url', 'http://x', '--ws', 'ws://x', '--token', 't', '--timeout', '0'], /--timeout must be a positive number/],
    [['--url', 'http://x', '--ws', 'ws://x', '--token', 't', '--tenant', 'a'], /Unknown option '--tenant'/],
  ])('refuses %j with exit code 2, naming the problem', async (args, problem) => {
    // Act
    const run = await smoke(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(problem);
  });
});
