/**
 * Delivery under faults: the write that records a send failing, a worker dying between its
 * intent and the send, unanswered sends, retries held until due, and the backoff schedule to the
 * dead letter. Fakes of every port; the clock is the test's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Channel, ChannelDelivery, ChannelDeliveryStatus, Notification } from '../../../../shared/domain/notification.ts';
import { defaultRetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { Claim } from '../../../../shared/ports.ts';
import { deliverNotification } from '../../../../shared/use-cases/deliver-notification.ts';
import type { DeliveryDeps, DeliveryOutcome } from '../../../../shared/use-cases/deliver-notification.ts';
import {
  FakeClock,
  FakeMailer,
  FakeSocketPoster,
  InMemoryConnectionStore,
  InMemoryInboxStore,
  InMemoryNotificationStore,
  InMemoryRecipientStore,
  ScriptedFailures,
} from '../../fakes/index.ts';
import { aNotification, aRecipient, awsError, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';

/** A notification store whose channel writes fail when told to, per channel and status. */
class FlakyNotificationStore extends InMemoryNotificationStore {
  private readonly recordFailures = new Map<string, ScriptedFailures>();
  readonly forgetFailures = new ScriptedFailures();
  recordCalls = 0;

  /** The next writes of `status` on `channel` throw these errors, in order. */
  failRecording(channel: Channel, status: ChannelDeliveryStatus, ...errors: unknown[]): void {
    const key = `${channel}:${status}`;
    const failures = this.recordFailures.get(key) ?? new ScriptedFailures();
    failures.add(...errors);
    this.recordFailures.set(key, failures);
  }

  override async recordDelivery(claim: Claim, channel: Channel, delivery: ChannelDelivery): Promise<void> {
    this.recordCalls++;
    this.recordFailures.get(`${channel}:${delivery.status}`)?.throwNext();
    return super.recordDelivery(claim, channel, delivery);
  }

  override async forgetDelivery(claim: Claim, channel: Channel): Promise<void> {
    this.forgetFailures.throwNext();
    return super.forgetDelivery(claim, channel);
  }
}

interface World {
  clock: FakeClock;
  notifications: FlakyNotificationStore;
  inbox: InMemoryInboxStore;
  sockets: FakeSocketPoster;
  connections: InMemoryConnectionStore;
  mailer: FakeMailer;
  n: Notification;
  sleeps: number[];
  deliver: () => Promise<DeliveryOutcome>;
  current: () => Promise<Notification>;
}

/** Bob with an address, one open socket, and a notification due at noon; the clock shows noon. */
async function setUp(
  overrides: Partial<Notification> = {},
  retry = { ...defaultRetryPolicy, jitter: 0 },
  /** Bob's address; null for none. */
  email: string | null = 'bob@example.com',
): Promise<World> {
  const clock = new FakeClock(noon);
  const notifications = new FlakyNotificationStore();
  const recipients = new InMemoryRecipientStore();
  const inbox = new InMemoryInboxStore();
  const connections = new InMemoryConnectionStore();
  const sockets = new FakeSocketPoster();
  const mailer = new FakeMailer();
  const { email: _default, ...bob } = aRecipient({ id: 'bob' });
  await recipients.put(email === null ? bob : { ...bob, email });
  await connections.put({ connectionId: 'conn-1', tenantId, userId: 'bob', connectedAt: noon }, new Date('2030-01-01T14:00:00Z'));
  sockets.open('conn-1');
  const n = aNotification({ scheduledAt: noon, ...overrides });
  notifications.seed(n);
  const sleeps: number[] = [];
  const deps: DeliveryDeps = {
    notifications,
    recipients,
    inbox,
    connections,
    sockets,
    mailer,
    clock,
    settings: { leaseSeconds: 60, sentRetentionDays: 90, retry },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return {
    clock,
    notifications,
    inbox,
    sockets,
    connections,
    mailer,
    n,
    sleeps,
    deliver: () => deliverNotification(deps, { tenantId: n.tenantId, notificationId: n.id }),
    current: async () => {
      const stored = await notifications.get(n.tenantId, n.id);
      if (!stored) throw new Error('the notification is gone');
      return stored;
    },
  };
}

/** The notification frames posted (other frames, such as inbox counters, are not the channel's). */
function notificationFrames(world: World): unknown[] {
  return world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === 'notification');
}

