/**
 * Issue 11, the push and SMS channels end to end on a local stack (and one notification on every
 * channel at once): Web Push straight to the
 * subscription's push service (decrypted here with the subscription's own keys), mobile push and
 * SMS through the local SNS, gone targets removed, opted-out numbers failed at once, broadcasts
 * delivered on both, and a phone number a user sets for themself confirmed by an SMS code.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ECDH } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListEndpointsByPlatformApplicationCommand, SetEndpointAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as ece from 'http_ece';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPlatformApplications } from '../../local/function-workers.ts';
import { LOCAL_REGION } from '../../local/stack.ts';
import type { OutboxEntry } from '../../local/outbox.ts';
import { Webhook } from 'standardwebhooks';
import { channels } from '../../shared/domain/notification.ts';
import { connectSocket, eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let admin: string;

/** The SMS budget of this stack's functions, sends a second (cdk.json's is 20). */
const smsPerSecond = 10;

beforeAll(async () => {
  h = await startHarness({ environment: { HERALD_RATE_SMS_PER_SECOND: String(smsPerSecond) } });
  admin = await h.token('ops', { role: 'admin' });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

/** A browser's subscription: a P-256 key pair and an auth secret of its own, on the local push service. */
function browserSubscription(): { ecdh: ECDH; auth: Buffer; json: { endpoint: string; keys: { p256dh: string; auth: string } } } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, json: { endpoint: h.stack.pushService.newEndpoint(), keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } } };
}

async function outbox(channel: 'push' | 'sms' | 'telegram'): Promise<OutboxEntry[]> {
  const response = await fetch(`${h.stack.httpUrl}/_local/outbox?channel=${channel}`);
  return ((await response.json()) as { entries: OutboxEntry[] }).entries;
}

async function notify(recipient: string, body: Record<string, unknown> = {}): Promise<string> {
  const created = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: [recipient], title: 'Hello', message: 'World', type: 'test', ...body } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return (created.body.notificationIds as string[])[0] as string;
}

async function finished(id: string, token = admin): Promise<{ status: string; deliveries: Record<string, { status: string; error?: string; detail?: string }>; attempts: number }> {
  const done = await eventually(
    () => h.api('GET', `/v1/notifications/${id}`, { token }),
    (r) => r.body.status === 'sent' || r.body.status === 'failed',
    30_000,
  );
  return done.body as never;
}

/** The users the browser subscriptions' owner records name (read straight from the inbox table), by subscription id. */
async function subscriptionOwners(): Promise<Map<string, string>> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: h.stack.endpoints.dynamodb, region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
  const owners = new Map<string, string>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: h.stack.tableNames.inbox, FilterExpression: 'begins_with(pk, :owner)', ExpressionAttributeValues: { ':owner': '#push-subscription#' }, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) owners.set(String(item.pk).slice('#push-subscription#'.length), String(item.ownerUserId));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  db.destroy();
  return owners;
}

/** Two registered users, `here` in the default tenant and `there` in another, with their tokens and that tenant's admin. */
async function usersOfTwoTenants(here: string, there: string): Promise<{ here: string; there: string; otherAdmin: string }> {
  await h.api('PUT', `/v1/recipients/${here}`, { token: admin, body: {} });
  const otherAdmin = await h.token('ops-other', { role: 'admin', tenant: 'tenant-other' });
  await h.api('PUT', `/v1/recipients/${there}`, { token: otherAdmin, body: {} });
  return { here: await h.token(here), there: await h.token(there, { tenant: 'tenant-other' }), otherAdmin };
}

