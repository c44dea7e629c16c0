/**
 * End to end, as a client would: a local stack on free ports, HTTP and WebSocket clients, and
 * the local SES store. Schedules notifications a few seconds ahead and watches them arrive.
 */
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleGroupName } from '../../lib/app-description.ts';
import { connectSocket, eventually, HandshakeRefusedError, inMs, startHarness } from './support/harness.ts';
import type { Harness, SocketClient } from './support/harness.ts';

let h: Harness;
let admin: string;
let alice: string;
let aliceSocket: SocketClient;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token('ops', { role: 'admin' });
  alice = await h.token('alice');
  for (const [id, body] of [
    ['alice', { email: 'alice@example.com', timezone: 'Europe/Paris' }],
    ['bob', {}],
  ] as const) {
    const put = await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body });
    expect(put.status).toBe(201);
  }
  aliceSocket = await connectSocket(h.stack.wsUrl, alice);
});

afterAll(async () => {
  await aliceSocket?.close();
  await h?.close();
});

async function notificationFrame(socket: SocketClient, id: string, timeoutMs?: number): Promise<{ at: number; data: Record<string, unknown> }> {
  return socket.waitFor((d) => d.type === 'notification' && (d.notification as { id?: string }).id === id, timeoutMs);
}

describe('the local stack', () => {
  it('answers the health check without a token', async () => {
    // Act
    const response = await h.api('GET', '/health');
    // Assess
    expect(response).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('reads back a registered recipient', async () => {
    // Act
    const response = await h.api('GET', '/v1/recipients/alice', { token: admin });
    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: 'alice', email: 'alice@example.com', timezone: 'Europe/Paris', groups: [] });
  });

  it('answers a ping over the WebSocket', async () => {
    // Act
    aliceSocket.send({ action: 'ping' });
    // Assess
    await expect(aliceSocket.waitFor((d) => d.type === 'pong')).resolves.toBeTruthy();
  });

  it('refuses a WebSocket connection without a valid token', async () => {
    // Act + Assess
    await expect(connectSocket(h.stack.wsUrl)).rejects.toBeInstanceOf(HandshakeRefusedError);
    await expect(connectSocket(h.stack.wsUrl, `${alice}x`)).rejects.toMatchObject({ status: 401 });
  });
});

