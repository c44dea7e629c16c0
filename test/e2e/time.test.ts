/**
 * Time as people mean it, end to end on the local stack: wall times in zones against their UTC
 * instants, quiet hours that hold a notification (and release it when they end), urgent ones
 * that go through, and the tenant's settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { ApiResponse, Harness } from './support/harness.ts';

let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token('ops', { role: 'admin' });
});

afterAll(async () => {
  await h?.close();
});

/** `HH:MM` of an instant in UTC. */
function utcWallTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 16);
}

/** The next instant after `afterMs` whose UTC wall time is `hhmm`. */
function nextUtcWallTime(hhmm: string, afterMs: number): number {
  const day = new Date(afterMs).toISOString().slice(0, 10);
  const today = Date.parse(`${day}T${hhmm}:00.000Z`);
  return today > afterMs ? today : today + 24 * 3_600_000;
}

async function putRecipient(id: string, body: Record<string, unknown>): Promise<void> {
  const put = await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body });
  expect([200, 201]).toContain(put.status);
}

async function notify(body: Record<string, unknown>): Promise<ApiResponse> {
  return h.api('POST', '/v1/notifications', { token: admin, body: { title: 'Standup', message: 'Starts soon', ...body } });
}

async function view(id: string): Promise<Record<string, unknown>> {
  return (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body;
}

describe('local-time scheduling', () => {
  it('reads a wall time in a named zone as its UTC instant, a DST gap moved forward and said so', async () => {
    // Prepare
    await putRecipient('lena', {});

    // Act: 02:30 on 2028-03-26 does not exist in Paris (the clocks go from 02:00 to 03:00)
    const created = await notify({ recipients: ['lena'], scheduledAt: '2028-03-26T02:30', timezone: 'Europe/Paris' });

    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      scheduledAt: '2028-03-26T01:30:00.000Z',
      schedule: [{ recipientId: 'lena', scheduledAt: '2028-03-26T01:30:00.000Z', timezone: 'Europe/Paris', localScheduledAt: '2028-03-26T03:30:00+02:00', adjusted: { kind: 'gap', shiftMinutes: 60 } }],
    });
    const id = (created.body.notificationIds as string[])[0] ?? '';
    expect(await view(id)).toMatchObject({ scheduledAt: '2028-03-26T01:30:00.000Z', timezone: 'Europe/Paris', localScheduledAt: '2028-03-26T03:30:00+02:00', status: 'pending' });
  });

  it("reaches each recipient at that wall time in their zone, the tenant's default for one without", async () => {
    // Prepare
    await putRecipient('tokyo', { timezone: 'Asia/Tokyo' });
    await putRecipient('howe', { timezone: 'Australia/Lord_Howe' });
    await putRecipient('nowhere', {});
    expect((await h.api('PUT', '/v1/settings', { token: admin, body: { defaultTimezone: 'America/New_York' } })).status).toBe(200);

    // Act
    const created = await notify({ recipients: ['tokyo', 'howe', 'nowhere'], scheduledAt: '2028-07-01T09:00', timezone: 'recipient' });

    // Assess: one instant per zone (Lord Howe is +10:30 in July)
    expect(created.status).toBe(201);
    const times = Object.fromEntries((created.body.schedule as { recipientId: string; scheduledAt: string }[]).map((s) => [s.recipientId, s.scheduledAt]));
    expect(times).toEqual({ tokyo: '2028-07-01T00:00:00.000Z', howe: '2028-06-30T22:30:00.000Z', nowhere: '2028-07-01T13:00:00.000Z' });
  });

  it('refuses an unknown zone and a wall time without a zone, naming the field, creating nothing', async () => {
    // Act
    const unknown = await notify({ recipients: ['lena'], scheduledAt: '2028-07-01T09:00', timezone: 'Mars/Olympus_Mons' });
    const zoneless = await notify({ recipients: ['lena'], scheduledAt: '2028-07-01T09:00' });
    const celery = await h.api('POST', '/api/notifications/schedule/', {
      token: admin,
      body: { recipients: ['lena'], title: 't', message: 'm', scheduled_at: '2028-07-01T09:00', timezone: 'Nowhere/Land' },
    });

    // Assess
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.details).toEqual([{ field: 'timezone', message: 'must be a known IANA time zone or "recipient"' }]);
    expect(zoneless.status).toBe(400);
    expect(zoneless.body.error?.details).toEqual([{ field: 'timezone', message: 'is required when scheduledAt has no offset' }]);
    expect(celery.status).toBe(400);
    expect(JSON.stringify(celery.body.error?.details)).toContain('timezone');
  });

  it("delivers a broadcast at that wall time in each recipient's zone: now in UTC, three hours later in São Paulo", async () => {
    // Prepare: a wall time a few seconds ahead in UTC
    await putRecipient('utc-person', { timezone: 'UTC' });
    await putRecipient('sao-person', { timezone: 'America/Sao_Paulo' });
    const wall = new Date(Date.now() + 4_000).toISOString().slice(0, 19);

    // Act
    const created = await h.api('POST', '/v1/broadcasts', {
      token: admin,
      body: { audience: { recipientIds: ['utc-person', 'sao-person'] }, title: 'Morning', message: 'Hello', scheduledAt: wall, timezone: 'recipient' },
    });

    // Assess: the UTC recipient has it at its instant; São Paulo's waits for its own (UTC-3)
    expect(created.status).toBe(201);
    const id = String(created.body.broadcastId);
    const view = await h.api('GET', `/v1/broadcasts/${id}`, { token: admin });
    expect(view.body).toMatchObject({ timezone: 'recipient', localScheduledAt: wall });
    await eventually(
      async () => (await h.api('GET', `/v1/broadcasts/${id}/recipients?status=sent`, { token: admin })).body.items as { recipientId: string }[],
      (items) => items.length === 1,
      20_000,
    );
    const pending = (await h.api('GET', `/v1/broadcasts/${id}/recipients?status=pending`, { token: admin })).body.items as { recipientId: string; nextAttemptAt: string }[];
    expect(pending).toMatchObject([{ recipientId: 'sao-person', nextAttemptAt: new Date(Date.parse(`${wall}Z`) + 3 * 3_600_000).toISOString() }]);
    const sent = (await h.api('GET', `/v1/broadcasts/${id}/recipients?status=sent`, { token: admin })).body.items as { recipientId: string; updatedAt: string }[];
    expect(sent.map((r) => r.recipientId)).toEqual(['utc-person']);
    expect(Date.parse(sent[0]?.updatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(`${wall}Z`));
  });

  it('takes a wall time on the Celery route too, answering the earlier instant of an overlap in the route\'s snake_case', async () => {
    // Act: 01:30 on 2028-11-05 happens twice in New York
    const created = await h.api('POST', '/api/notifications/schedule/', {
      token: admin,
      body: { recipients: ['lena'], title: 't', message: 'm', scheduled_at: '2028-11-05T01:30:00', timezone: 'America/New_York' },
    });

    // Assess: the first 01:30 (-04:00)
    expect(created.status).toBe(201);
    const [id] = (created.body as { notification_ids: string[] }).notification_ids;
    expect(created.body).toEqual({
      notification_ids: [expect.stringMatching(/^ntf_/)],
      count: 1,
      scheduled_at: '2028-11-05T05:30:00.000Z',
      schedule: [{ notification_id: id, recipient_id: 'lena', scheduled_at: '2028-11-05T05:30:00.000Z', timezone: 'America/New_York', local_scheduled_at: '2028-11-05T01:30:00-04:00' }],
      adjusted: [{ notification_id: id, kind: 'overlap', requested_local: '2028-11-05T01:30:00', resolved_local: '2028-11-05T01:30:00-04:00' }],
    });
  });
});

