/**
 * Local-time scheduling: a wall time with a named zone, or in each recipient's own zone (theirs,
 * then the tenant's default, then UTC), becomes one UTC instant per recipient; gaps and overlaps
 * are adjusted and the answer says so; a time past in someone's zone is refused naming the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../shared/errors.ts';
import type { CreateNotificationsBody } from '../../../../shared/domain/schemas.ts';
import type { TenantSettings } from '../../../../shared/domain/tenant-settings.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { getNotification, scheduleNotifications } from '../../../../shared/use-cases/notifications.ts';
import type { NotificationDeps } from '../../../../shared/use-cases/notifications.ts';
import { FakeClock, FakeDeliveryScheduler, InMemoryNotificationStore, InMemoryRecipientStore, InMemorySelfSendLimits } from '../../fakes/index.ts';
import { aRecipient, admin } from '../../fakes/fixtures.ts';
import { toNotificationView } from '../../../../shared/domain/notification.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

async function setUp(settings: TenantSettings = {}): Promise<NotificationDeps> {
  const recipients = new InMemoryRecipientStore();
  await recipients.put(aRecipient({ id: 'paris', timezone: 'Europe/Paris' }));
  await recipients.put(aRecipient({ id: 'newyork', timezone: 'America/New_York' }));
  await recipients.put(aRecipient({ id: 'lordhowe', timezone: 'Australia/Lord_Howe' }));
  await recipients.put(aRecipient({ id: 'nozone' }));
  return {
    notifications: new InMemoryNotificationStore(),
    recipients,
    scheduler: new FakeDeliveryScheduler(),
    clock: new FakeClock('2027-01-01T00:00:00.000Z'),
    selfSend: new InMemorySelfSendLimits(),
    tenantSettings: { get: async () => settings },
  };
}

function aBody(overrides: Partial<CreateNotificationsBody>): CreateNotificationsBody {
  return { recipients: ['paris'], title: 'Standup', message: 'Starts soon', type: 'system', priority: 'normal', ...overrides };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('scheduling at a wall time', () => {
  it('reads a wall time in the named zone and shows it back with its offset', async () => {
    // Prepare
    const deps = await setUp();

    // Act
    const result = await scheduleNotifications(deps, admin, aBody({ scheduledAt: '2027-06-01T09:00', timezone: 'Europe/Paris' }));

    // Assess
    expect(result.scheduledAt).toBe('2027-06-01T07:00:00.000Z');
    expect(result.schedule).toEqual([
      { notificationId: result.notificationIds[0], recipientId: 'paris', scheduledAt: '2027-06-01T07:00:00.000Z', timezone: 'Europe/Paris', localScheduledAt: '2027-06-01T09:00:00+02:00' },
    ]);
    const view = toNotificationView(await getNotification(deps, admin, result.notificationIds[0] ?? ''), 'diagnostic');
    expect(view).toMatchObject({ scheduledAt: '2027-06-01T07:00:00.000Z', timezone: 'Europe/Paris', localScheduledAt: '2027-06-01T09:00:00+02:00' });
  });

  it("reaches each recipient at that wall time in their own zone, the tenant's default for one without", async () => {
    // Prepare
    const deps = await setUp({ defaultTimezone: 'Asia/Tokyo' });

    // Act
    const result = await scheduleNotifications(deps, admin, aBody({ recipients: ['paris', 'newyork', 'lordhowe', 'nozone'], scheduledAt: '2027-06-01T09:00', timezone: 'recipient' }));

    // Assess
    const byRecipient = Object.fromEntries((result.schedule ?? []).map((s) => [s.recipientId, [s.scheduledAt, s.timezone]]));
    expect(byRecipient).toEqual({
      paris: ['2027-06-01T07:00:00.000Z', 'Europe/Paris'],
      newyork: ['2027-06-01T13:00:00.000Z', 'America/New_York'],
      lordhowe: ['2027-05-31T22:30:00.000Z', 'Australia/Lord_Howe'],
      nozone: ['2027-06-01T00:00:00.000Z', 'Asia/Tokyo'],
    });
    expect(result.scheduledAt).toBe('2027-05-31T22:30:00.000Z');
  });

  it('reads UTC for a recipient without a zone when the tenant has no default', async () => {
    // Prepare
    const deps = await setUp();

    // Act
    const result = await scheduleNotifications(deps, admin, aBody({ recipients: ['nozone'], scheduledAt: '2027-06-01T09:00', timezone: 'recipient' }));

    // Assess
    expect(result.schedule?.[0]).toMatchObject({ scheduledAt: '2027-06-01T09:00:00.000Z', timezone: 'UTC' });
  });

  it('moves a wall time in the spring gap forward by the gap and says so', async () => {
    // Prepare
    const deps = await setUp();

    // Act
    const result = await scheduleNotifications(deps, admin, aBody({ recipients: ['newyork'], scheduledAt: '2027-03-14T02:30', timezone: 'recipient' }));

    // Assess
    expect(result.schedule?.[0]).toMatchObject({
      scheduledAt: '2027-03-14T07:30:00.000Z',
      localScheduledAt: '2027-03-14T03:30:00-04:00',
      adjusted: { kind: 'gap', requestedLocal: '2027-03-14T02:30:00', resolvedLocal: '2027-03-14T03:30:00-04:00', shiftMinutes: 60 },
    });
  });

  it('takes the earlier of a repeated wall time and says so', async () => {
    // Prepare
    const deps = await setUp();

    // Act
    const result = await scheduleNotifications(deps, admin, aBody({ scheduledAt: '2027-10-31T02:30', timezone: 'Europe/Paris' }));

    // Assess
    expect(result.schedule?.[0]).toMatchObject({ scheduledAt: '2027-10-31T00:30:00.000Z', adjusted: { kind: 'overlap' } });
  });

  it('keeps an instant with an offset as it is, showing it in the named zone', async () => {
    // Prepare
    const deps = await setUp();

    // Act
    const result = await scheduleNotifications(deps, admin, aBody({ scheduledAt: '2027-06-01T09:00:00Z', timezone: 'America/New_York' }));

    // Assess
    expect(result.schedule?.[0]).toMatchObject({ scheduledAt: '2027-06-01T09:00:00.000Z', localScheduledAt: '2027-06-01T05:00:00-04:00' });
  });

  it('refuses a wall time already past in one recipient zone, naming scheduledAt and the recipient, creating nothing', async () => {
    // Prepare: 09:00 on 2027-01-01 is past in Lord Howe (UTC+11) at midnight UTC, not in New York
    const deps = await setUp();

    // Act
    const error = await rejectionOf(scheduleNotifications(deps, admin, aBody({ recipients: ['newyork', 'lordhowe'], scheduledAt: '2027-01-01T09:00', timezone: 'recipient' })));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'scheduledAt', message: 'must not be in the past in the zone of lordhowe' }]);
    expect((deps.notifications as InMemoryNotificationStore).all()).toHaveLength(0);
  });
});
