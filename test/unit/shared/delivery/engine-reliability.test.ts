/**
 * The delivery engine under faults: the write that records a send failing, a worker dying
 * between its intent and the send, unanswered sends, retries held until due, and the backoff
 * schedule to the dead letter. In-memory fakes with the Dynamo adapter's conditions; the clock
 * and the sleeps are the test's. (Ported from the tests of the deleted deliverNotification.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { webhookChannel } from '../../../../shared/delivery/channels/webhook.ts';
import { deliverUnits } from '../../../../shared/delivery/engine.ts';
import { unitKey } from '../../../../shared/domain/delivery.ts';
import type { UnitOutcome, UnitRef } from '../../../../shared/domain/delivery.ts';
import { webhookMessageId } from '../../../../shared/domain/standard-webhooks.ts';
import type { ChannelDelivery, Notification } from '../../../../shared/domain/notification.ts';
import { defaultRetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import type { RetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import type { DeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, awsError, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';
const noonMs = Date.parse(noon);

interface World extends DeliveryWorld {
  n: Notification;
  deliverIt(): Promise<UnitOutcome | undefined>;
  current(): Promise<Notification>;
  notificationFrames(): unknown[];
}

/** Bob with an address (or none), one open socket, and a notification due at noon; the clock shows noon. */
async function setUp(overrides: Partial<Notification> = {}, retry: RetryPolicy = { ...defaultRetryPolicy, jitter: 0 }, email: string | null = 'bob@example.com'): Promise<World> {
  const world = aDeliveryWorld({ start: noon, retry });
  const { email: _default, ...bob } = aRecipient({ id: 'bob' });
  await world.recipients.put(email === null ? bob : { ...bob, email });
  await world.live.connect(tenantId, 'bob', { connectionId: 'conn-1', connectedAt: noon });
  world.sockets.open('conn-1');
  const n = aNotification({ scheduledAt: noon, ...overrides });
  world.notifications.seed(n);
  const ref: UnitRef = { kind: 'notification', tenantId, notificationId: n.id };
  return {
    ...world,
    n,
    deliverIt: () => world.deliverOne(ref),
    current: async () => {
      const stored = await world.notifications.get(tenantId, n.id);
      if (!stored) throw new Error('the notification is gone');
      return stored;
    },
    notificationFrames: () => world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === 'notification'),
  };
}

const dynamoUnavailable = (): Error => awsError('ServiceUnavailable', 503, 'DynamoDB is having a moment');

