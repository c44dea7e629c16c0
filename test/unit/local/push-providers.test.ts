/**
 * The local push and SMS providers, through the clients Herald uses: SNS as @aws-sdk/client-sns
 * speaks it (its errors raised as the SDK's own exception classes, faults in SNS's shapes), the
 * Web Push service as `web-push` signs and encrypts, Secrets Manager for the VAPID seed.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CheckIfPhoneNumberIsOptedOutCommand,
  CreatePlatformEndpointCommand,
  EndpointDisabledException,
  InvalidParameterException,
  NotFoundException,
  PublishCommand,
  SetEndpointAttributesCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import * as ece from 'http_ece';
import webPush from 'web-push';
import { afterEach, describe, expect, it } from 'vitest';
import { AnsweredErrorsRetryStrategy } from '../../../shared/adapters/answered-errors-retry-strategy.ts';
import { vapidKeysFromSecret } from '../../../shared/adapters/vapid-keys.ts';
import { SnsDeviceEndpoints, SnsMobilePush, SnsSmsSender } from '../../../shared/adapters/sns-messaging.ts';
import { classifyProviderError } from '../../../shared/domain/delivery-errors.ts';
import { BudgetSecondPassedError } from '../../../shared/domain/rate-budget.ts';
import { smsChannel } from '../../../shared/delivery/channels/sms.ts';
import { isAllowedPushEndpoint, pushEndpointProblem, pushEndpointRules } from '../../../shared/domain/push-targets.ts';
import type { WebPushSubscription } from '../../../shared/domain/push-targets.ts';
import { LibraryWebPushSender } from '../../../shared/adapters/web-push-sender.ts';
import { faultResponse } from '../../../local/aws-call-hook.ts';
import type { CallHook } from '../../../local/aws-call-hook.ts';
import { Outbox } from '../../../local/outbox.ts';
import { startPushService } from '../../../local/push-service.ts';
import { startSecretsManagerEmulator } from '../../../local/secrets-manager-emulator.ts';
import { startSnsEmulator } from '../../../local/sns-emulator.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const app = 'arn:aws:sns:us-east-1:000000000000:app/GCM/tests';
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A local push service, stopped after the test. */
async function service(): Promise<{ outbox: Outbox; newEndpoint: () => string; url: string }> {
  const outbox = new Outbox();
  const push = await startPushService({ outbox, log: () => undefined });
  stops.push(() => push.stop());
  return { outbox, newEndpoint: () => push.newEndpoint(), url: push.url };
}