const dynamoUnavailable = (): Error => awsError('ServiceUnavailable', 503, 'DynamoDB is having a moment');

describe('no email is sent twice', () => {
  it('retries the write that records a sent email until it holds, sending once', async () => {
    // Prepare
    const world = await setUp();
    world.notifications.failRecording('email', 'sent', dynamoUnavailable(), dynamoUnavailable());

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(1);
    expect((await world.current()).deliveries.email).toEqual({ status: 'sent', at: noon });
    expect(world.sleeps).toEqual([100, 200]);
  });

  it('does not send again when the sent email could not be recorded at all, and records it unconfirmed', async () => {
    // Prepare: the outcome write fails on every try of the first attempt
    const world = await setUp();
    world.notifications.failRecording('email', 'sent', ...Array.from({ length: 6 }, dynamoUnavailable));

    // Act
    const first = world.deliver();
    await expect(first).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    const afterFirst = await world.current();
    world.clock.advanceSeconds(61);
    const second = await world.deliver();

    // Assess
    expect(afterFirst).toMatchObject({ status: 'sending', deliveries: { email: { status: 'sending', detail: 'attempt 1' } } });
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(1);
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'sent', attempts: 2 });
    expect(stored.deliveries.email).toMatchObject({ status: 'unconfirmed', detail: expect.stringContaining('attempt 1') });
    expect(world.inbox.addCalls).toBe(1);
    expect(notificationFrames(world)).toHaveLength(1);
  });

  it('does not send an email whose intent a worker recorded before it died; the next worker finishes the rest', async () => {
    // Prepare: a worker claimed, recorded its email intent, and died; its lease has ended
    const world = await setUp({
      status: 'sending',
      attempts: 1,
      leaseUntil: Date.parse(noon) - 1_000,
      deliveries: { inbox: { status: 'sent', at: noon }, email: { status: 'sending', at: noon, detail: 'attempt 1' } },
    });

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(0);
    expect(world.inbox.addCalls).toBe(0);
    expect(notificationFrames(world)).toHaveLength(1);
    expect((await world.current()).deliveries.email).toMatchObject({ status: 'unconfirmed' });
  });

  it('records an unanswered send unconfirmed and does not retry it', async () => {
    // Prepare: SES never answered (a socket timeout carries no HTTP status)
    const world = await setUp();
    world.mailer.failures.add(awsError('TimeoutError', undefined, 'socket hang up'));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect((await world.current()).deliveries.email).toEqual({ status: 'unconfirmed', at: noon, detail: 'TimeoutError: socket hang up' });
  });

  it('retries an email SES refused with a transient error, and sends it once', async () => {
    // Prepare
    const world = await setUp();
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));

    // Act
    const first = await world.deliver();
    const afterFirst = await world.current();
    world.clock.advanceSeconds(300);
    const second = await world.deliver();

    // Assess
    expect(first).toEqual({ kind: 'later', seconds: 300, reason: 'email: ServiceUnavailable: try later' });
    expect(afterFirst.deliveries.email).toBeUndefined();
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toHaveLength(1);
  });

  it('sends nothing when the intent cannot be written, and sends once on the retry', async () => {
    // Prepare
    const world = await setUp();
    world.notifications.failRecording('email', 'sending', dynamoUnavailable());

    // Act
    const first = await world.deliver();
    const sendsAfterFirst = world.mailer.sendCalls;
    world.clock.advanceSeconds(300);
    const second = await world.deliver();

    // Assess
    expect(first).toMatchObject({ kind: 'later', seconds: 300 });
    expect(sendsAfterFirst).toBe(0);
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(1);
  });

  it('leaves the intent when it cannot be dropped after a refused send, so the email is never sent twice', async () => {
    // Prepare: SES refuses, and the write that would drop the intent keeps failing
    const world = await setUp();
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));
    world.notifications.forgetFailures.add(...Array.from({ length: 6 }, dynamoUnavailable));

    // Act
    await expect(world.deliver()).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    world.clock.advanceSeconds(61);
    const second = await world.deliver();

    // Assess: conservative — possibly never delivered by email, but never twice
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sendCalls).toBe(1);
    expect((await world.current()).deliveries.email).toMatchObject({ status: 'unconfirmed' });
  });

  it('records no intent for a recipient without an address', async () => {
    // Prepare
    const world = await setUp({ channels: ['email'] }, undefined, null);
    world.notifications.failRecording('email', 'sending', new Error('no intent expected'));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect((await world.current()).deliveries.email).toEqual({ status: 'skipped', at: noon, detail: 'no email address' });
  });
});

