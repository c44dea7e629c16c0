/**
 * The delivery engine delivering notifications, on in-memory fakes with the Dynamo adapter's
 * conditions: what it delivers, when it holds back, how it retries and gives up, and what it
 * leaves to another worker. (Ported from the tests of the deleted deliverNotification use case.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { unitKey } from '../../../../shared/domain/delivery.ts';
import type { UnitOutcome, UnitRef } from '../../../../shared/domain/delivery.ts';
import { deliverUnits } from '../../../../shared/delivery/engine.ts';
import type { Notification, NotificationStatus } from '../../../../shared/domain/notification.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import type { DeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, awsError, tenantId } from '../../fakes/fixtures.ts';
import { emailTags } from '../../../../shared/domain/email-feedback.ts';
import { BudgetSecondPassedError } from '../../../../shared/domain/rate-budget.ts';
import { dailyQuotaWaitMs } from '../../../../shared/domain/delivery-errors.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';
const noonMs = Date.parse(noon);
const day = 24 * 60 * 60;

interface World extends DeliveryWorld {
  /** The notification under test, as seeded. */
  n: Notification;
  ref: UnitRef;
  /** Delivers the notification under test once, as one queue message would. */
  deliverIt(): Promise<UnitOutcome | undefined>;
  /** The notification under test, as stored now. */
  current(): Promise<Notification>;
  /** The notification frames posted. */
  notificationFrames(): { connectionId: string; payload: unknown }[];
}

/** Bob, with an address and one open socket, and a notification for him due at noon; the clock shows noon. */
async function setUp(overrides: Partial<Notification> = {}): Promise<World> {
  const world = aDeliveryWorld({ start: noon });
  await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
  await world.live.connect(tenantId, 'bob', { connectionId: 'conn-1', connectedAt: noon });
  world.sockets.open('conn-1');
  const n = aNotification({ scheduledAt: noon, ...overrides });
  world.notifications.seed(n);
  const ref: UnitRef = { kind: 'notification', tenantId, notificationId: n.id };
  return {
    ...world,
    n,
    ref,
    deliverIt: () => world.deliverOne(ref),
    current: async () => {
      const stored = await world.notifications.get(tenantId, n.id);
      if (!stored) throw new Error('the notification is gone');
      return stored;
    },
    notificationFrames: () => world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === 'notification'),
  };
}

/** The notification failed as its recipient's (`gone`), and nothing reached anyone: no inbox item, no frame, no e-mail. */
async function expectDeliveredNowhere(world: World): Promise<void> {
  expect(await world.current()).toMatchObject({ status: 'failed', lastError: 'Recipient bob no longer exists', lastErrorCategory: 'gone' });
  expect(world.inbox.addCalls).toBe(0);
  expect(world.sockets.posted).toEqual([]);
  expect(world.mailer.sendCalls).toBe(0);
}

