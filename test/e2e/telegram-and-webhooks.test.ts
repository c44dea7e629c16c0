/**
 * The Telegram and webhook channels end to end on the local stack: Telegram through the local Bot
 * API (its outbox), webhooks sent for real to a receiver this test runs. One notification reaches
 * each provider once and the webhook verifies with the tenant's secret (the `standardwebhooks`
 * package, as a receiver would); a 410 removes the URL, a 403 fails at once, a 429 waits its
 * `retry_after`; preferences skip what they switch off; broadcasts deliver on both; a chat or URL a
 * user sets for themself gets nothing but a code until confirmed; a webhook slow to answer holds
 * back no other recipient of its request.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectSocket, eventually, startHarness } from './support/harness.ts';
import type { ApiResponse, Harness } from './support/harness.ts';

/** What the test's webhook receiver got. */
interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let h: Harness;
let admin: string;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** The status the receiver answers, by path; 200 otherwise. */
const answers = new Map<string, number>();
/** Paths whose answer waits for this promise. */
const held = new Map<string, Promise<void>>();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      void (held.get(path) ?? Promise.resolve()).then(() => res.writeHead(answers.get(path) ?? 200).end());
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  h = await startHarness({ environment: { HERALD_RETRY_BASE_SECONDS: '1', HERALD_RETRY_JITTER: '0' } });
  admin = await h.token('alice', { role: 'admin' });
});

afterAll(async () => {
  await h?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

beforeEach(async () => {
  await h.api('DELETE', '/_local/faults');
});

async function putRecipient(id: string, body: Record<string, unknown>): Promise<void> {
  const response = await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body });
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
}

async function notify(recipientId: string, body: Record<string, unknown> = {}): Promise<string> {
  const created = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: [recipientId], title: 'Invoice 42', message: 'Your invoice is ready.', ...body } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const [id] = created.body.notificationIds as string[];
  return id ?? '';
}

type Deliveries = Record<string, { status: string; detail?: string; error?: string }>;

async function settled(id: string): Promise<ApiResponse['body'] & { deliveries: Deliveries; status: string; attempts: number }> {
  const done = await eventually(
    () => h.api('GET', `/v1/notifications/${id}`, { token: admin }),
    (r) => r.body.status === 'sent' || r.body.status === 'failed',
    20_000,
  );
  return done.body as ApiResponse['body'] & { deliveries: Deliveries; status: string; attempts: number };
}

async function outbox(channel: 'telegram' | 'webhook'): Promise<{ to: string; at: number; body: Record<string, unknown>; providerMessageId?: string }[]> {
  const response = await h.api('GET', `/_local/outbox?channel=${channel}`);
  return response.body.entries as { to: string; at: number; body: Record<string, unknown>; providerMessageId?: string }[];
}

async function webhookSecret(): Promise<{ secret: string; previousSecret: string | null }> {
  const response = await h.api('GET', '/v1/settings/webhook-secret', { token: admin });
  expect(response.status).toBe(200);
  return response.body as unknown as { secret: string; previousSecret: string | null };
}

const headersOf = (r: Received): Record<string, string> => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

