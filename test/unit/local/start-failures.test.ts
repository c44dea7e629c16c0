/**
 * What a newcomer sees when the local stack cannot start for a reason they can fix, and what any
 * `--help` prints: one line saying what to do, a non-zero exit (0 for `--help`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynaliteStore } from '../../../local/dynamodb/dynalite.ts';
import { assertPortsFree, listen } from '../../../local/listen.ts';
import { startSesEmulator } from '../../../local/ses-emulator.ts';
import { PortInUseError, PortsInUseError, startFailureLine } from '../../../local/start-errors.ts';
import { runInRepo } from '../support/processes.ts';

describe('startFailureLine', () => {
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    busy = createServer();
    busyPort = await listen(busy, 0, '127.0.0.1');
  });
  afterAll(async () => new Promise<void>((done) => busy.close(() => done())));

  it('names the variable of a taken port and suggests 0', async () => {
    // Prepare
    const error = await listen(createServer(), busyPort, '127.0.0.1').catch((e: unknown) => e);

    // Act
    const line = startFailureLine(error, { HERALD_HTTP_PORT: 3000, HERALD_SES_PORT: busyPort });

    // Assess
    expect(line).toBe(
      `Herald cannot start: port ${busyPort} on 127.0.0.1 is already in use (another npm start?): set HERALD_SES_PORT to another port, or HERALD_SES_PORT=0 to pick a free one.`,
    );
  });

  it("names the mail viewer's taken port instead of failing on a null address", async () => {
    // Prepare: aws-ses-v2-local neither reports a failed listen nor resolves; it once gave a TypeError
    const error = await startSesEmulator({ port: busyPort }).catch((e: unknown) => e);

    // Act
    const line = startFailureLine(error, { HERALD_SES_PORT: busyPort });

    // Assess
    expect(error).toBeInstanceOf(PortInUseError);
    expect(line).toContain(`set HERALD_SES_PORT to another port, or HERALD_SES_PORT=0 to pick a free one.`);
  });

  it('names every taken port at once, with their variables, and passes free ones and 0', async () => {
    // Prepare: a second taken port beside busyPort, and a free one
    const other = createServer();
    const otherPort = await listen(other, 0, '127.0.0.1');
    const probe = createServer();
    const free = await listen(probe, 0, '127.0.0.1');
    await new Promise<void>((done) => probe.close(() => done()));

    // Act
    const error = await assertPortsFree([busyPort, free, 0, otherPort], '127.0.0.1').catch((e: unknown) => e);
    const line = startFailureLine(error, { HERALD_HTTP_PORT: busyPort, HERALD_WS_PORT: free, HERALD_SES_PORT: otherPort, HERALD_TELEGRAM_PORT: 0 });
    await new Promise<void>((done) => other.close(() => done()));

    // Assess
    expect(error).toBeInstanceOf(PortsInUseError);
    expect((error as PortsInUseError).ports).toEqual([busyPort, otherPort]);
    expect(line).toBe(
      `Herald cannot start: ports ${busyPort} and ${otherPort} on 127.0.0.1 are already in use (another npm start?): set HERALD_HTTP_PORT and HERALD_SES_PORT to other ports, or to 0 to pick free ones.`,
    );
  });

  it('passes ports that are all free', async () => {
    await expect(assertPortsFree([0, 0], '127.0.0.1')).resolves.toBeUndefined();
  });

  it('says a data directory is in use by another stack', async () => {
    // Prepare: one store holds the directory's lock
    const directory = await mkdtemp(join(tmpdir(), 'herald-lock-'));
    const first = await openDynaliteStore({ path: directory });

    // Act
    const error = await openDynaliteStore({ path: directory }).catch((e: unknown) => e);

    // Assess
    expect(startFailureLine(error, {})).toBe(
      `Herald cannot start: the data directory ${directory} is in use by another process (another Herald local stack?): stop that stack, or set HERALD_DATA_DIR to another directory.`,
    );
    await new Promise((done) => first.db.close(done));
    await rm(directory, { recursive: true, force: true });
  });

  it('names a missing package and says to install', async () => {
    // Prepare
    const error = await import('herald-no-such-emulator' as string).catch((e: unknown) => e);

    // Act
    const line = startFailureLine(error, {});

    // Assess
    expect(line).toBe('Herald cannot start: the package herald-no-such-emulator is not installed: run npm install (npm install --omit=dev is enough for npm start).');
  });

  it('leaves any other failure to be printed in full', () => {
    expect(startFailureLine(new Error('disk full'), {})).toBeUndefined();
  });
});

describe('the commands', () => {
  it('npm start beside a running one names every port it would take, in one line, and exits 1', async () => {
    // Prepare: the HTTP, WebSocket and mail ports are taken, as by another npm start
    const taken = [createServer(), createServer(), createServer()];
    const [http, ws, ses] = await Promise.all(taken.map((server) => listen(server, 0, '127.0.0.1')));

    // Act
    const result = await runInRepo(['node', 'local/main.ts'], { HERALD_HTTP_PORT: String(http), HERALD_WS_PORT: String(ws), HERALD_SES_PORT: String(ses), HERALD_TELEGRAM_PORT: '0' });
    await Promise.all(taken.map((server) => new Promise<void>((done) => server.close(() => done()))));

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `Herald cannot start: ports ${http}, ${ws} and ${ses} on 127.0.0.1 are already in use (another npm start?): set HERALD_HTTP_PORT, HERALD_WS_PORT and HERALD_SES_PORT to other ports, or to 0 to pick free ones.`,
    ]);
  }, 60_000);

  it('npm start on a taken port prints one line and exits 1', async () => {
    // Prepare: the HTTP port is taken
    const busy = createServer();
    const port = await listen(busy, 0, '127.0.0.1');

    // Act
    const result = await runInRepo(['node', 'local/main.ts'], { HERALD_HTTP_PORT: String(port), HERALD_WS_PORT: '0', HERALD_SES_PORT: '0', HERALD_TELEGRAM_PORT: '0' });
    await new Promise<void>((done) => busy.close(() => done()));

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `Herald cannot start: port ${port} on 127.0.0.1 is already in use (another npm start?): set HERALD_HTTP_PORT to another port, or HERALD_HTTP_PORT=0 to pick a free one.`,
    ]);
  }, 60_000);

  it.each([
    [{ HERALD_HTTP_PORT: 'abc' }, ['HERALD_HTTP_PORT="abc" is not a port number, 0 to 65535 (0 picks a free one)']],
    [
      { HERALD_WS_PORT: '70000', HERALD_SES_MAX_SEND_RATE: 'fast' },
      ['HERALD_WS_PORT="70000" is not a port number, 0 to 65535 (0 picks a free one)', 'HERALD_SES_MAX_SEND_RATE="fast" is not a number of emails per second above 0'],
    ],
    [{ HERALD_LOG_FORMAT: 'xml' }, ['HERALD_LOG_FORMAT="xml" is not json or pretty']],
    // The functions' own settings, which each function would refuse only at its cold start, after the ready line.
    [
      { HERALD_RETRY_BASE_SECONDS: '-5', HERALD_STUCK_AFTER_SECONDS: 'abc' },
      [
        'HERALD_RETRY_BASE_SECONDS="-5" is not valid for the functions: Too small: expected number to be >=0',
        'HERALD_STUCK_AFTER_SECONDS="abc" is not valid for the functions: Invalid input: expected number, received NaN',
      ],
    ],
  ])('npm start with %j says, for each variable it cannot use, the value given and what it must be, and exits 2', async (env, lines) => {
    // Act
    const result = await runInRepo(['node', 'local/main.ts'], env);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(lines);
  });

  it('npm run redrive -- --local with no stack says to start one and exits 1, as for missing credentials (2 is for a wrong command line)', async () => {
    // Prepare: a port nothing listens on
    const probe = createServer();
    const port = await listen(probe, 0, '127.0.0.1');
    await new Promise<void>((done) => probe.close(() => done()));

    // Act
    const result = await runInRepo(['node', 'scripts/redrive.ts', '--local', `http://127.0.0.1:${port}`]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`No local stack answers at http://127.0.0.1:${port} (ECONNREFUSED): start it with npm start, or pass its URL: --local <http url>`);
  });

  it.each([
    ['local/main.ts', 'usage: npm start'],
    ['local/token-cli.ts', 'Usage: npm run token'],
    ['scripts/redrive.ts', 'usage: npm run redrive'],
    ['scripts/smoke.ts', 'npm run smoke'],
    ['scripts/bench.ts', 'npm run bench'],
    ['scripts/limits-doc.ts', 'usage: npm run docs:limits'],
    ['scripts/client-types.ts', 'usage: npm run client:types'],
    ['cli/herald.ts', 'Usage: herald [options] [command]'],
  ])('%s --help prints its usage and exits 0', async (script, expected) => {
    // Act
    const result = await runInRepo(['node', script, '--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(expected);
  });
});