describe('no email is sent twice', () => {
  it('writes the outcome of a sent email again until it holds, sending once', async () => {
    // Prepare
    const world = await setUp();
    world.store.commitFailures.add(dynamoUnavailable(), dynamoUnavailable());

    // Act
    const outcome = await world.deliverIt();

    // Assess: two jittered waits (±50 %) of 100 and 200 ms before the second and third writes
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(1);
    expect((await world.current()).deliveries.email).toMatchObject({ status: 'sent' });
    expect(world.store.commitCalls).toBe(3);
    expect(world.sleeps).toHaveLength(2);
    expect(world.sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(world.sleeps[0]).toBeLessThanOrEqual(150);
    expect(world.sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(world.sleeps[1]).toBeLessThanOrEqual(300);
  });

  it('does not send again when the sent email could not be recorded at all, and records it unconfirmed', async () => {
    // Prepare: the outcome write fails on every round of the first attempt
    const world = await setUp();
    world.store.commitFailures.add(...Array.from({ length: 6 }, dynamoUnavailable));

    // Act
    const first = world.deliverIt();
    await expect(first).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    const afterFirst = await world.current();
    world.clock.advanceSeconds(61);
    const second = await world.deliverIt();

    // Assess
    expect(afterFirst).toMatchObject({ status: 'sending', deliveries: { email: { status: 'sending', detail: 'attempt 1' } } });
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(1);
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'sent', attempts: 2 });
    expect(stored.deliveries.email).toMatchObject({ status: 'unconfirmed', detail: expect.stringContaining('attempt 1') });
    expect(stored.deliveries.websocket).toMatchObject({ status: 'unconfirmed' });
    expect(world.inbox.addCalls).toBe(1);
    expect(world.notificationFrames()).toHaveLength(1);
  });

  it('does not send an email whose intent a worker recorded before it died; the next worker finishes the rest', async () => {
    // Prepare: a worker claimed, recorded its email intent, and died; its lease has ended
    const world = await setUp({
      status: 'sending',
      attempts: 1,
      leaseUntil: noonMs - 1_000,
      deliveries: { inbox: { status: 'sent', at: noon }, email: { status: 'sending', at: noon, detail: 'attempt 1' } },
    });

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(0);
    expect(world.inbox.addCalls).toBe(0);
    expect(world.notificationFrames()).toHaveLength(1);
    expect((await world.current()).deliveries.email).toMatchObject({ status: 'unconfirmed', detail: expect.stringContaining('attempt 1') });
  });

  it('sends again a webhook whose intent a worker recorded before it died, under the same webhook-id; the e-mail stays unconfirmed', async () => {
    // Prepare: a worker claimed, recorded its e-mail and webhook intents, and died; its lease has ended
    const world = await setUp({
      status: 'sending',
      attempts: 1,
      leaseUntil: noonMs - 1_000,
      channels: ['inbox', 'email', 'webhook'],
      deliveries: { email: { status: 'sending', at: noon, detail: 'attempt 1' }, webhook: { status: 'sending', at: noon, detail: 'attempt 1' } },
    });
    await world.recipients.put({ ...aRecipient({ id: 'bob' }), webhookUrl: 'https://hooks.example.com/bob' });
    const posts: { url: string; headers: Readonly<Record<string, string>> }[] = [];
    const webhook = webhookChannel({ post: async (url, headers) => Promise.resolve(posts.push({ url, headers }) && 200) }, async () => Promise.resolve(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']), world.recipients);
    const deps = { ...world.deps, channels: { ...world.deps.channels, webhook } };
    const ref: UnitRef = { kind: 'notification', tenantId, notificationId: world.n.id };

    // Act
    const outcome = (await deliverUnits(deps, [ref], world.invocation())).get(unitKey(ref));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(posts).toEqual([{ url: 'https://hooks.example.com/bob', headers: expect.objectContaining({ 'webhook-id': webhookMessageId(tenantId, world.n.id, 'bob') }) }]);
    expect(world.mailer.sendCalls).toBe(0);
    const stored = await world.current();
    expect(stored.deliveries.webhook).toMatchObject({ status: 'sent' });
    expect(stored.deliveries.email).toMatchObject({ status: 'unconfirmed', detail: expect.stringContaining('attempt 1') });
  });

  it('records unconfirmed, not skipped, a webhook whose intent a dead worker left when its URL has gone since: it may have been posted', async () => {
    // Prepare: the dead worker may have posted; bob has switched webhooks off since
    const world = await setUp({
      status: 'sending',
      attempts: 1,
      leaseUntil: noonMs - 1_000,
      channels: ['webhook'],
      deliveries: { webhook: { status: 'sending', at: noon, detail: 'attempt 1' } },
    });
    await world.recipients.put({ ...aRecipient({ id: 'bob' }), webhookUrl: 'https://hooks.example.com/bob', channelPreferences: { webhook: false } });
    const posts: string[] = [];
    const webhook = webhookChannel({ post: async (url) => Promise.resolve(posts.push(url) && 200) }, async () => Promise.resolve(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']), world.recipients);
    const ref: UnitRef = { kind: 'notification', tenantId, notificationId: world.n.id };

    // Act
    const outcome = (await deliverUnits({ ...world.deps, channels: { ...world.deps.channels, webhook } }, [ref], world.invocation())).get(unitKey(ref));

    // Assess: sent, as a unit one of whose channels may have reached the recipient
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(posts).toEqual([]);
    expect((await world.current()).deliveries.webhook).toMatchObject({ status: 'unconfirmed', detail: 'an earlier attempt stopped while sending; not sent again: disabled by preference' });
  });

  it('records an unanswered send unconfirmed and does not retry it', async () => {
    // Prepare: SES never answered (a socket timeout carries no HTTP status)
    const world = await setUp();
    world.mailer.failures.add(awsError('TimeoutError', undefined, 'socket hang up'));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect((await world.current()).deliveries.email).toEqual({ status: 'unconfirmed', at: noon, detail: 'TimeoutError: socket hang up', errorCategory: 'no_answer' });
  });

  it('retries an email whose connection was never made, as nothing left', async () => {
    // Prepare: no HTTP status, but the connection was refused: the request never left
    const world = await setUp({ channels: ['email'] });
    world.mailer.failures.add(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }));

    // Act
    const first = await world.deliverIt();
    world.clock.advanceSeconds(300);
    const second = await world.deliverIt();

    // Assess
    expect(first).toMatchObject({ kind: 'later', cause: 'retry', at: noonMs + 300_000 });
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toHaveLength(1);
  });

  it('sends nothing when the claim with its intent cannot be written, and sends once on the next try', async () => {
    // Prepare: the claim (which records the intents) fails; the message comes back after the
    // consumer's backoff (it no longer asks for a retry itself: nothing was claimed)
    const world = await setUp();
    world.store.claimFailures.add(dynamoUnavailable());

    // Act
    const first = world.deliverIt();
    await expect(first).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    const sendsAfterFirst = world.mailer.sendCalls;
    const afterFirst = await world.current();
    const second = await world.deliverIt();

    // Assess
    expect(sendsAfterFirst).toBe(0);
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 0, deliveries: {} });
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(1);
  });

  it('leaves the intent when it cannot be dropped after a refused send, so the email is never sent twice', async () => {
    // Prepare: SES refuses, and the write that would drop the intent keeps failing
    const world = await setUp();
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));
    world.store.commitFailures.add(...Array.from({ length: 6 }, dynamoUnavailable));

    // Act
    await expect(world.deliverIt()).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    world.clock.advanceSeconds(61);
    const second = await world.deliverIt();

    // Assess: conservative — possibly never delivered by email, but never twice
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(1);
    expect((await world.current()).deliveries.email).toMatchObject({ status: 'unconfirmed' });
  });

  it('records no intent for a recipient without an address', async () => {
    // Prepare
    const world = await setUp({ channels: ['email'] }, undefined, null);
    let claimedDeliveries: Readonly<Partial<Record<string, ChannelDelivery>>> | undefined;
    world.store.beforeCommit = async () => {
      claimedDeliveries = (await world.notifications.get(tenantId, world.n.id))?.deliveries;
    };

    // Act
    const outcome = await world.deliverIt();

    // Assess: it reached nobody, so it failed, without a send or an intent.
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(claimedDeliveries).toEqual({});
    expect((await world.current()).deliveries.email).toEqual({ status: 'skipped', at: noon, detail: 'no email address' });
  });

  it('records the intent of every provider send in the claim, before anything is sent', async () => {
    // Prepare
    const world = await setUp();
    let atSend: Readonly<Partial<Record<string, ChannelDelivery>>> | undefined;
    world.mailer.onSend = async () => {
      atSend = (await world.notifications.get(tenantId, world.n.id))?.deliveries;
    };

    // Act
    await world.deliverIt();

    // Assess: the inbox needs none, as it is written with the outcome
    expect(atSend).toEqual({
      websocket: { status: 'sending', at: noon, detail: 'attempt 1' },
      email: { status: 'sending', at: noon, detail: 'attempt 1' },
    });
  });
});

