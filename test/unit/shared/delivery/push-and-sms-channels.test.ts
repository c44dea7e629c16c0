/**
 * The push and SMS channels on their own: where they deliver, what they send, and what each
 * provider answer means (gone targets forgotten, opted-out numbers failed, throttling waited out).
 */
import { describe, expect, it } from 'vitest';
import { OptedOutError } from '../../../../shared/adapters/sns-messaging.ts';
import { maxWebPushPlaintextBytes, pushChannel, webPushPayload } from '../../../../shared/delivery/channels/push.ts';
import type { PushTargetCleaner, WebPushSender } from '../../../../shared/delivery/channels/push.ts';
import { smsChannel, smsText } from '../../../../shared/delivery/channels/sms.ts';
import { maxSmsLength } from '../../../../shared/templates/sms-segments.ts';
import type { RecipientContext } from '../../../../shared/delivery/channel.ts';
import type { DeliveryContent } from '../../../../shared/domain/delivery.ts';
import type { PushDevice, WebPushSubscription } from '../../../../shared/domain/push-targets.ts';
import type { MobilePush, SmsSender } from '../../../../shared/ports.ts';

const content: DeliveryContent = {
  id: 'ntf_1',
  title: 'Hello',
  message: 'World',
  type: 'test',
  priority: 'high',
  data: { orderId: 42 },
  createdAt: '2030-01-01T00:00:00.000Z',
  scheduledAt: null,
};
const subscription = (id: string): WebPushSubscription => ({ id, endpoint: `https://push.example/${id}`, keys: { p256dh: 'k', auth: 'a' }, createdAt: '2030-01-01T00:00:00.000Z' });
const device = (id: string): PushDevice => ({ id, platform: 'fcm', token: `t-${id}`, endpointArn: `arn:endpoint/${id}`, createdAt: '2030-01-01T00:00:00.000Z' });
const context = (live: Partial<RecipientContext['live']> = {}, recipient: Partial<RecipientContext['recipient']> = {}): RecipientContext => ({
  tenantId: 't',
  recipient: { tenantId: 't', id: 'u', groups: [], createdAt: '', updatedAt: '', ...recipient },
  live: { unread: 0, unreadVersion: 0, connections: [], ...live },
  now: new Date('2030-01-01T00:00:00Z'),
});
const answered = (status: number, name = 'WebPushError'): Error => Object.assign(new Error(`answered ${status}`), { name, $metadata: { httpStatusCode: status } });

class Providers {
  readonly webSent: string[] = [];
  readonly mobileSent: string[] = [];
  readonly unregistered: string[] = [];
  readonly forgotten: string[] = [];
  readonly webAnswers = new Map<string, Error>();
  readonly mobileAnswers = new Map<string, Error>();
  readonly web: WebPushSender = {
    send: async (s) => {
      const error = this.webAnswers.get(s.id);
      if (error) throw error;
      this.webSent.push(s.id);
      return { messageId: `loc-${s.id}` };
    },
  };
  readonly mobile: MobilePush = {
    unregister: async (arn) => void this.unregistered.push(arn),
    publish: async (arn) => {
      const error = this.mobileAnswers.get(arn);
      if (error) throw error;
      this.mobileSent.push(arn);
      return { messageId: `sns-${arn}` };
    },
  };
  readonly cleaner: PushTargetCleaner = {
    forget: async (_t, _u, gone) => void this.forgotten.push(...gone.subscriptionIds, ...gone.deviceIds),
  };
}