describe('push and SMS', () => {
  it('delivers one notification on every channel, to each provider once; the web push body decrypts with the subscription keys and the webhook verifies with the tenant secret', async () => {
    // Prepare: a recipient with every address (a webhook receiver of this test's own), a browser
    // subscription, a device and an open WebSocket
    const posts: { headers: Record<string, string>; body: string }[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const header = (name: string): string => String(request.headers[name]);
        posts.push({ headers: { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') }, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
    const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alice`;
    const addresses = { phone: '+14155550100', email: 'alice@example.com', telegramChatId: '31337', webhookUrl };
    const put = await h.api('PUT', '/v1/recipients/alice', { token: admin, body: addresses });
    expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    const alice = await h.token('alice');
    const socket = await connectSocket(h.stack.wsUrl, alice);
    const key = await h.api('GET', '/v1/me/push/vapid-public-key', { token: alice });
    expect(Buffer.from(String(key.body.publicKey), 'base64url')).toHaveLength(65);
    const browser = browserSubscription();
    const subscribed = await h.api('POST', '/v1/me/push-subscriptions', { token: alice, body: browser.json });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(201);
    const device = await h.api('POST', '/v1/me/devices', { token: alice, body: { platform: 'fcm', token: 'fcm-token-alice' } });
    expect(device.status, JSON.stringify(device.body)).toBe(201);

    // Act: channels left to their defaults
    const id = await notify('alice', { data: { orderId: 42 } });
    const done = await finished(id);

    // Assess: every channel sent, each provider reached once
    expect(done.status).toBe('sent');
    expect(Object.fromEntries(Object.entries(done.deliveries).map(([channel, d]) => [channel, d.status]))).toEqual(Object.fromEntries(channels.map((channel) => [channel, 'sent'])));
    const frames = socket.frames.filter((f) => f.data.type === 'notification' && (f.data.notification as { id?: string }).id === id);
    await socket.close();
    await new Promise((closed) => receiver.close(closed));
    expect(frames).toHaveLength(1);
    expect((await h.api('GET', '/v1/me/inbox', { token: alice })).body.items).toEqual([expect.objectContaining({ id })]);
    const mails = ((await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { subject: string; destination: { to: string[] } }[] }).emails;
    expect(mails.filter((m) => m.destination.to.includes(addresses.email))).toHaveLength(1);
    expect((await outbox('telegram')).filter((e) => e.to === addresses.telegramChatId)).toHaveLength(1);
    expect(posts).toHaveLength(1);
    const secret = (await h.api('GET', '/v1/settings/webhook-secret', { token: admin })).body.secret as string;
    expect(new Webhook(secret).verify(posts[0]?.body ?? '', posts[0]?.headers ?? {})).toMatchObject({ type: 'notification', data: { id, recipientId: 'alice' } });
    const pushes = await outbox('push');
    const web = pushes.filter((e) => e.to === browser.json.endpoint);
    const mobile = pushes.filter((e) => e.provider === 'sns');
    expect(web).toHaveLength(1);
    expect(mobile).toHaveLength(1);
    const sms = (await outbox('sms')).filter((e) => e.to === '+14155550100');
    expect(sms).toHaveLength(1);
    expect((sms[0]?.body as { message: string }).message).toBe('Hello\nWorld');
    const ciphertext = Buffer.from((web[0]?.body as { ciphertext: string }).ciphertext, 'base64url');
    const plain = JSON.parse(ece.decrypt(ciphertext, { version: 'aes128gcm', privateKey: browser.ecdh, authSecret: browser.auth }).toString('utf8')) as {
      notification: { id: string; title: string; message: string; data: unknown };
    };
    expect(plain.notification).toMatchObject({ id, title: 'Hello', message: 'World', data: { orderId: 42 } });
    const fcm = JSON.parse((mobile[0]?.body as { GCM: string }).GCM) as { fcmV1Message: { message: { notification: unknown } } };
    expect(fcm.fcmV1Message.message.notification).toEqual({ title: 'Hello', body: 'World' });
  });

  it('removes a subscription its push service answers 410 for, and a device SNS reports disabled', async () => {
    // Prepare
    await h.api('PUT', '/v1/recipients/bruno', { token: admin, body: {} });
    const bruno = await h.token('bruno');
    const browser = browserSubscription();
    await h.api('POST', '/v1/me/push-subscriptions', { token: bruno, body: browser.json });
    expect([...(await subscriptionOwners()).values()]).toContain('bruno');
    const device = await h.api('POST', '/v1/me/devices', { token: bruno, body: { platform: 'apns', token: 'a'.repeat(64) } });
    expect(device.status).toBe(201);
    // The browser unsubscribes; FCM/APNs feedback disables the device's endpoint.
    await fetch(browser.json.endpoint, { method: 'DELETE' });
    const sns = new SNSClient({ endpoint: h.stack.endpoints.sns, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const listed = await h.api('GET', '/v1/me/devices', { token: bruno });
    expect(listed.body.items).toHaveLength(1);
    await disableEndpointOf(sns, 'a'.repeat(64));
    const before = (await outbox('push')).length;

    // Act
    const id = await notify('bruno', { channels: ['push'] });
    const done = await finished(id);

    // Assess: nothing reached either, both are gone from the record, never tried again
    expect(done.deliveries.push?.status).toBe('failed');
    expect(done.deliveries.push?.error).toContain('gone');
    expect((await outbox('push')).length).toBe(before);
    expect((await h.api('GET', '/v1/me/push-subscriptions', { token: bruno })).body.items).toEqual([]);
    expect([...(await subscriptionOwners()).values()]).not.toContain('bruno');
    expect((await h.api('GET', '/v1/me/devices', { token: bruno })).body.items).toEqual([]);
    const again = await finished(await notify('bruno', { channels: ['push'] }));
    expect(again.deliveries.push).toMatchObject({ status: 'skipped', detail: 'no push subscription or device' });
    sns.destroy();
  });

  it('moves a device to the user who signs in on it, in another tenant too: the first user\'s notifications stop reaching it', async () => {
    // Prepare: Dora's phone, then her sign-out and Emil's sign-in (another tenant) on the same phone
    const { here: dora, there: emil, otherAdmin } = await usersOfTwoTenants('dora', 'emil');
    const hers = await h.api('POST', '/v1/me/devices', { token: dora, body: { platform: 'fcm', token: 'fcm-token-shared-phone' } });
    expect(hers.status, JSON.stringify(hers.body)).toBe(201);

    // Act
    const his = await h.api('POST', '/v1/me/devices', { token: emil, body: { platform: 'fcm', token: 'fcm-token-shared-phone' } });

    // Assess: his alone; a push to Dora reaches no device, one to Emil reaches the phone
    expect(his.status, JSON.stringify(his.body)).toBe(201);
    expect(his.body.id).toBe(hers.body.id);
    expect((await h.api('GET', '/v1/me/devices', { token: dora })).body.items).toEqual([]);
    expect((await h.api('GET', '/v1/me/devices', { token: emil })).body.items).toMatchObject([{ token: 'fcm-token-shared-phone' }]);
    const before = (await outbox('push')).length;
    const toDora = await finished(await notify('dora', { channels: ['push'] }));
    expect(toDora.deliveries.push).toMatchObject({ status: 'skipped', detail: 'no push subscription or device' });
    const created = await h.api('POST', '/v1/notifications', { token: otherAdmin, body: { recipients: ['emil'], title: 'Yours', message: 'now', type: 'test', channels: ['push'] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const toEmil = await finished((created.body.notificationIds as string[])[0] ?? '', otherAdmin);
    expect(toEmil.status).toBe('sent');
    const after = await outbox('push');
    expect(after.slice(0, after.length - before).map((p) => JSON.parse((p.body as { GCM: string }).GCM).fcmV1Message.message.notification.title)).toEqual(['Yours']);
    expect((await h.api('DELETE', `/v1/me/devices/${String(hers.body.id)}`, { token: dora })).status).toBe(404);
  });

  it('leaves a token two users register at once on one record, never both: 201 for one, 409 or 201 for the other', async () => {
    // Prepare: Gus's phones; each is re-registered by him as Hana (another tenant) signs in on it
    const { here: gus, there: hana } = await usersOfTwoTenants('gus', 'hana');
    const phones = Array.from({ length: 8 }, (_, i) => `fcm-token-raced-${i}`);

    // Act: one phone at a time, both registrations at once (the limit of 10 drops none of them)
    const statuses: number[] = [];
    for (const phone of phones) {
      expect((await h.api('POST', '/v1/me/devices', { token: gus, body: { platform: 'fcm', token: phone } })).status).toBe(201);
      const answers = await Promise.all([gus, hana].map((who) => h.api('POST', '/v1/me/devices', { token: who, body: { platform: 'fcm', token: phone } })));
      statuses.push(...answers.map((a) => a.status));
    }

    // Assess: each phone on exactly one record, the one whose SNS endpoint names its user
    expect(statuses.every((s) => s === 201 || s === 409), JSON.stringify(statuses)).toBe(true);
    const tokensOf = async (who: string): Promise<string[]> => ((await h.api('GET', '/v1/me/devices', { token: who })).body.items as { token: string }[]).map((d) => d.token);
    const his = await tokensOf(gus);
    const hers = await tokensOf(hana);
    expect([...his, ...hers].sort()).toEqual([...phones].sort());
  });

  it("moves a browser subscription to the user who signs in on that browser, in another tenant too: the first user's notifications stop reaching it", async () => {
    // Prepare: Ida's browser, then her sign-out (no unsubscribe()) and Jon's sign-in on it (another tenant)
    const { here: ida, there: jon, otherAdmin } = await usersOfTwoTenants('ida', 'jon');
    const browser = browserSubscription();
    const hers = await h.api('POST', '/v1/me/push-subscriptions', { token: ida, body: browser.json });
    expect(hers.status, JSON.stringify(hers.body)).toBe(201);

    // Act
    const his = await h.api('POST', '/v1/me/push-subscriptions', { token: jon, body: browser.json });

    // Assess: his alone; a push to Ida reaches no browser, one to Jon reaches it
    expect(his.status, JSON.stringify(his.body)).toBe(201);
    expect(his.body.id).toBe(hers.body.id);
    expect((await h.api('GET', '/v1/me/push-subscriptions', { token: ida })).body.items).toEqual([]);
    expect((await subscriptionOwners()).get(String(hers.body.id))).toBe('jon');
    const before = (await outbox('push')).length;
    const toIda = await finished(await notify('ida', { channels: ['push'] }));
    expect(toIda.deliveries.push).toMatchObject({ status: 'skipped', detail: 'no push subscription or device' });
    const created = await h.api('POST', '/v1/notifications', { token: otherAdmin, body: { recipients: ['jon'], title: 'His', message: 'now', type: 'test', channels: ['push'] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await finished((created.body.notificationIds as string[])[0] ?? '', otherAdmin)).status).toBe('sent');
    const after = await outbox('push');
    expect(after.slice(0, after.length - before).map((p) => p.to)).toEqual([browser.json.endpoint]);
    expect((await h.api('DELETE', `/v1/me/push-subscriptions/${String(hers.body.id)}`, { token: ida })).status).toBe(404);
    expect((await subscriptionOwners()).get(String(hers.body.id))).toBe('jon');
  });

  it('leaves a browser two users register at once on one record, never both: 201 for one, 409 or 201 for the other', async () => {
    // Prepare: Kai's browsers; each is registered again by him as Lea (another tenant) signs in on it
    const { here: kai, there: lea } = await usersOfTwoTenants('kai', 'lea');
    const browsers = Array.from({ length: 8 }, () => browserSubscription().json);

    // Act: one browser at a time, both registrations at once (the limit of 10 drops none of them)
    const statuses: number[] = [];
    for (const browser of browsers) {
      expect((await h.api('POST', '/v1/me/push-subscriptions', { token: kai, body: browser })).status).toBe(201);
      const answers = await Promise.all([kai, lea].map((who) => h.api('POST', '/v1/me/push-subscriptions', { token: who, body: browser })));
      statuses.push(...answers.map((a) => a.status));
    }

    // Assess: each browser on exactly one record, the one its owner record names
    expect(statuses.every((s) => s === 201 || s === 409), JSON.stringify(statuses)).toBe(true);
    const held = async (who: string): Promise<{ id: string; endpoint: string }[]> => (await h.api('GET', '/v1/me/push-subscriptions', { token: who })).body.items as never;
    const his = await held(kai);
    const hers = await held(lea);
    expect([...his, ...hers].map((s) => s.endpoint).sort()).toEqual(browsers.map((b) => b.endpoint).sort());
    const owners = await subscriptionOwners();
    for (const s of his) expect(owners.get(s.id)).toBe('kai');
    for (const s of hers) expect(owners.get(s.id)).toBe('lea');
  });

  it("deletes an erased recipient's device endpoints from SNS, with the token and the ids they hold", async () => {
    // Prepare
    await h.api('PUT', '/v1/recipients/frida', { token: admin, body: {} });
    const frida = await h.token('frida');
    await h.api('POST', '/v1/me/devices', { token: frida, body: { platform: 'fcm', token: 'fcm-token-frida' } });
    await h.api('POST', '/v1/me/push-subscriptions', { token: frida, body: browserSubscription().json });
    expect([...(await subscriptionOwners()).values()]).toContain('frida');
    const sns = new SNSClient({ endpoint: h.stack.endpoints.sns, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const tokens = async (): Promise<(string | undefined)[]> =>
      ((await sns.send(new ListEndpointsByPlatformApplicationCommand({ PlatformApplicationArn: localPlatformApplications.fcm }))).Endpoints ?? []).map((e) => e.Attributes?.Token);
    expect(await tokens()).toContain('fcm-token-frida');

    // Act
    const erased = await h.api('DELETE', '/v1/recipients/frida', { token: admin });

    // Assess
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    expect(erased.body.removedPushTargets).toBe(2);
    expect(await tokens()).not.toContain('fcm-token-frida');
    expect([...(await subscriptionOwners()).values()]).not.toContain('frida');
    sns.destroy();
  });

  it('fails the SMS of an opted-out number at once, without retrying it', async () => {
    await h.api('PUT', '/v1/recipients/carla', { token: admin, body: { phone: '+14155550199' } });
    h.stack.sns.optOut('+14155550199');
    const done = await finished(await notify('carla', { channels: ['sms'] }));
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(1);
    expect(done.deliveries.sms?.status).toBe('failed');
    expect(done.deliveries.sms?.error).toContain('opted out');
    expect((await outbox('sms')).filter((e) => e.to === '+14155550199')).toEqual([]);
  });

  it('delivers broadcasts on push and SMS', async () => {
    await h.api('PUT', '/v1/recipients/dora', { token: admin, body: { phone: '+14155550123' } });
    const dora = await h.token('dora');
    const browser = browserSubscription();
    await h.api('POST', '/v1/me/push-subscriptions', { token: dora, body: browser.json });
    const created = await h.api('POST', '/v1/broadcasts', {
      token: admin,
      body: { audience: { recipientIds: ['dora'] }, title: 'All hands', message: 'Now', type: 'news', channels: ['push', 'sms'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await eventually(() => outbox('sms'), (entries) => entries.some((e) => e.to === '+14155550123'), 30_000);
    const web = await eventually(() => outbox('push'), (entries) => entries.some((e) => e.to === browser.json.endpoint), 30_000);
    const entry = web.find((e) => e.to === browser.json.endpoint);
    const plain = ece.decrypt(Buffer.from((entry?.body as { ciphertext: string }).ciphertext, 'base64url'), { version: 'aes128gcm', privateKey: browser.ecdh, authSecret: browser.auth });
    expect(JSON.parse(plain.toString('utf8'))).toMatchObject({ notification: { title: 'All hands', message: 'Now' } });
  });

  it('sends a phone number its owner set nothing but an SMS code until it is confirmed', async () => {
    await h.api('PUT', '/v1/recipients/emil', { token: admin, body: {} });
    const emil = await h.token('emil');
    const patched = await h.api('PATCH', '/v1/me', { token: emil, body: { phone: '+14155550142' } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.awaitingVerification).toEqual(['sms']);
    const codeSms = await eventually(() => outbox('sms'), (entries) => entries.some((e) => e.to === '+14155550142'));
    const code = /(\d{6})/.exec((codeSms.find((e) => e.to === '+14155550142')?.body as { message: string }).message)?.[1] ?? '';

    const skipped = await finished(await notify('emil', { channels: ['sms'] }));
    expect(skipped.deliveries.sms).toMatchObject({ status: 'skipped', detail: 'phone number not verified' });

    const verified = await h.api('POST', '/v1/me/verify', { token: emil, body: { channel: 'sms', code } });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    const sent = await finished(await notify('emil', { channels: ['sms'] }));
    expect(sent.deliveries.sms?.status).toBe('sent');
  });

  it('refuses a number that opted out with a 422 naming phone, keeping the number as it was', async () => {
    await h.api('PUT', '/v1/recipients/olga', { token: admin, body: { phone: '+14155550160' } });
    h.stack.sns.optOut('+14155550161');
    const olga = await h.token('olga');
    const refused = await h.api('PATCH', '/v1/me', { token: olga, body: { phone: '+14155550161', timezone: 'Asia/Tokyo' } });
    expect(refused.status, JSON.stringify(refused.body)).toBe(422);
    expect(refused.body.error?.details).toEqual([{ field: 'phone', message: 'has opted out of SMS from Herald: nothing can be texted to it; nothing was kept: check the number, then set it again' }]);
    const me = await h.api('GET', '/v1/me', { token: olga });
    expect(me.body).toMatchObject({ phone: '+14155550160', awaitingVerification: [] });
    expect(me.body.timezone ?? null).toBeNull();
    expect((await outbox('sms')).filter((e) => e.to === '+14155550161')).toEqual([]);
  });

  it('waits out SNS throttling and a push service 429 without spending attempts, then sends each once', async () => {
    // Prepare: the local SNS answers Publish `Throttled` (429) and the push service 429, in their own shapes
    await h.api('PUT', '/v1/recipients/gus', { token: admin, body: { phone: '+14155550177' } });
    const gus = await h.token('gus');
    const browser = browserSubscription();
    await h.api('POST', '/v1/me/push-subscriptions', { token: gus, body: browser.json });
    const set = await h.api('POST', '/_local/faults', {
      body: [
        { service: 'sns', operation: 'Publish', probability: 1, error: { statusCode: 429, code: 'Throttled' } },
        { service: 'push', operation: 'PushMessage', probability: 1, error: { statusCode: 429, code: 'TooManyRequests' } },
      ],
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);

    // Act
    const id = await notify('gus', { channels: ['sms', 'push'] });
    const waiting = await eventually(
      () => h.api('GET', `/v1/notifications/${id}`, { token: admin }),
      (r) => r.body.status === 'pending' && r.body.nextAttemptAt !== null && typeof r.body.lastError === 'string',
    );
    const injected = (await h.api('DELETE', '/_local/faults')).body.injected as Record<string, Record<string, number>>;
    const done = await finished(id);

    // Assess: throttled, never failed; each provider got it once; no attempt was spent on the throttling
    expect(waiting.body.lastError).toMatch(/Throttled|429/);
    expect(injected.sns?.Publish).toBeGreaterThan(0);
    expect(done).toMatchObject({ status: 'sent', attempts: 1, deliveries: { sms: { status: 'sent' }, push: { status: 'sent' } } });
    expect((await outbox('sms')).filter((e) => e.to === '+14155550177')).toHaveLength(1);
    expect((await outbox('push')).filter((e) => e.to === browser.json.endpoint)).toHaveLength(1);
    const endpoints = await h.api('GET', '/_local/endpoints');
    expect(endpoints.body.push).toBe(h.stack.pushService.url);
  });

  it('keeps SMS within its send budget: 60 texts at once, each once, never more than the budget in a second', async () => {
    // Prepare: 60 recipients with numbers
    const ids = Array.from({ length: 60 }, (_, i) => `texter-${i}`);
    const phoneOf = (i: number): string => `+1415556${String(i).padStart(4, '0')}`;
    const batch = await h.api('POST', '/v1/recipients/batch', { token: admin, body: { recipients: ids.map((id, i) => ({ id, phone: phoneOf(i) })) } });
    expect(batch.status, JSON.stringify(batch.body)).toBe(200);

    // Act
    const created = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ids, title: 'Rate', message: 'limited', channels: ['sms'] } });
    expect(created.status).toBe(201);
    const mine = (entries: OutboxEntry[]): OutboxEntry[] => entries.filter((e) => e.to.startsWith('+1415556'));
    const texts = mine(await eventually(() => outbox('sms'), (entries) => mine(entries).length >= ids.length, 60_000));

    // Assess: each number once; no second (the budget's slots are epoch seconds) over the budget, but
    // for a send reserved late in one second that reached SNS early in the next (10 %)
    expect(new Set(texts.map((e) => e.to)).size).toBe(ids.length);
    expect(texts).toHaveLength(ids.length);
    const perSecond = new Map<number, number>();
    for (const e of texts) perSecond.set(Math.floor(e.at / 1000), (perSecond.get(Math.floor(e.at / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(Math.ceil(smsPerSecond * 1.1));
    expect(perSecond.size).toBeGreaterThanOrEqual(ids.length / smsPerSecond);
  }, 90_000);

  it('refuses a phone number that is not E.164, and push targets that are not valid, naming the field', async () => {
    const put = await h.api('PUT', '/v1/recipients/fay', { token: admin, body: { phone: '415 555 0100' } });
    expect(put.status).toBe(400);
    expect(put.body.error?.details).toEqual([{ field: 'phone', message: expect.stringContaining('E.164') }]);
    await h.api('PUT', '/v1/recipients/fay', { token: admin, body: {} });
    const fay = await h.token('fay');
    const badKey = await h.api('POST', '/v1/me/push-subscriptions', { token: fay, body: { endpoint: 'https://push.example.com/x', keys: { p256dh: 'short', auth: 'x' } } });
    expect(badKey.status).toBe(400);
    expect((badKey.body.error?.details as { field: string }[]).map((d) => d.field).sort()).toEqual(['keys.auth', 'keys.p256dh']);
    const badPlatform = await h.api('POST', '/v1/me/devices', { token: fay, body: { platform: 'windows', token: 't' } });
    expect(badPlatform.status).toBe(400);
    expect(badPlatform.body.error?.details).toEqual([{ field: 'platform', message: 'must be fcm or apns' }]);
    expect((await h.api('GET', '/v1/me', { token: fay })).body.phone).toBeNull();
  });
});

/** Disables, as FCM/APNs feedback would, the SNS endpoint of the APNs `token`. */
async function disableEndpointOf(sns: SNSClient, token: string): Promise<void> {
  const { Endpoints } = await sns.send(new ListEndpointsByPlatformApplicationCommand({ PlatformApplicationArn: localPlatformApplications.apns }));
  const endpoint = Endpoints?.find((e) => e.Attributes?.Token === token);
  if (!endpoint?.EndpointArn) throw new Error(`No endpoint holds ${token}`);
  await sns.send(new SetEndpointAttributesCommand({ EndpointArn: endpoint.EndpointArn, Attributes: { Enabled: 'false' } }));
}
