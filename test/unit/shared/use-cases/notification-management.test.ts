import { beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../../shared/domain/caller.ts';
import { newNotificationId } from '../../../../shared/domain/ids.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import { encodeCursor } from '../../../../shared/domain/page-cursor.ts';
import { listNotificationsQuerySchema } from '../../../../shared/domain/schemas.ts';
import type { ListNotificationsQuery } from '../../../../shared/domain/schemas.ts';
import { ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../../../../shared/errors.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import {
  listNotifications,
  rescheduleNotification,
  retryNotification,
  scheduleNotifications,
  sendNotificationNow,
} from '../../../../shared/use-cases/notifications.ts';
import type { NotificationDeps } from '../../../../shared/use-cases/notifications.ts';
import { FakeClock, FakeDeliveryScheduler, InMemoryNotificationStore, InMemoryRecipientStore, InMemorySelfSendLimits } from '../../fakes/index.ts';
import { aNotification, aRecipient, admin, awsError, plainUser, sender, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const now = '2030-01-01T12:00:00.000Z';
const otherSender: Caller = { sub: 'olga-sender', tenantId, roles: ['sender'] };
const foreignAdmin: Caller = { sub: 'eve', tenantId: 'globex', roles: ['admin'] };

function setUp(): {
  deps: NotificationDeps;
  clock: FakeClock;
  notifications: InMemoryNotificationStore;
  recipients: InMemoryRecipientStore;
  scheduler: FakeDeliveryScheduler;
} {
  const clock = new FakeClock(now);
  const notifications = new InMemoryNotificationStore();
  const recipients = new InMemoryRecipientStore();
  const scheduler = new FakeDeliveryScheduler();
  return { deps: { notifications, recipients, scheduler, clock, selfSend: new InMemorySelfSendLimits() }, clock, notifications, recipients, scheduler };
}

/** A notification of `sender` to bob, due at 13:00, stored and scheduled. */
function seeded(world: ReturnType<typeof setUp>, overrides: Partial<Notification> = {}): Notification {
  const n = aNotification({ scheduledAt: '2030-01-01T13:00:00.000Z', ...overrides });
  world.notifications.seed(n);
  void world.scheduler.scheduleMany([n], new Date(now));
  return n;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('scheduleNotifications with a related object', () => {
  it('stores the related object on every notification it creates', async () => {
    // Prepare
    const world = setUp();
    await world.recipients.put(aRecipient({ id: 'bob' }));
    await world.recipients.put(aRecipient({ id: 'carol' }));

    // Act
    await scheduleNotifications(world.deps, sender, {
      recipients: ['bob', 'carol'],
      title: 'Invoice',
      message: 'Due',
      type: 'invoice',
      priority: 'normal',
      relatedObject: { type: 'invoice', id: 'INV-1' },
    });

    // Assess
    expect(world.notifications.all().map((n) => n.relatedObject)).toEqual([
      { type: 'invoice', id: 'INV-1' },
      { type: 'invoice', id: 'INV-1' },
    ]);
  });
});

describe('rescheduleNotification', () => {
  it('moves a pending notification and its schedule to the new time', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world);

    // Act
    const moved = await rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2030-01-02T09:00:00+01:00' });

    // Assess
    expect(moved).toMatchObject({ id: n.id, status: 'pending', scheduledAt: '2030-01-02T08:00:00.000Z' });
    expect((await world.notifications.get(tenantId, n.id))?.scheduledAt).toBe('2030-01-02T08:00:00.000Z');
    expect(world.scheduler.scheduleOf(tenantId, n.id)?.scheduledAt).toBe('2030-01-02T08:00:00.000Z');
  });

  it('forgets a retry back-off in progress: the new time is the next attempt', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world, { attempts: 1, nextAttemptAt: '2030-01-01T14:00:00.000Z' });

    // Act
    const moved = await rescheduleNotification(world.deps, admin, n.id, { scheduledAt: '2030-01-01T12:30:00Z' });

    // Assess
    expect(moved.nextAttemptAt).toBeUndefined();
    expect(moved.attempts).toBe(1);
  });

  it('answers 409 and changes nothing when the notification is no longer pending', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world, { status: 'sent', sentAt: now });

    // Act
    const error = await rejectionOf(rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2030-01-02T00:00:00Z' }));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).details).toEqual({ status: 'sent' });
    expect((await world.notifications.get(tenantId, n.id))?.scheduledAt).toBe('2030-01-01T13:00:00.000Z');
    expect(world.scheduler.rescheduleCalls).toBe(0);
  });

  it('answers 409 when a delivery claims the notification between the read and the write', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world);
    const realGet = world.notifications.get.bind(world.notifications);
    let raced = false;
    world.notifications.get = async (t, id) => {
      const read = await realGet(t, id);
      if (!raced) {
        raced = true;
        await world.notifications.claim(t, id, new Date(now), 60);
      }
      return read;
    };

    // Act
    const error = await rejectionOf(rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2030-01-02T00:00:00Z' }));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect((await realGet(tenantId, n.id))?.scheduledAt).toBe('2030-01-01T13:00:00.000Z');
  });

  it('refuses a time in the past or beyond 2 years, naming scheduledAt', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world);

    // Act
    const past = await rejectionOf(rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2030-01-01T11:00:00Z' }));
    const far = await rejectionOf(rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2032-02-01T00:00:00Z' }));

    // Assess
    for (const error of [past, far]) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual([expect.objectContaining({ field: 'scheduledAt' })]);
    }
    expect(world.scheduler.rescheduleCalls).toBe(0);
  });

  it('answers 503 when the schedule cannot be moved, and a repeat of the request succeeds', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world);
    world.scheduler.rescheduleFailures.add(awsError('InternalServerException', 500));

    // Act
    const error = await rejectionOf(rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2030-01-02T00:00:00Z' }));
    const repeated = await rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2030-01-02T00:00:00Z' });

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(repeated.scheduledAt).toBe('2030-01-02T00:00:00.000Z');
    expect(world.scheduler.scheduleOf(tenantId, n.id)?.scheduledAt).toBe('2030-01-02T00:00:00.000Z');
  });

  it.each<[string, Caller, typeof NotFoundError | typeof ForbiddenError]>([
    ['a plain user who is not its recipient', { sub: 'mallory', tenantId, roles: [] }, NotFoundError],
    ['another sender', otherSender, NotFoundError],
    ['an admin of another tenant', foreignAdmin, NotFoundError],
    ['its recipient, who did not create it', plainUser, ForbiddenError],
  ])('refuses %s', async (_who, caller, expected) => {
    // Prepare
    const world = setUp();
    const n = seeded(world);

    // Act
    const error = await rejectionOf(rescheduleNotification(world.deps, caller, n.id, { scheduledAt: '2030-01-02T00:00:00Z' }));

    // Assess
    expect(error).toBeInstanceOf(expected);
    expect((await world.notifications.get(tenantId, n.id))?.scheduledAt).toBe('2030-01-01T13:00:00.000Z');
  });

  it('leaves the schedule of the last time written when two reschedules race and the earlier one replaces the schedule last', async () => {
    // Prepare: the first PATCH stores 14:00, then waits to replace the schedule until a second PATCH (12:30) is done
    const world = setUp();
    const n = seeded(world);
    let letFirstGoOn = (): void => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      letFirstGoOn = resolve;
    });
    const reschedule = world.scheduler.reschedule.bind(world.scheduler);
    let calls = 0;
    world.scheduler.reschedule = async (notification, at) => {
      if (++calls === 1) await firstHeld;
      return reschedule(notification, at);
    };

    // Act
    const first = rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2030-01-01T14:00:00.000Z' });
    while (calls === 0) await new Promise((resolve) => setImmediate(resolve));
    await rescheduleNotification(world.deps, sender, n.id, { scheduledAt: '2030-01-01T12:30:00.000Z' });
    letFirstGoOn();
    await first;

    // Assess
    expect((await world.notifications.get(tenantId, n.id))?.scheduledAt).toBe('2030-01-01T12:30:00.000Z');
    expect(world.scheduler.scheduleOf(tenantId, n.id)?.scheduledAt).toBe('2030-01-01T12:30:00.000Z');
  });

  it('lets an admin reschedule a notification another created', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world);

    // Act
    const moved = await rescheduleNotification(world.deps, admin, n.id, { scheduledAt: '2030-01-02T00:00:00Z' });

    // Assess
    expect(moved.scheduledAt).toBe('2030-01-02T00:00:00.000Z');
  });
});