describe('the local SNS', () => {
  /** `retrying`: the faultable client retries as Herald's functions do (AnsweredErrorsRetryStrategy), without its waits. */
  async function sns(hook?: CallHook, options: { readonly retrying?: boolean } = {}): Promise<{ client: SNSClient; faultable?: SNSClient; outbox: Outbox; optOut: (p: string) => void }> {
    const outbox = new Outbox();
    const emulator = await startSnsEmulator({ region, accountId: '000000000000', platformApplications: [app], outbox, log: () => undefined, ...(hook ? { faultable: { hook } } : {}) });
    const client = new SNSClient({ region, credentials, endpoint: emulator.endpoint, maxAttempts: 1 });
    const retries = options.retrying ? { retryStrategy: new AnsweredErrorsRetryStrategy({ baseDelayMs: 1, random: () => 0 }) } : { maxAttempts: 1 };
    const faultable = emulator.faultableEndpoint ? new SNSClient({ region, credentials, endpoint: emulator.faultableEndpoint, ...retries }) : undefined;
    stops.push(async () => {
      client.destroy();
      faultable?.destroy();
      await emulator.stop();
    });
    return { client, ...(faultable ? { faultable } : {}), outbox, optOut: emulator.optOut };
  }

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('answers InvalidAction to the action %s, which every object inherits', async (action) => {
    // Prepare
    const outbox = new Outbox();
    const emulator = await startSnsEmulator({ region, accountId: '000000000000', platformApplications: [app], outbox, log: () => undefined });
    stops.push(() => emulator.stop());

    // Act
    const answer = await fetch(emulator.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `Action=${action}&Version=2010-03-31` });

    // Assess
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('<Code>InvalidAction</Code>');
  });

  it('makes one endpoint per token, publishes to it until it is disabled, then answers EndpointDisabled', async () => {
    const { client, outbox } = await sns();
    const first = await client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: app, Token: 'tok' }));
    const again = await client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: app, Token: 'tok' }));
    expect(again.EndpointArn).toBe(first.EndpointArn);
    expect(first.EndpointArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:endpoint\/GCM\/tests\/[0-9a-f-]{36}$/);
    const message = JSON.stringify({ default: 'hi', GCM: '{}' });
    const published = await client.send(new PublishCommand({ TargetArn: first.EndpointArn, MessageStructure: 'json', Message: message }));
    expect(outbox.list('push')).toMatchObject([{ provider: 'sns', to: first.EndpointArn, providerMessageId: published.MessageId, body: { default: 'hi' } }]);

    await expect(client.send(new PublishCommand({ TargetArn: first.EndpointArn, MessageStructure: 'json', Message: '{"GCM":"{}"}' }))).rejects.toBeInstanceOf(InvalidParameterException);
    await client.send(new SetEndpointAttributesCommand({ EndpointArn: first.EndpointArn, Attributes: { Enabled: 'false' } }));
    await expect(client.send(new PublishCommand({ TargetArn: first.EndpointArn, Message: 'x' }))).rejects.toBeInstanceOf(EndpointDisabledException);
    await expect(client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: `${app}x`, Token: 't' }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('refuses a token whose endpoint holds other user data, naming that endpoint, as SNS does; Herald reads it and takes the endpoint over', async () => {
    // Prepare: the phone's token registered for Alice
    const { client } = await sns();
    const mobile = new SnsDeviceEndpoints(() => client, () => ({ fcm: app }));
    const hers = await mobile.register('fcm', 'phone-1', 'alice');
    const created = await client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: app, Token: 'phone-1', CustomUserData: 'alice' }));
    expect(created.EndpointArn).toBe(hers.endpointArn);

    // Act: the same token for Bob, on the wire, then through Herald's adapter
    const refused: unknown = await client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: app, Token: 'phone-1', CustomUserData: 'bob' })).catch((e: unknown) => e);
    const found = await mobile.register('fcm', 'phone-1', 'bob');

    // Assess: SNS's words; the adapter answers the endpoint as it is (Alice's) until it is claimed
    expect(refused).toBeInstanceOf(InvalidParameterException);
    expect((refused as Error).message).toBe(`Invalid parameter: Token Reason: Endpoint ${hers.endpointArn} already exists with the same Token, but different attributes.`);
    expect(found).toEqual({ endpointArn: hers.endpointArn, enabled: true, token: 'phone-1', userData: 'alice' });
    await mobile.claim(found.endpointArn, 'phone-1', 'bob');
    expect(await mobile.register('fcm', 'phone-1', 'bob')).toEqual({ endpointArn: hers.endpointArn, enabled: true, token: 'phone-1', userData: 'bob' });
    await expect(mobile.register('fcm', 'phone-1', 'alice')).resolves.toMatchObject({ userData: 'bob' });
    await expect(mobile.read(hers.endpointArn)).resolves.toEqual({ endpointArn: hers.endpointArn, enabled: true, token: 'phone-1', userData: 'bob' });
    await mobile.unregister(hers.endpointArn);
    await expect(mobile.read(hers.endpointArn)).resolves.toBeUndefined();
  });

  it('answers a disabled endpoint as it is to the same token and data, and claiming it enables it with its new token', async () => {
    // Prepare
    const { client, outbox } = await sns();
    const mobile = new SnsDeviceEndpoints(() => client, () => ({ fcm: app }));
    const { endpointArn } = await mobile.register('fcm', 'old-token', 'carol');
    await client.send(new SetEndpointAttributesCommand({ EndpointArn: endpointArn, Attributes: { Enabled: 'false' } }));

    // Act
    const again = await mobile.register('fcm', 'old-token', 'carol');
    await mobile.claim(endpointArn, 'new-token', 'carol');

    // Assess
    expect(again).toEqual({ endpointArn, enabled: false, token: 'old-token', userData: 'carol' });
    expect(await mobile.register('fcm', 'new-token', 'carol')).toEqual({ endpointArn, enabled: true, token: 'new-token', userData: 'carol' });
    await new SnsMobilePush(() => client).publish(endpointArn, { title: 'Hi', body: 'there', data: {} });
    expect(outbox.list('push')).toHaveLength(1);
  });

  it('texts E.164 numbers of at most 1,600 bytes, and drops what goes to an opted-out number, as SNS does', async () => {
    const { client, outbox, optOut } = await sns();
    await client.send(new PublishCommand({ PhoneNumber: '+14155550100', Message: 'hello' }));
    await expect(client.send(new PublishCommand({ PhoneNumber: '4155550100', Message: 'hello' }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(client.send(new PublishCommand({ PhoneNumber: '+14155550100', Message: 'x'.repeat(1601) }))).rejects.toBeInstanceOf(InvalidParameterException);
    optOut('+14155550199');
    expect((await client.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: '+14155550199' }))).isOptedOut).toBe(true);
    expect((await client.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: '+14155550100' }))).isOptedOut).toBe(false);
    await client.send(new PublishCommand({ PhoneNumber: '+14155550199', Message: 'dropped' }));
    expect(outbox.list('sms').map((e) => [e.to, (e.body as { message: string }).message])).toEqual([['+14155550100', 'hello']]);
  });

  it.each([
    ['Cyrillic past 1,600 bytes', 'Напоминание', 'Ваш заказ готов. '.repeat(60)],
    ['an emoji where the cut falls', 't', `${'a'.repeat(1_396)}😀${'b'.repeat(100)}`],
    ['CJK past 1,600 bytes', '通知', '您的订单已准备好。'.repeat(100)],
  ])('texts what the SMS channel renders of %s: cut between characters, within 1,600 bytes', async (_case, title, message) => {
    // Prepare
    const { client, outbox } = await sns();
    const channel = smsChannel(new SnsSmsSender(() => client));
    const context = {
      tenantId: 'acme',
      recipient: { tenantId: 'acme', id: 'r', phone: '+14155550100', groups: [], createdAt: '', updatedAt: '' },
      live: { connections: [], unread: 0, unreadVersion: 0 },
      now: new Date(),
    };

    // Act
    const text = channel.render({ id: 'ntf_1', title, message, type: 'reminder', priority: 'normal', scheduledAt: '2030-01-01T00:00:00.000Z' } as Parameters<typeof channel.render>[0], {});
    await channel.send('+14155550100', text, context);

    // Assess
    const [sent] = outbox.list('sms').map((e) => (e.body as { message: string }).message);
    expect(sent).toBe(text);
    expect(Buffer.byteLength(sent ?? '')).toBeLessThanOrEqual(1_600);
    expect(sent?.endsWith('…')).toBe(true);
    expect(sent?.isWellFormed()).toBe(true);
    expect(`${title}\n${message}`.startsWith((sent ?? '').slice(0, -1))).toBe(true);
  });

  it('publishes mobile pushes of at most 4,096 bytes per platform: a larger one keeps its id and type, its body cut and flagged truncated', async () => {
    // Prepare
    const { client, outbox } = await sns();
    const mobile = new SnsMobilePush(() => client);
    const { endpointArn: endpoint } = await new SnsDeviceEndpoints(() => client, () => ({ fcm: app })).register('fcm', 'tok', 'bob');
    const small = { title: 'Hi', body: 'there', data: { notificationId: 'ntf_1', type: 'reminder', k: 'v' } };
    const large = { title: 'Big', body: `${'€'.repeat(10_000)}😀"\\`, data: { notificationId: 'ntf_2', type: 'reminder', k: 'x'.repeat(16_000) } };

    // Act
    await mobile.publish(endpoint, small);
    await mobile.publish(endpoint, large);

    // Assess: the small one whole; the large one within 4,096 bytes on each platform, as full as fits
    // The outbox lists the newest first.
    const [second, first] = outbox.list('push').map((e) => e.body as Record<string, string>);
    expect(JSON.parse(first?.GCM ?? '')).toEqual({ fcmV1Message: { message: { notification: { title: 'Hi', body: 'there' }, data: { notificationId: 'ntf_1', type: 'reminder', k: 'v' } } } });
    for (const platform of ['GCM', 'APNS'] as const) {
      const payload = second?.[platform] ?? '';
      expect(Buffer.byteLength(payload), platform).toBeLessThanOrEqual(4_096);
      expect(Buffer.byteLength(payload), platform).toBeGreaterThan(4_000);
      expect(payload.isWellFormed()).toBe(true);
    }
    expect(JSON.parse(second?.GCM ?? '').fcmV1Message.message.data).toEqual({ notificationId: 'ntf_2', type: 'reminder', truncated: 'true' });
    expect(JSON.parse(second?.APNS ?? '')).toMatchObject({ aps: { alert: { title: 'Big', body: expect.stringMatching(/^€+…$/) as string } }, data: { notificationId: 'ntf_2', truncated: 'true' } });
  });

  it('checks the send budget\'s second after the opt-out check, just before Publish: once it is over, nothing is texted', async () => {
    // Prepare: the SMS channel on the SNS sender; the reserved second ends while the opt-out check runs
    const { client, outbox } = await sns();
    const channel = smsChannel(new SnsSmsSender(() => client));
    const calls: string[] = [];
    let over = false;
    // The calls that went out: at the innermost step, past every check the sender adds.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName ?? '');
        const result = await next(args);
        over = true;
        return result;
      },
      { step: 'deserialize' },
    );
    const context = {
      tenantId: 'acme',
      recipient: { tenantId: 'acme', id: 'r', phone: '+14155550100', groups: [], createdAt: '', updatedAt: '' },
      live: { connections: [], unread: 0, unreadVersion: 0 },
      now: new Date(),
      checkBudgetSecond: () => {
        if (over) throw new BudgetSecondPassedError('sns-sms', Date.parse('2030-01-01T00:00:01Z'));
      },
    };

    // Act
    const error = await channel.send('+14155550100', 'hello', context).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(BudgetSecondPassedError);
    expect(calls).toEqual(['CheckIfPhoneNumberIsOptedOutCommand']);
    expect(outbox.list('sms')).toEqual([]);
  });

  it('checks the send budget\'s second before each attempt of Publish: one SNS throttled is not retried once the second is over', async () => {
    // Prepare: SNS throttles the first Publish; the second ends while that answer comes back
    let publishes = 0;
    const hook: CallHook = (service, call) => (call.operation === 'Publish' && ++publishes === 1 ? faultResponse(service, call.protocol, { statusCode: 400, code: 'Throttling' }) : undefined);
    const { faultable, outbox } = await sns(hook, { retrying: true });
    const sender = new SnsSmsSender(() => faultable as SNSClient);
    let checks = 0;
    const beforePublish = (): void => {
      checks++;
      if (publishes > 0) throw new BudgetSecondPassedError('sns-sms', Date.parse('2030-01-01T00:00:01Z'));
    };

    // Act
    const error = await sender.send('+14155550100', 'hello', { beforePublish }).catch((e: unknown) => e);
    const retried = await sender.send('+14155550100', 'hello again', { beforePublish: () => void checks++ });

    // Assess: held back after the throttle, nothing texted; a later send within its second goes
    expect(error).toBeInstanceOf(BudgetSecondPassedError);
    expect(publishes).toBe(2);
    expect(checks).toBe(3);
    expect(retried.messageId).toEqual(expect.any(String));
    expect(outbox.list('sms').map((m) => (m.body as { message: string }).message)).toEqual(['hello again']);
  });

  it('fails calls through its faultable endpoint in SNS wire shapes, raised as the SDK\'s own errors', async () => {
    const hook: CallHook = (service, call) => (call.operation === 'Publish' ? faultResponse(service, call.protocol, { statusCode: 429, code: 'Throttled' }) : undefined);
    const { faultable, outbox } = await sns(hook);
    const error = await faultable?.send(new PublishCommand({ PhoneNumber: '+14155550100', Message: 'x' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledException);
    expect((error as ThrottledException).$metadata.httpStatusCode).toBe(429);
    expect(outbox.list('sms')).toEqual([]);
  });
});

