/**
 * The sweeps end to end, on the local stack: a notification whose schedule never fires is
 * delivered by the stuck-retry sweep (invoked as EventBridge would), the sweep is safe to run
 * twice, and the cleanup sweep deletes old cancelled notifications. Stuck after 1 second and a
 * retention of 0 days keep the test in seconds.
 */
import { DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleGroupName } from '../../lib/app-description.ts';
import { LOCAL_REGION } from '../../local/stack.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let admin: string;
let scheduler: SchedulerClient;

beforeAll(async () => {
  h = await startHarness({
    environment: { HERALD_STUCK_AFTER_SECONDS: '1', HERALD_CANCELLED_RETENTION_DAYS: '0' },
  });
  admin = await h.token('ops', { role: 'admin' });
  const put = await h.api('PUT', '/v1/recipients/carol', { token: admin, body: { email: 'carol@example.com' } });
  expect(put.status).toBe(201);
  scheduler = new SchedulerClient({
    endpoint: h.stack.endpoints.scheduler,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  scheduler?.destroy();
  await h?.close();
});

function aScheduledEvent(rule: string): ScheduledEvent<Record<string, never>> {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [`arn:aws:events:${LOCAL_REGION}:000000000000:rule/${rule}`],
    detail: {},
  };
}

/**
 * Schedules one notification for carol 8 s ahead and deletes its schedule behind Herald's back.
 * 8 s: the schedule fires its lead time (2 s locally) early, rounded down to the second, and is only
 * made when that is at least 1 s after the request; a loaded machine taking seconds to answer the
 * POST must still get one. Resolves when the notification is stuck: 1.5 s past its due time.
 */
async function aStuckNotification(title: string): Promise<string> {
  const scheduledAt = inMs(8_000);
  const created = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: ['carol'], title, message: 'The sweep brings this one', scheduledAt, channels: ['inbox', 'email'] },
  });
  expect(created.status).toBe(201);
  const id = (created.body.notificationIds as string[])[0] ?? '';
  await scheduler.send(new DeleteScheduleCommand({ Name: id, GroupName: scheduleGroupName }));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(scheduledAt) + 1_500 - Date.now())));
  return id;
}

async function statusOf(id: string): Promise<Record<string, unknown>> {
  return (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body;
}

async function emailsTitled(subject: string): Promise<number> {
  const store = (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { subject: string }[] };
  return store.emails.filter((e) => e.subject === subject).length;
}

/**
 * Each stuck-retry test takes about 10 s: its notification is made 8 s ahead (a schedule needs its
 * fire time 1 s after the request) and waited past. The bound is 6 times that.
 */
const stuckTestTimeoutMs = 60_000;

describe('the stuck-retry sweep', () => {
  it('delivers a notification whose schedule never fired', async () => {
    // Prepare: a notification whose schedule was deleted, now past its due time
    const id = await aStuckNotification('Lost schedule');
    const beforeSweep = await statusOf(id);

    // Act
    const result = await h.stack.functions['stuck-retry']?.invoke(aScheduledEvent('stuck-retry'));

    // Assess
    expect(beforeSweep.status).toBe('pending');
    expect(result).toEqual({ retried: expect.any(Number), broadcastStarts: expect.any(Number), timestamp: expect.any(String) });
    expect((result as { retried: number }).retried).toBeGreaterThanOrEqual(1);
    const delivered = await eventually(() => statusOf(id), (n) => n.status === 'sent');
    expect(delivered.deliveries).toMatchObject({ inbox: { status: 'sent' }, email: { status: 'sent' } });
    expect(await eventually(() => emailsTitled('Lost schedule'), (count) => count === 1)).toBe(1);
  }, stuckTestTimeoutMs);

  it('is safe to run twice in a row: the notification is delivered once', async () => {
    // Prepare
    const id = await aStuckNotification('Swept twice');

    // Act
    const [first, second] = await Promise.all([
      h.stack.functions['stuck-retry']?.invoke(aScheduledEvent('stuck-retry')),
      h.stack.functions['stuck-retry']?.invoke(aScheduledEvent('stuck-retry')),
    ]);

    // Assess
    expect((first as { retried: number }).retried).toBeGreaterThanOrEqual(1);
    expect((second as { retried: number }).retried).toBeGreaterThanOrEqual(1);
    await eventually(() => statusOf(id), (n) => n.status === 'sent');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await emailsTitled('Swept twice')).toBe(1);
    expect((await statusOf(id)).attempts).toBe(1);
  }, stuckTestTimeoutMs);

  it('does not deliver a cancelled notification whose schedule was lost', async () => {
    // Prepare
    const id = await aStuckNotification('Cancelled and lost');
    expect((await h.api('DELETE', `/v1/notifications/${id}`, { token: admin })).status).toBe(200);

    // Act
    await h.stack.functions['stuck-retry']?.invoke(aScheduledEvent('stuck-retry'));
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // Assess
    expect((await statusOf(id)).status).toBe('cancelled');
    expect(await emailsTitled('Cancelled and lost')).toBe(0);
  }, stuckTestTimeoutMs);
});