describe('scheduling a notification', () => {
  it('delivers it over the WebSocket within 2 s of its time, then reads sent', async () => {
    // Prepare: one delivery first, so that the time measured is a started deliver function's, as
    // on a stage in use. The first invocation also starts the function (README: 0.2-0.4 s on an
    // idle machine; a fresh-clone CI run once measured 2.5 s of lateness on a loaded one).
    const warmUp = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['alice'], title: 'Warm-up', message: 'First delivery' } });
    await notificationFrame(aliceSocket, (warmUp.body.notificationIds as string[])[0] ?? '');
    const scheduledAt = inMs(4_000);
    // Act
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['alice'], title: 'Standup', message: 'In 4 seconds', scheduledAt, priority: 'high', data: { room: 'b' } },
    });
    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ count: 1, scheduledAt: new Date(scheduledAt).toISOString() });
    const [id] = created.body.notificationIds as string[];
    const pending = await h.api('GET', `/v1/notifications/${id}`, { token: admin });
    expect(pending.body).toMatchObject({ status: 'pending', attempts: 0, channels: ['inbox', 'websocket', 'email', 'push'] });

    const frame = await notificationFrame(aliceSocket, id as string);
    const lateness = frame.at - Date.parse(scheduledAt);
    expect(lateness).toBeGreaterThanOrEqual(-50);
    expect(lateness).toBeLessThan(2_000);
    expect(frame.data.notification).toEqual({
      id,
      title: 'Standup',
      message: 'In 4 seconds',
      type: 'system',
      priority: 'high',
      data: { room: 'b' },
      scheduledAt: new Date(scheduledAt).toISOString(),
    });
    const sent = await eventually(
      () => h.api('GET', `/v1/notifications/${id}`, { token: alice }),
      (r) => r.body.status === 'sent',
    );
    expect(sent.body).toMatchObject({ id, recipientId: 'alice', status: 'sent', attempts: 1 });
    expect(typeof sent.body.sentAt).toBe('string');
  });

  it('goes through a one-shot schedule when due beyond the lead time, and the schedule is gone after', async () => {
    // Prepare
    const scheduler = new SchedulerClient({ endpoint: h.stack.endpoints.scheduler, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const scheduledAt = inMs(5_000);
    // Act
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['alice'], title: 'Via scheduler', message: 'Scheduled', scheduledAt, channels: ['websocket'] },
    });
    const [id] = created.body.notificationIds as string[];
    const schedule = await scheduler.send(new GetScheduleCommand({ Name: id, GroupName: scheduleGroupName }));
    // Assess
    expect(schedule.ScheduleExpression).toMatch(/^at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\)$/);
    expect(schedule.ActionAfterCompletion).toBe('DELETE');
    const frame = await notificationFrame(aliceSocket, id as string);
    expect(frame.at - Date.parse(scheduledAt)).toBeLessThan(2_000);
    await expect(scheduler.send(new GetScheduleCommand({ Name: id, GroupName: scheduleGroupName }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    scheduler.destroy();
  });

  it('delivers at once when no time is given, to every open connection of the user', async () => {
    // Prepare
    const second = await connectSocket(h.stack.wsUrl, alice);
    // Act
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['alice'], title: 'Now', message: 'Right away' },
    });
    // Assess
    const [id] = created.body.notificationIds as string[];
    await notificationFrame(aliceSocket, id as string, 5_000);
    await notificationFrame(second, id as string, 5_000);
    await second.close();
  });

  it('emails a recipient with an address, into the local SES store', async () => {
    // Act
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['alice'], title: 'Invoice ready', message: 'Your invoice is ready.', channels: ['email'] },
    });
    // Assess
    expect(created.status).toBe(201);
    const store = await eventually(
      async () => (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { subject: string; destination: { to: string[] }; body: { text?: string } }[] },
      (s) => s.emails.some((e) => e.subject === 'Invoice ready'),
    );
    const email = store.emails.find((e) => e.subject === 'Invoice ready');
    expect(email?.destination.to).toEqual(['alice@example.com']);
    expect(email?.body.text).toContain('Your invoice is ready.');
  });

  it('never delivers a notification cancelled before its time', async () => {
    // Prepare
    const scheduledAt = inMs(3_000);
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['alice'], title: 'Cancelled', message: 'Never', scheduledAt },
    });
    const [id] = created.body.notificationIds as string[];
    // Act
    const cancelled = await h.api('DELETE', `/v1/notifications/${id}`, { token: admin });
    // Assess
    expect(cancelled).toEqual({ status: 200, body: { notificationId: id, status: 'cancelled' } });
    await new Promise((r) => setTimeout(r, Date.parse(scheduledAt) - Date.now() + 3_000));
    expect(aliceSocket.frames.some((f) => (f.data.notification as { id?: string } | undefined)?.id === id)).toBe(false);
    const after = await h.api('GET', `/v1/notifications/${id}`, { token: admin });
    expect(after.body).toMatchObject({ status: 'cancelled', sentAt: null, attempts: 0 });
    const again = await h.api('DELETE', `/v1/notifications/${id}`, { token: admin });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('CONFLICT');
  });

  it('lets a plain user notify themself', async () => {
    // Act
    const created = await h.api('POST', '/v1/notifications', {
      token: alice,
      body: { recipients: ['alice'], title: 'Note to self', message: 'Water the plants', channels: ['inbox'] },
    });
    // Assess
    expect(created.status).toBe(201);
    const [id] = created.body.notificationIds as string[];
    await eventually(
      () => h.api('GET', `/v1/notifications/${id}`, { token: alice }),
      (r) => r.body.status === 'sent',
    );
  });
});

