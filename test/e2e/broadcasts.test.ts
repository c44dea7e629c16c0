/**
 * Broadcasts end to end on the local stack: a 1,000-recipient group broadcast (five fan-out pages)
 * reaches every recipient exactly once with progress that only climbs; a cancel mid-way stops it
 * and the counts add up; redelivered and concurrently repeated fan-out steps, with writes failing mid-page,
 * create no duplicate; with injected SES faults the retry endpoint brings failed recipients to sent.
 *
 * Recipients are seeded straight into the directory's tables (local/seed-directory.ts): the API
 * would take minutes for thousands of them, and the broadcast is what is under test.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDirectory } from '../../local/seed-directory.ts';
import { LOCAL_REGION } from '../../local/stack.ts';
import { anSqsRecord } from '../unit/fakes/lambda.ts';
import { connectSocket, eventually, startHarness } from './support/harness.ts';
import type { ApiResponse, Harness } from './support/harness.ts';

let h: Harness;
let admin: string;
let inspector: DynamoDBDocumentClient;

beforeAll(async () => {
  h = await startHarness({
    environment: {
      POWERTOOLS_LOG_LEVEL: 'WARN',
      // Seconds instead of minutes, so retries and the watch act within the test.
      HERALD_RETRY_BASE_SECONDS: '1',
      HERALD_RETRY_JITTER: '0',
      HERALD_BROADCAST_WATCH_SECONDS: '2',
      // Pages of 200: a thousand recipients cross several fan-out pages and delivery messages,
      // while the test takes seconds (the volume is the bench's: npm run bench -- broadcast).
      HERALD_BROADCAST_PAGE_SIZE: '200',
      // E-mail at 50 a second: a broadcast by e-mail to a thousand is still going when a cancel lands.
      HERALD_RATE_SES_PER_SECOND: '50',
    },
  });
  admin = await h.token('alice', { role: 'admin' });
  inspector = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: h.stack.endpoints.dynamodb, region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
});

afterAll(async () => {
  inspector?.destroy();
  await h?.close();
});

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);

async function seed(recipients: readonly { id: string; groups?: string[]; email?: string }[]): Promise<void> {
  const { tableNames } = h.stack;
  await seedDirectory({
    endpoint: h.stack.endpoints.dynamodb,
    region: LOCAL_REGION,
    tables: { recipients: tableNames.recipients ?? '', memberships: tableNames.memberships ?? '' },
    tenantId: 'default',
    recipients,
  });
}

async function createBroadcast(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${h.stack.httpUrl}/v1/broadcasts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ title: 'Maintenance tonight', message: 'We will be down from 2 to 3 am.', ...body }),
  });
  const created = (await response.json()) as { broadcastId: string; status: string };
  expect(response.status).toBe(201);
  return created.broadcastId;
}

async function broadcast(id: string): Promise<ApiResponse['body'] & { progress: Record<string, number>; status: string }> {
  const response = await h.api('GET', `/v1/broadcasts/${id}`, { token: admin });
  expect(response.status).toBe(200);
  return response.body as ApiResponse['body'] & { progress: Record<string, number>; status: string };
}

/** How many copies of the broadcast each recipient's inbox holds (read straight from the table). */
async function inboxCopies(broadcastId: string): Promise<Map<string, number>> {
  const copies = new Map<string, number>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await inspector.send(
      new ScanCommand({
        TableName: h.stack.tableNames.inbox,
        FilterExpression: 'notificationId = :id',
        ExpressionAttributeValues: { ':id': broadcastId },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) copies.set(String(item.recipientId), (copies.get(String(item.recipientId)) ?? 0) + 1);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return copies;
}

function aFanoutEvent(body: Record<string, unknown>): SQSEvent {
  return { Records: [anSqsRecord(randomUUID(), JSON.stringify(body))] };
}

describe('broadcasts on the local stack', () => {
  it('refuses bad requests with the field named, plain users, and other tenants', async () => {
    // Prepare
    const user = await h.token('bob');
    const globexAdmin = await h.token('gina', { role: 'admin', tenant: 'globex' });
    await seed([{ id: 'somebody' }]);
    const id = await createBroadcast({ audience: { recipientIds: ['somebody'] }, draft: true });
    const before = await h.api('GET', '/v1/broadcasts?limit=100', { token: admin });

    // Act
    const unregistered = await h.api('POST', '/v1/broadcasts', { token: admin, body: { audience: { recipientIds: ['somebody', 'nobody', 'noone'] }, title: 't', message: 'm' } });
    const after = await h.api('GET', '/v1/broadcasts?limit=100', { token: admin });
    const noAudience = await h.api('POST', '/v1/broadcasts', { token: admin, body: { audience: {}, title: 't', message: 'm' } });
    const plain = await h.api('POST', '/v1/broadcasts', { token: user, body: { audience: { all: true }, title: 't', message: 'm' } });
    const foreign = await h.api('GET', `/v1/broadcasts/${id}`, { token: globexAdmin });
    const foreignCancel = await h.api('DELETE', `/v1/broadcasts/${id}`, { token: globexAdmin });
    const badId = await h.api('GET', '/v1/broadcasts/ntf_1', { token: admin });
    const noToken = await h.api('GET', '/v1/broadcasts');

    // Assess: recipients a list names must be registered, as for a notification; nothing is created
    expect(unregistered.status).toBe(404);
    expect(unregistered.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'Recipients not registered: nobody, noone', details: { missing: ['nobody', 'noone'] } });
    expect(after.body.items).toEqual(before.body.items);
    expect(noAudience.status).toBe(400);
    expect(noAudience.body.error?.details).toEqual([{ field: 'audience', message: 'must name exactly one of all, groups, recipientIds' }]);
    expect(plain.status).toBe(403);
    expect([foreign.status, foreignCancel.status]).toEqual([404, 404]);
    expect(badId.status).toBe(400);
    expect(noToken.status).toBe(401);
  });

  it('reaches every member of a 1,000-recipient group exactly once, with progress that only climbs to 100%', async () => {
    // Prepare: by e-mail too, which the send budget paces at 50 a second: the broadcast takes at
    // least 20 s whatever the machine's speed, so its progress is seen part-way.
    const members = ids('everyone', 1_000);
    await seed(members.map((id) => ({ id, groups: ['everyone'], email: `${id}@example.com` })));
    const watcher = await connectSocket(h.stack.wsUrl, await h.token(members[42] ?? ''));
    const key = randomUUID();

    // Act
    const id = await createBroadcast({ audience: { groups: ['everyone'] }, channels: ['inbox', 'websocket', 'email'] }, { 'idempotency-key': key });
    const repeat = await createBroadcast({ audience: { groups: ['everyone'] }, channels: ['inbox', 'websocket', 'email'] }, { 'idempotency-key': key });
    const seen: { percent: number; sent: number }[] = [];
    const final = await eventually(
      async () => {
        const b = await broadcast(id);
        seen.push({ percent: b.progress.percent ?? 0, sent: b.progress.sent ?? 0 });
        return b;
      },
      (b) => b.status !== 'scheduled' && b.status !== 'sending',
      120_000,
    );

    // Assess
    expect(repeat).toBe(id);
    expect(final.status).toBe('completed');
    expect(final.progress).toEqual({ total: 1_000, sent: 1_000, failed: 0, cancelled: 0, pending: 0, held: 0, percent: 100 });
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]?.percent).toBeGreaterThanOrEqual(seen[i - 1]?.percent ?? 0);
      expect(seen[i]?.sent).toBeGreaterThanOrEqual(seen[i - 1]?.sent ?? 0);
    }
    expect(seen.some((s) => s.percent > 0 && s.percent < 100)).toBe(true);
    const copies = await inboxCopies(id);
    expect(copies.size).toBe(1_000);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    const frames = watcher.frames.filter((f) => f.data.type === 'notification' && (f.data.notification as { id?: string }).id === id);
    expect(frames).toHaveLength(1);
    await watcher.close();
    const inbox = await h.api('GET', '/v1/me/inbox', { token: await h.token(members[7] ?? '') });
    expect((inbox.body.items as { id: string }[]).filter((item) => item.id === id)).toHaveLength(1);
  }, 150_000);

  it('stops a broadcast cancelled mid-way: nothing more is delivered and the counts add up', async () => {
    // Prepare: by e-mail, which the send budget paces at 50 a second, so it is still going when the cancel lands.
    const members = ids('cancel', 1_000);
    await seed(members.map((id) => ({ id, groups: ['night-shift'], email: `${id}@example.com` })));
    const id = await createBroadcast({ audience: { groups: ['night-shift'] }, channels: ['inbox', 'email'] });
    await eventually(() => broadcast(id), (b) => (b.progress.sent ?? 0) > 0, 45_000);

    // Act
    const cancelled = await h.api('DELETE', `/v1/broadcasts/${id}`, { token: admin });
    const settled = await eventually(() => broadcast(id), (b) => b.completedAt !== null, 45_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const later = await broadcast(id);

    // Assess
    expect(cancelled.status).toBe(200);
    expect(settled.status).toBe('cancelled');
    const { total = 0, sent = 0, failed = 0, cancelled: cancelledCount = 0 } = settled.progress;
    expect(sent + failed + cancelledCount).toBe(total);
    expect(cancelledCount).toBeGreaterThan(0);
    expect(later.progress).toEqual(settled.progress);
    const cancelledRows = await h.api('GET', `/v1/broadcasts/${id}/recipients?status=cancelled&limit=5`, { token: admin });
    expect((cancelledRows.body.items as unknown[]).length).toBe(Math.min(5, cancelledCount));
    // Every sent recipient has its inbox copy, and the only others with one are cancelled rows
    // whose inbox went before the cancel while their e-mail waited for a later second (its
    // budget second passed first: released for the e-mail alone, the inbox's outcome kept).
    const copies = await inboxCopies(id);
    const rowsOf = async (status: string): Promise<{ recipientId: string; channels: Record<string, { status: string }> }[]> => {
      const rows: { recipientId: string; channels: Record<string, { status: string }> }[] = [];
      let cursor: string | undefined;
      do {
        const page: ApiResponse = await h.api('GET', `/v1/broadcasts/${id}/recipients?status=${status}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
        rows.push(...(page.body.items as typeof rows));
        cursor = typeof page.body.nextCursor === 'string' ? page.body.nextCursor : undefined;
      } while (cursor);
      return rows;
    };
    const sentRows = await rowsOf('sent');
    const cancelledInbox = (await rowsOf('cancelled')).filter((row) => row.channels.inbox?.status === 'sent');
    expect(sentRows).toHaveLength(sent);
    expect(new Set(copies.keys())).toEqual(new Set([...sentRows, ...cancelledInbox].map((row) => row.recipientId)));
    expect(cancelledInbox.every((row) => row.channels.email?.status !== 'sent')).toBe(true);
  }, 120_000);

  it('creates no duplicate when fan-out steps fail mid-page and are redelivered, or run twice at once', async () => {
    // Prepare
    const list = ids('dup', 1_000);
    await seed(list.map((id) => ({ id })));
    // A draft first: its creation writes the audience with BatchWriteItem too, and is not under test.
    const id = await createBroadcast({ audience: { recipientIds: list }, channels: ['inbox'], draft: true });
    // Some BatchWriteItem calls fail even after the SDK's retries: pages stop part-way and are retried.
    await h.api('POST', '/_local/faults', {
      body: [{ service: 'dynamodb', operation: 'BatchWriteItem', probability: 0.3, error: { statusCode: 503, code: 'ServiceUnavailable' } }],
    });
    const scheduled = await h.api('POST', `/v1/broadcasts/${id}/schedule`, { token: admin, body: {} });
    expect(scheduled.status).toBe(200);
    const ref = { tenantId: 'default', broadcastId: id };
    // An explicit list is resolved a slice (250 ids) per page.
    const pages = [0, 1, 2, 3].map((page) => ({ kind: 'resolve', ...ref, page }));
    const steps = [{ kind: 'start', ...ref }, ...pages, { kind: 'count', ...ref }];

    // Act: every step invoked twice at once, beside the queue's own deliveries of the same steps.
    await Promise.allSettled([...steps, ...steps].map((step) => h.stack.functions.fanout?.invoke(aFanoutEvent(step))));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const faults = await h.api('DELETE', '/_local/faults');
    const final = await eventually(() => broadcast(id), (b) => b.status === 'completed', 45_000);

    // Assess
    const injected = faults.body.injected as { dynamodb?: { BatchWriteItem?: number } };
    expect(injected.dynamodb?.BatchWriteItem).toBeGreaterThan(0);
    expect(final.progress).toMatchObject({ total: 1_000, sent: 1_000, failed: 0, percent: 100 });
    const copies = await inboxCopies(id);
    expect(copies.size).toBe(1_000);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it('brings failed recipients to sent with the retry endpoint once the injected SES faults are gone', async () => {
    // Prepare
    const list = ids('mail', 40);
    await seed(list.map((id) => ({ id, email: `${id}@example.com` })));
    await h.api('POST', '/_local/faults', {
      body: [{ service: 'ses', operation: 'SendEmail', probability: 1, error: { statusCode: 400, code: 'MessageRejected', message: 'Email address is not verified' } }],
    });
    const title = `Invoice run ${randomUUID()}`;
    const id = await createBroadcast({ audience: { recipientIds: list }, channels: ['email'], title });
    const failed = await eventually(() => broadcast(id), (b) => b.status === 'failed', 30_000);
    await h.api('DELETE', '/_local/faults');

    // Act
    const retry = await h.api('POST', `/v1/broadcasts/${id}/retry`, { token: admin });
    const final = await eventually(() => broadcast(id), (b) => b.status === 'completed', 30_000);

    // Assess
    expect(failed.progress).toMatchObject({ total: 40, failed: 40, sent: 0 });
    expect(failed.lastError).toContain('MessageRejected');
    expect(retry.status).toBe(202);
    expect(final.progress).toEqual({ total: 40, sent: 40, failed: 0, cancelled: 0, pending: 0, held: 0, percent: 100 });
    const store = (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { subject: string; destination: { to: string[] } }[] };
    const mails = store.emails.filter((mail) => mail.subject === title);
    expect(mails).toHaveLength(40);
    expect(new Set(mails.flatMap((mail) => mail.destination.to)).size).toBe(40);
    const sentRows = await h.api('GET', `/v1/broadcasts/${id}/recipients?status=sent&limit=100`, { token: admin });
    expect(sentRows.body.items).toHaveLength(40);
  }, 60_000);
});
