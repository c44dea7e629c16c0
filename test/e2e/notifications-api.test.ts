/**
 * The notifications API end to end, against a local stack: validation limits, `Idempotency-Key`,
 * listing, rescheduling, send-now, retry, and the tenant metrics. Faults are injected through
 * the local stack's `/_local/faults` to make deliveries fail and the scheduler refuse.
 */
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scheduleGroupName } from '../../lib/app-description.ts';
import type { FaultRule } from '../../local/fault-rules.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { ApiResponse, Harness } from './support/harness.ts';
import { bodyCapOf } from '../../shared/http/body-limits.ts';

let h: Harness;
let admin: string;
let sender: string;
let otherSender: string;
let alice: string;
let bob: string;
let foreignAdmin: string;

const day = 24 * 60 * 60 * 1000;
const recipients = ['alice', 'bob', 'carol', 'dave'];

beforeAll(async () => {
  h = await startHarness({
    // A transient failure is retried once, a second later, then the notification fails.
    environment: { HERALD_RETRY_BASE_SECONDS: '1', HERALD_RETRY_MAX_RETRIES: '1', HERALD_RETRY_JITTER: '0' },
  });
  admin = await h.token('ops', { role: 'admin' });
  sender = await h.token('billing', { role: 'sender' });
  otherSender = await h.token('marketing', { role: 'sender' });
  alice = await h.token('alice');
  bob = await h.token('bob');
  foreignAdmin = await h.token('eve', { role: 'admin', tenant: 'globex' });
  for (const id of recipients) {
    const put = await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body: { email: `${id}@example.com` } });
    expect(put.status).toBe(201);
  }
});

afterEach(async () => {
  await h.api('DELETE', '/_local/faults');
});

afterAll(async () => {
  await h?.close();
});

interface NotificationBody {
  recipients?: unknown;
  title?: unknown;
  message?: unknown;
  [field: string]: unknown;
}

function aBody(overrides: NotificationBody = {}): NotificationBody {
  return { recipients: ['bob'], title: 'Invoice ready', message: 'Your invoice is ready', scheduledAt: inMs(60 * 60 * 1000), ...overrides };
}