describe('the local Web Push service', () => {
  const keys = vapidKeysFromSecret('a-test-seed-of-more-than-thirty-two-characters');
  const subscriber = (endpoint: string): { ecdh: ReturnType<typeof createECDH>; auth: Buffer; subscription: { id: string; endpoint: string; keys: { p256dh: string; auth: string }; createdAt: string } } => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    return { ecdh, auth, subscription: { id: 'ps_x', endpoint, keys: { p256dh: ecdh.getPublicKey('base64url'), auth: auth.toString('base64url') }, createdAt: '' } };
  };

  it('takes a signed, encrypted push and keeps the ciphertext, which only the subscription decrypts', async () => {
    const { outbox, newEndpoint } = await service();
    const { ecdh, auth, subscription } = subscriber(newEndpoint());
    const sent = await new LibraryWebPushSender(async () => keys, () => 'mailto:ops@herald.test', () => true).send(subscription, '{"hello":"world"}', { urgency: 'normal' });
    const [entry] = outbox.list('push');
    expect(entry).toMatchObject({ provider: 'web-push', to: subscription.endpoint, body: { ttl: 86400, urgency: 'normal', vapid: { sub: 'mailto:ops@herald.test' } } });
    expect(sent.messageId).toContain('/m/');
    const ciphertext = Buffer.from((entry?.body as { ciphertext: string }).ciphertext, 'base64url');
    expect(ece.decrypt(ciphertext, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).toString()).toBe('{"hello":"world"}');
  });

  it('refuses a forged VAPID signature (401), a missing TTL (400), plain text (415), and an unsubscribed endpoint (410)', async () => {
    const { newEndpoint } = await service();
    const endpoint = newEndpoint();
    const other = vapidKeysFromSecret('another-seed-of-more-than-thirty-two-characters!');
    const { subscription } = subscriber(endpoint);
    // Signed with one key, claiming another.
    const forged = new LibraryWebPushSender(async () => ({ publicKey: keys.publicKey, privateKey: other.privateKey }), () => 'mailto:ops@herald.test', () => true);
    const refused = await forged.send(subscription, 'x', { urgency: 'normal' }).catch((e: unknown) => e);
    expect((refused as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(401);

    const unsigned = await fetch(endpoint, { method: 'POST', headers: { ttl: '60', 'content-encoding': 'aes128gcm' } });
    expect(unsigned.status).toBe(401);
    const { Authorization } = webPush.getVapidHeaders(new URL(endpoint).origin, 'mailto:ops@herald.test', keys.publicKey, keys.privateKey, 'aes128gcm');
    const noTtl = await fetch(endpoint, { method: 'POST', headers: { authorization: Authorization, 'content-encoding': 'aes128gcm' }, body: 'x' });
    expect(noTtl.status).toBe(400);
    const plain = await fetch(endpoint, { method: 'POST', headers: { authorization: Authorization, ttl: '60' }, body: 'hello' });
    expect(plain.status).toBe(415);
    expect(await plain.json()).toMatchObject({ code: 415, error: 'Unsupported Media Type' });

    await fetch(endpoint, { method: 'DELETE' });
    const gone = await new LibraryWebPushSender(async () => keys, () => 'mailto:ops@herald.test', () => true).send(subscription, 'x', { urgency: 'normal' }).catch((e: unknown) => e);
    expect((gone as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(410);
  });

  it("blames the stage's VAPID configuration, not the subscription, when its subject or key cannot sign, and the subscription when it cannot be encrypted for; nothing is sent either way", async () => {
    // Prepare
    const { outbox, newEndpoint } = await service();
    const { subscription } = subscriber(newEndpoint());
    const badSubject = new LibraryWebPushSender(async () => keys, () => 'ops@herald.test', () => true);
    const badKey = new LibraryWebPushSender(async () => ({ ...keys, privateKey: keys.privateKey.slice(1) }), () => 'mailto:ops@herald.test', () => true);
    const good = new LibraryWebPushSender(async () => keys, () => 'mailto:ops@herald.test', () => true);
    const unusable = { ...subscription, keys: { ...subscription.keys, p256dh: Buffer.alloc(33, 1).toString('base64url') } };

    // Act
    const errors = await Promise.all([
      badSubject.send(subscription, 'x', { urgency: 'normal' }).then(
        () => new Error('sent'),
        (e: unknown) => e as Error,
      ),
      badKey.send(subscription, 'x', { urgency: 'normal' }).then(
        () => new Error('sent'),
        (e: unknown) => e as Error,
      ),
      good.send(unusable, 'x', { urgency: 'normal' }).then(
        () => new Error('sent'),
        (e: unknown) => e as Error,
      ),
    ]);

    // Assess
    expect(errors.map((e) => [e.name, e.message])).toEqual([
      ['VapidConfiguration', "the stage's VAPID key or subject cannot sign a push: Vapid subject is not an https: or mailto: URL. ops@herald.test"],
      ['VapidConfiguration', "the stage's VAPID key or subject cannot sign a push: Vapid private key should be 32 bytes long when decoded."],
      ['InvalidSubscription', 'the subscription cannot be encrypted for: The subscription p256dh value should be 65 bytes long.'],
    ]);
    expect(errors.map((e) => classifyProviderError(e).kind)).toEqual(['permanent', 'permanent', 'permanent']);
    expect(outbox.list('push')).toEqual([]);
  });
});

describe('push endpoints Herald posts to', () => {
  it('are https on AWS: plain http, even to the Lambda runtime API on 127.0.0.1, is refused before anything is sent', async () => {
    // Prepare: a listener standing in for what must never be reached
    const { outbox, newEndpoint } = await service();
    const onAws = new LibraryWebPushSender(async () => vapidKeysFromSecret('x'.repeat(40)), () => 'mailto:ops@herald.test', () => false);
    const endpoint = newEndpoint();

    // Act
    const refused = await onAws.send({ id: 'ps_x', endpoint, keys: { p256dh: '', auth: '' }, createdAt: '' }, 'x', { urgency: 'normal' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toMatchObject({ name: 'InsecureEndpoint', $notSent: true, $metadata: { httpStatusCode: 400 } });
    expect(outbox.list('push')).toEqual([]);
    expect(isAllowedPushEndpoint('http://127.0.0.1:9001/2018-06-01/runtime/invocation/next', false)).toBe(false);
    expect(isAllowedPushEndpoint('http://127.0.0.1:4000/push/x', true)).toBe(true);
    expect(isAllowedPushEndpoint('http://push.example.com/x', true)).toBe(false);
    expect(isAllowedPushEndpoint('https://fcm.googleapis.com/fcm/send/x', false)).toBe(true);
  });
});

describe('push endpoints off the local stack: the webhooks\' SSRF guard', () => {
  const subscription = (endpoint: string): WebPushSubscription => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    return { id: 'ps_x', endpoint, keys: { p256dh: ecdh.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') }, createdAt: '' };
  };
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  /** A server on loopback recording each path it is asked for; `/moved` redirects to `/inside`. */
  async function listener(): Promise<{ port: number; hits: string[] }> {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '/');
      req.resume();
      if (req.url === '/moved') res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/inside` }).end();
      else res.writeHead(400).end('secret of the inside');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    servers.push(server);
    return { port: (server.address() as AddressInfo).port, hits };
  }

  it('refuses a literal private, loopback or link-local address when the subscription is registered', () => {
    for (const endpoint of ['https://10.0.0.1/push', 'https://169.254.169.254/latest/meta-data/', 'https://127.0.0.1:9001/x', 'https://[::1]/x', 'https://[::ffff:192.168.1.1]/x', 'https://100.64.0.1/x']) {
      expect(pushEndpointProblem(endpoint, false), endpoint).toBe(pushEndpointRules.address);
    }
    expect(pushEndpointProblem('https://fcm.googleapis.com/fcm/send/x', false)).toBeUndefined();
    expect(pushEndpointProblem('https://[2606:4700:4700::1111]/x', false)).toBeUndefined();
  });

  it('refuses, at the connect, a host name that resolves to loopback, and sends nothing', async () => {
    // Prepare: https to a name of this machine, as a stored subscription could hold
    const { port, hits } = await listener();
    const onAws = new LibraryWebPushSender(async () => vapidKeysFromSecret('x'.repeat(40)), () => 'mailto:ops@herald.test', () => false);

    // Act
    const refused = await onAws.send(subscription(`https://localhost:${port}/push`), 'x', { urgency: 'normal' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toMatchObject({ name: 'InsecureEndpoint', $notSent: true, $metadata: { httpStatusCode: 400 } });
    expect((refused as Error).message).toMatch(/resolves to (127\.0\.0\.1|::1)/);
    expect(classifyProviderError(refused).kind).toBe('permanent');
    expect(hits).toEqual([]);
  });

  it('never follows a redirect, so the answer of what it points at never reaches the user', async () => {
    // Prepare
    const { port, hits } = await listener();
    const sender = new LibraryWebPushSender(async () => vapidKeysFromSecret('x'.repeat(40)), () => 'mailto:ops@herald.test', () => true);

    // Act
    const refused = await sender.send(subscription(`http://127.0.0.1:${port}/moved`), 'x', { urgency: 'normal' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toMatchObject({ name: 'WebPushError', $metadata: { httpStatusCode: 302 } });
    expect((refused as Error).message).not.toContain('secret of the inside');
    expect(hits).toEqual(['/moved']);
  });
});

describe('a stored push endpoint with no host or with credentials', () => {
  it.each(['https:///x', 'https://user:secret@push.example.com/x'])('is refused before anything is sent (%s), not failed by the VAPID signer', async (endpoint) => {
    // Prepare: a subscription stored before the rule, with keys that would encrypt
    const sender = new LibraryWebPushSender(async () => vapidKeysFromSecret('x'.repeat(40)), () => 'mailto:ops@herald.test', () => false);
    const keys = { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') };

    // Act
    const refused = await sender.send({ id: 'ps_x', endpoint, keys, createdAt: '' }, 'x', { urgency: 'normal' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toMatchObject({ name: 'InsecureEndpoint', $notSent: true, $metadata: { httpStatusCode: 400 } });
    expect((refused as Error).message).not.toContain('secret');
    expect(isAllowedPushEndpoint(endpoint, false)).toBe(false);
  });
});

describe('a push service that does not answer', () => {
  it('is retried when the connection was never made, and never sent again after a timeout', async () => {
    // Prepare: a port nothing listens on (a service started, then stopped)
    const outbox = new Outbox();
    const stopped = await startPushService({ outbox, log: () => undefined });
    await stopped.stop();
    const closed = stopped.newEndpoint();
    const sender = new LibraryWebPushSender(async () => vapidKeysFromSecret('x'.repeat(40)), () => 'mailto:ops@herald.test', () => true);
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const keys = { p256dh: ecdh.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') };

    // Act
    const refused = await sender.send({ id: 'ps_x', endpoint: closed, keys, createdAt: '' }, 'x', { urgency: 'normal' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
    expect(classifyProviderError(refused)).toEqual({ kind: 'transient' });
    expect(classifyProviderError(Object.assign(new Error('late'), { name: 'PushTimeout' }))).toEqual({ kind: 'unknown' });
  });
});

describe('the VAPID seed', () => {
  it('derives one valid P-256 key pair per seed, served by the local Secrets Manager by name or ARN', async () => {
    const seed = 's'.repeat(64);
    const derived = vapidKeysFromSecret(seed);
    expect(vapidKeysFromSecret(seed)).toEqual(derived);
    expect(Buffer.from(derived.publicKey, 'base64url')).toHaveLength(65);
    expect(Buffer.from(derived.privateKey, 'base64url')).toHaveLength(32);
    expect(() => vapidKeysFromSecret('short')).toThrow('at least 32');

    const secrets = await startSecretsManagerEmulator({ region, accountId: '000000000000', secrets: { vapid: seed }, log: () => undefined });
    const client = new SecretsManagerClient({ region, credentials, endpoint: secrets.endpoint, maxAttempts: 1 });
    stops.push(async () => {
      client.destroy();
      await secrets.stop();
    });
    expect((await client.send(new GetSecretValueCommand({ SecretId: secrets.arnOf('vapid') }))).SecretString).toBe(seed);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'vapid' }))).SecretString).toBe(seed);
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'other' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