describe('a notification on telegram and webhook', () => {
  it('reaches the Bot API and the webhook once each, the webhook signed with the tenant secret', async () => {
    // Prepare
    await putRecipient('bob', { telegramChatId: '4242', webhookUrl: `${receiverUrl}/bob`, locale: 'en-gb' });

    // Act
    const id = await notify('bob');
    const done = await settled(id);

    // Assess
    expect(done.deliveries.telegram).toMatchObject({ status: 'sent' });
    expect(done.deliveries.webhook).toMatchObject({ status: 'sent' });
    const messages = (await outbox('telegram')).filter((e) => e.to === '4242');
    expect(messages).toHaveLength(1);
    expect(messages[0]?.body).toMatchObject({ text: 'Invoice 42\n\nYour invoice is ready.' });
    expect(done.deliveries.telegram?.detail).toContain(`id ${messages[0]?.providerMessageId}`);
    const posts = received.filter((r) => r.path === '/bob');
    expect(posts).toHaveLength(1);
    const post = posts[0] as Received;
    const verified = new Webhook((await webhookSecret()).secret).verify(post.body, headersOf(post)) as { type: string; data: Record<string, unknown> };
    expect(verified).toMatchObject({ type: 'notification', data: { id, title: 'Invoice 42', recipientId: 'bob' } });
    expect((await outbox('webhook')).filter((e) => e.to === `${receiverUrl}/bob`)).toHaveLength(1);
    expect((await h.api('GET', '/v1/recipients/bob', { token: admin })).body).toMatchObject({ locale: 'en-GB', telegramChatId: '4242' });
  });

  it('keeps in the outbox the webhook body as it was sent, a number beyond 2^53 included, so its signature verifies', async () => {
    // Prepare: `data` with an integer JSON.parse would round
    const big = '12345678901234567890';
    const rawBody = `{"recipients":["bob"],"title":"Big","message":"number","channels":["webhook"],"data":{"n":${big}}}`;

    // Act
    const created = await h.api('POST', '/v1/notifications', { token: admin, rawBody });
    const id = (created.body.notificationIds as string[])[0] ?? '';
    await settled(id);

    // Assess
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const post = received.filter((r) => r.path === '/bob' && r.body.includes(id));
    expect(post).toHaveLength(1);
    expect(post[0]?.body).toContain(`"n":${big}`);
    const entry = (await outbox('webhook')).find((e) => e.providerMessageId === post[0]?.headers['webhook-id']);
    const recorded = entry?.body as { rawBody: string; headers: Record<string, string> };
    expect(recorded.rawBody).toBe(post[0]?.body);
    expect(new Webhook((await webhookSecret()).secret).verify(recorded.rawBody, headersOf({ path: '/bob', body: recorded.rawBody, headers: recorded.headers }))).toMatchObject({ data: { id } });
  });

  it('signs with both the new and the old secret for a day after a rotation', async () => {
    // Prepare
    const before = await webhookSecret();
    const rotated = await h.api('POST', '/v1/settings/webhook-secret/rotate', { token: admin });
    const sender = await h.token('sam', { role: 'sender' });
    const refused = await h.api('POST', '/v1/settings/webhook-secret/rotate', { token: sender });

    // Act
    await settled(await notify('bob', { channels: ['webhook'] }));

    // Assess
    expect(refused.status).toBe(403);
    expect(rotated.body).toMatchObject({ previousSecret: before.secret });
    const post = received.filter((r) => r.path === '/bob').at(-1) as Received;
    expect(String(post.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [before.secret, rotated.body.secret as string]) expect(() => new Webhook(secret).verify(post.body, headersOf(post))).not.toThrow();
  });

  it('keeps the secret receivers check signing when it is rotated twice within the day', async () => {
    // Prepare: receivers check `original`; two rotations in a row (a double click)
    const original = (await webhookSecret()).secret;
    await h.api('POST', '/v1/settings/webhook-secret/rotate', { token: admin });
    const twice = await h.api('POST', '/v1/settings/webhook-secret/rotate', { token: admin });

    // Act
    await settled(await notify('bob', { channels: ['webhook'] }));

    // Assess: the original still verifies the next webhook, and the view lists it
    const post = received.filter((r) => r.path === '/bob').at(-1) as Received;
    expect(() => new Webhook(original).verify(post.body, headersOf(post))).not.toThrow();
    expect(twice.body.earlierSecrets).toContainEqual(expect.objectContaining({ secret: original }));
  });
});

describe('what the providers answer', () => {
  it('removes a webhook URL answered 410, and fails Telegram at once when the bot is blocked', async () => {
    // Prepare
    answers.set('/carol', 410);
    await putRecipient('carol', { telegramChatId: '5151', webhookUrl: `${receiverUrl}/carol` });
    await h.api('POST', '/_local/faults', {
      body: [{ service: 'telegram', operation: 'sendMessage', probability: 1, error: { statusCode: 403, code: 'Forbidden', message: 'Forbidden: bot was blocked by the user' } }],
    });

    // Act
    const done = await settled(await notify('carol'));

    // Assess: the inbox has it, so the notification is sent; each failed channel was tried once.
    expect(done.deliveries.inbox).toMatchObject({ status: 'sent' });
    expect(done.attempts).toBe(1);
    expect(done.deliveries.telegram).toMatchObject({ status: 'failed' });
    expect(done.deliveries.telegram?.error).toContain('bot was blocked by the user');
    expect(done.deliveries.webhook).toMatchObject({ status: 'failed' });
    expect(received.filter((r) => r.path === '/carol')).toHaveLength(1);
    expect((await h.api('GET', '/v1/recipients/carol', { token: admin })).body).toMatchObject({ webhookUrl: null, telegramChatId: '5151' });
  });

  it("follows a group its admin upgraded to a supergroup: sent there, and the recipient's telegramChatId follows", async () => {
    // Prepare
    await putRecipient('kim', { telegramChatId: '-9090' });
    const supergroup = h.stack.telegram.migrateChat('-9090');

    // Act
    const first = await settled(await notify('kim', { channels: ['telegram'] }));
    const second = await settled(await notify('kim', { channels: ['telegram'] }));

    // Assess
    expect(first.deliveries.telegram).toMatchObject({ status: 'sent' });
    expect(first.deliveries.telegram?.detail).toContain(`the group became supergroup ${supergroup}, sent there; the recipient's telegramChatId follows it`);
    expect(second.deliveries.telegram?.detail ?? '').not.toContain('supergroup');
    expect((await h.api('GET', '/v1/recipients/kim', { token: admin })).body).toMatchObject({ telegramChatId: supergroup });
    expect((await outbox('telegram')).filter((e) => e.to === supergroup)).toHaveLength(2);
  });

  it("waits at least the retry_after of Telegram's 429 before sending again", async () => {
    // Prepare
    await putRecipient('dan', { telegramChatId: '6161' });
    const refusedAt: number[] = [];
    const decide = h.stack.faults.decide.bind(h.stack.faults);
    // Observes (does not change) the injector: when the 429 was answered.
    h.stack.faults.decide = (service, operation) => {
      const fault = decide(service, operation);
      if (fault && service === 'telegram') refusedAt.push(Date.now());
      return fault;
    };
    await h.api('POST', '/_local/faults', {
      body: [{ service: 'telegram', operation: 'sendMessage', probability: 1, error: { statusCode: 429, code: 'TooManyRequests', message: 'Too Many Requests: retry after 2', retryAfterSeconds: 2 } }],
    });

    // Act
    const id = await notify('dan', { channels: ['telegram'] });
    await eventually(async () => refusedAt.length, (n) => n > 0, 15_000);
    await h.api('DELETE', '/_local/faults');
    const done = await settled(id);
    h.stack.faults.decide = decide;

    // Assess
    expect(done.deliveries.telegram).toMatchObject({ status: 'sent' });
    const [sent] = (await outbox('telegram')).filter((e) => e.to === '6161');
    expect(refusedAt).toHaveLength(1);
    expect((sent?.at ?? 0) - (refusedAt[0] ?? 0)).toBeGreaterThanOrEqual(2_000);
  });
});

describe('preferences, broadcasts and self-set addresses', () => {
  it('skips what the type or the channel switches off, the type winning', async () => {
    // Prepare
    await putRecipient('erin', { telegramChatId: '7171', webhookUrl: `${receiverUrl}/erin` });
    const erin = await h.token('erin');
    const patched = await h.api('PATCH', '/v1/me', { token: erin, body: { channels: { webhook: false }, types: { marketing: { telegram: false }, alerts: { webhook: true } } } });
    const refused = await h.api('PATCH', '/v1/me', { token: erin, body: { types: { marketing: { inbox: false } } } });

    // Act
    const marketing = await settled(await notify('erin', { type: 'marketing' }));
    const alerts = await settled(await notify('erin', { type: 'alerts' }));

    // Assess
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ channels: { webhook: false, telegram: true }, types: { marketing: { telegram: false }, alerts: { webhook: true } } });
    expect(refused.status).toBe(400);
    expect(marketing.deliveries.telegram).toMatchObject({ status: 'skipped', detail: 'switched off for type marketing by preference' });
    expect(marketing.deliveries.webhook).toMatchObject({ status: 'skipped', detail: 'disabled by preference' });
    expect(alerts.deliveries.telegram).toMatchObject({ status: 'sent' });
    expect(alerts.deliveries.webhook).toMatchObject({ status: 'sent' });
    expect(received.filter((r) => r.path === '/erin')).toHaveLength(1);
  });

  it('delivers a broadcast on telegram and webhook to each recipient once', async () => {
    // Prepare
    await putRecipient('fay', { telegramChatId: '8181', webhookUrl: `${receiverUrl}/fay`, groups: ['night-shift'] });
    await putRecipient('gus', { telegramChatId: '9191', webhookUrl: `${receiverUrl}/gus`, groups: ['night-shift'] });

    // Act
    const created = await h.api('POST', '/v1/broadcasts', {
      token: admin,
      body: { audience: { groups: ['night-shift'] }, title: 'Maintenance', message: 'Down from 2 to 3 am.', channels: ['telegram', 'webhook'] },
    });
    const broadcastId = created.body.broadcastId as string;
    await eventually(() => h.api('GET', `/v1/broadcasts/${broadcastId}`, { token: admin }), (r) => r.body.status === 'completed', 20_000);

    // Assess
    const chats = (await outbox('telegram')).filter((e) => e.to === '8181' || e.to === '9191').map((e) => e.to);
    expect(chats.sort()).toEqual(['8181', '9191']);
    for (const path of ['/fay', '/gus']) {
      const posts = received.filter((r) => r.path === path);
      expect(posts).toHaveLength(1);
      expect(JSON.parse((posts[0] as Received).body)).toMatchObject({ type: 'notification', data: { broadcastId, title: 'Maintenance' } });
    }
  });

  it('sends a chat or URL a user set for themself nothing but a code until they confirm it', async () => {
    // Prepare
    await putRecipient('hal', {});
    const hal = await h.token('hal');

    // Act
    const patched = await h.api('PATCH', '/v1/me', { token: hal, body: { telegramChatId: '1212', webhookUrl: `${receiverUrl}/hal` } });
    const before = await settled(await notify('hal', { channels: ['telegram', 'webhook'] }));
    const telegramCode = /\b(\d{6})\b/.exec(String((await outbox('telegram')).find((e) => e.to === '1212')?.body.text))?.[1];
    const hook = received.find((r) => r.path === '/hal') as Received;
    const webhookCode = (JSON.parse(hook.body) as { data: { code: string } }).data.code;
    const confirmations = [
      await h.api('POST', '/v1/me/verify', { token: hal, body: { channel: 'telegram', code: telegramCode } }),
      await h.api('POST', '/v1/me/verify', { token: hal, body: { channel: 'webhook', code: webhookCode } }),
    ];
    const after = await settled(await notify('hal', { channels: ['telegram', 'webhook'] }));

    // Assess
    expect(patched.body).toMatchObject({ awaitingVerification: ['telegram', 'webhook'] });
    expect(new Webhook((await webhookSecret()).secret).verify(hook.body, headersOf(hook))).toMatchObject({ type: 'verification', data: { recipientId: 'hal' } });
    expect(before.deliveries.telegram).toMatchObject({ status: 'skipped', detail: 'chat not verified' });
    expect(before.deliveries.webhook).toMatchObject({ status: 'skipped', detail: 'webhook URL not verified' });
    expect(confirmations.map((c) => c.status)).toEqual([200, 200]);
    expect(confirmations[1]?.body).toMatchObject({ awaitingVerification: [] });
    expect(after.deliveries.telegram).toMatchObject({ status: 'sent' });
    expect(after.deliveries.webhook).toMatchObject({ status: 'sent' });
    expect((await outbox('telegram')).filter((e) => e.to === '1212')).toHaveLength(2);
  });
});

