/**
 * The routes of the Celery-based scheduler, end to end against a local stack: its clients call
 * the same URLs (trailing slash included) with a Herald token and get its answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { ApiResponse, Harness } from './support/harness.ts';

let h: Harness;
let sender: string;
let otherSender: string;
let alice: string;
let foreignAdmin: string;

const hour = 60 * 60 * 1000;

beforeAll(async () => {
  h = await startHarness();
  const admin = await h.token('ops', { role: 'admin' });
  sender = await h.token('billing', { role: 'sender' });
  otherSender = await h.token('marketing', { role: 'sender' });
  alice = await h.token('alice');
  foreignAdmin = await h.token('eve', { role: 'admin', tenant: 'globex' });
  // The Celery scheduler's users were database rows: their ids arrive as numbers.
  for (const id of ['1001', '1002', 'alice']) {
    expect((await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body: {} })).status).toBe(201);
  }
});

afterAll(async () => {
  await h?.close();
});

function aScheduleBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { recipients: [1001], title: 'Invoice ready', message: 'Your invoice is ready', scheduled_at: inMs(hour), ...overrides };
}

async function schedule(body = aScheduleBody(), token = sender): Promise<string> {
  const created = await h.api('POST', '/api/notifications/schedule/', { token, body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return (created.body.notification_ids as string[])[0] as string;
}

function fields(response: ApiResponse): string[] {
  return ((response.body.error?.details ?? []) as { field: string }[]).map((d) => d.field);
}

describe('POST /api/notifications/schedule/', () => {
  it('schedules one notification per recipient named by number, and answers in the scheduler words', async () => {
    // Prepare
    const scheduledAt = inMs(hour);

    // Act
    const created = await h.api('POST', '/api/notifications/schedule/', {
      token: sender,
      body: aScheduleBody({
        recipients: [1001, '1002'],
        scheduled_at: scheduledAt,
        type: 'invoice.ready',
        priority: 'high',
        related_object_type: 'invoice',
        related_object_id: 42,
        data: { amount: 12 },
      }),
    });

    // Assess
    expect(created).toMatchObject({ status: 201, body: { count: 2, scheduled_at: scheduledAt } });
    const ids = created.body.notification_ids as string[];
    expect(ids).toHaveLength(2);
    const first = await h.api('GET', `/v1/notifications/${ids[0]}`, { token: sender });
    expect(first.body).toMatchObject({
      recipientId: '1001',
      type: 'invoice.ready',
      priority: 'high',
      relatedObject: { type: 'invoice', id: '42' },
      data: { amount: 12 },
      status: 'pending',
    });
  });

  it('answers without the trailing slash too', async () => {
    // Act
    const created = await h.api('POST', '/api/notifications/schedule', { token: sender, body: aScheduleBody() });

    // Assess
    expect(created.status).toBe(201);
  });

  it('refuses a past scheduled_at with 400 naming scheduled_at, creating nothing', async () => {
    // Prepare
    const before = await h.api('GET', '/v1/notifications?recipientId=1002&limit=100', { token: sender });

    // Act
    const refused = await h.api('POST', '/api/notifications/schedule/', {
      token: sender,
      body: aScheduleBody({ recipients: [1002], scheduled_at: inMs(-hour) }),
    });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'VALIDATION_ERROR', message: 'scheduled_at must not be in the past' });
    expect(fields(refused)).toEqual(['scheduled_at']);
    const after = await h.api('GET', '/v1/notifications?recipientId=1002&limit=100', { token: sender });
    expect((after.body.items as unknown[]).length).toBe((before.body.items as unknown[]).length);
  });

  it('refuses a scheduled_at without an offset or a timezone with 400 in its own words, and reads one with a timezone', async () => {
    // Prepare: 09:00 on the 1st of June next year, summer time in Paris (UTC+2)
    const year = new Date().getUTCFullYear() + 1;

    // Act
    const zoneless = await h.api('POST', '/api/notifications/schedule/', { token: sender, body: aScheduleBody({ scheduled_at: `${year}-06-01T09:00:00` }) });
    const zoned = await h.api('POST', '/api/notifications/schedule/', { token: sender, body: aScheduleBody({ scheduled_at: `${year}-06-01T09:00:00`, timezone: 'Europe/Paris' }) });

    // Assess
    expect(zoneless.status).toBe(400);
    expect(zoneless.body.error?.details).toEqual([{ field: 'timezone', message: 'is required when scheduled_at has no offset' }]);
    expect(zoned.status).toBe(201);
    expect(zoned.body).toMatchObject({ count: 1, scheduled_at: `${year}-06-01T07:00:00.000Z` });
  });

  it('answers each notification\'s own time for timezone "recipient", scheduled_at being the earliest', async () => {
    // Prepare: one recipient in Tokyo (UTC+9), one in Paris (UTC+2 in June)
    const admin = await h.token('ops', { role: 'admin' });
    for (const [id, timezone] of [['2001', 'Asia/Tokyo'], ['2002', 'Europe/Paris']]) {
      expect((await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body: { timezone } })).status).toBe(201);
    }
    const year = new Date().getUTCFullYear() + 1;

    // Act
    const created = await h.api('POST', '/api/notifications/schedule/', {
      token: sender,
      body: aScheduleBody({ recipients: [2001, 2002], scheduled_at: `${year}-06-01T09:00:00`, timezone: 'recipient' }),
    });

    // Assess: 09:00 in each zone; the answer's scheduled_at is Tokyo's, the earlier
    expect(created.status).toBe(201);
    const [tokyo, paris] = created.body.notification_ids as string[];
    expect(created.body).toMatchObject({
      count: 2,
      scheduled_at: `${year}-06-01T00:00:00.000Z`,
      schedule: [
        { notification_id: tokyo, recipient_id: '2001', scheduled_at: `${year}-06-01T00:00:00.000Z`, timezone: 'Asia/Tokyo', local_scheduled_at: `${year}-06-01T09:00:00+09:00` },
        { notification_id: paris, recipient_id: '2002', scheduled_at: `${year}-06-01T07:00:00.000Z`, timezone: 'Europe/Paris', local_scheduled_at: `${year}-06-01T09:00:00+02:00` },
      ],
    });
    const status = await h.api('GET', `/api/notifications/${paris ?? ''}/schedule_status/`, { token: sender });
    expect(status.body).toMatchObject({ scheduled_at: `${year}-06-01T07:00:00.000Z` });
  });

  it('refuses empty recipients with 400', async () => {
    // Act
    const refused = await h.api('POST', '/api/notifications/schedule/', { token: sender, body: aScheduleBody({ recipients: [] }) });

    // Assess
    expect(refused.status).toBe(400);
    expect(fields(refused)).toEqual(['recipients']);
  });

  it('answers 404 naming the recipients that do not exist', async () => {
    // Act
    const missing = await h.api('POST', '/api/notifications/schedule/', { token: sender, body: aScheduleBody({ recipients: [1001, 999] }) });

    // Assess
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'NOT_FOUND', details: { missing: ['999'] } });
  });

  it('honours Idempotency-Key: the same body answers the first response, another body 422', async () => {
    // Prepare
    const headers = { 'idempotency-key': `celery-${Date.now()}` };
    const body = aScheduleBody();

    // Act
    const first = await h.apiWithHeaders('POST', '/api/notifications/schedule/', { token: sender, body, headers });
    const again = await h.apiWithHeaders('POST', '/api/notifications/schedule/', { token: sender, body, headers });
    const other = await h.api('POST', '/api/notifications/schedule/', { token: sender, body: { ...body, title: 'Another' }, headers });

    // Assess
    expect(first.status).toBe(201);
    expect(again).toMatchObject({ status: 201, body: first.body, headers: { 'idempotent-replayed': 'true' } });
    expect(other.status).toBe(422);
  });

  it('answers 401 without a token', async () => {
    // Act
    const refused = await h.api('POST', '/api/notifications/schedule/', { body: aScheduleBody() });

    // Assess
    expect(refused).toEqual({ status: 401, body: { message: 'Unauthorized' } });
  });
});

describe('DELETE /api/notifications/{id}/cancel_scheduled/', () => {
  it('cancels a pending notification with the scheduler message', async () => {
    // Prepare
    const id = await schedule();

    // Act
    const cancelled = await h.api('DELETE', `/api/notifications/${id}/cancel_scheduled/`, { token: sender });

    // Assess
    expect(cancelled).toEqual({ status: 200, body: { message: 'Notification cancelled successfully', notification_id: id } });
    expect((await h.api('GET', `/v1/notifications/${id}`, { token: sender })).body.status).toBe('cancelled');
  });

  it('answers 400 (not 409) for a notification that is no longer pending', async () => {
    // Prepare
    const id = await schedule();
    await h.api('DELETE', `/api/notifications/${id}/cancel_scheduled/`, { token: sender });

    // Act
    const again = await h.api('DELETE', `/api/notifications/${id}/cancel_scheduled/`, { token: sender });

    // Assess
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ code: 'NOT_PENDING', details: { status: 'cancelled' } });
  });

  it("answers 404 for an unknown id, the scheduler's numeric ids, another sender's and another tenant's", async () => {
    // Prepare
    const id = await schedule();

    // Act
    const unknown = await h.api('DELETE', '/api/notifications/ntf_01JAAAAAAAAAAAAAAAAAAAAAAA/cancel_scheduled/', { token: sender });
    const numeric = await h.api('DELETE', '/api/notifications/12/cancel_scheduled/', { token: sender });
    const otherSenders = await h.api('DELETE', `/api/notifications/${id}/cancel_scheduled/`, { token: otherSender });
    const foreign = await h.api('DELETE', `/api/notifications/${id}/cancel_scheduled/`, { token: foreignAdmin });

    // Assess
    expect([unknown.status, numeric.status, otherSenders.status, foreign.status]).toEqual([404, 404, 404, 404]);
    expect(numeric.body.error?.code).toBe('NOT_FOUND');
    expect(numeric.body.error?.message).toBe("Notification not found: the id is not a Herald notification id (ntf_…), and the Celery scheduler's numeric ids name nothing here");
    const markup = await h.api('GET', `/api/notifications/${encodeURIComponent('<img src=x onerror=alert(1)>')}/schedule_status/`, { token: sender });
    expect(markup.status).toBe(404);
    expect(markup.body.error?.message).toBe(numeric.body.error?.message);
    expect((await h.api('GET', `/v1/notifications/${id}`, { token: sender })).body.status).toBe('pending');
  });
});

describe('GET /api/notifications/{id}/schedule_status/', () => {
  it('shows a pending notification, not sent', async () => {
    // Prepare
    const scheduledAt = inMs(hour);
    const id = await schedule(aScheduleBody({ scheduled_at: scheduledAt }));

    // Act
    const status = await h.api('GET', `/api/notifications/${id}/schedule_status/`, { token: sender });

    // Assess
    expect(status).toEqual({
      status: 200,
      body: {
        id,
        title: 'Invoice ready',
        scheduled_at: scheduledAt,
        scheduled_status: 'pending',
        is_sent: false,
        sent_at: null,
        created_at: expect.any(String),
      },
    });
  });

  it('shows a delivered notification as sent, with its time, to its recipient too', async () => {
    // Prepare: alice notifies herself, now
    const id = await schedule(aScheduleBody({ recipients: ['alice'], scheduled_at: inMs(0) }), alice);

    // Act
    const sent = await eventually(
      () => h.api('GET', `/api/notifications/${id}/schedule_status`, { token: alice }),
      (r) => r.body.is_sent === true,
    );

    // Assess
    expect(sent.body).toMatchObject({ scheduled_status: 'sent', is_sent: true, sent_at: expect.any(String) });
  });

  it('shows a cancelled notification as cancelled', async () => {
    // Prepare
    const id = await schedule();
    await h.api('DELETE', `/v1/notifications/${id}`, { token: sender });

    // Act
    const status = await h.api('GET', `/api/notifications/${id}/schedule_status/`, { token: sender });

    // Assess
    expect(status.body).toMatchObject({ scheduled_status: 'cancelled', is_sent: false });
  });

  it("answers 404 for a notification the caller may not see, or another tenant's", async () => {
    // Prepare
    const id = await schedule();

    // Act
    const plainUser = await h.api('GET', `/api/notifications/${id}/schedule_status/`, { token: alice });
    const foreign = await h.api('GET', `/api/notifications/${id}/schedule_status/`, { token: foreignAdmin });

    // Assess
    expect([plainUser.status, foreign.status]).toEqual([404, 404]);
  });
});