describe('sendNotificationNow', () => {
  it('makes a pending notification due now and hands it to the queue in place of its schedule', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world);

    // Act
    const moved = await sendNotificationNow(world.deps, sender, n.id);

    // Assess
    expect(moved).toMatchObject({ status: 'pending', scheduledAt: now });
    expect(world.scheduler.rescheduleCalls).toBe(1);
    expect(world.scheduler.scheduleOf(tenantId, n.id)?.scheduledAt).toBe(now);
  });

  it('answers 503 saying it is due now when it cannot be queued, and a repeat queues it', async () => {
    // Prepare: the queue refuses once
    const world = setUp();
    const n = seeded(world);
    world.scheduler.rescheduleFailures.add(new Error('SQS is unreachable'));

    // Act
    const error = await rejectionOf(sendNotificationNow(world.deps, sender, n.id));
    const again = await sendNotificationNow(world.deps, sender, n.id);

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toBe(`Notification ${n.id} is due now, but could not be queued for delivery; repeat the request (else the stuck-retry sweep delivers it within minutes)`);
    expect(again).toMatchObject({ status: 'pending', scheduledAt: now });
    expect(world.scheduler.scheduleOf(tenantId, n.id)?.scheduledAt).toBe(now);
  });

  it.each(['sending', 'sent', 'failed', 'cancelled'] as const)('answers 409 for a %s notification', async (status) => {
    // Prepare
    const world = setUp();
    const n = seeded(world, { status });

    // Act
    const error = await rejectionOf(sendNotificationNow(world.deps, sender, n.id));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect(world.scheduler.rescheduleCalls).toBe(0);
  });

  it('answers 404 for an id of another tenant', async () => {
    // Prepare
    const world = setUp();
    const n = seeded(world);

    // Act
    const error = await rejectionOf(sendNotificationNow(world.deps, foreignAdmin, n.id));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
  });
});