describe('the stuck-retry sweep, broadcasts', () => {
  it('starts a broadcast whose schedule was deleted, and carol gets it once', async () => {
    // Prepare: a broadcast 8 s ahead (as aStuckNotification, for the same reasons), its schedule
    // deleted behind Herald's back, waited until 1.5 s past its time (stuck after 1 s here)
    const scheduledAt = inMs(8_000);
    const created = await h.api('POST', '/v1/broadcasts', {
      token: admin,
      body: { audience: { recipientIds: ['carol'] }, title: 'Lost broadcast schedule', message: 'The sweep starts this one', type: 'system', scheduledAt, channels: ['inbox', 'email'] },
    });
    expect(created.status).toBe(201);
    const id = String(created.body.broadcastId);
    await scheduler.send(new DeleteScheduleCommand({ Name: id, GroupName: scheduleGroupName }));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(scheduledAt) + 1_500 - Date.now())));
    const beforeSweep = (await h.api('GET', `/v1/broadcasts/${id}`, { token: admin })).body;

    // Act: the rule, run as EventBridge would
    const swept = await h.api('POST', '/_local/rules/stuck-retry/run');
    const again = await h.api('POST', '/_local/rules/stuck-retry/run');

    // Assess
    expect(beforeSweep.status).toBe('scheduled');
    expect(swept.status).toBe(200);
    expect((swept.body as { broadcastStarts: number }).broadcastStarts).toBeGreaterThanOrEqual(1);
    expect(again.status).toBe(200);
    const done = await eventually(
      async () => (await h.api('GET', `/v1/broadcasts/${id}`, { token: admin })).body,
      (b) => b.status === 'completed',
    );
    expect(done).toMatchObject({ progress: { total: 1, sent: 1 } });
    expect(await eventually(() => emailsTitled('Lost broadcast schedule'), (count) => count === 1)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await emailsTitled('Lost broadcast schedule')).toBe(1);
  }, stuckTestTimeoutMs);
});

describe('the cleanup sweep', () => {
  it('deletes cancelled notifications past their retention and answers in the agreed keys', async () => {
    // Prepare: retention is 0 days here, so any cancelled notification is past it
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['carol'], title: 'Never mind', message: 'Cancelled at once', scheduledAt: inMs(60_000) },
    });
    const id = (created.body.notificationIds as string[])[0] ?? '';
    expect((await h.api('DELETE', `/v1/notifications/${id}`, { token: admin })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Act
    const result = (await h.stack.functions.cleanup?.invoke(aScheduledEvent('cleanup'))) as Record<string, unknown>;
    const again = (await h.stack.functions.cleanup?.invoke(aScheduledEvent('cleanup'))) as Record<string, unknown>;

    // Assess
    expect(Object.keys(result).sort()).toEqual(['before_cutoff', 'cutoff_date', 'deleted', 'timestamp']);
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect(result.before_cutoff).toBe(result.deleted);
    expect(again).toMatchObject({ deleted: 0, before_cutoff: 0 });
    expect((await h.api('GET', `/v1/notifications/${id}`, { token: admin })).status).toBe(404);
  });
});
