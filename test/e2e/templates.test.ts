/**
 * Templates end to end (issue 13): stored and versioned over the API, previewed, checked at create
 * time, and rendered at delivery in each recipient's locale, reaching the local SES as multipart
 * mail; a notification renders the version its caller pinned, or the latest when none was pinned.
 * A PUT retried with its `Idempotency-Key` makes no second version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broadcastViewSchema } from '../../shared/domain/response-schemas.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

interface StoredEmail {
  readonly subject: string;
  readonly destination: { readonly to: readonly string[] };
  readonly body: { readonly html?: string; readonly text?: string };
}

let h: Harness;
let admin: string;

const invoice = {
  description: 'An invoice is ready',
  defaultLocale: 'en',
  channels: {
    inbox: { title: 'Invoice {{ number }}', message: 'Your invoice {{ number }} is ready, {{ name }}.' },
    email: { subject: 'Invoice {{ number }}', html: '<p>Hello {{ name }}, your invoice <b>{{ number }}</b> is ready.</p>' },
    sms: { text: 'Invoice {{ number }} is ready' },
  },
  locales: {
    fr: {
      inbox: { title: 'Facture {{ number }}', message: 'Votre facture {{ number }} est prête, {{ name }}.' },
      email: { subject: 'Facture {{ number }}', html: '<p>Bonjour {{ name }}, votre facture <b>{{ number }}</b> est prête.</p>' },
    },
  },
};

async function sesEmails(): Promise<StoredEmail[]> {
  return ((await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: StoredEmail[] }).emails;
}

async function emailTo(address: string, subject: string): Promise<StoredEmail> {
  const emails = await eventually(sesEmails, (list) => list.some((e) => e.destination.to.includes(address) && e.subject === subject), 20_000);
  const email = emails.find((e) => e.destination.to.includes(address) && e.subject === subject);
  if (!email) throw new Error(`No e-mail "${subject}" to ${address}`);
  return email;
}

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token('ops', { role: 'admin' });
  for (const [id, body] of [
    ['amelie', { email: 'amelie@example.com', locale: 'fr-CA' }],
    ['kenji', { email: 'kenji@example.com', locale: 'ja' }],
    ['pat', { email: 'pat@example.com' }],
  ] as const) {
    expect((await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body })).status).toBe(201);
  }
  const put = await h.api('PUT', '/v1/templates/invoice', { token: admin, body: invoice });
  expect(put.status).toBe(201);
  expect(put.body).toMatchObject({ id: 'invoice', version: 1 });
});

afterAll(async () => {
  await h?.close();
});

describe('templates over the API', () => {
  it('previews every section without sending, naming what the payload lacks and counting SMS segments', async () => {
    // Act
    const preview = await h.api('POST', '/v1/templates/invoice/preview', { token: admin, body: { payload: { number: 7 }, recipientId: 'amelie' } });

    // Assess
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      templateId: 'invoice',
      version: 1,
      locale: 'fr',
      channels: { sms: { text: 'Invoice 7 is ready', encoding: 'GSM-7', segments: 1 } },
      missingVariables: ['name'],
    });
    expect((preview.body.failures as Record<string, string>).email).toMatch(/missing variable "name"/);
  });

  it('refuses a notification whose payload lacks a variable, naming it, and writes nothing', async () => {
    // Act
    const refused = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['pat'], template: { id: 'invoice', payload: { number: 1 } } } });
    const both = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['pat'], title: 't', message: 'm', template: { id: 'invoice', payload: {} } } });
    const unknown = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['pat'], template: { id: 'nope', payload: {} } } });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toContain('"name"');
    expect(both.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toContain('template nope does not exist');
    const listed = await h.api('GET', '/v1/notifications?recipientId=pat', { token: admin });
    expect(listed.body.items).toEqual([]);
  });

  it('refuses a template with a Liquid error, naming its field', async () => {
    // Act
    const refused = await h.api('PUT', '/v1/templates/broken', { token: admin, body: { channels: { inbox: { title: '{{ x | shout }}', message: 'm' } } } });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toContain('channels.inbox.title');
    expect((await h.api('GET', '/v1/templates/broken', { token: admin })).status).toBe(404);
  });

  it('makes one version for a PUT retried with its Idempotency-Key, and refuses the key with another body', async () => {
    // Prepare
    const put = async (body: unknown): ReturnType<Harness['apiWithHeaders']> =>
      h.apiWithHeaders('PUT', '/v1/templates/retried', { token: admin, body, headers: { 'idempotency-key': 'retried-v1' } });
    const retried = { channels: { inbox: { title: 'Receipt {{ number }}', message: 'Paid' } } };

    // Act
    const first = await put(retried);
    const repeat = await put(retried);
    const reused = await put({ channels: { inbox: { title: 'Receipt', message: 'Refunded' } } });

    // Assess
    expect([first.status, first.body.version]).toEqual([201, 1]);
    expect([repeat.status, repeat.headers['idempotent-replayed'], repeat.body]).toEqual([201, 'true', first.body]);
    expect([reused.status, reused.body.error?.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect((await h.api('GET', '/v1/templates/retried', { token: admin })).body).toMatchObject({ version: 1 });
    expect((await h.api('DELETE', '/v1/templates/retried', { token: admin })).status).toBe(200);
  });

  it('previews an inbox title longer than a notification\'s as a failure of that section', async () => {
    // Prepare
    const put = await h.api('PUT', '/v1/templates/wide', {
      token: admin,
      body: { channels: { inbox: { title: '{{ words }}{{ words }}', message: 'm' } } },
    });
    expect(put.status).toBe(201);

    // Act: 300 characters, each half well within a notification's title.
    const preview = await h.api('POST', '/v1/templates/wide/preview', { token: admin, body: { payload: { words: '€'.repeat(150) } } });

    // Assess
    expect(preview.status).toBe(200);
    expect(preview.body.channels).toEqual({});
    expect((preview.body.failures as Record<string, string>).inbox).toMatch(/title rendered to 300 characters, more than the 200/);
    expect((await h.api('DELETE', '/v1/templates/wide', { token: admin })).status).toBe(200);
  });
});

describe('a templated notification', () => {
  it('reaches the local SES as multipart mail in French for fr-CA and in the default for an unknown locale', async () => {
    // Act
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['amelie', 'kenji'], channels: ['inbox', 'email'], template: { id: 'invoice', payload: { number: 42, name: '<script>x</script>' } } },
    });

    // Assess
    expect(created.status).toBe(201);
    const french = await emailTo('amelie@example.com', 'Facture 42');
    expect(french.body.html).toBe('<p>Bonjour &lt;script&gt;x&lt;/script&gt;, votre facture <b>42</b> est prête.</p>');
    expect(french.body.text).toBe('Bonjour <script>x</script>, votre facture 42 est prête.');
    const fallback = await emailTo('kenji@example.com', 'Invoice 42');
    expect(fallback.body.html).toContain('Hello &lt;script&gt;');
    expect(fallback.body.text).toBe('Hello <script>x</script>, your invoice 42 is ready.');

    const [toAmelie, toKenji] = created.body.notificationIds as string[];
    const amelie = await eventually(() => h.api('GET', `/v1/notifications/${toAmelie}`, { token: admin }), (r) => r.body.status === 'sent');
    expect(amelie.body.deliveries).toMatchObject({ email: { status: 'sent', locale: 'fr' }, inbox: { status: 'sent', locale: 'fr' } });
    expect(amelie.body.template).toEqual({ id: 'invoice', payload: { number: 42, name: '<script>x</script>' } });
    const kenji = await eventually(() => h.api('GET', `/v1/notifications/${toKenji}`, { token: admin }), (r) => r.body.status === 'sent');
    expect(kenji.body.deliveries).toMatchObject({ email: { locale: 'en' } });

    const inbox = await h.api('GET', '/v1/me/inbox', { token: await h.token('amelie') });
    expect(inbox.body.items).toEqual([expect.objectContaining({ title: 'Facture 42', message: 'Votre facture 42 est prête, <script>x</script>.' })]);
  });

  it('renders the version its caller pinned, or the latest when none was pinned', async () => {
    // Prepare: both due shortly, made from version 1 of a template of their own.
    const first = { channels: { inbox: { title: 'Receipt', message: 'm' }, email: { subject: 'Receipt v1 {{ n }}', text: 'one' } } };
    expect((await h.api('PUT', '/v1/templates/receipt', { token: admin, body: first })).body).toMatchObject({ version: 1 });
    const scheduledAt = inMs(4_000);
    const pinned = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['pat'], channels: ['email'], scheduledAt, template: { id: 'receipt', version: 1, payload: { n: 'pinned' } } },
    });
    const latest = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['pat'], channels: ['email'], scheduledAt, template: { id: 'receipt', payload: { n: 'latest' } } },
    });
    expect([pinned.status, latest.status]).toEqual([201, 201]);

    // Act: the template changes before they are due.
    const second = { channels: { inbox: { title: 'Receipt', message: 'm' }, email: { subject: 'Receipt v2 {{ n }}', html: '<i>two</i>' } } };
    expect((await h.api('PUT', '/v1/templates/receipt', { token: admin, body: second })).body).toMatchObject({ version: 2 });

    // Assess
    expect((await emailTo('pat@example.com', 'Receipt v1 pinned')).body).toEqual({ text: 'one' });
    expect((await emailTo('pat@example.com', 'Receipt v2 latest')).body).toEqual({ html: '<i>two</i>', text: 'two' });
    const old = await h.api('GET', '/v1/templates/receipt/versions/1', { token: admin });
    expect(old.body).toMatchObject({ version: 1, channels: first.channels });
    const listed = await h.api('GET', '/v1/templates?limit=1', { token: admin });
    expect(listed.body.items).toEqual([expect.objectContaining({ id: 'invoice', latestVersion: 1 })]);
    const next = await h.api('GET', `/v1/templates?limit=1&cursor=${String(listed.body.nextCursor)}`, { token: admin });
    expect(next.body.items).toEqual([expect.objectContaining({ id: 'receipt', latestVersion: 2 })]);
  });

  it('fails its channels with the reason when its template was deleted, sending nothing empty', async () => {
    // Prepare
    expect((await h.api('PUT', '/v1/templates/gone', { token: admin, body: { channels: { inbox: { title: 'Gone', message: 'm' } } } })).status).toBe(201);
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['pat'], channels: ['inbox', 'email'], scheduledAt: inMs(3_000), template: { id: 'gone', payload: {} } },
    });
    const [id] = created.body.notificationIds as string[];

    // Act
    expect((await h.api('DELETE', '/v1/templates/gone', { token: admin })).status).toBe(200);

    // Assess
    const failed = await eventually(() => h.api('GET', `/v1/notifications/${id}`, { token: admin }), (r) => r.body.status === 'failed', 20_000);
    expect(failed.body.deliveries).toMatchObject({ inbox: { status: 'failed' }, email: { status: 'failed' } });
    expect(String(failed.body.lastError)).toContain('template gone no longer exists');
    expect((await h.api('GET', '/v1/templates/gone', { token: admin })).status).toBe(404);
  });

  it('fails as deleted when its template was deleted and another stored under the id; what is made after gets the new one', async () => {
    // Prepare
    const first = { channels: { inbox: { title: 'Old life', message: 'm' } } };
    expect((await h.api('PUT', '/v1/templates/reborn', { token: admin, body: first })).status).toBe(201);
    const before = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['pat'], channels: ['inbox'], scheduledAt: inMs(3_000), template: { id: 'reborn', payload: {} } },
    });
    const [beforeId] = before.body.notificationIds as string[];

    // Act
    expect((await h.api('DELETE', '/v1/templates/reborn', { token: admin })).status).toBe(200);
    const stored = await h.api('PUT', '/v1/templates/reborn', { token: admin, body: { channels: { inbox: { title: 'New life', message: 'n' } } } });
    const after = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['pat'], channels: ['inbox'], scheduledAt: inMs(3_000), template: { id: 'reborn', payload: {} } },
    });
    const [afterId] = after.body.notificationIds as string[];

    // Assess
    expect(stored.body).toMatchObject({ version: 2 });
    const failed = await eventually(() => h.api('GET', `/v1/notifications/${beforeId}`, { token: admin }), (r) => r.body.status === 'failed', 20_000);
    expect(String(failed.body.lastError)).toContain('template reborn no longer exists');
    expect(failed.body.deliveries).toEqual({ inbox: expect.not.objectContaining({ locale: expect.anything() }) });
    expect(failed.body.template).toEqual({ id: 'reborn', payload: {} });
    const sent = await eventually(() => h.api('GET', `/v1/notifications/${afterId}`, { token: admin }), (r) => r.body.status === 'sent', 20_000);
    expect(sent.body).toMatchObject({ title: 'New life', deliveries: { inbox: { status: 'sent', locale: 'default' } } });
  });
});

describe('a templated broadcast', () => {
  it("renders for each recipient in their own language at delivery", async () => {
    // Act
    const created = await h.api('POST', '/v1/broadcasts', {
      token: admin,
      body: { audience: { recipientIds: ['amelie', 'kenji'] }, channels: ['email'], template: { id: 'invoice', payload: { number: 9, name: 'all' } } },
    });
    const refused = await h.api('POST', '/v1/broadcasts', {
      token: admin,
      body: { audience: { recipientIds: ['amelie'] }, template: { id: 'invoice', payload: { number: 9 } } },
    });

    // Assess
    expect(created.status).toBe(201);
    const read = await h.api('GET', `/v1/broadcasts/${String(created.body.broadcastId)}`, { token: admin });
    expect(read.body.template).toEqual({ id: 'invoice', payload: { number: 9, name: 'all' } });
    expect(broadcastViewSchema.safeParse(read.body).success).toBe(true);
    expect((await emailTo('amelie@example.com', 'Facture 9')).body.text).toBe('Bonjour all, votre facture 9 est prête.');
    expect((await emailTo('kenji@example.com', 'Invoice 9')).body.text).toBe('Hello all, your invoice 9 is ready.');
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toContain('"name"');
  });
});
