/**
 * Issue 10, end to end on a local stack: every input is refused with a 4xx naming the field, or
 * stored and delivered exactly as accepted. Each example of the issue is a test here.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let admin: string;

/** The user limits are small here, so that going past them takes few requests. */
const userPerHour = 5;

beforeAll(async () => {
  h = await startHarness({ environment: { HERALD_SELF_SEND_USER_PER_HOUR: String(userPerHour) } });
  admin = await h.token('ops', { role: 'admin' });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

/** A request whose answer is read as text, so that numbers are seen as they were written. */
async function raw(method: string, path: string, token: string, body?: string, type = 'application/json'): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${h.stack.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

async function register(id: string, email = `${id.replace(/[^a-z0-9]/gi, '')}@example.com`): Promise<void> {
  const put = await h.api('PUT', `/v1/recipients/${encodeURIComponent(id)}`, { token: admin, body: { email } });
  expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
}

async function apiWrites(): Promise<number> {
  const calls = (await (await fetch(`${h.stack.httpUrl}/_local/calls`)).json()) as { byFunction?: Record<string, Record<string, Record<string, number>>> };
  const api = calls.byFunction?.api ?? {};
  const writes = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];
  return writes.reduce((sum, name) => sum + (api.dynamodb?.[name] ?? 0), 0) + Object.values(api.sqs ?? {}).reduce((a, b) => a + b, 0) + Object.values(api.scheduler ?? {}).reduce((a, b) => a + b, 0);
}

async function sentMail(): Promise<{ subject: string; destination: { to: string[] }; body: { text?: string } }[]> {
  return ((await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { subject: string; destination: { to: string[] }; body: { text?: string } }[] }).emails;
}

describe('kind 1: data the store cannot hold, or holds differently', () => {
  it('keeps {"orderId": 12345678901234567890}, 1e400 and 1e-200 exactly, in GET, in the inbox and in the WebSocket frame', async () => {
    // Prepare: the example
    await register('dana');
    const dana = await h.token('dana');
    const frames: string[] = [];
    const socket = new WebSocket(`${h.stack.wsUrl}/?token=${encodeURIComponent(dana)}`);
    socket.on('message', (data: Buffer) => frames.push(data.toString('utf8')));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const data = '{"orderId":12345678901234567890,"big":1e400,"tiny":1e-200}';

    // Act
    const created = await raw('POST', '/v1/notifications', admin, `{"recipients":["dana"],"title":"Order","message":"Shipped","channels":["inbox","websocket"],"data":${data}}`);
    const id = (JSON.parse(created.text) as { notificationIds: string[] }).notificationIds[0] ?? '';
    const frame = await eventually(async () => frames.find((text) => text.includes(id)), (found) => found !== undefined);
    const read = await raw('GET', `/v1/notifications/${id}`, admin);
    const inbox = await raw('GET', '/v1/me/inbox', dana);
    socket.close();

    // Assess
    expect(created.status).toBe(201);
    expect(read.text).toContain(`"data":${data}`);
    expect(inbox.text).toContain(`"data":${data}`);
    expect(frame).toContain(`"data":${data}`);
  });
});

describe('kind 2: text that is not well-formed Unicode', () => {
  it('refuses a title with half an emoji, naming it and writing nothing, and the next e-mail to another recipient goes out', async () => {
    // Prepare: the example
    await register('erin', 'erin@example.com');
    await register('fred', 'fred@example.com');
    const writesBefore = await apiWrites();

    // Act
    const refused = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['erin'], title: 'Sale \ud83d ends', message: 'Today only', channels: ['email'] } });
    const writesAfter = await apiWrites();
    const next = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['fred'], title: 'Sale ends', message: 'Today only', channels: ['email'] } });
    const mail = await eventually(sentMail, (emails) => emails.some((e) => e.destination.to.includes('fred@example.com')));

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error?.details).toEqual([{ field: 'title', message: expect.stringContaining('well-formed Unicode') }]);
    expect(writesAfter).toBe(writesBefore);
    expect(next.status).toBe(201);
    expect(mail.find((e) => e.destination.to.includes('fred@example.com'))?.subject).toBe('Sale ends');
    expect(mail.some((e) => e.destination.to.includes('erin@example.com'))).toBe(false);
  });

  it('refuses a body sent as another media type than JSON with a 415 naming the header, and one naming a member twice with a 400, writing nothing', async () => {
    // Prepare: curl -d sends form encoding unless told otherwise; fetch sends a string as text/plain
    const body = '{"recipients":["erin"],"title":"Typed","message":"m","channels":["inbox"]}';
    const listed = async () => (await h.api('GET', '/v1/notifications?recipientId=erin&limit=100', { token: admin })).body.items as { title: string }[];

    // Act
    const form = await raw('POST', '/v1/notifications', admin, body, 'application/x-www-form-urlencoded');
    const text = await raw('POST', '/v1/notifications', admin, body, 'text/plain;charset=UTF-8');
    const twice = await raw('POST', '/v1/notifications', admin, '{"recipients":["erin"],"title":"Typed","message":"m","title":"Twice"}');

    // Assess
    expect([form.status, text.status, twice.status]).toEqual([415, 415, 400]);
    expect(JSON.parse(form.text)).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', details: [{ field: 'content-type', message: 'must be application/json, not application/x-www-form-urlencoded' }] } });
    expect(JSON.parse(twice.text)).toMatchObject({ error: { details: [{ field: 'title', message: expect.stringContaining('given twice') }] } });
    expect((await listed()).filter((n) => n.title === 'Typed' || n.title === 'Twice')).toEqual([]);
  });

  it('refuses a title with a line break, naming it', async () => {
    // Act
    const refused = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['erin'], title: 'Hi\r\nBcc: x@example.com', message: 'm' } });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error?.details).toEqual([{ field: 'title', message: expect.stringContaining('one line') }]);
  });
});