describe('a chat whose code Telegram refuses', () => {
  it("is a 422 naming telegramChatId with Telegram's words when the chat never started the bot, and nothing is kept", async () => {
    // Prepare
    await putRecipient('ivy', { telegramChatId: '2323' });
    const ivy = await h.token('ivy');
    await h.api('POST', '/_local/faults', {
      body: [{ service: 'telegram', operation: 'sendMessage', probability: 1, error: { statusCode: 403, code: 'Forbidden', message: "Forbidden: bot can't initiate conversation with a user" } }],
    });

    // Act
    const refused = await h.api('PATCH', '/v1/me', { token: ivy, body: { telegramChatId: '3434' } });
    const me = await h.api('GET', '/v1/me', { token: ivy });

    // Assess
    expect(refused.status, JSON.stringify(refused.body)).toBe(422);
    expect(refused.body.error?.details).toEqual([
      { field: 'telegramChatId', message: "was refused: Telegram answered 403: Forbidden: bot can't initiate conversation with a user; nothing was kept: check the chat id, and that the chat has started Herald's bot, then set it again" },
    ]);
    expect(me.body).toMatchObject({ telegramChatId: '2323', awaitingVerification: [] });
  });

  it("answers Telegram's 429 with a 503 and its retry_after as Retry-After, the confirmed chat kept", async () => {
    // Prepare
    await putRecipient('jay', { telegramChatId: '3535' });
    const jay = await h.token('jay');
    await h.api('POST', '/_local/faults', {
      body: [{ service: 'telegram', operation: 'sendMessage', probability: 1, error: { statusCode: 429, code: 'TooManyRequests', message: 'Too Many Requests: retry after 9', retryAfterSeconds: 9 } }],
    });

    // Act
    const later = await h.apiWithHeaders('PATCH', '/v1/me', { token: jay, body: { telegramChatId: '4545' } });
    const me = await h.api('GET', '/v1/me', { token: jay });

    // Assess
    expect(later.status, JSON.stringify(later.body)).toBe(503);
    expect(later.headers['retry-after']).toBe('9');
    expect(later.body.error?.message).toBe("Your telegramChatId's code could not be sent yet: the provider asked Herald to slow down; nothing was kept: repeat the request in 9 s for a new code");
    expect(me.body).toMatchObject({ telegramChatId: '3535', awaitingVerification: [] });
  });
});