async function create(token: string, body: NotificationBody = aBody()): Promise<string> {
  const created = await h.api('POST', '/v1/notifications', { token, body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const [id] = created.body.notificationIds as string[];
  return id as string;
}

async function read(id: string, token = admin): Promise<ApiResponse> {
  return h.api('GET', `/v1/notifications/${id}`, { token });
}

async function until(id: string, status: string, timeoutMs = 15_000): Promise<ApiResponse> {
  return eventually(() => read(id), (r) => r.body.status === status, timeoutMs);
}

function fields(response: ApiResponse): string[] {
  return ((response.body.error?.details ?? []) as { field: string }[]).map((d) => d.field);
}

async function injectFaults(rules: FaultRule[]): Promise<void> {
  const posted = await h.api('POST', '/_local/faults', { body: rules });
  expect(posted.status).toBe(200);
}

async function listAll(token: string, query: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const page: ApiResponse = await h.api('GET', `/v1/notifications?${query}${cursor ? `&cursor=${cursor}` : ''}`, { token });
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    items.push(...(page.body.items as Record<string, unknown>[]));
    cursor = page.body.nextCursor as string | null;
  } while (cursor);
  return items;
}

describe('creating a notification: every limit, at it and past it', () => {
  it.each([
    ['title', { title: 'T'.repeat(200) }, { title: 'T'.repeat(201) }],
    ['message', { message: 'M'.repeat(10_000) }, { message: 'M'.repeat(10_001) }],
    // `{"pad":"…"}` is 10 bytes plus the padding.
    ['data', { data: { pad: 'x'.repeat(16_384 - 10) } }, { data: { pad: 'x'.repeat(16_384 - 9) } }],
    ['scheduledAt', { scheduledAt: inMs(2 * 365 * day) }, { scheduledAt: inMs(2 * 366 * day + 60_000) }],
  ])('accepts %s at its limit and refuses it past, naming it', async (field, atLimit, pastLimit) => {
    // Act
    const accepted = await h.api('POST', '/v1/notifications', { token: sender, body: aBody(atLimit) });
    const refused = await h.api('POST', '/v1/notifications', { token: sender, body: aBody(pastLimit) });

    // Assess
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expect(refused.status).toBe(400);
    expect(fields(refused)).toEqual([field]);
  });

  it('accepts a time a few seconds past (clock skew) and refuses one further past, naming scheduledAt', async () => {
    // Act
    const skewed = await h.api('POST', '/v1/notifications', { token: sender, body: aBody({ scheduledAt: inMs(-2_000) }) });
    const past = await h.api('POST', '/v1/notifications', { token: sender, body: aBody({ scheduledAt: inMs(-60_000) }) });

    // Assess
    expect(skewed.status).toBe(201);
    expect(past.status).toBe(400);
    expect(fields(past)).toEqual(['scheduledAt']);
  });

  it.each([
    ['no recipient', { recipients: [] }],
    ['1,001 recipients', { recipients: Array.from({ length: 1_001 }, (_, i) => `user-${i}`) }],
    ['a repeated recipient', { recipients: ['bob', 'bob'] }],
  ])('refuses %s, naming recipients', async (_case, overrides) => {
    // Act
    const refused = await h.api('POST', '/v1/notifications', { token: sender, body: aBody(overrides) });

    // Assess
    expect(refused.status).toBe(400);
    expect(fields(refused)).toEqual(['recipients']);
  });

  it('refuses unknown and server-owned fields, naming each', async () => {
    // Act
    const refused = await h.api('POST', '/v1/notifications', {
      token: sender,
      body: aBody({ status: 'sent', colour: 'red', relatedObject: { type: 'invoice', id: '42', url: 'x' } }),
    });

    // Assess
    expect(refused.status).toBe(400);
    expect(fields(refused).sort()).toEqual(['colour', 'relatedObject.url', 'status']);
  });

  it("accepts a body of exactly the route's cap and answers 413 to one byte more", async () => {
    // Prepare: valid JSON padded with spaces to the byte
    const json = JSON.stringify(aBody());
    const atLimit = json + ' '.repeat(bodyCapOf('POST /v1/notifications') - json.length);
    const pastLimit = `${atLimit} `;

    // Act
    const accepted = await h.api('POST', '/v1/notifications', { token: sender, rawBody: atLimit });
    const refused = await h.api('POST', '/v1/notifications', { token: sender, rawBody: pastLimit });

    // Assess
    expect(accepted.status).toBe(201);
    expect(refused.status).toBe(413);
    expect(refused.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('stores relatedObject and returns it with the notification', async () => {
    // Act
    const id = await create(sender, aBody({ relatedObject: { type: 'invoice', id: 'INV-42' } }));

    // Assess
    const got = await read(id, sender);
    expect(got.body).toMatchObject({ relatedObject: { type: 'invoice', id: 'INV-42' }, deliveries: {}, lastError: null });
  });
});

describe('Idempotency-Key', () => {
  async function post(token: string, key: string, body: NotificationBody): Promise<ApiResponse & { headers: Readonly<Record<string, string>> }> {
    return h.apiWithHeaders('POST', '/v1/notifications', { token, body, headers: { 'idempotency-key': key } });
  }

  it('answers a repeat with the first response and creates nothing more', async () => {
    // Prepare
    const token = await h.token('idem-repeat', { role: 'sender' });
    const body = aBody({ recipients: ['alice', 'bob'] });

    // Act
    const first = await post(token, 'key-repeat', body);
    const second = await post(token, 'key-repeat', { ...body });

    // Assess
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await listAll(token, 'limit=100')).toHaveLength(2);
  });

  it('refuses the same key with a different body (422) and creates nothing', async () => {
    // Prepare
    const token = await h.token('idem-conflict', { role: 'sender' });
    await post(token, 'key-conflict', aBody({ title: 'First' }));

    // Act
    const refused = await post(token, 'key-conflict', aBody({ title: 'Second' }));

    // Assess
    expect(refused.status).toBe(422);
    expect(refused.body.error?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await listAll(token, 'limit=100')).map((n) => n.title)).toEqual(['First']);
  });

  it('creates exactly one set for concurrent duplicates, and answers each with it', async () => {
    // Prepare
    const token = await h.token('idem-race', { role: 'sender' });
    const body = aBody({ recipients: ['alice', 'bob', 'carol'] });

    // Act
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(token, 'key-race', body)));

    // Assess
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    const ids = new Set(responses.map((r) => JSON.stringify(r.body.notificationIds)));
    expect(ids.size).toBe(1);
    expect(await listAll(token, 'limit=100')).toHaveLength(3);
  });

  it('scopes keys by caller: another sender with the same key creates its own', async () => {
    // Prepare
    const first = await h.token('idem-scope-1', { role: 'sender' });
    const second = await h.token('idem-scope-2', { role: 'sender' });

    // Act
    const a = await post(first, 'shared-key', aBody());
    const b = await post(second, 'shared-key', aBody());

    // Assess
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.notificationIds).not.toEqual(a.body.notificationIds);
  });

  it('does not burn a key on a 4xx: the corrected request succeeds with it', async () => {
    // Prepare
    const token = await h.token('idem-4xx', { role: 'sender' });
    const body = aBody({ recipients: ['frank'] });
    const missing = await post(token, 'key-4xx', body);
    await h.api('PUT', '/v1/recipients/frank', { token: admin, body: {} });

    // Act
    const retried = await post(token, 'key-4xx', body);

    // Assess
    expect(missing.status).toBe(404);
    expect(retried.status).toBe(201);
  });

  it('does not burn a key on a 5xx: the retry succeeds once the outage is over', async () => {
    // Prepare
    const token = await h.token('idem-5xx', { role: 'sender' });
    await injectFaults([
      { service: 'scheduler', operation: 'CreateSchedule', probability: 1, error: { statusCode: 500, code: 'InternalServerException' } },
    ]);
    const failed = await post(token, 'key-5xx', aBody());
    await h.api('DELETE', '/_local/faults');

    // Act
    const retried = await post(token, 'key-5xx', aBody());

    // Assess: a 503 says when to try again, as every 503 does
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBe('1');
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await listAll(token, 'limit=100')).toHaveLength(1);
  });

  it('refuses a malformed key, naming the header', async () => {
    // Act
    const refused = await post(sender, 'k'.repeat(256), aBody());

    // Assess
    expect(refused.status).toBe(400);
    expect(fields(refused)).toEqual(['header Idempotency-Key']);
  });
});

