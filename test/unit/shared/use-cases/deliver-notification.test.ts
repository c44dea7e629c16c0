import { beforeAll, describe, expect, it } from 'vitest';
import type { Notification, NotificationStatus } from '../../../../shared/domain/notification.ts';
import { defaultRetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { deliverNotification } from '../../../../shared/use-cases/deliver-notification.ts';
import type { DeliveryDeps } from '../../../../shared/use-cases/deliver-notification.ts';
import {
  FakeClock,
  FakeMailer,
  FakeSocketPoster,
  InMemoryConnectionStore,
  InMemoryInboxStore,
  InMemoryNotificationStore,
  InMemoryRecipientStore,
} from '../../fakes/index.ts';
import { aNotification, aRecipient, awsError, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';
const day = 24 * 60 * 60;

interface World {
  deps: DeliveryDeps;
  clock: FakeClock;
  notifications: InMemoryNotificationStore;
  recipients: InMemoryRecipientStore;
  inbox: InMemoryInboxStore;
  connections: InMemoryConnectionStore;
  sockets: FakeSocketPoster;
  mailer: FakeMailer;
  /** The notification under test, as seeded. */
  n: Notification;
  /** Delivers the notification under test once, as one queue message would. */
  deliver: () => ReturnType<typeof deliverNotification>;
  /** The notification under test, as stored now. */
  current: () => Promise<Notification>;
}

/** The notification frames posted (not the inboxChanged frames an inbox add also posts). */
function notificationFrames(world: World): { connectionId: string; payload: unknown }[] {
  return world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === 'notification');
}

/** Bob, with an address and one open socket, and a notification for him due at noon; the clock shows noon. */
async function setUp(overrides: Partial<Notification> = {}): Promise<World> {
  const clock = new FakeClock(noon);
  const notifications = new InMemoryNotificationStore();
  const recipients = new InMemoryRecipientStore();
  const inbox = new InMemoryInboxStore();
  const connections = new InMemoryConnectionStore();
  const sockets = new FakeSocketPoster();
  const mailer = new FakeMailer();
  await recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
  await connections.put({ connectionId: 'conn-1', tenantId, userId: 'bob', connectedAt: noon }, new Date('2030-01-01T14:00:00Z'));
  sockets.open('conn-1');
  const n = aNotification({ scheduledAt: noon, ...overrides });
  notifications.seed(n);
  const deps: DeliveryDeps = {
    notifications,
    recipients,
    inbox,
    connections,
    sockets,
    mailer,
    clock,
    // No jitter, so the retry delays are exact.
    settings: { leaseSeconds: 60, sentRetentionDays: 90, retry: { ...defaultRetryPolicy, jitter: 0 } },
  };
  const message = { tenantId: n.tenantId, notificationId: n.id };
  return {
    deps,
    clock,
    notifications,
    recipients,
    inbox,
    connections,
    sockets,
    mailer,
    n,
    deliver: () => deliverNotification(deps, message),
    current: async () => {
      const stored = await notifications.get(n.tenantId, n.id);
      if (!stored) throw new Error('the notification is gone');
      return stored;
    },
  };
}

describe('deliverNotification', () => {
  it('delivers a due notification on every channel and marks it sent', async () => {
    // Prepare
    const world = await setUp({ data: { room: 'B' } });

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'sent', sentAt: noon, attempts: 1 });
    expect(stored.leaseUntil).toBeUndefined();
    expect(stored.deliveries).toEqual({
      inbox: { status: 'sent', at: noon },
      websocket: { status: 'sent', at: noon, detail: '1 connection(s)' },
      email: { status: 'sent', at: noon },
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
    expect(world.sockets.posted).toEqual([
      { connectionId: 'conn-1', payload: { type: 'inboxChanged', unread: 1 } },
      { connectionId: 'conn-1', payload: { type: 'notification', notification: expect.objectContaining({ id: world.n.id }) } },
    ]);
    expect(world.mailer.sent).toEqual([{ to: 'bob@example.com', subject: world.n.title, text: world.n.message }]);
    expect(world.notifications.expiresAtOf(tenantId, world.n.id)).toBe(Date.parse(noon) / 1000 + 90 * day);
  });

  it('holds a notification that is not yet due for the remaining seconds', async () => {
    // Prepare
    const world = await setUp({ scheduledAt: '2030-01-01T12:00:42.500Z' });

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'later', seconds: 43, reason: 'not yet due' });
    expect(await world.current()).toMatchObject({ status: 'pending', attempts: 0 });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sendCalls).toBe(0);
  });

  it('does not deliver a notification cancelled before its time', async () => {
    // Prepare
    const world = await setUp();
    await world.notifications.cancel(tenantId, world.n.id, new Date('2030-01-01T11:59:00Z'));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'cancelled' });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sendCalls).toBe(0);
  });

  it.each<NotificationStatus>(['sent', 'failed', 'cancelled'])(
    'is done with a %s notification without touching any channel',
    async (status) => {
      // Prepare
      const world = await setUp({ status });

      // Act
      const outcome = await world.deliver();

      // Assess
      expect(outcome).toEqual({ kind: 'done', status });
      expect(world.inbox.addCalls).toBe(0);
      expect(world.sockets.posted).toEqual([]);
      expect(world.mailer.sendCalls).toBe(0);
    },
  );

  it('is done with a message whose notification no longer exists', async () => {
    // Prepare
    const world = await setUp();
    await world.notifications.deleteMany(tenantId, [world.n.id]);

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'missing' });
  });

  it('does not deliver twice when the same message comes again after success', async () => {
    // Prepare
    const world = await setUp();
    await world.deliver();
    world.clock.advanceSeconds(5);

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(await world.inbox.list(tenantId, 'bob')).toHaveLength(1);
    expect(world.mailer.sent).toHaveLength(1);
    expect(notificationFrames(world)).toHaveLength(1);
    expect((await world.current()).attempts).toBe(1);
  });

  it('comes back when the lease of another worker ends', async () => {
    // Prepare
    const world = await setUp();
    await world.notifications.claim(tenantId, world.n.id, world.clock.now(), 60);
    world.clock.advanceSeconds(20);

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'later', seconds: 40, reason: 'leased by another worker' });
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
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.inbox.addCalls).toBe(0);
    expect(notificationFrames(world)).toHaveLength(1);
    expect(world.mailer.sent).toHaveLength(1);
    expect(await world.current()).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('releases the notification for a retry after a transient email failure, and repeats only the email', async () => {
    // Prepare
    const world = await setUp();
    world.mailer.failures.add(awsError('ThrottlingException', 400, 'Maximum sending rate exceeded'));

    // Act
    const first = await world.deliver();
    const afterFirst = await world.current();
    world.clock.advanceSeconds(300);
    const retry = await world.deliver();

    // Assess
    expect(first).toEqual({ kind: 'later', seconds: 300, reason: 'email: ThrottlingException: Maximum sending rate exceeded' });
    expect(afterFirst).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'email: ThrottlingException: Maximum sending rate exceeded',
    });
    expect(afterFirst.leaseUntil).toBeUndefined();
    expect(afterFirst.deliveries.email).toBeUndefined();
    expect(retry).toEqual({ kind: 'done', status: 'sent' });
    expect(world.inbox.addCalls).toBe(1);
    expect(notificationFrames(world)).toHaveLength(1);
    expect(world.mailer.sendCalls).toBe(2);
    expect(world.mailer.sent).toHaveLength(1);
    const final = await world.current();
    expect(final).toMatchObject({ status: 'sent', attempts: 2 });
    expect(final.lastError).toBeUndefined();
  });

  it('waits longer after each failed attempt, as the retry policy says', async () => {
    // Prepare
    const world = await setUp();
    world.mailer.failures.add(awsError('ServiceUnavailable', 503), awsError('ServiceUnavailable', 503));

    // Act
    const first = await world.deliver();
    world.clock.advanceSeconds(300);
    const second = await world.deliver();

    // Assess
    expect(first).toMatchObject({ kind: 'later', seconds: 300 });
    expect(second).toMatchObject({ kind: 'later', seconds: 600 });
  });

  it('fails the notification when the last attempt fails too, naming the attempts', async () => {
    // Prepare
    const world = await setUp({ attempts: 3, deliveries: { inbox: { status: 'sent', at: noon } } });
    world.mailer.failures.add(awsError('ThrottlingException', 400, 'slow down'));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({
      kind: 'done',
      status: 'failed',
      deadLetter: { reason: 'Gave up after 4 attempts: email: ThrottlingException: slow down', attempts: 4 },
    });
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'failed', attempts: 4 });
    expect(stored.lastError).toBe('Gave up after 4 attempts: email: ThrottlingException: slow down');
    expect(world.notifications.expiresAtOf(tenantId, world.n.id)).toBe(Date.parse(noon) / 1000 + 90 * day);
  });

  it('records a permanent email failure but sends the notification that reached the inbox', async () => {
    // Prepare
    const world = await setUp();
    world.mailer.failures.add(awsError('MessageRejected', 400, 'Email address is not verified'));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    const stored = await world.current();
    expect(stored.status).toBe('sent');
    expect(stored.deliveries.email).toEqual({
      status: 'failed',
      at: noon,
      error: 'MessageRejected: Email address is not verified',
    });
    expect(stored.deliveries.inbox?.status).toBe('sent');
    expect(world.mailer.sendCalls).toBe(1);
  });

  it('fails the notification when every channel fails for good', async () => {
    // Prepare
    const world = await setUp();
    world.inbox.failures.add(awsError('ValidationException', 400, 'Item size has exceeded the maximum allowed size'));
    world.sockets.failures.add(awsError('PayloadTooLargeException', 413));
    world.mailer.failures.add(awsError('MessageRejected', 400));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'failed', lastError: 'Every channel failed' });
    expect(Object.values(stored.deliveries).map((d) => d.status)).toEqual(['failed', 'failed', 'failed']);
  });

  it('fails a notification whose recipient was deleted, delivering it nowhere', async () => {
    // Prepare
    const world = await setUp();
    world.recipients.delete(tenantId, 'bob');

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(await world.current()).toMatchObject({ status: 'failed', lastError: 'Recipient bob no longer exists' });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sendCalls).toBe(0);
  });

  it('fails a notification whose recipient was deleted even when email is not one of its channels', async () => {
    // Prepare
    const world = await setUp({ channels: ['inbox', 'websocket'] });
    world.recipients.delete(tenantId, 'bob');

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.sockets.posted).toEqual([]);
  });

  it('retries later when the recipient cannot be read for now', async () => {
    // Prepare
    const world = await setUp();
    world.recipients.getFailures.add(awsError('ProvisionedThroughputExceededException', 400));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toMatchObject({ kind: 'later', seconds: 300 });
    expect(await world.current()).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'recipient: ProvisionedThroughputExceededException: ProvisionedThroughputExceededException happened',
    });
    expect(world.inbox.addCalls).toBe(0);
    expect(world.mailer.sendCalls).toBe(0);
  });

  it('skips email for a recipient without an address, which is no failure', async () => {
    // Prepare
    const world = await setUp();
    const { email: _none, ...withoutEmail } = aRecipient({ id: 'bob' });
    await world.recipients.put(withoutEmail);

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect((await world.current()).deliveries.email).toEqual({ status: 'skipped', at: noon, detail: 'no email address' });
    expect(world.mailer.sendCalls).toBe(0);
  });

  it('skips the websocket of a recipient who is not connected, which is no failure', async () => {
    // Prepare
    const world = await setUp();
    await world.connections.remove('conn-1');

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect((await world.current()).deliveries.websocket).toEqual({ status: 'skipped', at: noon, detail: 'not connected' });
  });

  it('forgets a connection the gateway says is gone (410)', async () => {
    // Prepare
    const world = await setUp();
    await world.connections.put({ connectionId: 'stale', tenantId, userId: 'bob', connectedAt: noon }, new Date('2030-01-02T00:00:00Z'));

    // Act
    const outcome = await world.deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.connections.ids()).toEqual(['conn-1']);
    expect(notificationFrames(world).map((p) => p.connectionId)).toEqual(['conn-1']);
  });

  it('skips the websocket when the only connection is gone, and forgets it', async () => {
    // Prepare
    const world = await setUp({ channels: ['websocket'] });
    await world.connections.remove('conn-1');
    await world.connections.put({ connectionId: 'stale', tenantId, userId: 'bob', connectedAt: noon }, new Date('2030-01-02T00:00:00Z'));

    // Act
    await world.deliver();

    // Assess
    expect((await world.current()).deliveries.websocket?.status).toBe('skipped');
    expect(world.connections.ids()).toEqual([]);
  });

  it('sends the frame to each of several connections of the recipient', async () => {
    // Prepare
    const world = await setUp();
    await world.connections.put({ connectionId: 'conn-2', tenantId, userId: 'bob', connectedAt: noon }, new Date('2030-01-02T00:00:00Z'));
    await world.connections.put({ connectionId: 'carol-1', tenantId, userId: 'carol', connectedAt: noon }, new Date('2030-01-02T00:00:00Z'));
    world.sockets.open('conn-2', 'carol-1');

    // Act
    await world.deliver();

    // Assess
    expect(notificationFrames(world).map((p) => p.connectionId).sort()).toEqual(['conn-1', 'conn-2']);
    expect(notificationFrames(world)[0]?.payload).toEqual(notificationFrames(world)[1]?.payload);
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
    const outcome = await world.deliver();

    // Assess
    expect(rivalToken).toBeDefined();
    expect(outcome).toEqual({ kind: 'done', status: 'sending' });
    const stored = await world.current();
    expect(stored).toMatchObject({ status: 'sending', attempts: 2 });
    // The email went out but its outcome could not be recorded: the intent stays, so the new
    // owner records it `unconfirmed` instead of sending it again.
    expect(stored.deliveries.email).toMatchObject({ status: 'sending' });
  });
});