describe('refusing bad requests', () => {
  const valid = { recipients: ['bob'], title: 'Hello', message: 'World' };

  it.each([
    ['a past scheduledAt', { ...valid, scheduledAt: '2020-01-01T00:00:00Z' }, 'scheduledAt'],
    ['empty recipients', { ...valid, recipients: [] }, 'recipients'],
    ['missing recipients', { title: 'Hello', message: 'World' }, 'recipients'],
    ['a title over 200 characters', { ...valid, title: 'x'.repeat(201) }, 'title'],
    ['an unknown field', { ...valid, colour: 'red' }, 'colour'],
    ['a scheduledAt without an offset', { ...valid, scheduledAt: '2030-01-01T00:00:00' }, 'scheduledAt'],
  ])('answers 400 for %s, naming the field', async (_case, body, field) => {
    // Act
    const response = await h.api('POST', '/v1/notifications', { token: admin, body });
    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error?.code).toBe('VALIDATION_ERROR');
    expect(response.body.error?.message).toContain(field);
  });

  it('accepts a title of exactly 200 characters', async () => {
    // Act
    const response = await h.api('POST', '/v1/notifications', { token: admin, body: { ...valid, title: 'x'.repeat(200), channels: ['inbox'] } });
    // Assess
    expect(response.status).toBe(201);
  });

  it('answers 400 for a body that is not JSON', async () => {
    // Act
    const response = await h.api('POST', '/v1/notifications', { token: admin, rawBody: '{"recipients": [' });
    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toMatch(/JSON/);
  });

  it('answers 404 naming the recipients that are not registered, and creates nothing', async () => {
    // Act
    const response = await h.api('POST', '/v1/notifications', { token: admin, body: { ...valid, recipients: ['bob', 'carol', 'dave'] } });
    // Assess
    expect(response.status).toBe(404);
    expect(response.body.error?.details).toEqual({ missing: ['carol', 'dave'] });
    expect(response.body.error?.message).toContain('carol');
  });

  it('answers 403 when a plain user targets someone else', async () => {
    // Act
    const response = await h.api('POST', '/v1/notifications', { token: alice, body: valid });
    // Assess
    expect(response.status).toBe(403);
    expect(response.body.error?.code).toBe('FORBIDDEN');
  });

  it('answers 403 when a plain user registers a recipient', async () => {
    // Act
    const response = await h.api('PUT', '/v1/recipients/mallory', { token: alice, body: {} });
    // Assess
    expect(response.status).toBe(403);
  });

  it('answers 400 for an unknown time zone on a recipient', async () => {
    // Act
    const response = await h.api('PUT', '/v1/recipients/erin', { token: admin, body: { timezone: 'Mars/Olympus' } });
    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toContain('timezone');
  });

  it.each([
    ['no token', async (): Promise<string | undefined> => undefined],
    ['an expired token', async (): Promise<string | undefined> => h.token('ops', { role: 'admin', expiresIn: -60 })],
    ['a tampered token', async (): Promise<string | undefined> => `${await h.token('ops', { role: 'admin' })}x`],
    ['a token of another issuer', async (): Promise<string | undefined> => h.token('ops', { role: 'admin', issuer: 'https://evil.example' })],
    ['a token for another audience', async (): Promise<string | undefined> => h.token('ops', { role: 'admin', audience: 'someone-else' })],
  ])('answers 401 for %s', async (_case, makeToken) => {
    // Prepare
    const token = await makeToken();
    // Act
    const response = await h.api('POST', '/v1/notifications', { ...(token ? { token } : {}), body: valid });
    // Assess
    expect(response.status).toBe(401);
  });

  it('hides a notification from users who are neither its recipient, its creator nor an admin', async () => {
    // Prepare
    const created = await h.api('POST', '/v1/notifications', { token: admin, body: { ...valid, channels: ['inbox'] } });
    const [id] = created.body.notificationIds as string[];
    const eve = await h.token('eve');
    const otherTenantAdmin = await h.token('ops', { role: 'admin', tenant: 'globex' });
    // Act + Assess
    for (const token of [alice, eve, otherTenantAdmin]) {
      expect((await h.api('GET', `/v1/notifications/${id}`, { token })).status).toBe(404);
      expect((await h.api('DELETE', `/v1/notifications/${id}`, { token })).status).toBe(404);
    }
    expect((await h.api('GET', `/v1/notifications/${id}`, { token: await h.token('bob') })).status).toBe(200);
  });

  it('answers 404 for an unknown notification id', async () => {
    // Act
    const response = await h.api('GET', '/v1/notifications/ntf_01JAAAAAAAAAAAAAAAAAAAAAAA', { token: admin });
    // Assess
    expect(response.status).toBe(404);
    expect(response.body.error?.code).toBe('NOT_FOUND');
  });

  it('answers 409 when cancelling a notification that was already sent', async () => {
    // Prepare
    const created = await h.api('POST', '/v1/notifications', { token: admin, body: { ...valid, channels: ['inbox'] } });
    const [id] = created.body.notificationIds as string[];
    await eventually(() => h.api('GET', `/v1/notifications/${id}`, { token: admin }), (r) => r.body.status === 'sent');
    // Act
    const response = await h.api('DELETE', `/v1/notifications/${id}`, { token: admin });
    // Assess
    expect(response.status).toBe(409);
  });
});