describe('WebSocket frames', () => {
  it('counts the channel sent when one of two sockets got the frame, and does not post again', async () => {
    // Prepare
    const world = await setUp({ channels: ['websocket'] });
    await world.live.connect(tenantId, 'bob', { connectionId: 'conn-2', connectedAt: noon });
    world.sockets.open('conn-2');
    world.sockets.failures.add(awsError('InternalServerErrorException', 500, 'gateway hiccup'));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.sockets.posted).toHaveLength(1);
    expect((await world.current()).deliveries.websocket).toMatchObject({
      status: 'sent',
      detail: '1 connection(s), 1 failed (InternalServerErrorException: gateway hiccup)',
    });
  });

  it('retries the frame when no socket took it', async () => {
    // Prepare
    const world = await setUp({ channels: ['websocket'] });
    world.sockets.failures.add(awsError('InternalServerErrorException', 500, 'gateway hiccup'));

    // Act
    const first = await world.deliverIt();
    world.clock.advanceSeconds(300);
    const second = await world.deliverIt();

    // Assess
    expect(first).toMatchObject({ kind: 'later', cause: 'retry', at: noonMs + 300_000 });
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.sockets.posted).toHaveLength(1);
  });
});

describe('backoff', () => {
  it('asks for 5, 10 and 20 minutes between attempts, then fails the notification and asks for the dead letter', async () => {
    // Prepare: SES answers 503 to every send
    const world = await setUp({ channels: ['inbox', 'email'] });
    world.mailer.failures.add(...Array.from({ length: 4 }, () => awsError('ServiceUnavailable', 503, 'try later')));

    // Act: each message comes back when it is due
    const waits: number[] = [];
    let last: UnitOutcome | undefined;
    for (let attempt = 0; attempt < 4; attempt++) {
      last = await world.deliverIt();
      if (last?.kind === 'later') {
        waits.push(last.at - world.clock.now().getTime());
        world.clock.set(new Date(last.at));
      }
    }

    // Assess
    expect(waits).toEqual([300_000, 600_000, 1_200_000]);
    expect(last).toEqual({
      kind: 'done',
      status: 'failed',
      deadLetter: { attempts: 4, reason: 'Gave up after 4 attempts: email: ServiceUnavailable: try later' },
    });
    expect(await world.current()).toMatchObject({ status: 'failed', attempts: 4, lastError: expect.stringContaining('Gave up after 4 attempts') });
    expect(world.inbox.addCalls).toBe(1);
    expect(world.mailer.sent).toHaveLength(0);
  });

  it('never fails a notification for the provider\'s throttling alone, however long it lasts', async () => {
    // Prepare: SES throttles ten times in a row, past the policy's four attempts
    const world = await setUp({ channels: ['email'] });
    world.mailer.failures.add(...Array.from({ length: 10 }, () => awsError('Throttling', 400, 'Maximum sending rate exceeded')));

    // Act
    let last: UnitOutcome | undefined;
    for (let attempt = 0; attempt < 11; attempt++) {
      last = await world.deliverIt();
      if (last?.kind === 'later') world.clock.set(new Date(last.at));
    }

    // Assess
    expect(last).toEqual({ kind: 'done', status: 'sent' });
    expect(await world.current()).toMatchObject({ status: 'sent', attempts: 1 });
    expect(world.mailer.sent).toHaveLength(1);
  });

  it('holds a duplicate message that comes before the retry is due, delivering nothing', async () => {
    // Prepare: released for a retry at 12:05
    const world = await setUp({ channels: ['email'] });
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));
    await world.deliverIt();
    world.clock.advanceSeconds(30);

    // Act: a duplicate (or the sweep's message) arrives at 12:00:30
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'later', at: Date.parse('2030-01-01T12:05:00.000Z'), cause: 'notYetDue', reason: 'not yet due' });
    expect(await world.current()).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: '2030-01-01T12:05:00.000Z' });
    expect(world.mailer.sendCalls).toBe(1);
  });

  it('fails at once on a permanent error, without a retry or a dead letter', async () => {
    // Prepare
    const world = await setUp({ channels: ['email'] });
    world.mailer.failures.add(awsError('MessageRejected', 400, 'Email address is not verified'));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(await world.current()).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'Every channel failed (email: MessageRejected: Email address is not verified)',
    });
  });

  it('dead-letters at the first failure when no retries are allowed', async () => {
    // Prepare
    const world = await setUp({ channels: ['email'] }, { ...defaultRetryPolicy, maxRetries: 0, jitter: 0 });
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toMatchObject({ kind: 'done', status: 'failed', deadLetter: { attempts: 1, reason: 'Gave up after 1 attempts: email: ServiceUnavailable: try later' } });
  });
});