describe('WebSocket frames', () => {
  it('counts the channel sent when one of two sockets got the frame, and does not post again', async () => {
    // Prepare
    const world = await setUp({ channels: ['websocket'] });
    await world.connections.put({ connectionId: 'conn-2', tenantId, userId: 'bob', connectedAt: noon }, new Date('2030-01-01T14:00:00Z'));
    world.sockets.open('conn-2');
    world.sockets.failures.add(awsError('InternalServerErrorException', 500, 'gateway hiccup'));

    // Act
    const outcome = await world.deliver();

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
    const first = await world.deliver();
    world.clock.advanceSeconds(300);
    const second = await world.deliver();

    // Assess
    expect(first).toMatchObject({ kind: 'later', seconds: 300 });
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(world.sockets.posted).toHaveLength(1);
  });
});

describe('backoff', () => {
  it('asks for 5, 10 and 20 minutes between attempts, then fails the notification and asks for the dead letter', async () => {
    // Prepare: SES throttles every send
    const world = await setUp({ channels: ['inbox', 'email'] });
    world.mailer.failures.add(...Array.from({ length: 4 }, () => awsError('Throttling', 400, 'Maximum sending rate exceeded')));

    // Act: each message comes back when its visibility runs out
    const outcomes: DeliveryOutcome[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const outcome = await world.deliver();
      outcomes.push(outcome);
      if (outcome.kind === 'later') world.clock.advanceSeconds(outcome.seconds);
    }

    // Assess
    expect(outcomes.slice(0, 3).map((o) => (o.kind === 'later' ? o.seconds : o))).toEqual([300, 600, 1200]);
    expect(outcomes[3]).toEqual({
      kind: 'done',
      status: 'failed',
      deadLetter: { attempts: 4, reason: 'Gave up after 4 attempts: email: Throttling: Maximum sending rate exceeded' },
    });
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'failed', attempts: 4, lastError: expect.stringContaining('Gave up after 4 attempts') });
    expect(world.inbox.addCalls).toBe(1);
    expect(world.mailer.sent).toHaveLength(0);
  });

  it('holds a duplicate message that comes before the retry is due, delivering nothing', async () => {
    // Prepare: released for a retry at 12:05
    const world = await setUp({ channels: ['email'] });
    world.mailer.failures.add(awsError('Throttling', 400, 'slow down'));
    await world.deliver();
    world.clock.advanceSeconds(30);

    // Act: a duplicate (or the sweep's message) arrives at 12:00:30
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'later', seconds: 270, reason: 'not yet due' });
    expect(await world.current()).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: '2030-01-01T12:05:00.000Z' });
    expect(world.mailer.sendCalls).toBe(1);
  });

  it('fails at once on a permanent error, without a retry or a dead letter', async () => {
    // Prepare
    const world = await setUp({ channels: ['email'] });
    world.mailer.failures.add(awsError('MessageRejected', 400, 'Email address is not verified'));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(await world.current()).toMatchObject({ status: 'failed', attempts: 1, lastError: 'Every channel failed' });
  });

  it('dead-letters at the first failure when no retries are allowed', async () => {
    // Prepare
    const world = await setUp({ channels: ['email'] }, { ...defaultRetryPolicy, maxRetries: 0, jitter: 0 });
    world.mailer.failures.add(awsError('Throttling', 400, 'slow down'));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toMatchObject({ kind: 'done', status: 'failed', deadLetter: { attempts: 1 } });
  });
});