describe('the push channel', () => {
  it('skips a user without targets and targets their subscriptions and devices otherwise', () => {
    const channel = pushChannel(new Providers().web, new Providers().mobile, new Providers().cleaner);
    expect(channel.target(context())).toEqual({ skip: 'no push subscription or device' });
    expect(channel.target(context({ pushSubscriptions: [subscription('ps_a')], devices: [device('dv_b')] }))).toEqual({
      subscriptions: [subscription('ps_a')],
      devices: [device('dv_b')],
    });
  });

  it('sends to every target, and forgets (and unregisters) the ones their services call gone, sent all the same', async () => {
    // Prepare
    const p = new Providers();
    p.webAnswers.set('ps_gone', answered(410));
    p.mobileAnswers.set('arn:endpoint/dv_off', answered(400, 'EndpointDisabledException'));
    const channel = pushChannel(p.web, p.mobile, p.cleaner);
    const targets = { subscriptions: [subscription('ps_ok'), subscription('ps_gone')], devices: [device('dv_ok'), device('dv_off')] };

    // Act
    const receipt = await channel.send(targets, channel.render(content, {}), context());

    // Assess
    expect(p.webSent).toEqual(['ps_ok']);
    expect(p.mobileSent).toEqual(['arn:endpoint/dv_ok']);
    expect(p.forgotten.sort()).toEqual(['dv_off', 'ps_gone']);
    expect(p.unregistered).toEqual(['arn:endpoint/dv_off']);
    expect(receipt.detail).toBe('2 target(s), 2 gone and removed');
  });

  it('is gone when every target is, and throttled or failed by the first error when none took it', async () => {
    const p = new Providers();
    const channel = pushChannel(p.web, p.mobile, p.cleaner);
    const body = channel.render(content, {});
    p.webAnswers.set('ps_a', answered(404));
    const gone = await channel.send({ subscriptions: [subscription('ps_a')], devices: [] }, body, context()).catch((e: unknown) => e);
    expect(channel.classify(gone)).toEqual({ kind: 'gone' });

    p.webAnswers.set('ps_b', Object.assign(answered(429), { retryAfterMs: 7_000 }));
    const throttled = await channel.send({ subscriptions: [subscription('ps_b')], devices: [] }, body, context()).catch((e: unknown) => e);
    expect(channel.classify(throttled)).toEqual({ kind: 'throttled', retryAfterMs: 7_000 });

    p.webAnswers.set('ps_c', answered(413));
    const refused = await channel.send({ subscriptions: [subscription('ps_c')], devices: [] }, body, context()).catch((e: unknown) => e);
    expect(channel.classify(refused)).toEqual({ kind: 'permanent' });
    expect(p.forgotten).toEqual(['ps_a']);
  });

  it.each([
    ['answers first', 0, 50],
    ['answers last', 50, 0],
  ])('reports a target that may have the push, never to be sent again, whether the 503 beside it %s', async (_case, busyAfterMs, slowAfterMs) => {
    // Prepare: two browsers; one push service never answers (it may have taken the push), the other answers 503
    const delayed = (ms: number, error: Error) => new Promise<never>((_resolve, reject) => setTimeout(() => reject(error), ms));
    const web: WebPushSender = {
      send: (s) =>
        s.id === 'ps_slow'
          ? delayed(slowAfterMs, Object.assign(new Error('the push service did not answer within 10000 ms'), { name: 'TimeoutError' }))
          : delayed(busyAfterMs, answered(503)),
    };
    const p = new Providers();
    const channel = pushChannel(web, p.mobile, p.cleaner);

    // Act
    const error = await channel.send({ subscriptions: [subscription('ps_slow'), subscription('ps_busy')], devices: [] }, channel.render(content, {}), context()).catch((e: unknown) => e);

    // Assess: unknown is recorded unconfirmed; a transient verdict would push to ps_slow again
    expect(channel.classify(error)).toEqual({ kind: 'unknown' });
  });

  it('retries a push that a target refused for now and another for good', async () => {
    // Prepare
    const p = new Providers();
    p.webAnswers.set('ps_big', answered(413));
    p.webAnswers.set('ps_busy', answered(503));
    const channel = pushChannel(p.web, p.mobile, p.cleaner);

    // Act
    const error = await channel.send({ subscriptions: [subscription('ps_big'), subscription('ps_busy')], devices: [] }, channel.render(content, {}), context()).catch((e: unknown) => e);

    // Assess
    expect(channel.classify(error)).toEqual({ kind: 'transient' });
  });

  it('renders the WebSocket frame for browsers, FCM/APNs text for devices, and high urgency for high priorities', () => {
    const body = pushChannel(new Providers().web, new Providers().mobile, new Providers().cleaner).render(content, {});
    expect(JSON.parse(body.webPayload)).toEqual({
      type: 'notification',
      notification: { id: 'ntf_1', title: 'Hello', message: 'World', type: 'test', priority: 'high', data: { orderId: 42 }, scheduledAt: null },
    });
    expect(body.mobile).toEqual({ title: 'Hello', body: 'World', data: { notificationId: 'ntf_1', type: 'test', orderId: 42 } });
    expect(body.urgency).toBe('high');
  });

  it('keeps a Web Push payload within what a push service must take, dropping data and cutting the message', () => {
    const big = webPushPayload({ ...content, message: 'é'.repeat(10_000), data: { blob: 'x'.repeat(10_000) } });
    expect(Buffer.byteLength(big)).toBeLessThanOrEqual(maxWebPushPlaintextBytes);
    const parsed = JSON.parse(big) as { truncated: boolean; notification: { id: string; data: unknown; message: string } };
    expect(parsed).toMatchObject({ truncated: true, notification: { id: 'ntf_1', data: {} } });
    expect(parsed.notification.message.length).toBeGreaterThan(1000);
  });
});

