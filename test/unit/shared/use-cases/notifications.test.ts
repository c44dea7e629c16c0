import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  ValidationError,
  TooManyRequestsError,
} from '../../../../shared/errors.ts';
import type { Caller } from '../../../../shared/domain/caller.ts';
import type { NotificationStatus } from '../../../../shared/domain/notification.ts';
import type { CreateNotificationsBody } from '../../../../shared/domain/schemas.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import {
  cancelNotification,
  getNotification,
  scheduleNotifications,
} from '../../../../shared/use-cases/notifications.ts';
import type { NotificationDeps } from '../../../../shared/use-cases/notifications.ts';
import { FakeClock, FakeDeliveryScheduler, InMemoryNotificationStore, InMemoryRecipientStore, InMemorySelfSendLimits } from '../../fakes/index.ts';
import { aNotification, aRecipient, admin, awsError, plainUser, sender, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const now = '2030-01-01T12:00:00.000Z';

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

function aBody(overrides: Partial<CreateNotificationsBody> = {}): CreateNotificationsBody {
  return { recipients: ['bob'], title: 'Standup', message: 'Starts in 5 minutes', type: 'system', priority: 'normal', ...overrides };
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('scheduleNotifications', () => {
  it('creates one pending notification per recipient and schedules each at its time', async () => {
    // Prepare
    const { deps, recipients, notifications, scheduler } = setUp();
    await recipients.put(aRecipient({ id: 'bob' }));
    await recipients.put(aRecipient({ id: 'carol' }));

    // Act
    const result = await scheduleNotifications(
      deps,
      sender,
      aBody({ recipients: ['bob', 'carol'], scheduledAt: '2030-01-02T09:00:00+01:00', data: { room: 'B' } }),
    );

    // Assess
    expect(result).toEqual({ notificationIds: expect.any(Array), count: 2, scheduledAt: '2030-01-02T08:00:00.000Z' });
    const stored = notifications.all();
    expect(stored.map((n) => n.recipientId).sort()).toEqual(['bob', 'carol']);
    expect(stored.map((n) => n.id).sort()).toEqual([...result.notificationIds].sort());
    for (const n of stored) {
      expect(n).toMatchObject({
        tenantId,
        createdBy: sender.sub,
        status: 'pending',
        scheduledAt: '2030-01-02T08:00:00.000Z',
        createdAt: now,
        attempts: 0,
        deliveries: {},
        data: { room: 'B' },
        // Which record of the recipient it was made for (erased and registered again, the id is someone else).
        recipientSince: aRecipient().createdAt,
      });
    }
    expect(scheduler.all().map((s) => s.id).sort()).toEqual([...result.notificationIds].sort());
  });

  it('uses inbox, websocket and push by default, and email only for a recipient with an address', async () => {
    // Prepare
    const { deps, recipients, notifications } = setUp();
    await recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const { email: _none, ...withoutEmail } = aRecipient({ id: 'carol' });
    await recipients.put(withoutEmail);

    // Act
    await scheduleNotifications(deps, sender, aBody({ recipients: ['bob', 'carol'] }));

    // Assess
    const byRecipient = Object.fromEntries(notifications.all().map((n) => [n.recipientId, n.channels]));
    expect(byRecipient).toEqual({ bob: ['inbox', 'websocket', 'email', 'push'], carol: ['inbox', 'websocket', 'push'] });
  });

  it('uses the channels the request names', async () => {
    // Prepare
    const { deps, recipients, notifications } = setUp();
    await recipients.put(aRecipient({ id: 'bob' }));

    // Act
    await scheduleNotifications(deps, sender, aBody({ channels: ['email'] }));

    // Assess
    expect(notifications.all().map((n) => n.channels)).toEqual([['email']]);
  });

  it('delivers now when no time is given', async () => {
    // Prepare
    const { deps, recipients, notifications } = setUp();
    await recipients.put(aRecipient());

    // Act
    const result = await scheduleNotifications(deps, sender, aBody());

    // Assess
    expect(result.scheduledAt).toBe(now);
    expect(notifications.all()[0]?.scheduledAt).toBe(now);
  });

  it('forbids a plain user to notify someone else', async () => {
    // Prepare
    const { deps, recipients, notifications, scheduler } = setUp();
    await recipients.put(aRecipient({ id: 'bob' }));
    await recipients.put(aRecipient({ id: 'carol' }));

    // Act
    const error = await rejectionOf(scheduleNotifications(deps, plainUser, aBody({ recipients: ['bob', 'carol'] })));

    // Assess
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(notifications.all()).toEqual([]);
    expect(scheduler.scheduleCalls).toBe(0);
  });

  it('lets a plain user notify themself', async () => {
    // Prepare
    const { deps, recipients, notifications } = setUp();
    await recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const result = await scheduleNotifications(deps, plainUser, aBody({ recipients: [plainUser.sub] }));

    // Assess
    expect(result.count).toBe(1);
    expect(notifications.all()[0]).toMatchObject({ recipientId: plainUser.sub, createdBy: plainUser.sub });
  });

  it('answers 429 with the wait once a plain user reaches the hourly limit of notifications to themself, creating nothing', async () => {
    // Prepare
    const { deps, recipients, notifications } = setUp();
    const limited = { ...deps, selfSend: new InMemorySelfSendLimits({ userPerHour: 2 }) };
    await recipients.put(aRecipient({ id: plainUser.sub }));
    for (let i = 0; i < 2; i++) await scheduleNotifications(limited, plainUser, aBody({ recipients: [plainUser.sub] }));

    // Act
    const error = await rejectionOf(scheduleNotifications(limited, plainUser, aBody({ recipients: [plainUser.sub] })));

    // Assess
    expect(error).toBeInstanceOf(TooManyRequestsError);
    expect(error).toMatchObject({ statusCode: 429, retryAfterSeconds: 3600, details: [{ field: 'recipients', message: expect.any(String) }] });
    expect(notifications.all()).toHaveLength(2);
  });

  it('does not count what admins and senders send', async () => {
    // Prepare
    const { deps, recipients } = setUp();
    const limited = { ...deps, selfSend: new InMemorySelfSendLimits({ userPerHour: 1, tenantPerHour: 1 }) };
    await recipients.put(aRecipient({ id: 'bob' }));

    // Act
    for (let i = 0; i < 3; i++) await scheduleNotifications(limited, sender, aBody({ recipients: ['bob'] }));

    // Assess: the plain user still has the whole tenant's allowance
    await recipients.put(aRecipient({ id: plainUser.sub }));
    await expect(scheduleNotifications(limited, plainUser, aBody({ recipients: [plainUser.sub] }))).resolves.toMatchObject({ count: 1 });
  });

  it('refuses a time in the past, naming scheduledAt', async () => {
    // Prepare
    const { deps, recipients, notifications } = setUp();
    await recipients.put(aRecipient());

    // Act
    const error = await rejectionOf(scheduleNotifications(deps, sender, aBody({ scheduledAt: '2030-01-01T11:59:54.999Z' })));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'scheduledAt', message: 'must not be in the past' }]);
    expect(notifications.all()).toEqual([]);
  });

  it('takes a time at most 5 s past as now (client clock skew)', async () => {
    // Prepare
    const { deps, recipients, notifications } = setUp();
    await recipients.put(aRecipient());

    // Act
    const result = await scheduleNotifications(deps, sender, aBody({ scheduledAt: '2030-01-01T11:59:55.000Z' }));

    // Assess
    expect(result.scheduledAt).toBe(now);
    expect(notifications.all()[0]?.scheduledAt).toBe(now);
  });

  it('accepts a time exactly two calendar years ahead', async () => {
    // Prepare: it is 2030-01-01T12:00Z
    const { deps, recipients } = setUp();
    await recipients.put(aRecipient());

    // Act
    const result = await scheduleNotifications(deps, sender, aBody({ scheduledAt: '2032-01-01T12:00:00.000Z' }));

    // Assess
    expect(result.scheduledAt).toBe('2032-01-01T12:00:00.000Z');
  });

  it.each(['2032-01-01T12:00:00.001Z', '2032-01-02T12:00:00Z', '2032-01-01T13:00', '2032-01-02T12:00'])(
    'refuses %s, past two calendar years ahead, naming scheduledAt',
    async (scheduledAt) => {
      // Prepare: 2032-01-02 is 731 days ahead, within the 732 days once allowed
      const { deps, recipients } = setUp();
      await recipients.put(aRecipient());

      // Act
      const error = await rejectionOf(scheduleNotifications(deps, sender, aBody({ scheduledAt, ...(scheduledAt.endsWith('Z') ? {} : { timezone: 'UTC' }) })));

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual([{ field: 'scheduledAt', message: 'must be at most 2 years ahead' }]);
    },
  );

  it('refuses unknown recipients, listing exactly the missing ids, and creates nothing', async () => {
    // Prepare
    const { deps, recipients, notifications, scheduler } = setUp();
    await recipients.put(aRecipient({ id: 'bob' }));
    await recipients.put(aRecipient({ id: 'dave', tenantId: 'other-tenant' }));

    // Act
    const error = await rejectionOf(scheduleNotifications(deps, sender, aBody({ recipients: ['carol', 'bob', 'dave'] })));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).details).toEqual({ missing: ['carol', 'dave'] });
    expect(notifications.all()).toEqual([]);
    expect(scheduler.scheduleCalls).toBe(0);
  });

  it('leaves nothing behind when the scheduler fails part-way', async () => {
    // Prepare: 250 recipients are three batch schedules; the second fails.
    const { deps, recipients, notifications, scheduler } = setUp();
    const ids = Array.from({ length: 250 }, (_, i) => `user-${i}`);
    for (const id of ids) await recipients.put(aRecipient({ id }));
    scheduler.failScheduleCall = { number: 2, error: awsError('ThrottlingException', 400) };

    // Act
    const error = await rejectionOf(scheduleNotifications(deps, sender, aBody({ recipients: ids })));
    // Let any scheduling still in flight settle before looking.
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).cause).toMatchObject({ name: 'ThrottlingException' });
    expect(notifications.all()).toEqual([]);
    // The scheduler removes the schedules it made before the failure (its contract).
    expect(scheduler.all()).toEqual([]);
  });

  it('makes one schedule for a whole request, not one per recipient', async () => {
    // Prepare
    const { deps, recipients, scheduler } = setUp();
    const ids = Array.from({ length: 100 }, (_, i) => `user-${i}`);
    for (const id of ids) await recipients.put(aRecipient({ id }));

    // Act
    await scheduleNotifications(deps, sender, aBody({ recipients: ids, scheduledAt: '2030-01-02T09:00:00Z' }));

    // Assess
    expect(scheduler.scheduleCalls).toBe(1);
    expect(scheduler.all()).toHaveLength(100);
  });

  it('creates nothing when the first schedule fails', async () => {
    // Prepare
    const { deps, recipients, notifications, scheduler } = setUp();
    for (const id of ['bob', 'carol', 'dave']) await recipients.put(aRecipient({ id }));
    scheduler.failScheduleCall = { number: 1, error: awsError('InternalServerException', 500) };

    // Act
    const error = await rejectionOf(scheduleNotifications(deps, sender, aBody({ recipients: ['bob', 'carol', 'dave'] })));
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(notifications.all()).toEqual([]);
    expect(scheduler.all()).toEqual([]);
  });
});