describe('retryNotification', () => {
  function aFailed(world: ReturnType<typeof setUp>): Notification {
    return seeded(world, {
      status: 'failed',
      attempts: 4,
      lastError: 'email: MessageRejected',
      deliveries: {
        inbox: { status: 'sent', at: '2030-01-01T11:00:00.000Z' },
        websocket: { status: 'skipped', at: '2030-01-01T11:00:00.000Z', detail: 'not connected' },
        email: { status: 'failed', at: '2030-01-01T11:00:00.000Z', error: 'MessageRejected' },
      },
    });
  }

  it('puts a failed notification back to pending after the delay, forgetting the channels that reached nobody (failed, skipped)', async () => {
    // Prepare
    const world = setUp();
    const n = aFailed(world);

    // Act
    const requeued = await retryNotification(world.deps, sender, n.id, { delayMinutes: 15 });

    // Assess
    expect(requeued).toMatchObject({ status: 'pending', scheduledAt: '2030-01-01T12:15:00.000Z', attempts: 0 });
    expect(requeued.deliveries).toEqual({ inbox: { status: 'sent', at: '2030-01-01T11:00:00.000Z' } });
    expect(world.scheduler.scheduleOf(tenantId, n.id)?.scheduledAt).toBe('2030-01-01T12:15:00.000Z');
    expect(world.notifications.expiresAtOf(tenantId, n.id)).toBeUndefined();
  });

  it('is due at once with no delay', async () => {
    // Prepare
    const world = setUp();
    const n = aFailed(world);

    // Act
    const requeued = await retryNotification(world.deps, sender, n.id, { delayMinutes: 0 });

    // Assess
    expect(requeued.scheduledAt).toBe(now);
  });

  it.each(['pending', 'sending', 'sent', 'cancelled'] as const)('answers 409 for a %s notification', async (status) => {
    // Prepare
    const world = setUp();
    const n = seeded(world, { status });

    // Act
    const error = await rejectionOf(retryNotification(world.deps, sender, n.id, { delayMinutes: 0 }));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect((await world.notifications.get(tenantId, n.id))?.status).toBe(status);
  });

  it('answers 404 to a plain user who is not its recipient', async () => {
    // Prepare
    const world = setUp();
    const n = aFailed(world);

    // Act
    const error = await rejectionOf(retryNotification(world.deps, { sub: 'mallory', tenantId, roles: [] }, n.id, { delayMinutes: 0 }));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
    expect((await world.notifications.get(tenantId, n.id))?.status).toBe('failed');
  });

  it('answers 503 when the retry cannot be queued, leaving it pending for send-now or the sweep', async () => {
    // Prepare
    const world = setUp();
    const n = aFailed(world);
    world.scheduler.rescheduleFailures.add(awsError('ServiceUnavailable', 503));

    // Act
    const error = await rejectionOf(retryNotification(world.deps, sender, n.id, { delayMinutes: 0 }));
    const sentNow = await sendNotificationNow(world.deps, sender, n.id);

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(sentNow.status).toBe('pending');
    expect(world.scheduler.scheduleOf(tenantId, n.id)?.scheduledAt).toBe(now);
  });
});