describe('the SMS channel', () => {
  const sender = (answer?: Error): SmsSender & { sent: [string, string][] } => {
    const sent: [string, string][] = [];
    return {
      sent,
      send: async (phone, text) => {
        if (answer) throw answer;
        sent.push([phone, text]);
        return { messageId: 'm-1' };
      },
    };
  };

  it('sends to a verified number only', () => {
    const channel = smsChannel(sender());
    expect(channel.target(context())).toEqual({ skip: 'no phone number' });
    expect(channel.target(context({}, { phone: '+14155550100' }))).toBe('+14155550100');
    const pending = { sms: { address: '+14155550100', codeHash: 'h', sentAt: '', expiresAt: '', attemptsLeft: 5 } };
    expect(channel.target(context({}, { phone: '+14155550100', pendingVerifications: pending }))).toEqual({ skip: 'phone number not verified' });
  });

  it('sends title and message, answering the provider id, within the SMS length', async () => {
    const sms = sender();
    const receipt = await smsChannel(sms).send('+14155550100', smsText('Hi', 'there'), context());
    expect(sms.sent).toEqual([['+14155550100', 'Hi\nthere']]);
    expect(receipt).toEqual({ providerMessageId: 'm-1' });
    expect(smsText('t', 'x'.repeat(5_000))).toHaveLength(maxSmsLength);
  });

  it('fails an opted-out number at once, waits out throttling, retries a 5xx', () => {
    const channel = smsChannel(sender());
    expect(channel.classify(new OptedOutError('+14155550100'))).toEqual({ kind: 'permanent' });
    expect(channel.classify(answered(429, 'ThrottledException'))).toMatchObject({ kind: 'throttled' });
    expect(channel.classify(answered(400, 'InvalidParameterException'))).toEqual({ kind: 'permanent' });
    expect(channel.classify(answered(500, 'InternalErrorException'))).toEqual({ kind: 'transient' });
  });
});

describe('templated push and SMS', () => {
  const rendered: NonNullable<DeliveryContent['rendered']> = {
      templateId: 'order-shipped',
      version: 2,
      locale: 'fr',
      channels: {
        inbox: { title: 'Colis', message: 'En route' },
        push: { title: 'Votre colis', body: 'Il arrive demain', url: 'https://shop.example/o/42' },
        sms: { text: 'Colis en route, arrivée demain', encoding: 'UCS-2', segments: 1 },
      },
      failures: {},
  };
  const templated: DeliveryContent = { ...content, rendered };

  it("sends the template's push section (its url in the data) and its SMS text, rendered for the recipient", () => {
    const push = pushChannel(new Providers().web, new Providers().mobile, new Providers().cleaner).render(templated, {});
    expect(push.mobile).toEqual({ title: 'Votre colis', body: 'Il arrive demain', data: { notificationId: 'ntf_1', type: 'test', orderId: 42, url: 'https://shop.example/o/42' } });
    expect(JSON.parse(push.webPayload)).toMatchObject({ notification: { title: 'Votre colis', message: 'Il arrive demain', data: { url: 'https://shop.example/o/42' } } });
    expect(smsChannel({ send: async () => ({}) }).render(templated, {})).toBe('Colis en route, arrivée demain');
  });

  it('fails the channel whose section could not be rendered rather than send it empty', () => {
    const broken: DeliveryContent = { ...templated, rendered: { ...rendered, channels: { inbox: { title: 'Colis', message: 'En route' } }, failures: { sms: 'missing variable "eta"' } } };
    expect(() => smsChannel({ send: async () => ({}) }).render(broken, {})).toThrow('missing variable "eta"');
    // No push section: the content's own title and message.
    expect(pushChannel(new Providers().web, new Providers().mobile, new Providers().cleaner).render(broken, {}).mobile.title).toBe('Hello');
  });
});