describe('quiet hours', () => {
  it('holds a notification due inside the window until it ends, pending, and lets an urgent one through', async () => {
    // Prepare: quiet from an hour ago to two hours ahead (UTC)
    const now = Date.now();
    const quietHours = { start: utcWallTime(now - 3_600_000), end: utcWallTime(now + 2 * 3_600_000) };
    await putRecipient('sleepy', { timezone: 'UTC', quietHours });
    const windowEnd = new Date(nextUtcWallTime(quietHours.end, now)).toISOString();

    // Act
    const normal = await notify({ recipients: ['sleepy'], scheduledAt: inMs(2_000) });
    const urgent = await notify({ recipients: ['sleepy'], scheduledAt: inMs(2_000), priority: 'urgent' });

    // Assess
    const heldId = (normal.body.notificationIds as string[])[0] ?? '';
    const urgentId = (urgent.body.notificationIds as string[])[0] ?? '';
    const held = await eventually(() => view(heldId), (n) => n.heldUntil !== null, 20_000);
    expect(held).toMatchObject({ status: 'pending', heldUntil: windowEnd, heldReason: `quiet hours ${quietHours.start}-${quietHours.end} in UTC` });
    await eventually(() => view(urgentId), (n) => n.status === 'sent', 20_000);
    expect((await view(heldId)).status).toBe('pending');

    // Act: a held notification can still be cancelled
    const cancelled = await h.api('DELETE', `/v1/notifications/${heldId}`, { token: admin });

    // Assess
    expect(cancelled.status).toBe(200);
    expect(await view(heldId)).toMatchObject({ status: 'cancelled', heldUntil: null });
  });

  it("holds by the tenant's quiet hours a recipient without their own, and not one who chose none", async () => {
    // Prepare
    const now = Date.now();
    const quietHours = { start: utcWallTime(now - 3_600_000), end: utcWallTime(now + 2 * 3_600_000) };
    expect((await h.api('PUT', '/v1/settings', { token: admin, body: { defaultTimezone: 'UTC', quietHours } })).body).toMatchObject({ defaultTimezone: 'UTC', quietHours });
    await putRecipient('follower', {});
    await putRecipient('owl', {});
    const owl = await h.token('owl');
    const patched = await h.api('PATCH', '/v1/me', { token: owl, body: { quietHours: null } });
    expect(patched.body).toMatchObject({ id: 'owl', quietHours: null });

    // Act
    const created = await notify({ recipients: ['follower', 'owl'], scheduledAt: inMs(2_000) });

    // Assess
    const [followerId = '', owlId = ''] = created.body.notificationIds as string[];
    await eventually(() => view(owlId), (n) => n.status === 'sent', 20_000);
    const follower = await eventually(() => view(followerId), (n) => n.heldUntil !== null, 20_000);
    expect(follower.status).toBe('pending');
    await h.api('PUT', '/v1/settings', { token: admin, body: { quietHours: null } });
  });

  it('holds the recipients of a broadcast who are in quiet hours, delivers the others, and counts the held', async () => {
    // Prepare: 'dozer' is in quiet hours, 'lark' chose none
    const now = Date.now();
    await putRecipient('dozer', { timezone: 'UTC', quietHours: { start: utcWallTime(now - 3_600_000), end: utcWallTime(now + 2 * 3_600_000) } });
    await putRecipient('lark', { timezone: 'UTC', quietHours: null });

    // Act
    const created = await h.api('POST', '/v1/broadcasts', { token: admin, body: { audience: { recipientIds: ['dozer', 'lark'] }, title: 'News', message: 'Hello' } });

    // Assess
    expect(created.status).toBe(201);
    const id = String(created.body.broadcastId);
    const progress = await eventually(
      async () => (await h.api('GET', `/v1/broadcasts/${id}`, { token: admin })).body.progress as Record<string, number>,
      (p) => p.sent === 1 && p.held === 1,
      20_000,
    );
    expect(progress).toMatchObject({ total: 2, sent: 1, pending: 1, held: 1 });
    const rows = await h.api('GET', `/v1/broadcasts/${id}/recipients?status=pending`, { token: admin });
    expect((rows.body.items as { recipientId: string }[]).map((r) => r.recipientId)).toEqual(['dozer']);
  });

  it('releases a held notification when its window ends', async () => {
    // Prepare: a window that ends at the next minute boundary at least 20 s away
    const now = Date.now();
    let end = Math.ceil((now + 1) / 60_000) * 60_000;
    if (end - now < 20_000) end += 60_000;
    await putRecipient('napper', { timezone: 'UTC', quietHours: { start: utcWallTime(now - 3_600_000), end: utcWallTime(end) } });

    // Act
    const created = await notify({ recipients: ['napper'], scheduledAt: inMs(1_000) });
    const id = (created.body.notificationIds as string[])[0] ?? '';

    // Assess: held until the end, then sent once, soon after it
    const held = await eventually(() => view(id), (n) => n.heldUntil !== null, 20_000);
    expect(held.heldUntil).toBe(new Date(end).toISOString());
    const sent = await eventually(() => view(id), (n) => n.status === 'sent', end - Date.now() + 30_000);
    const sentAt = Date.parse(String(sent.sentAt));
    expect(sentAt).toBeGreaterThanOrEqual(end);
    expect(sentAt - end).toBeLessThan(2_000);
    expect(sent.attempts).toBe(1);
    // It takes 20-80 s (the window's end); the bound is over 3 times the longest.
  }, 300_000);
});

describe('tenant settings', () => {
  it('answers only admins, and refuses an unknown zone naming the field', async () => {
    // Prepare
    const sender = await h.token('sam', { role: 'sender' });

    // Act
    const forbidden = await h.api('GET', '/v1/settings', { token: sender });
    const bad = await h.api('PUT', '/v1/settings', { token: admin, body: { defaultTimezone: 'Mars/Olympus_Mons', quietHours: { start: '25:00', end: '08:00' } } });

    // Assess
    expect(forbidden.status).toBe(403);
    expect(bad.status).toBe(400);
    expect(bad.body.error?.details).toEqual(
      expect.arrayContaining([
        { field: 'defaultTimezone', message: 'is not a known IANA time zone' },
        { field: 'quietHours.start', message: 'must be a time of day HH:MM (00:00-23:59)' },
      ]),
    );
  });
});