describe('the engine delivering a notification', () => {
  it('delivers a due notification on every channel and marks it sent', async () => {
    // Prepare
    const world = await setUp({ data: { room: 'B' } });

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'sent', sentAt: noon, attempts: 1 });
    expect(stored.leaseUntil).toBeUndefined();
    expect(stored.deliveries).toEqual({
      inbox: { status: 'sent', at: noon },
      websocket: { status: 'sent', at: noon, detail: '1 connection(s)' },
      email: { status: 'sent', at: noon, detail: 'id fake-1' },
    });
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([
      {
        tenantId,
        recipientId: 'bob',
        notificationId: world.n.id,
        title: world.n.title,
        message: world.n.message,
        type: world.n.type,
        priority: world.n.priority,
        data: { room: 'B' },
        createdAt: world.n.createdAt,
        deliveredAt: noon,
      },
    ]);
    // The frame now carries the new unread count: no separate inboxChanged frame is needed.
    expect(world.sockets.posted).toEqual([
      { connectionId: 'conn-1', payload: { type: 'notification', notification: expect.objectContaining({ id: world.n.id, data: { room: 'B' } }), unread: 1, unreadVersion: 1 } },
    ]);
    // The tags name the recipient, so that a bounce or complaint finds them (email-feedback.ts).
    expect(world.mailer.sent).toEqual([{ to: 'bob@example.com', subject: world.n.title, text: world.n.message, tags: emailTags(world.n.tenantId, 'bob') }]);
    expect(world.notifications.expiresAtOf(tenantId, world.n.id)).toBe(noonMs / 1000 + 90 * day);
  });

  it('holds a notification that is not yet due until its time, claiming nothing', async () => {
    // Prepare
    const world = await setUp({ scheduledAt: '2030-01-01T12:00:42.500Z' });

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'later', at: Date.parse('2030-01-01T12:00:42.500Z'), cause: 'notYetDue', reason: 'not yet due' });
    expect(await world.current()).toMatchObject({ status: 'pending', attempts: 0 });
    expect(world.store.claimCalls).toBe(0);
    expect(world.inbox.addCalls).toBe(0);
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sendCalls).toBe(0);
  });

  it('waits for a notification due within the hold, to the millisecond, and delivers it then', async () => {
    // Prepare: the hold is 2 s; the notification is due in 1.5 s
    const world = await setUp({ scheduledAt: '2030-01-01T12:00:01.500Z' });

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.sleeps).toEqual([1_500]);
    expect(await world.current()).toMatchObject({ status: 'sent', sentAt: '2030-01-01T12:00:01.500Z' });
  });

  it('sleeps again when its timer wakes a millisecond before the time, as Node timers do, and delivers on time', async () => {
    // Prepare: the notification is due in 1.5 s; the first timer returns 1 ms short of what it was
    // asked (Node counts timers from the event loop's cached time, which lags the clock)
    const world = await setUp({ scheduledAt: '2030-01-01T12:00:01.500Z' });
    const sleeps: number[] = [];
    const earlyTimer = async (ms: number): Promise<void> => {
      sleeps.push(ms);
      world.timers.advance(sleeps.length === 1 ? ms - 1 : ms);
    };

    // Act
    const outcomes = await deliverUnits({ ...world.deps, sleep: earlyTimer }, [world.ref], world.invocation());

    // Assess: not claimed a millisecond early (the claim's `due` condition would refuse it, and it
    // would come back a second late); woken again for the last millisecond, then sent
    expect(outcomes.get(unitKey(world.ref))).toEqual({ kind: 'done', status: 'sent' });
    expect(sleeps).toEqual([1_500, 1]);
    expect(await world.current()).toMatchObject({ status: 'sent', sentAt: '2030-01-01T12:00:01.500Z', attempts: 1 });
  });

  it('does not deliver a notification cancelled before its time', async () => {
    // Prepare
    const world = await setUp();
    await world.notifications.cancel(tenantId, world.n.id, new Date('2030-01-01T11:59:00Z'));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'cancelled' });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sendCalls).toBe(0);
  });

  it.each<NotificationStatus>(['sent', 'failed', 'cancelled'])('is done with a %s notification without touching any channel', async (status) => {
    // Prepare
    const world = await setUp({ status });

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status });
    expect(world.store.claimCalls).toBe(0);
    expect(world.inbox.addCalls).toBe(0);
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sendCalls).toBe(0);
  });

  it('is done with a message whose notification no longer exists', async () => {
    // Prepare
    const world = await setUp();
    await world.notifications.deleteMany(tenantId, [world.n.id]);

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'missing' });
  });

  it('does not deliver twice when the same message comes again after success', async () => {
    // Prepare
    const world = await setUp();
    await world.deliverIt();
    world.clock.advanceSeconds(5);

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(await world.inbox.list(tenantId, 'bob')).toHaveLength(1);
    expect(world.mailer.sent).toHaveLength(1);
    expect(world.notificationFrames()).toHaveLength(1);
    expect((await world.current()).attempts).toBe(1);
  });

  it('delivers once when one batch names the same notification twice', async () => {
    // Prepare
    const world = await setUp();

    // Act
    const outcomes = await world.deliver(world.ref, world.ref);

    // Assess
    expect([...outcomes.values()]).toEqual([{ kind: 'done', status: 'sent' }]);
    expect(world.mailer.sent).toHaveLength(1);
    expect((await world.current()).attempts).toBe(1);
  });

  it('comes back when the lease of another worker ends', async () => {
    // Prepare
    const world = await setUp();
    await world.notifications.claim(tenantId, world.n.id, world.clock.now(), 60);
    world.clock.advanceSeconds(20);

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'later', at: noonMs + 60_000, cause: 'leased', reason: 'held by another worker' });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.mailer.sendCalls).toBe(0);
    expect((await world.current()).attempts).toBe(1);
  });

  it('takes over an expired lease and finishes without repeating what the dead worker recorded', async () => {
    // Prepare
    const world = await setUp();
    const deadWorker = await world.notifications.claim(tenantId, world.n.id, world.clock.now(), 60);
    if (!deadWorker) throw new Error('the first claim should succeed');
    await world.notifications.recordDelivery(deadWorker, 'inbox', { status: 'sent', at: noon });
    world.clock.advanceSeconds(61);

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.notificationFrames()).toHaveLength(1);
    expect(world.mailer.sent).toHaveLength(1);
    expect(await world.current()).toMatchObject({ status: 'sent', attempts: 2, deliveries: { inbox: { status: 'sent', at: noon } } });
  });

  it('releases the notification for a retry after a transient email failure, and repeats only the email', async () => {
    // Prepare: SES answered 503 (throttling is its own case: it spends no attempt)
    const world = await setUp();
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));

    // Act
    const first = await world.deliverIt();
    const afterFirst = await world.current();
    world.clock.advanceSeconds(300);
    const retry = await world.deliverIt();

    // Assess
    expect(first).toEqual({ kind: 'later', at: noonMs + 300_000, cause: 'retry', reason: 'email: ServiceUnavailable: try later' });
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, lastError: 'email: ServiceUnavailable: try later', lastErrorCategory: 'unavailable', nextAttemptAt: '2030-01-01T12:05:00.000Z' });
    expect(afterFirst.leaseUntil).toBeUndefined();
    expect(afterFirst.deliveries.email).toBeUndefined();
    expect(retry).toEqual({ kind: 'done', status: 'sent' });
    expect(world.inbox.addCalls).toBe(1);
    expect(world.notificationFrames()).toHaveLength(1);
    expect(world.mailer.sendCalls).toBe(2);
    expect(world.mailer.sent).toHaveLength(1);
    const final = await world.current();
    expect(final).toMatchObject({ status: 'sent', attempts: 2 });
    expect(final.lastError).toBeUndefined();
  });

  it('waits out a throttled email for the provider\'s hint without spending an attempt', async () => {
    // Prepare: SES throttles once, saying nothing of when to come back
    const world = await setUp({ channels: ['email'] });
    world.mailer.failures.add(awsError('Throttling', 400, 'Maximum sending rate exceeded'));

    // Act
    const first = await world.deliverIt();
    const afterFirst = await world.current();
    world.clock.advanceSeconds(1);
    const second = await world.deliverIt();

    // Assess
    expect(first).toEqual({ kind: 'later', at: noonMs + 1_000, cause: 'retry', reason: 'email: Throttling: Maximum sending rate exceeded' });
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 0, nextAttemptAt: '2030-01-01T12:00:01.000Z' });
    expect(second).toEqual({ kind: 'done', status: 'sent' });
    expect(await world.current()).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it("waits out the provider's throttle when its send-budget second ended while the SDK waited to retry a throttled attempt", async () => {
    // Prepare: SES answered the first attempt that the daily quota is spent; the retry was held back
    const world = await setUp({ channels: ['email'] });
    const quotaSpent = awsError('Throttling', 400, 'Daily message quota exceeded.');
    world.mailer.failures.add(new BudgetSecondPassedError('ses', noonMs + 1_000, { cause: quotaSpent }));

    // Act
    const first = await world.deliverIt();

    // Assess: as the throttle itself would be, an hour, no attempt spent; not planned again at once
    expect(first).toEqual({ kind: 'later', at: noonMs + dailyQuotaWaitMs, cause: 'retry', reason: 'email: Throttling: Daily message quota exceeded.' });
    expect(await world.current()).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('waits longer after each failed attempt, as the retry policy says', async () => {
    // Prepare
    const world = await setUp();
    world.mailer.failures.add(awsError('ServiceUnavailable', 503), awsError('ServiceUnavailable', 503));

    // Act
    const first = await world.deliverIt();
    world.clock.advanceSeconds(300);
    const second = await world.deliverIt();

    // Assess
    expect(first).toMatchObject({ kind: 'later', at: noonMs + 300_000 });
    expect(second).toMatchObject({ kind: 'later', at: noonMs + 300_000 + 600_000 });
  });

  it('fails the notification when the last attempt fails too, naming the attempts', async () => {
    // Prepare
    const world = await setUp({ attempts: 3, deliveries: { inbox: { status: 'sent', at: noon } } });
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({
      kind: 'done',
      status: 'failed',
      deadLetter: { reason: 'Gave up after 4 attempts: email: ServiceUnavailable: try later', attempts: 4 },
    });
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'failed', attempts: 4, lastError: 'Gave up after 4 attempts: email: ServiceUnavailable: try later', lastErrorCategory: 'unavailable' });
    expect(stored.deliveries.email).toMatchObject({ status: 'failed', error: 'ServiceUnavailable: try later', errorCategory: 'unavailable' });
    expect(world.notifications.expiresAtOf(tenantId, world.n.id)).toBe(noonMs / 1000 + 90 * day);
  });

  it('records a permanent email failure but sends the notification that reached the inbox', async () => {
    // Prepare
    const world = await setUp();
    world.mailer.failures.add(awsError('MessageRejected', 400, 'Email address is not verified'));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    const stored = await world.current();
    expect(stored.status).toBe('sent');
    expect(stored.deliveries.email).toEqual({ status: 'failed', at: noon, error: 'MessageRejected: Email address is not verified', errorCategory: 'rejected' });
    expect(stored.deliveries.inbox?.status).toBe('sent');
    expect(world.mailer.sendCalls).toBe(1);
  });

  it('fails the notification when every channel fails for good', async () => {
    // Prepare: the inbox is written with the outcome in one transaction, so it cannot fail on
    // its own any more; the channels that can fail for good are the providers'
    const world = await setUp({ channels: ['websocket', 'email'] });
    world.sockets.failures.add(awsError('PayloadTooLargeException', 413, 'too big'));
    world.mailer.failures.add(awsError('MessageRejected', 400, 'rejected'));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    const stored = await world.current();
    expect(stored).toMatchObject({
      status: 'failed',
      lastError: 'Every channel failed (websocket: PayloadTooLargeException: too big; email: MessageRejected: rejected)',
      lastErrorCategory: 'rejected',
    });
    expect(Object.values(stored.deliveries).map((d) => d.status)).toEqual(['failed', 'failed']);
  });

  it('fails a notification made for a recipient since erased and registered again, delivering it nowhere: the id is someone else now', async () => {
    // Prepare: made for the record of 2029-12-01; bob's record now is one created after it
    const world = await setUp({ recipientSince: '2029-12-01T00:00:00.000Z' });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'new-bob@example.com', createdAt: '2030-01-01T11:00:00.000Z' }));

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    await expectDeliveredNowhere(world);
  });

  it('delivers a notification to the very record it was made for', async () => {
    // Prepare
    const world = await setUp({ recipientSince: '2029-12-01T00:00:00.000Z', channels: ['inbox'] });

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.inbox.addCalls).toBe(1);
  });

  it('fails a notification whose recipient was deleted, delivering it nowhere', async () => {
    // Prepare
    const world = await setUp();
    world.recipients.delete(tenantId, 'bob');

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    await expectDeliveredNowhere(world);
  });

  it('fails a notification whose recipient was deleted even when email is not one of its channels', async () => {
    // Prepare
    const world = await setUp({ channels: ['inbox', 'websocket'] });
    world.recipients.delete(tenantId, 'bob');

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.sockets.posted).toEqual([]);
  });

  it('throws, claiming and sending nothing, when the batch cannot be read for now', async () => {
    // Prepare: the recipient is read with the notification in one load now, so a failed read
    // fails the whole batch; its queue message comes back after the backoff (the consumer's)
    const world = await setUp();
    world.store.loadFailures.add(awsError('ProvisionedThroughputExceededException', 400));

    // Act
    const outcome = world.deliverIt();

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(await world.current()).toMatchObject({ status: 'pending', attempts: 0 });
    expect(world.store.claimCalls).toBe(0);
    expect(world.inbox.addCalls).toBe(0);
    expect(world.mailer.sendCalls).toBe(0);
  });

  it('skips email for a recipient without an address, which is no failure', async () => {
    // Prepare
    const world = await setUp();
    const { email: _none, ...withoutEmail } = aRecipient({ id: 'bob' });
    await world.recipients.put(withoutEmail);

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect((await world.current()).deliveries.email).toEqual({ status: 'skipped', at: noon, detail: 'no email address' });
    expect(world.mailer.sendCalls).toBe(0);
  });

  it('skips the websocket of a recipient who is not connected, which is no failure', async () => {
    // Prepare
    const world = await setUp();
    await world.live.forgetConnections(tenantId, 'bob', ['conn-1']);

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect((await world.current()).deliveries.websocket).toEqual({ status: 'skipped', at: noon, detail: 'not connected' });
  });

  it('does not try a connection recorded more than two hours ago (its disconnect was lost)', async () => {
    // Prepare
    const world = await setUp({ channels: ['websocket'] });
    await world.live.connect(tenantId, 'bob', { connectionId: 'ancient', connectedAt: '2030-01-01T09:00:00.000Z' });
    world.sockets.open('ancient');

    // Act
    await world.deliverIt();

    // Assess
    expect(world.notificationFrames().map((p) => p.connectionId)).toEqual(['conn-1']);
  });

  it('forgets a connection the gateway says is gone (410)', async () => {
    // Prepare
    const world = await setUp();
    await world.live.connect(tenantId, 'bob', { connectionId: 'stale', connectedAt: noon });

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.live.connectionIds(tenantId, 'bob')).toEqual(['conn-1']);
    expect(world.notificationFrames().map((p) => p.connectionId)).toEqual(['conn-1']);
  });

  it('skips the websocket when the only connection is gone, and forgets it', async () => {
    // Prepare
    const world = await setUp({ channels: ['websocket'] });
    await world.live.forgetConnections(tenantId, 'bob', ['conn-1']);
    await world.live.connect(tenantId, 'bob', { connectionId: 'stale', connectedAt: noon });

    // Act
    await world.deliverIt();

    // Assess
    expect((await world.current()).deliveries.websocket).toMatchObject({ status: 'skipped', detail: 'not connected' });
    expect(world.live.connectionIds(tenantId, 'bob')).toEqual([]);
  });

  it('sends the frame to each of several connections of the recipient', async () => {
    // Prepare
    const world = await setUp();
    await world.live.connect(tenantId, 'bob', { connectionId: 'conn-2', connectedAt: noon });
    await world.live.connect(tenantId, 'carol', { connectionId: 'carol-1', connectedAt: noon });
    world.sockets.open('conn-2', 'carol-1');

    // Act
    await world.deliverIt();

    // Assess
    expect(world.notificationFrames().map((p) => p.connectionId).sort()).toEqual(['conn-1', 'conn-2']);
    expect(world.notificationFrames()[0]?.payload).toEqual(world.notificationFrames()[1]?.payload);
    expect((await world.current()).deliveries.websocket).toEqual({ status: 'sent', at: noon, detail: '2 connection(s)' });
  });

  it('is done, leaving the notification to the new owner, when its claim is lost mid-delivery', async () => {
    // Prepare
    const world = await setUp();
    let rivalToken: string | undefined;
    world.mailer.onSend = async () => {
      // The email takes longer than the lease; another worker takes the notification over.
      world.clock.advanceSeconds(61);
      rivalToken = (await world.notifications.claim(tenantId, world.n.id, world.clock.now(), 60))?.token;
    };

    // Act
    const outcome = await world.deliverIt();

    // Assess
    expect(rivalToken).toBeDefined();
    expect(outcome).toEqual({ kind: 'done', status: 'sending' });
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'sending', attempts: 2 });
    // The email went out but its outcome could not be recorded: the intent stays, so the new
    // owner records it `unconfirmed` instead of sending it again.
    expect(stored.deliveries.email).toMatchObject({ status: 'sending', detail: 'attempt 1' });
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
  });
});