describe('listing notifications', () => {
  it('pages newest first through every notification with an opaque cursor, none twice', async () => {
    // Prepare
    const token = await h.token('lister', { role: 'sender' });
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push(await create(token, aBody({ title: `n${i}` })));

    // Act
    const first = await h.api('GET', '/v1/notifications?limit=2', { token });
    const all = await listAll(token, 'limit=2');

    // Assess
    expect(first.body.items).toHaveLength(2);
    expect(typeof first.body.nextCursor).toBe('string');
    expect(all.map((n) => n.id)).toEqual([...created].reverse());
  });

  it('shows a plain user only the notifications addressed to them', async () => {
    // Prepare
    const toAlice = await create(sender, aBody({ recipients: ['alice'] }));
    const toBob = await create(sender, aBody({ recipients: ['bob'] }));

    // Act
    const mine = await listAll(alice, 'limit=100');
    const askingForBob = await h.api('GET', '/v1/notifications?recipientId=bob', { token: alice });

    // Assess
    expect(mine.map((n) => n.id)).toContain(toAlice);
    expect(mine.map((n) => n.id)).not.toContain(toBob);
    expect(mine.every((n) => n.recipientId === 'alice')).toBe(true);
    expect(askingForBob).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
  });

  it('shows a sender the notifications it created, an admin the whole tenant, another tenant nothing', async () => {
    // Prepare
    const mine = await create(sender, aBody({ type: 'listing-scope' }));
    const theirs = await create(otherSender, aBody({ type: 'listing-scope' }));

    // Act
    const asSender = await listAll(sender, 'type=listing-scope');
    const asAdmin = await listAll(admin, 'type=listing-scope');
    const asForeignAdmin = await listAll(foreignAdmin, 'type=listing-scope');

    // Assess
    expect(asSender.map((n) => n.id)).toEqual([mine]);
    expect(asAdmin.map((n) => n.id)).toEqual([theirs, mine]);
    expect(asForeignAdmin).toEqual([]);
  });

  it('filters by status, recipient and creation time', async () => {
    // Prepare: the window's bounds are inclusive to the millisecond, and a create can take less
    // than one: the first create waits for the clock to pass `before`
    const before = new Date().toISOString();
    while (Date.now() <= Date.parse(before)) await new Promise((tick) => setTimeout(tick, 1));
    const kept = await create(sender, aBody({ recipients: ['dave'], type: 'listing-filter' }));
    const cancelled = await create(sender, aBody({ recipients: ['dave'], type: 'listing-filter' }));
    await h.api('DELETE', `/v1/notifications/${cancelled}`, { token: sender });
    const after = new Date().toISOString();

    // Act
    const byStatus = await listAll(admin, 'type=listing-filter&status=cancelled');
    const byRecipient = await listAll(admin, 'recipientId=dave&type=listing-filter');
    const inWindow = await listAll(admin, `type=listing-filter&from=${before}&to=${after}`);
    const beforeWindow = await listAll(admin, `type=listing-filter&to=${before}`);

    // Assess
    expect(byStatus.map((n) => n.id)).toEqual([cancelled]);
    expect(byRecipient.map((n) => n.id)).toEqual([cancelled, kept]);
    expect(inWindow.map((n) => n.id)).toEqual([cancelled, kept]);
    expect(beforeWindow).toEqual([]);
  });

  it.each([
    ['a tampered cursor', 'cursor=eyJ2IjoxLCJvbGRlclRoYW4iOiJub3BlIn0', 'cursor'],
    ['limit 101', 'limit=101', 'limit'],
    ['limit 0', 'limit=0', 'limit'],
    ['an unknown status', 'status=lost', 'status'],
    ['from after to', `from=${inMs(1_000)}&to=${inMs(0)}`, 'from'],
    ['an unknown parameter', 'colour=red', 'colour'],
  ])('refuses %s with a 400 naming it', async (_case, query, field) => {
    // Act
    const refused = await h.api('GET', `/v1/notifications?${query}`, { token: admin });

    // Assess
    expect(refused.status).toBe(400);
    expect(fields(refused)).toEqual([field]);
  });

  it('answers 401 without a token', async () => {
    // Act
    const refused = await h.api('GET', '/v1/notifications');

    // Assess
    expect(refused.status).toBe(401);
  });
});