describe('kind 4: identities that real identity providers issue', () => {
  it('serves a token whose sub is auth0|64f1c2d3e4 on every route, and registers that id as a recipient', async () => {
    // Prepare: the example
    const sub = 'auth0|64f1c2d3e4';
    const token = await h.token(sub);

    // Act
    const registered = await h.api('PUT', `/v1/recipients/${encodeURIComponent(sub)}`, { token: admin, body: { timezone: 'Europe/Paris' } });
    const me = await h.api('GET', '/v1/me', { token });
    const own = await h.api('POST', '/v1/notifications', { token, body: { recipients: [sub], title: 'Note to self', message: 'Buy milk', channels: ['inbox'] } });
    const inbox = await eventually(() => h.api('GET', '/v1/me/inbox', { token }), (r) => (r.body.items as unknown[]).length === 1);

    // Assess
    expect(registered.status).toBe(201);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(sub);
    expect(own.status).toBe(201);
    expect((inbox.body.items as { title: string }[])[0]?.title).toBe('Note to self');
  });

  it('keeps apart two recipients whose ids differ only by what a key escapes', async () => {
    // Prepare
    await register('x#y', 'xy1@example.com');
    await register('x%23y', 'xy2@example.com');

    // Act
    const first = await h.api('GET', `/v1/recipients/${encodeURIComponent('x#y')}`, { token: admin });
    const second = await h.api('GET', `/v1/recipients/${encodeURIComponent('x%23y')}`, { token: admin });

    // Assess
    expect([first.body.id, first.body.email]).toEqual(['x#y', 'xy1@example.com']);
    expect([second.body.id, second.body.email]).toEqual(['x%23y', 'xy2@example.com']);
  });
});

