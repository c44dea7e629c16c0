/**
 * A restart of the local stack loses no notification. `npm start` runs as a child process with a
 * data directory; notifications are put on the delivery queue, the queue is purged (messages lost
 * in flight), the process is killed (a crash) and started again on the same data. Once the
 * stuck-retry sweep runs, every notification is delivered, and exactly once.
 *
 * The sweep is the real handler in the restarted stack, run through its control API
 * (`POST /_local/rules/stuck-retry/run`); `HERALD_STUCK_AFTER_SECONDS` reaches it as `npm start`
 * passes the functions' settings on.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, signToken } from '../../local/jwt-keys.ts';
import { eventually } from './support/harness.ts';

const repositoryRoot = resolve(import.meta.dirname, '../..');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';

let dataDir: string;
let ports: { http: number; ws: number; ses: number };
let child: ChildProcess | undefined;
let admin: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Starts `npm start`'s entry on the fixed ports and data dir; resolves once it says it is ready. */
async function startStack(): Promise<ChildProcess> {
  const process_ = spawn(process.execPath, [join(repositoryRoot, 'local/main.ts')], {
    cwd: repositoryRoot,
    env: {
      ...process.env,
      HERALD_HTTP_PORT: String(ports.http),
      HERALD_WS_PORT: String(ports.ws),
      HERALD_SES_PORT: String(ports.ses),
      HERALD_TELEGRAM_PORT: '0',
      HERALD_DATA_DIR: dataDir,
      HERALD_STUCK_AFTER_SECONDS: '1',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`The local stack did not start in time:\n${output}`)), 45_000);
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Herald local stack ready')) {
        clearTimeout(timer);
        ready();
      }
    };
    process_.stdout?.on('data', collect);
    process_.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    process_.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`The local stack exited with ${code}:\n${output}`));
    });
  });
  return process_;
}

async function kill(target: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!target || target.exitCode !== null || target.signalCode !== null) return;
  const exited = new Promise<void>((done) => target.once('exit', () => done()));
  target.kill(signal);
  await exited;
}

const httpUrl = (): string => `http://127.0.0.1:${ports.http}`;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${httpUrl()}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The raw emulator endpoints of the running stack. */
async function endpoints(): Promise<{ dynamodb: string; sqs: string }> {
  return (await (await fetch(`${httpUrl()}/_local/endpoints`)).json()) as { dynamodb: string; sqs: string };
}

async function statusOf(id: string): Promise<Record<string, unknown>> {
  return (await api('GET', `/v1/notifications/${id}`)).body;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'herald-restart-'));
  ports = { http: await freePort(), ws: await freePort(), ses: await freePort() };
  admin = await signToken({ sub: 'ops', role: 'admin', issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE });
  child = await startStack();
}, 60_000);

afterAll(async () => {
  await kill(child, 'SIGTERM');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a restart with messages lost in flight', () => {
  it('loses no notification once the sweep has run, and delivers none twice', async () => {
    // Prepare: one notification delivered before the crash, five whose messages are lost in flight
    expect((await api('PUT', '/v1/recipients/erin', {})).status).toBe(201);
    const early = await api('POST', '/v1/notifications', { recipients: ['erin'], title: 'Before', message: 'Delivered before the crash', channels: ['inbox'] });
    const earlyId = (early.body.notificationIds as string[])[0] ?? '';
    await eventually(() => statusOf(earlyId), (n) => n.status === 'sent');
    const before = await endpoints();
    const sqsBefore = new SQSClient({ endpoint: before.sqs, region, credentials, useQueueUrlAsEndpoint: false });
    const { QueueUrl } = await sqsBefore.send(new GetQueueUrlCommand({ QueueName: 'herald-local-delivery' }));
    // Due within the 2 s lead: straight onto the delivery queue with a delay, not a schedule; made
    // at once and purged at once, so that their messages are lost before they become visible.
    const created = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        api('POST', '/v1/notifications', {
          recipients: ['erin'],
          title: `Lost ${i}`,
          message: 'Its message never arrives',
          scheduledAt: new Date(Date.now() + 1_900).toISOString(),
          channels: ['inbox'],
        }),
      ),
    );
    for (const answer of created) expect(answer.status).toBe(201);
    const queued = created.flatMap((answer) => answer.body.notificationIds as string[]);
    await sqsBefore.send(new PurgeQueueCommand({ QueueUrl }));
    sqsBefore.destroy();
    await kill(child, 'SIGKILL');

    // Act: start again on the same data, wait until the lost ones are overdue, run the sweep
    child = await startStack();
    await new Promise((r) => setTimeout(r, 2_500));
    const statuses = await Promise.all(queued.map(async (id) => (await statusOf(id)).status));
    // One a loaded machine delivered before the purge (its 1.9 s ran out first) was not lost: it must stay delivered once.
    const lost = queued.filter((_, i) => statuses[i] !== 'sent');
    const stillPending = statuses.filter((status) => status !== 'sent');
    const after = await endpoints();
    const sweep = await fetch(`${httpUrl()}/_local/rules/stuck-retry/run`, { method: 'POST' });
    const swept = (await sweep.json()) as { retried: number };

    // Assess
    expect(lost.length).toBeGreaterThan(0);
    expect(stillPending).toEqual(lost.map(() => 'pending'));
    expect(sweep.status).toBe(200);
    expect(swept.retried).toBe(lost.length);
    for (const id of lost) await eventually(() => statusOf(id), (n) => n.status === 'sent', 20_000);
    expect(await statusOf(earlyId)).toMatchObject({ status: 'sent', attempts: 1 });
    const dynamo = new DynamoDBClient({ endpoint: after.dynamodb, region, credentials });
    const inbox = await dynamo.send(
      new QueryCommand({ TableName: 'herald-local-inbox', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'default#erin' } } }),
    );
    const ids = (inbox.Items ?? []).map((item) => item.notificationId?.S).filter((id) => id?.startsWith('ntf_'));
    expect([...ids].sort()).toEqual([earlyId, ...queued].sort());
    dynamo.destroy();
  }, 90_000);
});