describe('getNotification', () => {
  async function seeded(): Promise<{ deps: NotificationDeps; id: string }> {
    const { deps, notifications } = setUp();
    const n = aNotification({ recipientId: 'bob', createdBy: sender.sub });
    notifications.seed(n);
    return { deps, id: n.id };
  }

  it.each<[string, Caller]>([
    ['its recipient', plainUser],
    ['its creator', sender],
    ['a tenant admin', admin],
  ])('shows a notification to %s', async (_, caller) => {
    // Prepare
    const { deps, id } = await seeded();

    // Act
    const n = await getNotification(deps, caller, id);

    // Assess
    expect(n.id).toBe(id);
  });

  it.each<[string, Caller]>([
    ['another user of the tenant', { sub: 'carol', tenantId, roles: [] }],
    ['a sender who did not create it', { sub: 'other-sender', tenantId, roles: ['sender'] }],
    ['its recipient name in another tenant', { sub: 'bob', tenantId: 'other-tenant', roles: [] }],
    ['an admin of another tenant', { sub: admin.sub, tenantId: 'other-tenant', roles: ['admin'] }],
  ])('hides a notification from %s as not found', async (_, caller) => {
    // Prepare
    const { deps, id } = await seeded();

    // Act
    const error = await rejectionOf(getNotification(deps, caller, id));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('says not found for an id that does not exist', async () => {
    // Prepare
    const { deps } = setUp();

    // Act
    const error = await rejectionOf(getNotification(deps, admin, aNotification().id));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
  });
});

describe('cancelNotification', () => {
  async function scheduledForBob(): Promise<ReturnType<typeof setUp> & { id: string }> {
    const world = setUp();
    await world.recipients.put(aRecipient({ id: 'bob' }));
    const { notificationIds } = await scheduleNotifications(world.deps, sender, aBody({ scheduledAt: '2030-01-01T13:00:00Z' }));
    return { ...world, id: notificationIds[0] ?? '' };
  }

  it('cancels a pending notification and removes its schedule', async () => {
    // Prepare
    const { deps, notifications, scheduler, clock, id } = await scheduledForBob();
    clock.advanceSeconds(10);

    // Act
    const cancelled = await cancelNotification(deps, sender, id);

    // Assess
    expect(cancelled).toMatchObject({ id, status: 'cancelled', cancelledAt: '2030-01-01T12:00:10.000Z' });
    expect((await notifications.get(tenantId, id))?.status).toBe('cancelled');
    expect(scheduler.has(tenantId, id)).toBe(false);
  });

  it('lets an admin who did not create it cancel it', async () => {
    // Prepare
    const { deps, id } = await scheduledForBob();

    // Act
    const cancelled = await cancelNotification(deps, admin, id);

    // Assess
    expect(cancelled.status).toBe('cancelled');
  });

  it('cancels a notification that a failed delivery attempt handed back to pending after the cancel read it sending', async () => {
    // Prepare: a worker holds it; its attempt fails and releases it for a retry just after the cancel's read
    const { deps, notifications, id } = await scheduledForBob();
    const claim = await notifications.claim(tenantId, id, new Date('2030-01-01T13:00:00Z'), 60);
    if (!claim) throw new Error('not claimed');
    const realGet = notifications.get.bind(notifications);
    let reads = 0;
    notifications.get = async (t, readId) => {
      const read = await realGet(t, readId);
      if (++reads === 1) await notifications.release(claim, 'email: ServiceUnavailable', new Date('2030-01-01T13:05:00Z'));
      return read;
    };

    // Act
    const cancelled = await cancelNotification(deps, sender, id);

    // Assess
    expect(cancelled.status).toBe('cancelled');
    expect((await realGet(tenantId, id))?.status).toBe('cancelled');
  });

  it.each<NotificationStatus>(['sending', 'sent', 'failed', 'cancelled'])(
    'refuses to cancel a %s notification with a conflict',
    async (status) => {
      // Prepare
      const { deps, notifications } = setUp();
      const n = aNotification({ status });
      notifications.seed(n);

      // Act
      const error = await rejectionOf(cancelNotification(deps, sender, n.id));

      // Assess
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).details).toEqual({ status });
      expect((await notifications.get(tenantId, n.id))?.status).toBe(status);
    },
  );

  it('forbids its recipient, who did not create it, to cancel it', async () => {
    // Prepare
    const { deps, notifications, scheduler, id } = await scheduledForBob();

    // Act
    const error = await rejectionOf(cancelNotification(deps, plainUser, id));

    // Assess
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((await notifications.get(tenantId, id))?.status).toBe('pending');
    expect(scheduler.has(tenantId, id)).toBe(true);
  });

  it('says not found for an unknown notification', async () => {
    // Prepare
    const { deps } = setUp();

    // Act
    const error = await rejectionOf(cancelNotification(deps, admin, aNotification().id));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('still cancels when the schedule cannot be removed', async () => {
    // Prepare
    const { deps, notifications, scheduler, id } = await scheduledForBob();
    scheduler.unscheduleFailures.add(awsError('InternalServerException', 500));

    // Act
    const cancelled = await cancelNotification(deps, sender, id);

    // Assess
    expect(cancelled.status).toBe('cancelled');
    expect((await notifications.get(tenantId, id))?.status).toBe('cancelled');
    expect(scheduler.unscheduleCalls).toBe(1);
  });
});