describe('kind 5: one request must never take the service down, or reach a 500', () => {
  it.each([
    ['888 levels (a 1.8 KB body)', 888],
    ['20,000 levels', 20_000],
  ])('refuses data nested %s from a plain user with a 400 naming data, and keeps serving', async (_name, levels) => {
    // Prepare: the examples; the plain user is refused before any role check
    const user = await h.token('dana');
    const body = `{"recipients":["someone-else"],"title":"t","message":"m","data":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;

    // Act
    const answer = await h.api('POST', '/v1/notifications', { token: user, rawBody: body });
    const health = await h.api('GET', '/health');

    // Assess
    expect(answer.status).toBe(400);
    expect((answer.body.error?.details as { field: string }[])[0]?.field).toMatch(/^data\./);
    expect(health.status).toBe(200);
  });

  it('refuses data nested 33 levels, which DynamoDB would refuse, and takes 32', async () => {
    // Prepare
    const nested = (levels: number): string => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

    // Act
    const deep = await h.api('POST', '/v1/notifications', { token: admin, rawBody: `{"recipients":["dana"],"title":"t","message":"m","data":${nested(33)}}` });
    const fits = await raw('POST', '/v1/notifications', admin, `{"recipients":["dana"],"title":"t","message":"m","channels":["inbox"],"data":${nested(32)}}`);
    const id = (JSON.parse(fits.text) as { notificationIds: string[] }).notificationIds[0] ?? '';
    const read = await raw('GET', `/v1/notifications/${id}`, admin);

    // Assess
    expect(deep.status).toBe(400);
    expect(fits.status).toBe(201);
    expect(read.text).toContain(`"data":${nested(32)}`);
  });
});

describe('kind 6: Herald must not be an open relay', () => {
  it('sends an address a plain user set for themself nothing but the code until it is confirmed, and limits what they send', async () => {
    // Prepare: the example: a user points their address at a stranger, then notifies themself
    await register('mallory', 'mallory@example.com');
    const mallory = await h.token('mallory');
    const victim = 'victim@example.org';

    // Act
    const patched = await h.api('PATCH', '/v1/me', { token: mallory, body: { email: victim } });
    const answers = [];
    for (let i = 0; i < userPerHour; i++) {
      answers.push(await h.apiWithHeaders('POST', '/v1/notifications', { token: mallory, body: { recipients: ['mallory'], title: `Spam ${i}`, message: 'Click here', channels: ['email'] } }));
    }
    const ids = answers.filter((a) => a.status === 201).map((a) => (a.body.notificationIds as string[])[0] ?? '');
    const outcomes = await eventually(
      () => Promise.all(ids.map(async (id) => (await h.api('GET', `/v1/notifications/${id}`, { token: mallory })).body)),
      (all) => all.every((n) => n.status === 'sent' || n.status === 'failed'),
    );
    const toVictim = (await sentMail()).filter((e) => e.destination.to.includes(victim));

    // Assess: one code went out (it counts against the limit too), the rest was refused or skipped
    expect(patched.status).toBe(200);
    expect(patched.body.awaitingVerification).toEqual(['email']);
    expect(toVictim.map((e) => e.subject)).toEqual(['Your Herald verification code']);
    expect(ids).toHaveLength(userPerHour - 1);
    for (const n of outcomes) expect((n.deliveries as { email?: unknown }).email).toMatchObject({ status: 'skipped', detail: 'address not verified' });
    const over = answers[answers.length - 1];
    expect(over?.status).toBe(429);
    expect(Number(over?.headers['retry-after'])).toBeGreaterThan(0);
    expect(over?.body.error).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: [{ field: 'recipients', message: expect.any(String) }] });
  });

  it('delivers to the address once its owner confirms it with the code', async () => {
    // Prepare
    await register('nina', 'nina@example.com');
    const nina = await h.token('nina');
    await h.api('PATCH', '/v1/me', { token: nina, body: { email: 'nina.new@example.com' } });
    const code = await eventually(
      async () => /\b(\d{6})\b/.exec((await sentMail()).find((e) => e.destination.to.includes('nina.new@example.com'))?.body.text ?? '')?.[1],
      (found) => found !== undefined,
    );

    // Act
    const wrong = await h.api('POST', '/v1/me/verify', { token: nina, body: { channel: 'email', code: code === '000000' ? '000001' : '000000' } });
    const verified = await h.api('POST', '/v1/me/verify', { token: nina, body: { channel: 'email', code } });
    await h.api('POST', '/v1/notifications', { token: nina, body: { recipients: ['nina'], title: 'Welcome', message: 'Hello', channels: ['email'] } });
    const mail = await eventually(sentMail, (emails) => emails.some((e) => e.destination.to.includes('nina.new@example.com') && e.subject === 'Welcome'));

    // Assess
    expect(wrong.status).toBe(400);
    expect(wrong.body.error?.details).toEqual([{ field: 'code', message: 'is not the code that was sent (4 tries left)' }]);
    expect(verified.status).toBe(200);
    expect(verified.body.awaitingVerification).toEqual([]);
    expect(mail.filter((e) => e.destination.to.includes('nina.new@example.com')).map((e) => e.subject)).toEqual(['Your Herald verification code', 'Welcome']);
  });
});
