/**
 * Herald's promise under faults, end to end: 500 notifications over 10 recipients (half of them
 * connected), while 20 % of SES sends, PostToConnection calls and DynamoDB writes fail with
 * transient errors at the emulated endpoints. Every notification ends `sent`; each inbox holds
 * exactly one copy of each; no email goes twice; and once the faults are lifted and the
 * stuck-retry sweep has run, nothing is pending past its time.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REGION } from '../../local/stack.ts';
import { connectSocket, eventually, startHarness } from './support/harness.ts';
import type { Harness, SocketClient } from './support/harness.ts';

const recipients = Array.from({ length: 10 }, (_, i) => `user${i}`);
const perRecipient = 50;
const transient = { statusCode: 503, code: 'ServiceUnavailable' };
const faults = [
  { service: 'ses', operation: 'SendEmail', probability: 0.2, error: transient },
  { service: 'apigatewaymanagementapi', operation: 'PostToConnection', probability: 0.2, error: { statusCode: 500, code: 'InternalServerErrorException' } },
  { service: 'dynamodb', operation: 'PutItem', probability: 0.2, error: { statusCode: 500, code: 'InternalServerError' } },
  { service: 'dynamodb', operation: 'UpdateItem', probability: 0.2, error: { statusCode: 500, code: 'InternalServerError' } },
  { service: 'dynamodb', operation: 'TransactWriteItems', probability: 0.2, error: { statusCode: 500, code: 'InternalServerError' } },
  { service: 'dynamodb', operation: 'BatchWriteItem', probability: 0.2, error: { statusCode: 500, code: 'InternalServerError' } },
] as const;

let h: Harness;
let admin: string;
const sockets: SocketClient[] = [];
const ids: string[] = [];

beforeAll(async () => {
  h = await startHarness({
    faultSeed: 20_26,
    // The production policy, in seconds instead of minutes, with room for unlucky streaks.
    environment: {
      HERALD_RETRY_BASE_SECONDS: '1',
      HERALD_RETRY_FACTOR: '2',
      HERALD_RETRY_MAX_RETRIES: '8',
      HERALD_RETRY_JITTER: '0.1',
      HERALD_RETRY_CAP_SECONDS: '8',
      HERALD_STUCK_AFTER_SECONDS: '5',
      // A worker whose writes all failed holds its claim this long before another takes over.
      HERALD_LEASE_SECONDS: '5',
    },
  });
  admin = await h.token('ops', { role: 'admin' });
  for (const id of recipients) {
    const put = await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body: { email: `${id}@example.com` } });
    expect(put.status).toBe(201);
  }
  for (const id of recipients.slice(0, 5)) sockets.push(await connectSocket(h.stack.wsUrl, await h.token(id)));
}, 120_000);

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  await h?.close();
});

/** Creates one notification per recipient, retrying a 5xx with the same Idempotency-Key as a client should. */
async function createRound(round: number): Promise<string[]> {
  const key = randomUUID();
  for (let attempt = 1; attempt <= 10; attempt++) {
    const response = await h.api('POST', '/v1/notifications', {
      token: admin,
      headers: { 'idempotency-key': key },
      body: { recipients, title: `Round ${round}`, message: `Message of round ${round}` },
    });
    if (response.status === 201) return response.body.notificationIds as string[];
    // Retryable: a 5xx, or the first request with this key still being answered.
    const inProgress = response.status === 409 && response.body.error?.code === 'IDEMPOTENCY_IN_PROGRESS';
    expect(inProgress || response.status >= 500, JSON.stringify(response.body)).toBe(true);
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
  throw new Error(`Round ${round} could not be created`);
}

describe('delivery under transient faults', () => {
  it('ends every notification sent, exactly once per channel', async () => {
    // Prepare: faults on, then 50 rounds of 10 notifications.
    const set = await h.api('POST', '/_local/faults', { body: faults });
    expect(set.status).toBe(200);
    for (let round = 0; round < perRecipient; round++) ids.push(...(await createRound(round)));
    expect(new Set(ids).size).toBe(recipients.length * perRecipient);

    // Act: let delivery run through the faults.
    const statuses = await eventually(
      async () => {
        const counts: Record<string, number> = {};
        for (let i = 0; i < ids.length; i += 50) {
          const batch = await Promise.all(ids.slice(i, i + 50).map((id) => h.api('GET', `/v1/notifications/${id}`, { token: admin })));
          for (const r of batch) counts[String(r.body.status)] = (counts[String(r.body.status)] ?? 0) + 1;
        }
        return counts;
      },
      (counts) => counts.sent === ids.length || (counts.failed ?? 0) > 0,
      240_000,
    );

    // Assess (naming why, if any failed)
    const failures: unknown[] = [];
    if (statuses.sent !== ids.length) {
      for (const id of ids) {
        const r = await h.api('GET', `/v1/notifications/${id}`, { token: admin });
        if (r.body.status !== 'sent') failures.push({ id, status: r.body.status, lastError: r.body.lastError, deliveries: r.body.deliveries });
      }
    }
    expect(statuses, JSON.stringify(failures.slice(0, 5))).toEqual({ sent: ids.length });
    const injected = (await h.api('GET', '/_local/faults')).body.injected as Record<string, Record<string, number>>;
    expect(injected.ses?.SendEmail ?? 0).toBeGreaterThan(0);
    expect(injected.dynamodb?.UpdateItem ?? 0).toBeGreaterThan(0);
    expect(injected.apigatewaymanagementapi?.PostToConnection ?? 0).toBeGreaterThan(0);
  }, 300_000);

  it('holds exactly one copy of each notification in each inbox', async () => {
    // Prepare
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: h.stack.endpoints.dynamodb, region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    // Act
    const copies = new Map<string, number>();
    for (const id of recipients) {
      const pages = paginateQuery(
        { client: db },
        { TableName: h.stack.tableNames.inbox, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `default#${id}` } },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          if (typeof item.notificationId !== 'string' || !item.notificationId.startsWith('ntf_')) continue;
          const key = `${id}/${item.notificationId}`;
          copies.set(key, (copies.get(key) ?? 0) + 1);
        }
      }
    }
    db.destroy();
    // Assess
    expect(copies.size).toBe(ids.length);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
  });

  it('sends no email twice', async () => {
    // Act
    const store = (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { subject: string; destination: { to: string[] } }[] };
    // Assess: one email per (recipient, round) at most; every round reached everyone who has no
    // email left `unconfirmed` (a send whose answer was lost is never repeated).
    const seen = new Map<string, number>();
    for (const email of store.emails) {
      const key = `${email.destination.to.join(',')}/${email.subject}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
    expect(seen.size).toBeGreaterThan(ids.length * 0.95);
  });

  it('leaves nothing pending past its time once the faults are lifted and the sweep has run', async () => {
    // Act
    expect((await h.api('DELETE', '/_local/faults')).status).toBe(200);
    const swept = await h.api('POST', '/_local/rules/stuck-retry/run');
    // Assess
    expect(swept.status).toBe(200);
    const pending = await eventually(
      () => h.api('GET', '/v1/notifications?status=pending&limit=100', { token: admin }),
      (r) => Array.isArray(r.body.items) && (r.body.items as unknown[]).length === 0,
      30_000,
    );
    expect(pending.status).toBe(200);
  });
});