describe('rescheduling (PATCH)', () => {
  it('holds a notification moved later until its new time, though its old message is already queued', async () => {
    // Prepare: due within the lead time, so its message is already on the queue for the old time
    const id = await create(sender, aBody({ recipients: ['alice'], channels: ['inbox'], scheduledAt: inMs(2_000) }));
    const newTime = new Date(Math.ceil((Date.now() + 8_000) / 1000) * 1000).toISOString();

    // Act
    const moved = await h.api('PATCH', `/v1/notifications/${id}`, { token: sender, body: { scheduledAt: newTime } });
    await new Promise((r) => setTimeout(r, 4_000));
    const beforeNewTime = await read(id);
    const sent = await until(id, 'sent', 20_000);

    // Assess
    expect(moved).toMatchObject({ status: 200, body: { id, status: 'pending', scheduledAt: newTime } });
    expect(beforeNewTime.body.status).toBe('pending');
    expect(Date.parse(sent.body.sentAt as string)).toBeGreaterThanOrEqual(Date.parse(newTime));
  });

  it('moves a notification earlier, schedule and all', async () => {
    // Prepare
    const scheduler = new SchedulerClient({ endpoint: h.stack.endpoints.scheduler, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const id = await create(sender, aBody({ recipients: ['alice'], channels: ['inbox'], scheduledAt: inMs(60 * 60 * 1000) }));
    await scheduler.send(new GetScheduleCommand({ Name: id, GroupName: scheduleGroupName }));

    // Act
    const moved = await h.api('PATCH', `/v1/notifications/${id}`, { token: sender, body: { scheduledAt: inMs(1_000) } });

    // Assess
    expect(moved.status).toBe(200);
    await until(id, 'sent');
    await expect(scheduler.send(new GetScheduleCommand({ Name: id, GroupName: scheduleGroupName }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    scheduler.destroy();
  });

  it('refuses server-owned and unknown fields, naming each, and changes nothing', async () => {
    // Prepare
    const id = await create(sender);

    // Act
    const refused = await h.api('PATCH', `/v1/notifications/${id}`, {
      token: sender,
      body: { scheduledAt: inMs(2 * 60 * 60 * 1000), status: 'sent', recipientId: 'alice', attempts: 0, title: 'x' },
    });

    // Assess
    expect(refused.status).toBe(400);
    expect(fields(refused).sort()).toEqual(['attempts', 'recipientId', 'status', 'title']);
    expect((refused.body.error?.details as { field: string; message: string }[]).find((d) => d.field === 'status')?.message).toBe(
      'is set by the server and cannot be changed',
    );
    expect((await read(id)).body).toMatchObject({ status: 'pending', recipientId: 'bob' });
  });

  it('answers 409 for a notification that is no longer pending, 400 for a past time', async () => {
    // Prepare
    const id = await create(sender);
    const pending = await create(sender);
    await h.api('DELETE', `/v1/notifications/${id}`, { token: sender });

    // Act
    const conflict = await h.api('PATCH', `/v1/notifications/${id}`, { token: sender, body: { scheduledAt: inMs(60_000) } });
    const past = await h.api('PATCH', `/v1/notifications/${pending}`, { token: sender, body: { scheduledAt: inMs(-60_000) } });

    // Assess
    expect(conflict.status).toBe(409);
    expect(past.status).toBe(400);
    expect(fields(past)).toEqual(['scheduledAt']);
  });

  it('answers 404 to a plain user, another sender and another tenant, 403 to its recipient', async () => {
    // Prepare
    const id = await create(sender, aBody({ recipients: ['alice'] }));
    const body = { scheduledAt: inMs(60_000) };

    // Act
    const statuses = await Promise.all(
      [bob, otherSender, foreignAdmin, alice].map(async (token) => (await h.api('PATCH', `/v1/notifications/${id}`, { token, body })).status),
    );

    // Assess
    expect(statuses).toEqual([404, 404, 404, 403]);
  });
});

describe('send-now', () => {
  it('delivers a pending notification at once and removes its schedule', async () => {
    // Prepare
    const scheduler = new SchedulerClient({ endpoint: h.stack.endpoints.scheduler, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const id = await create(sender, aBody({ recipients: ['alice'], channels: ['inbox'] }));

    // Act
    const accepted = await h.api('POST', `/v1/notifications/${id}/send-now`, { token: sender });

    // Assess
    expect(accepted).toMatchObject({ status: 202, body: { id, status: 'pending' } });
    expect(Math.abs(Date.parse(accepted.body.scheduledAt as string) - Date.now())).toBeLessThan(10_000);
    await expect(scheduler.send(new GetScheduleCommand({ Name: id, GroupName: scheduleGroupName }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await until(id, 'sent');
    scheduler.destroy();
  });

  it('answers 409 for a cancelled notification and 404 to another tenant', async () => {
    // Prepare
    const id = await create(sender);
    await h.api('DELETE', `/v1/notifications/${id}`, { token: sender });

    // Act
    const conflict = await h.api('POST', `/v1/notifications/${id}/send-now`, { token: sender });
    const foreign = await h.api('POST', `/v1/notifications/${id}/send-now`, { token: foreignAdmin });

    // Assess
    expect(conflict.status).toBe(409);
    expect(foreign.status).toBe(404);
  });
});

describe('retry', () => {
  it('puts a failed notification back to pending and delivers it, showing each channel on the way', async () => {
    // Prepare: email refused for good, so an email-only notification fails
    await injectFaults([
      { service: 'ses', operation: 'SendEmail', probability: 1, error: { statusCode: 400, code: 'MessageRejected', message: 'Address blacklisted' } },
    ]);
    const id = await create(sender, aBody({ recipients: ['carol'], channels: ['email'], scheduledAt: undefined }));
    const failed = await until(id, 'failed');
    await h.api('DELETE', '/_local/faults');

    // Act
    const accepted = await h.api('POST', `/v1/notifications/${id}/retry`, { token: sender, body: { delayMinutes: 0 } });
    const sent = await until(id, 'sent');

    // Assess
    expect(failed.body).toMatchObject({
      deliveries: { email: { status: 'failed', at: expect.any(String), error: expect.stringContaining('MessageRejected') } },
      lastError: expect.any(String),
    });
    expect(accepted).toMatchObject({ status: 202, body: { id, status: 'pending', attempts: 0, deliveries: {} } });
    expect(sent.body).toMatchObject({ deliveries: { email: { status: 'sent' } }, lastError: null });
  });

  it('never repeats a channel that succeeded: only the failed ones are tried again', async () => {
    // Prepare: email fails transiently on both attempts, so the notification fails with its inbox delivered
    await injectFaults([{ service: 'ses', operation: 'SendEmail', probability: 1, error: { statusCode: 503, code: 'ServiceUnavailable' } }]);
    const id = await create(sender, aBody({ recipients: ['dave'], channels: ['inbox', 'email'], scheduledAt: undefined }));
    const failed = await until(id, 'failed', 30_000);
    await h.api('DELETE', '/_local/faults');

    // Act
    await h.api('POST', `/v1/notifications/${id}/retry`, { token: sender });
    const sent = await until(id, 'sent');

    // Assess
    const inboxBefore = (failed.body.deliveries as Record<string, { status: string; at: string }>).inbox;
    expect(inboxBefore?.status).toBe('sent');
    expect(sent.body).toMatchObject({ deliveries: { inbox: inboxBefore, email: { status: 'sent' } } });
  });

  it('answers 409 for a pending notification, 400 naming delayMinutes out of bounds, 404 to a plain user', async () => {
    // Prepare
    const id = await create(sender);

    // Act
    const conflict = await h.api('POST', `/v1/notifications/${id}/retry`, { token: sender, body: {} });
    const negative = await h.api('POST', `/v1/notifications/${id}/retry`, { token: sender, body: { delayMinutes: -1 } });
    const tooLate = await h.api('POST', `/v1/notifications/${id}/retry`, { token: sender, body: { delayMinutes: 30 * 24 * 60 + 1 } });
    const stranger = await h.api('POST', `/v1/notifications/${id}/retry`, { token: alice });

    // Assess
    expect(conflict.status).toBe(409);
    expect([negative.status, tooLate.status]).toEqual([400, 400]);
    expect([...fields(negative), ...fields(tooLate)]).toEqual(['delayMinutes', 'delayMinutes']);
    expect(stranger.status).toBe(404);
  });
});

describe('metrics', () => {
  it('counts the tenant\'s notifications by status and deliveries by channel and outcome', async () => {
    // Prepare: a tenant of its own, so the counts are this test's alone
    const opsAdmin = await h.token('metrics-ops', { role: 'admin', tenant: 'metrics-co' });
    await h.api('PUT', '/v1/recipients/zoe', { token: opsAdmin, body: {} });
    const now = await create(opsAdmin, aBody({ recipients: ['zoe'], channels: ['inbox', 'websocket'], scheduledAt: undefined }));
    const later = await create(opsAdmin, aBody({ recipients: ['zoe'] }));
    await h.api('DELETE', `/v1/notifications/${later}`, { token: opsAdmin });
    await eventually(() => read(now, opsAdmin), (r) => r.body.status === 'sent');

    // Act: the metrics function counts from the table's stream, within its 5 s batching window
    const counted = (m: { body: Record<string, unknown> }): boolean => {
      const body = m.body as { notifications?: Record<string, number>; deliveries?: Record<string, Record<string, number>> };
      return body.notifications?.sent === 1 && body.notifications.cancelled === 1 && body.deliveries?.websocket?.skipped === 1;
    };
    const metrics = await eventually(() => h.api('GET', '/v1/metrics?period=3600', { token: opsAdmin }), counted, 30_000).catch(
      () => h.api('GET', '/v1/metrics?period=3600', { token: opsAdmin }),
    );

    // Assess
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatchObject({
      period: 3600,
      granularity: 'hour',
      notifications: { pending: 2, sending: 1, sent: 1, failed: 0, cancelled: 1 },
      deliveries: {
        inbox: { sent: 1, skipped: 0, failed: 0 },
        websocket: { sent: 0, skipped: 1, failed: 0 },
        email: { sent: 0, skipped: 0, failed: 0 },
      },
    });
  }, 60_000);

  it('answers 403 to a sender, and 400 naming period out of bounds', async () => {
    // Act
    const forbidden = await h.api('GET', '/v1/metrics', { token: sender });
    const tooShort = await h.api('GET', '/v1/metrics?period=3599', { token: admin });
    const tooLong = await h.api('GET', `/v1/metrics?period=${31 * 24 * 3600 + 1}`, { token: admin });

    // Assess
    expect(forbidden.status).toBe(403);
    expect([tooShort.status, tooLong.status]).toEqual([400, 400]);
    expect([...fields(tooShort), ...fields(tooLong)]).toEqual(['period', 'period']);
  });
});