describe('a webhook slow to answer', () => {
  it('holds back no other recipient of its request: their inbox item and sent status come while it is unanswered', async () => {
    // Prepare: wH's receiver answers only when the test lets it; Carol is connected
    await putRecipient('wh', { webhookUrl: `${receiverUrl}/wh-slow` });
    await putRecipient('carol', {});
    const carol = await h.token('carol');
    const socket = await connectSocket(h.stack.wsUrl, carol);
    let answerWh = (): void => undefined;
    held.set('/wh-slow', new Promise<void>((resolve) => (answerWh = resolve)));
    try {
      // Act: one request, so both units go in one batch
      const created = await h.api('POST', '/v1/notifications', {
        token: admin,
        body: { recipients: ['wh', 'carol'], title: 'Deploy', message: 'v2 is live', channels: ['webhook', 'inbox', 'websocket'] },
      });
      const ids = created.body.notificationIds as string[];
      const recipientOf = async (id: string): Promise<unknown> => (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body.recipientId;
      const toCarol = (await recipientOf(ids[0] ?? '')) === 'carol' ? ids[0] : ids[1];
      const toWh = ids.find((id) => id !== toCarol) ?? '';
      await eventually(async () => received.some((r) => r.path === '/wh-slow'), Boolean, 10_000);
      const webhookArrived = Date.now();
      // Usually well under a second (readyWaitMs and a commit) after the webhook went out.
      const carolSent = await eventually(() => h.api('GET', `/v1/notifications/${toCarol}`, { token: admin }), (r) => r.body.status === 'sent', 5_000);
      const carolSentWithin = Date.now() - webhookArrived;
      const carolsInbox = await h.api('GET', '/v1/me/inbox', { token: carol });
      const carolsUnread = (await h.api('GET', '/v1/me/inbox/unread-count', { token: carol })).body.unread;
      const whMeanwhile = await h.api('GET', `/v1/notifications/${toWh}`, { token: admin });
      answerWh();
      const whDone = await settled(toWh);

      // Assess
      expect(created.status).toBe(201);
      expect(carolSent.body).toMatchObject({ deliveries: { inbox: { status: 'sent' }, websocket: { status: 'sent' } } });
      expect(carolSentWithin).toBeLessThan(5_000);
      expect((carolsInbox.body.items as { id: string }[]).map((item) => item.id)).toContain(toCarol);
      expect(whMeanwhile.body.status).toBe('sending');
      // Her frame announced the count her commit made.
      const frame = await socket.waitFor((d) => d.type === 'notification' && (d.notification as { id?: string }).id === toCarol);
      expect(frame.data.unread).toBe(carolsUnread);
      expect(whDone).toMatchObject({ status: 'sent', deliveries: { webhook: { status: 'sent' } } });
    } finally {
      answerWh();
      await socket.close();
    }
  });
});

describe('templates on Telegram and webhooks', () => {
  it('delivers each channel its own rendered section in the recipient\'s language, escaped for Telegram, as JSON for the webhook', async () => {
    // Prepare
    const template = {
      defaultLocale: 'en',
      channels: {
        inbox: { title: 'Invoice {{ number }}', message: 'Ready' },
        telegram: { text: '<b>Invoice</b> {{ number }} for {{ who }}' },
        webhook: { body: '{"invoice": {{ number | json }}, "who": {{ who | json }}}' },
      },
      locales: { fr: { telegram: { text: '<b>Facture</b> {{ number }} pour {{ who }}' } } },
    };
    expect((await h.api('PUT', '/v1/templates/tg-invoice', { token: admin, body: template })).status).toBe(201);
    await putRecipient('tpl-fr', { telegramChatId: '5151', webhookUrl: `${receiverUrl}/tpl-fr`, locale: 'fr-CA' });

    // Act
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['tpl-fr'], channels: ['inbox', 'telegram', 'webhook'], template: { id: 'tg-invoice', payload: { number: 42, who: 'Zoë <& Co>' } } },
    });
    const [id] = created.body.notificationIds as string[];
    const done = await settled(id ?? '');

    // Assess
    expect(done.status).toBe('sent');
    expect(done.deliveries).toMatchObject({ telegram: { status: 'sent', locale: 'fr' }, webhook: { status: 'sent', locale: 'fr' } });
    const telegram = (await outbox('telegram')).find((entry) => entry.to === '5151');
    expect(telegram?.body).toMatchObject({ parse_mode: 'HTML', text: '<b>Facture</b> 42 pour Zoë &lt;&amp; Co&gt;', shown: 'Facture 42 pour Zoë <& Co>' });
    const post = received.filter((r) => r.path === '/tpl-fr').at(-1);
    expect(JSON.parse(post?.body ?? '{}')).toEqual({ invoice: 42, who: 'Zoë <& Co>' });
  });
});