describe('listNotifications', () => {
  function query(overrides: Record<string, string> = {}): ListNotificationsQuery {
    return listNotificationsQuerySchema.parse(overrides);
  }

  /** Ids carry their creation time and never go back in time: each catalogue is created later. */
  let catalogueDay = Date.parse('2031-01-01T00:00:00.000Z');

  /** Notifications created one hour apart (ids sort by creation time), and one of another tenant. */
  function aCatalogue(world: ReturnType<typeof setUp>): { list: Notification[]; hour: (i: number) => string } {
    catalogueDay += 24 * 3_600_000;
    const base = catalogueDay;
    const hour = (i: number): string => new Date(base + i * 3_600_000).toISOString();
    const specs: Partial<Notification>[] = [
      { recipientId: 'dora', createdBy: sender.sub, type: 'invoice' },
      { recipientId: 'carol', createdBy: sender.sub, type: 'reminder', status: 'cancelled' },
      { recipientId: 'dora', createdBy: otherSender.sub, type: 'invoice' },
      { recipientId: plainUser.sub, createdBy: otherSender.sub, type: 'reminder', status: 'sent' },
      { recipientId: 'carol', createdBy: sender.sub, type: 'invoice' },
      { tenantId: 'globex', recipientId: plainUser.sub, createdBy: 'eve' },
    ];
    const list = specs.map((spec, i) => aNotification({ id: newNotificationId(new Date(hour(i))), createdAt: hour(i), ...spec }));
    for (const n of list) world.notifications.seed(n);
    return { list, hour };
  }

  it('shows an admin the whole tenant, newest first', async () => {
    // Prepare
    const world = setUp();
    const { list } = aCatalogue(world);

    // Act
    const page = await listNotifications({ listing: world.notifications }, admin, query());

    // Assess
    expect(page.items.map((n) => n.id)).toEqual(list.slice(0, 5).map((n) => n.id).reverse());
    expect(page.nextCursor).toBeNull();
  });

  it('shows a sender only what it created, and a plain user only what is addressed to them', async () => {
    // Prepare
    const world = setUp();
    const { list } = aCatalogue(world);

    // Act
    const asSender = await listNotifications({ listing: world.notifications }, sender, query());
    const asUser = await listNotifications({ listing: world.notifications }, plainUser, query());

    // Assess
    expect(asSender.items.map((n) => n.id)).toEqual([list[4], list[1], list[0]].map((n) => n?.id));
    expect(asUser.items.map((n) => n.id)).toEqual([list[3]?.id]);
  });

  it('gives a plain user nothing when asking for another recipient', async () => {
    // Prepare
    const world = setUp();
    aCatalogue(world);

    // Act
    const page = await listNotifications({ listing: world.notifications }, plainUser, query({ recipientId: 'carol' }));

    // Assess
    expect(page).toEqual({ items: [], nextCursor: null });
  });

  it('narrows a sender asking for a recipient to what it created for them', async () => {
    // Prepare
    const world = setUp();
    const { list } = aCatalogue(world);

    // Act
    const page = await listNotifications({ listing: world.notifications }, sender, query({ recipientId: 'dora' }));

    // Assess
    expect(page.items.map((n) => n.id)).toEqual([list[0]?.id]);
  });

  it('filters by status, type and creation time', async () => {
    // Prepare
    const world = setUp();
    const { list, hour } = aCatalogue(world);

    // Act
    const cancelled = await listNotifications({ listing: world.notifications }, admin, query({ status: 'cancelled' }));
    const invoices = await listNotifications({ listing: world.notifications }, admin, query({ type: 'invoice' }));
    const window = await listNotifications(
      { listing: world.notifications },
      admin,
      query({ from: hour(1), to: hour(3) }),
    );

    // Assess
    expect(cancelled.items.map((n) => n.id)).toEqual([list[1]?.id]);
    expect(invoices.items.map((n) => n.id)).toEqual([list[4], list[2], list[0]].map((n) => n?.id));
    expect(window.items.map((n) => n.id)).toEqual([list[3], list[2], list[1]].map((n) => n?.id));
  });

  it('stops a page of the largest notifications where its answer would outgrow the Lambda response, and goes on from there', async () => {
    // Prepare: 100 notifications with a message of 10,000 control characters (60 KB as JSON each)
    const world = setUp();
    const base = Date.parse('2031-06-01T00:00:00.000Z');
    const list = Array.from({ length: 100 }, (_, i) =>
      aNotification({ id: newNotificationId(new Date(base + i * 1_000)), createdAt: new Date(base + i * 1_000).toISOString(), message: '\u0000'.repeat(10_000) }),
    );
    for (const n of list) world.notifications.seed(n);
    const deps = { listing: world.notifications };

    // Act
    const first = await listNotifications(deps, admin, query({ limit: '100', from: '2031-06-01T00:00:00Z' }));
    const second = await listNotifications(deps, admin, query({ limit: '100', from: '2031-06-01T00:00:00Z', cursor: first.nextCursor ?? '' }));

    // Assess
    expect(first.items.length).toBeLessThan(100);
    expect([...first.items, ...second.items].map((n) => n.id)).toEqual(list.map((n) => n.id).reverse().slice(0, first.items.length + second.items.length));
    expect(first.items.length + second.items.length).toBe(100);
  });

  it('pages with an opaque cursor, each notification once', async () => {
    // Prepare
    const world = setUp();
    const { list } = aCatalogue(world);
    const deps = { listing: world.notifications };

    // Act
    const first = await listNotifications(deps, admin, query({ limit: '2' }));
    const second = await listNotifications(deps, admin, query({ limit: '2', cursor: first.nextCursor ?? '' }));
    const third = await listNotifications(deps, admin, query({ limit: '2', cursor: second.nextCursor ?? '' }));

    // Assess
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect([...first.items, ...second.items, ...third.items].map((n) => n.id)).toEqual(list.slice(0, 5).map((n) => n.id).reverse());
    expect(third.nextCursor).toBeNull();
  });

  it.each([
    ['not base64url JSON', 'not a cursor!'],
    ['JSON of another shape', encodeCursor({ after: 'x' })],
    ['a position that is not an id', encodeCursor({ olderThan: 'ntf_nope' })],
    ['another version', Buffer.from(JSON.stringify({ v: 2, olderThan: newNotificationId(new Date()) })).toString('base64url')],
  ])('refuses a cursor that is %s, naming cursor', async (_case, cursor) => {
    // Prepare
    const world = setUp();

    // Act
    const error = await rejectionOf(listNotifications({ listing: world.notifications }, admin, query({ cursor })));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([expect.objectContaining({ field: 'cursor' })]);
  });
});
