/**
 * The webhook channel over a real HTTP sender and a receiver this test runs: what it posts (the
 * Standard Webhooks payload and headers, the same id on every attempt), and a 410 removing the URL
 * from the recipient only while it is still theirs (a directory that fails leaves the 410 its outcome).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpWebhookSender } from '../../../../shared/adapters/webhook-sender.ts';
import { webhookChannel } from '../../../../shared/delivery/channels/webhook.ts';
import type { DeliveryContent } from '../../../../shared/domain/delivery.ts';
import type { Recipient } from '../../../../shared/domain/recipient.ts';
import { newWebhookSecret } from '../../../../shared/domain/standard-webhooks.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { InMemoryRecipientStore } from '../../fakes/index.ts';
import { aRecipient, tenantId } from '../../fakes/fixtures.ts';
import { captureLogs } from '../../support/capture-logs.ts';

let server: Server;
let base: string;
const posts: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
/** Runs when a request arrives, before the answer: a test may change the directory meanwhile. */
let onRequest: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      posts.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      void onRequest().then(() => res.writeHead(req.url?.startsWith('/gone') ? 410 : 200).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const secret = newWebhookSecret(randomBytes);
const content: DeliveryContent = {
  id: 'ntf_1',
  title: 'Invoice 42',
  message: 'Ready',
  type: 'invoice',
  priority: 'normal',
  data: { amount: 42 },
  createdAt: '2030-01-01T11:00:00.000Z',
  scheduledAt: '2030-01-01T12:00:00.000Z',
};

async function deliver(recipients: InMemoryRecipientStore, recipient: Recipient, what: DeliveryContent = content): Promise<unknown> {
  const channel = webhookChannel(httpWebhookSender('any'), async () => [secret], recipients);
  const context = { tenantId, recipient, live: { unread: 0, unreadVersion: 0, connections: [] }, now: new Date() };
  const target = channel.target(context) as string;
  return channel.send(target, channel.render(what, {}), context).catch((error: unknown) => error);
}

/** `content` from a template whose webhook section rendered to `body`. */
function templated(body: string): DeliveryContent {
  return {
    ...content,
    template: { id: 'invoice', payload: { number: 42 } },
    rendered: { templateId: 'invoice', version: 1, locale: 'en', channels: { inbox: { title: 'Invoice 42', message: 'Ready' }, webhook: { body } }, failures: {} },
  };
}

describe('the webhook channel', () => {
  it('posts the notification signed with the tenant secret, under the same id on every attempt', async () => {
    // Prepare
    const recipients = new InMemoryRecipientStore();
    const bob = aRecipient({ webhookUrl: `${base}/bob` });
    await recipients.put(bob);

    // Act
    await deliver(recipients, bob);
    await deliver(recipients, bob);

    // Assess
    const [first, second] = posts.filter((p) => p.path === '/bob');
    const headers = (p: typeof first): Record<string, string> =>
      Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(p?.headers[h])]));
    expect(new Webhook(secret).verify(first?.body ?? '', headers(first))).toMatchObject({
      type: 'notification',
      data: { id: 'ntf_1', recipientId: 'bob', broadcastId: null, title: 'Invoice 42' },
    });
    expect(first?.headers['webhook-id']).toBe(second?.headers['webhook-id']);
    expect(first?.headers['content-type']).toBe('application/json');
  });

  it('removes a URL answered 410 from the recipient, and nothing else', async () => {
    // Prepare
    const recipients = new InMemoryRecipientStore();
    const url = `${base}/gone-carol`;
    const carol = aRecipient({ id: 'carol', webhookUrl: url, telegramChatId: '42' });
    await recipients.put(carol);

    // Act
    const error = await deliver(recipients, carol);

    // Assess
    expect(webhookChannel(httpWebhookSender('any'), async () => [], recipients).classify(error)).toEqual({ kind: 'gone' });
    const after = await recipients.get(tenantId, 'carol');
    expect(after?.webhookUrl).toBeUndefined();
    expect(after).toMatchObject({ email: 'bob@example.com', telegramChatId: '42' });
  });

  it('answers a 410 as gone when the directory fails to forget the URL, with a warning, not the directory\'s error', async () => {
    // Prepare
    const recipients = new InMemoryRecipientStore();
    const erin = aRecipient({ id: 'erin', webhookUrl: `${base}/gone-erin` });
    await recipients.put(erin);
    const failing = { get: recipients.get.bind(recipients), save: () => Promise.reject(new Error('ProvisionedThroughputExceededException')) };
    const channel = webhookChannel(httpWebhookSender('any'), async () => [secret], failing);
    const context = { tenantId, recipient: erin, live: { unread: 0, unreadVersion: 0, connections: [] }, now: new Date() };

    // Act
    let error: unknown;
    const logs = await captureLogs(async () => {
      error = await channel.send(channel.target(context) as string, channel.render(content, {}), context).catch((thrown: unknown) => thrown);
    });
    logger.setLogLevel('INFO');

    // Assess
    expect(channel.classify(error)).toEqual({ kind: 'gone' });
    expect(logs).toContainEqual(expect.objectContaining({ level: 'WARN', message: 'Could not forget a webhook URL that is gone', recipientId: 'erin' }));
    expect((await recipients.get(tenantId, 'erin'))?.webhookUrl).toBe(`${base}/gone-erin`);
  });

  it('keeps a URL the recipient changed while the 410 was on its way', async () => {
    // Prepare
    const recipients = new InMemoryRecipientStore();
    const dave = aRecipient({ id: 'dave', webhookUrl: `${base}/gone-dave` });
    await recipients.put(dave);
    onRequest = async () => {
      const current = await recipients.get(tenantId, 'dave');
      if (current) await recipients.save({ ...current, webhookUrl: `${base}/dave-new` }, current);
    };

    // Act
    await deliver(recipients, dave);
    onRequest = async () => undefined;

    // Assess
    expect((await recipients.get(tenantId, 'dave'))?.webhookUrl).toBe(`${base}/dave-new`);
  });

  it('posts a template\'s webhook section as the body, signed, and refuses one that did not render to JSON', async () => {
    // Prepare
    const recipients = new InMemoryRecipientStore();
    const eve = aRecipient({ id: 'eve', webhookUrl: `${base}/eve` });
    await recipients.put(eve);
    const channel = webhookChannel(httpWebhookSender('any'), async () => [secret], recipients);

    // Act
    await deliver(recipients, eve, templated('{"invoice": 42}'));
    const notJson = (() => {
      try {
        channel.render(templated('invoice 42'), {});
        return undefined;
      } catch (error) {
        return error as Error;
      }
    })();

    // Assess
    const post = posts.filter((p) => p.path === '/eve').at(-1);
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(post?.headers[h])]));
    expect(new Webhook(secret).verify(post?.body ?? '', headers)).toEqual({ invoice: 42 });
    expect(notJson?.name).toBe('TemplateRenderError');
    expect(notJson?.message).toContain('did not render to JSON');
  });
});
