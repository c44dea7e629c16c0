/**
 * Recurring notifications end to end on the local stack: a `rate(1 minute)` definition fires its
 * schedule (the local Scheduler, as EventBridge Scheduler would), each occurrence creates one
 * notification linked by `recurringId`, and none comes after it is paused. It waits for real
 * minutes: the one test here that must. A create retried with its `Idempotency-Key` makes one
 * definition and one schedule.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token('ops', { role: 'admin' });
  expect((await h.api('PUT', '/v1/recipients/rita', { token: admin, body: {} })).status).toBe(201);
});

afterAll(async () => {
  await h?.close();
});

type View = Record<string, unknown> & { lastOccurrences: { at: string; notificationIds: string[] }[]; nextOccurrences?: { at: string; local: string }[] };

async function read(id: string): Promise<View> {
  return (await h.api('GET', `/v1/recurring-notifications/${id}`, { token: admin })).body as View;
}

describe('recurring notifications', () => {
  it('shows a cron definition with its next five occurrences in UTC and local time, and refuses a bad one naming the field', async () => {
    // Act
    const created = await h.api('POST', '/v1/recurring-notifications', {
      token: admin,
      body: { recipients: ['rita'], title: 'Standup', message: 'At 9', schedule: { cron: '0 9 * * MON-FRI', timezone: 'America/New_York' } },
    });
    const bad = await h.api('POST', '/v1/recurring-notifications', {
      token: admin,
      body: { recipients: ['rita'], title: 'Standup', message: 'At 9', schedule: { cron: '0 9 1 * MON', timezone: 'America/New_York' } },
    });
    // Six EventBridge fields the Scheduler would refuse (a day in both day fields): refused before anything is written.
    const badSix = await h.api('POST', '/v1/recurring-notifications', {
      token: admin,
      body: { recipients: ['rita'], title: 'Standup', message: 'At 9', schedule: { cron: '* * * * * *', timezone: 'UTC' } },
    });
    const badZone = await h.api('POST', '/v1/recurring-notifications', {
      token: admin,
      body: { recipients: ['rita'], title: 'Standup', message: 'At 9', schedule: { rate: '1 day', timezone: 'Mars/Olympus_Mons' } },
    });
    const unregistered = await Promise.all(
      [{ recipients: ['rita', 'ghost'] }, { audience: { recipientIds: ['ghost', 'rita'] } }].map((named) =>
        h.api('POST', '/v1/recurring-notifications', { token: admin, body: { ...named, title: 'Standup', message: 'At 9', schedule: { rate: '1 day', timezone: 'UTC' } } }),
      ),
    );

    // Assess
    expect(created.status).toBe(201);
    const view = created.body as View;
    expect(view).toMatchObject({ status: 'active', schedule: { cron: '0 9 * * MON-FRI', timezone: 'America/New_York' }, lastOccurrences: [] });
    expect(view.nextOccurrences).toHaveLength(5);
    for (const next of view.nextOccurrences ?? []) expect(next.local).toMatch(/T09:00:00-0[45]:00$/);
    expect(bad.status).toBe(400);
    expect(bad.body.error?.details).toEqual([{ field: 'schedule.cron', message: expect.stringContaining('day-of-month and day-of-week') as string }]);
    expect([badSix.status, badSix.body.error?.details]).toEqual([
      400,
      [{ field: 'schedule.cron', message: 'is not an EventBridge cron: Day-of-month and Day-of-week cannot both be specified: use ? in exactly one of them.' }],
    ]);
    expect(badZone.status).toBe(400);
    expect(badZone.body.error?.details).toEqual([{ field: 'schedule.timezone', message: 'is not a known IANA time zone' }]);
    for (const answer of unregistered) expect([answer.status, answer.body.error?.details]).toEqual([404, { missing: ['ghost'] }]);
    const listed = await h.api('GET', '/v1/recurring-notifications?limit=1', { token: admin });
    expect((listed.body.items as { id: string }[]).map((r) => r.id)).toEqual([view.id]);
    const all = await h.api('GET', '/v1/recurring-notifications', { token: admin });
    expect((all.body.items as { id: string }[]).map((r) => r.id)).toEqual([view.id]);
    expect((await h.api('DELETE', `/v1/recurring-notifications/${String(view.id)}`, { token: admin })).status).toBe(200);
    expect((await h.api('GET', `/v1/recurring-notifications/${String(view.id)}`, { token: admin })).status).toBe(404);
  });

  it('creates one notification per occurrence of rate(1 minute), linked to it, and none after a pause', async () => {
    // Prepare: two definitions, whose first occurrences fire when they are created, then every
    // minute: one runs for two occurrences, the other is paused after its first, so that the two
    // minutes this needs are waited at once.
    const create = async (title: string): Promise<string> => {
      const created = await h.api('POST', '/v1/recurring-notifications', {
        token: admin,
        body: { recipients: ['rita'], title, message: 'Every minute', schedule: { rate: '1 minute', timezone: 'UTC' } },
      });
      expect(created.status).toBe(201);
      return String(created.body.id);
    };
    const [id, pausedId] = await Promise.all([create('Tick'), create('Paused')]);
    // A third fires once, when it is made: its end comes before its second time.
    const once = await h.api('POST', '/v1/recurring-notifications', {
      token: admin,
      body: { recipients: ['rita'], title: 'Once', message: 'Today only', schedule: { rate: '1 day', timezone: 'UTC', endAt: new Date(Date.now() + 10_000).toISOString() } },
    });

    // Act: the second is paused once its first occurrence is made; the first runs on
    await eventually(() => read(pausedId), (r) => r.lastOccurrences.length >= 1, 60_000);
    const paused = await h.api('PATCH', `/v1/recurring-notifications/${pausedId}`, { token: admin, body: { paused: true } });
    const pausedAt = Date.now();
    const atPause = (await read(pausedId)).lastOccurrences.length;
    // The second occurrence comes a minute after the first: waited for up to 200 s, over 3 times that.
    const two = await eventually(() => read(id), (r) => r.lastOccurrences.length >= 2, 200_000);
    // The paused one's next occurrence would have come a minute after its first: 65 s after the pause is past it.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, pausedAt + 65_000 - Date.now())));
    const afterPause = await read(pausedId);
    const onceDone = await read(String(once.body.id));
    const listed = (await h.api('GET', '/v1/recurring-notifications', { token: admin })).body.items as View[];

    // Assess: one notification per occurrence, a minute apart, linked back; none after the pause
    expect(paused.body).toMatchObject({ status: 'paused', nextOccurrences: [] });
    const [second, first] = two.lastOccurrences;
    expect(Date.parse(second?.at ?? '') - Date.parse(first?.at ?? '')).toBe(60_000);
    for (const occurrence of two.lastOccurrences) expect(occurrence.notificationIds).toHaveLength(1);
    const notification = await h.api('GET', `/v1/notifications/${first?.notificationIds[0] ?? ''}`, { token: admin });
    expect(notification.body).toMatchObject({ recipientId: 'rita', title: 'Tick', recurringId: id });
    expect(atPause).toBe(1);
    expect(afterPause.lastOccurrences).toHaveLength(atPause);
    // Past its end, it says it is completed, with what its one occurrence made
    expect(once.body).toMatchObject({ status: 'active', nextOccurrences: [] });
    expect(onceDone).toMatchObject({ status: 'completed', nextOccurrences: [] });
    expect(onceDone.lastOccurrences.map((o) => o.notificationIds.length)).toEqual([1]);
    expect(listed.find((r) => r.id === once.body.id)?.status).toBe('completed');
    expect(listed.find((r) => r.id === id)?.status).toBe('active');
    // It takes about 65 s (one real minute, the two definitions at once); the bound is over 3 times that.
  }, 420_000);
});

describe('Idempotency-Key on POST /v1/recurring-notifications', () => {
  const body = { recipients: ['rita'], title: 'Weekly', message: 'On Mondays', schedule: { cron: '0 9 * * MON', timezone: 'Europe/Paris' } };

  it('answers a repeat and concurrent duplicates with one definition each, refuses the key with another body, and makes one schedule per key', async () => {
    // Prepare
    const token = await h.token('recurring-idem', { role: 'sender' });
    const post = async (key: string, sent: unknown): ReturnType<Harness['apiWithHeaders']> =>
      h.apiWithHeaders('POST', '/v1/recurring-notifications', { token, body: sent, headers: { 'idempotency-key': key } });
    const [key, raced] = [randomUUID(), randomUUID()];
    await h.api('DELETE', '/_local/calls');

    // Act
    const first = await post(key, body);
    const repeat = await post(key, { ...body });
    const reused = await post(key, { ...body, title: 'Monthly' });
    const racing = await Promise.all(Array.from({ length: 4 }, async () => post(raced, body)));

    // Assess
    expect(first.status).toBe(201);
    expect([repeat.status, repeat.headers['idempotent-replayed']]).toEqual([201, 'true']);
    expect(repeat.body).toEqual(first.body);
    expect([reused.status, reused.body.error?.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // Each duplicate got the first one's answer, or 409 while it was still running.
    const answered = racing.filter((r) => r.status === 201);
    expect(racing.filter((r) => r.status !== 201).map((r) => [r.status, r.body.error?.code])).toEqual(racing.filter((r) => r.status !== 201).map(() => [409, 'IDEMPOTENCY_IN_PROGRESS']));
    expect(new Set(answered.map((r) => r.body.id)).size).toBe(1);
    const listed = (await h.api('GET', '/v1/recurring-notifications?limit=100', { token })).body.items as { id: string; title: string }[];
    expect(listed.map((r) => r.id).sort()).toEqual([String(first.body.id), String(answered[0]?.body.id)].sort());
    const calls = (await h.api('GET', '/_local/calls')).body as { byFunction: Record<string, Record<string, Record<string, number>>> };
    expect(calls.byFunction.api?.scheduler?.CreateSchedule).toBe(2);
    for (const { id } of listed) expect((await h.api('DELETE', `/v1/recurring-notifications/${id}`, { token })).status).toBe(200);
  });
});
