/**
 * A create with an `Idempotency-Key` whose first attempt died before answering (a timeout while
 * the Scheduler was throttled, a crash) and its retry with the same key: the retry must create the
 * first attempt's notifications, not a second set (docs/architecture.md, "Creating a notification
 * whose schedule cannot be made"). A death is a call that never settles: the invocation is gone,
 * nothing after it runs.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../../../shared/domain/notification.ts';
import type { CreateNotificationsBody } from '../../../../shared/domain/schemas.ts';
import { ServiceUnavailableError } from '../../../../shared/errors.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { CancelOutcome, CreateRecord } from '../../../../shared/ports.ts';
import { scheduleNotifications } from '../../../../shared/use-cases/notifications.ts';
import type { CreateKey, NotificationDeps } from '../../../../shared/use-cases/notifications.ts';
import {
  FakeClock,
  FakeDeliveryScheduler,
  InMemoryCreateRecords,
  InMemoryNotificationStore,
  InMemoryRecipientStore,
  InMemorySelfSendLimits,
} from '../../fakes/index.ts';
import { aRecipient, awsError, sender, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const recipientIds = ['bob', 'carol', 'dave'];
const key: CreateKey = { key: JSON.stringify([tenantId, sender.sub, 'POST /v1/notifications', '/v1/notifications', 'k-1']), fingerprint: 'body-1' };

/** A promise that never settles: the invocation died while waiting for it. */
function death(): Promise<never> {
  return new Promise<never>(() => undefined);
}

/** A scheduler whose next `scheduleMany` never returns (the SDK retrying a throttled Scheduler until the Lambda times out). */
class DyingScheduler extends FakeDeliveryScheduler {
  dieNext = false;

  override async scheduleMany(notifications: Parameters<FakeDeliveryScheduler['scheduleMany']>[0], now: Date): Promise<void> {
    if (this.dieNext) {
      this.dieNext = false;
      return death();
    }
    return super.scheduleMany(notifications, now);
  }
}

/** A store whose next `createMany` writes only its first `writeFirst` notifications, then never returns. */
class DyingStore extends InMemoryNotificationStore {
  writeFirst: number | undefined;
  /** The next `createMany` writes only its first `failAfterFirst` notifications, then fails (as a batch write whose retries ran out). */
  failAfterFirst: number | undefined;
  failCancels = false;
  failDeletes = false;

  override async createMany(notifications: readonly Notification[]): Promise<void> {
    if (this.failAfterFirst !== undefined) {
      const written = notifications.slice(0, this.failAfterFirst);
      this.failAfterFirst = undefined;
      await super.createMany(written);
      throw awsError('ProvisionedThroughputExceededException', 400);
    }
    if (this.writeFirst !== undefined) {
      const written = notifications.slice(0, this.writeFirst);
      this.writeFirst = undefined;
      await super.createMany(written);
      return death();
    }
    return super.createMany(notifications);
  }

  override async cancel(tenant: string, id: string, at: Date): Promise<CancelOutcome> {
    if (this.failCancels) throw awsError('ProvisionedThroughputExceededException', 400);
    return super.cancel(tenant, id, at);
  }

  override async deleteMany(tenant: string, ids: readonly string[]): Promise<void> {
    if (this.failDeletes) throw awsError('ProvisionedThroughputExceededException', 400);
    return super.deleteMany(tenant, ids);
  }
}

function setUp(): { deps: NotificationDeps; clock: FakeClock; notifications: DyingStore; scheduler: DyingScheduler; records: InMemoryCreateRecords } {
  const clock = new FakeClock('2030-01-01T12:00:00.000Z');
  const notifications = new DyingStore();
  const recipients = new InMemoryRecipientStore();
  for (const id of recipientIds) void recipients.put(aRecipient({ id }));
  const scheduler = new DyingScheduler();
  const records = new InMemoryCreateRecords();
  return {
    deps: { notifications, recipients, scheduler, clock, selfSend: new InMemorySelfSendLimits(), createRecords: records },
    clock,
    notifications,
    scheduler,
    records,
  };
}

function aBody(overrides: Partial<CreateNotificationsBody> = {}): CreateNotificationsBody {
  return { recipients: recipientIds, title: 'Standup', message: 'Starts at 13:00', scheduledAt: '2030-01-01T13:00:00.000Z', type: 'system', priority: 'normal', ...overrides };
}

/** Lets a dying attempt run as far as it gets. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await yieldToEventLoop();
}

function ids(notifications: readonly Notification[]): string[] {
  return notifications.map((n) => n.id).sort();
}

describe('a create with an Idempotency-Key retried after its first attempt died', () => {
  it('creates the first attempt\'s notifications once, under the same ids, and schedules them', async () => {
    // Prepare: the first attempt writes its notifications, then dies waiting for the Scheduler
    const { deps, clock, notifications, scheduler } = setUp();
    scheduler.dieNext = true;
    void scheduleNotifications(deps, sender, aBody(), { idempotency: key });
    await settle();
    const firstIds = ids(notifications.all());
    expect(firstIds).toHaveLength(3);
    expect(scheduler.all()).toEqual([]);
    clock.advanceSeconds(40);

    // Act: the client retries with the same key once the dead attempt's lock ran out
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect([...retried.notificationIds].sort()).toEqual(firstIds);
    expect(retried).toEqual({ notificationIds: retried.notificationIds, count: 3, scheduledAt: '2030-01-01T13:00:00.000Z' });
    expect(ids(notifications.all())).toEqual(firstIds);
    expect(notifications.missingWrites).toBe(0);
    expect(scheduler.all().map((s) => s.id).sort()).toEqual(firstIds);
    expect(notifications.all().map((n) => n.createdAt)).toEqual(Array(3).fill('2030-01-01T12:00:00.000Z'));
  });

  it('writes only what the dead attempt had not written, and leaves what it wrote as it is now', async () => {
    // Prepare: the first attempt dies after writing one notification of three, which is then cancelled
    const { deps, clock, notifications, scheduler } = setUp();
    notifications.writeFirst = 1;
    void scheduleNotifications(deps, sender, aBody(), { idempotency: key });
    await settle();
    const [written] = notifications.all();
    if (!written) throw new Error('the first attempt wrote nothing');
    await notifications.cancel(tenantId, written.id, clock.now());
    clock.advanceSeconds(40);

    // Act
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried.notificationIds[0]).toBe(written.id);
    expect(notifications.missingWrites).toBe(2);
    expect(ids(notifications.all())).toEqual([...retried.notificationIds].sort());
    expect((await notifications.get(tenantId, written.id))?.status).toBe('cancelled');
    expect(scheduler.all()).toHaveLength(3);
  });

  it('accepts a time the first attempt accepted, even once it has passed, and keeps it', async () => {
    // Prepare: due 10 s after the first attempt, which died; the retry comes 40 s later
    const { deps, clock, notifications, scheduler } = setUp();
    scheduler.dieNext = true;
    void scheduleNotifications(deps, sender, aBody({ scheduledAt: '2030-01-01T12:00:10.000Z' }), { idempotency: key });
    await settle();
    clock.advanceSeconds(40);

    // Act
    const retried = await scheduleNotifications(deps, sender, aBody({ scheduledAt: '2030-01-01T12:00:10.000Z' }), { idempotency: key });

    // Assess
    expect(retried.scheduledAt).toBe('2030-01-01T12:00:10.000Z');
    expect(notifications.all()).toHaveLength(3);
  });

  it('creates new notifications for another body under the same key', async () => {
    // Prepare
    const { deps, clock, notifications, scheduler } = setUp();
    scheduler.dieNext = true;
    void scheduleNotifications(deps, sender, aBody(), { idempotency: key });
    await settle();
    const firstIds = ids(notifications.all());
    clock.advanceSeconds(40);

    // Act
    const other = await scheduleNotifications(deps, sender, aBody({ title: 'Retro' }), { idempotency: { ...key, fingerprint: 'body-2' } });

    // Assess
    expect(other.notificationIds.some((id) => firstIds.includes(id))).toBe(false);
    expect(notifications.all().filter((n) => n.title === 'Retro')).toHaveLength(3);
  });

  it('pays one write of its record on the first attempt, and none without a key', async () => {
    // Prepare
    const { deps, records } = setUp();

    // Act
    await scheduleNotifications(deps, sender, aBody());
    const withoutKey = records.calls;
    await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(withoutKey).toBe(0);
    expect(records.calls).toBe(1);
  });
});

describe('a create with an Idempotency-Key whose scheduling failed, then retried', () => {
  it('creates anew after a complete rollback, and forgets the rolled-back record', async () => {
    // Prepare
    const { deps, notifications, scheduler, records } = setUp();
    scheduler.failScheduleCall = { number: 1, error: awsError('ThrottlingException', 400) };
    await expect(scheduleNotifications(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(notifications.all()).toEqual([]);
    expect(records.get(key.key)).toBeUndefined();

    // Act
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(ids(notifications.all())).toEqual([...retried.notificationIds].sort());
    expect(notifications.all().every((n) => n.status === 'pending')).toBe(true);
  });

  it('does not answer for notifications a half-done rollback cancelled: it creates new ones, all pending', async () => {
    // Prepare: the rollback cancels, then cannot delete
    const { deps, notifications, scheduler } = setUp();
    scheduler.failScheduleCall = { number: 1, error: awsError('ThrottlingException', 400) };
    notifications.failDeletes = true;
    await expect(scheduleNotifications(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const cancelled = ids(notifications.all());
    expect(notifications.all().map((n) => n.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    notifications.failDeletes = false;

    // Act
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried.notificationIds.some((id) => cancelled.includes(id))).toBe(false);
    for (const id of retried.notificationIds) {
      expect((await notifications.get(tenantId, id))?.status).toBe('pending');
      expect(scheduler.has(tenantId, id)).toBe(true);
    }
  });

  it('finishes a rollback that could not cancel before it creates anew, so only one set is pending', async () => {
    // Prepare: the rollback marks the record, then neither its cancels nor its deletes go through
    const { deps, notifications, scheduler } = setUp();
    scheduler.failScheduleCall = { number: 1, error: awsError('ThrottlingException', 400) };
    notifications.failCancels = true;
    notifications.failDeletes = true;
    await expect(scheduleNotifications(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const leftPending = ids(notifications.all());
    expect(leftPending).toHaveLength(3);
    notifications.failCancels = false;
    notifications.failDeletes = false;

    // Act
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess: the stuck-retry sweep would deliver any pending one; only the retry's are
    const pending = notifications.all().filter((n) => n.status === 'pending');
    expect(ids(pending)).toEqual([...retried.notificationIds].sort());
    expect(pending.some((n) => leftPending.includes(n.id))).toBe(false);
  });

  it('undoes nothing when its record cannot say "rolled back", and the retry converges on the pending ones', async () => {
    // Prepare: scheduling fails and the record cannot be written (the table is throttled)
    const { deps, notifications, scheduler, records } = setUp();
    scheduler.failScheduleCall = { number: 1, error: awsError('ThrottlingException', 400) };
    const replace = records.replace.bind(records);
    records.replace = async (previous: CreateRecord, next: CreateRecord, now: Date): Promise<boolean> => {
      if (next.state === 'rolledBack') throw awsError('ProvisionedThroughputExceededException', 400);
      return replace(previous, next, now);
    };
    await expect(scheduleNotifications(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const leftPending = ids(notifications.all());

    // Act
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect([...retried.notificationIds].sort()).toEqual(leftPending);
    expect(notifications.all()).toHaveLength(3);
    expect(notifications.all().every((n) => n.status === 'pending')).toBe(true);
  });
});

/**
 * A scheduler whose first `scheduleMany` sends the first notification straight to the queue (it is
 * due soon), where a delivery claims it and, unless `inFlight`, marks it sent, before the Scheduler
 * refuses the others: what `OneShotSchedule.createMany` leaves when it fails after `sendSoon`.
 */
function deliverFirstThenFail(notifications: InMemoryNotificationStore, scheduler: FakeDeliveryScheduler, options: { readonly inFlight?: boolean } = {}): void {
  const scheduleMany = scheduler.scheduleMany.bind(scheduler);
  let calls = 0;
  scheduler.scheduleMany = async (batch, now): Promise<void> => {
    if (++calls > 1) return scheduleMany(batch, now);
    const [first] = batch;
    const claim = first && (await notifications.claim(first.tenantId, first.id, now, 60));
    if (claim && !options.inFlight) await notifications.markSent(claim, now, new Date(now.getTime() + 86_400_000));
    throw awsError('ThrottlingException', 400);
  };
}

/** Each recipient's notifications, by recipient: once delivered, each must hold one. */
function byRecipient(notifications: readonly Notification[]): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const n of notifications) (found[n.recipientId] ??= []).push(n.status);
  return found;
}

describe('a create whose scheduling failed after part of it was delivered', () => {
  it('answers 503 naming the delivered one, and the retry with the same key completes the create: each recipient gets one', async () => {
    // Prepare: bob's notification is delivered straight from the queue, then the Scheduler fails
    const { deps, notifications, scheduler, records } = setUp();
    deliverFirstThenFail(notifications, scheduler);

    // Act
    const failure = await scheduleNotifications(deps, sender, aBody(), { idempotency: key }).catch((error: unknown) => error);
    const [delivered] = notifications.all();
    const record = records.get(key.key);
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess: the 503 is true, the record still holds the ids, and the retry reaches carol and dave once and bob not again
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).message).toMatch(/1 of 3 were already delivered.*same Idempotency-Key/);
    expect((failure as ServiceUnavailableError).details).toEqual({ delivered: [{ notificationId: delivered?.id, recipientId: 'bob' }] });
    expect(record?.state).toBe('creating');
    expect(retried.notificationIds).toEqual(record?.ids);
    expect(retried.notificationIds[0]).toBe(delivered?.id);
    expect(byRecipient(notifications.all())).toEqual({ bob: ['sent'], carol: ['pending'], dave: ['pending'] });
    expect(notifications.missingWrites).toBe(2);
    expect(scheduler.has(tenantId, retried.notificationIds[1] ?? '')).toBe(true);
    expect(scheduler.has(tenantId, retried.notificationIds[2] ?? '')).toBe(true);
  });

  it('counts one being delivered (claimed, not yet sent) as delivered, and completes around it', async () => {
    // Prepare
    const { deps, notifications, scheduler } = setUp();
    deliverFirstThenFail(notifications, scheduler, { inFlight: true });

    // Act
    const failure = await scheduleNotifications(deps, sender, aBody(), { idempotency: key }).catch((error: unknown) => error);
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect((failure as ServiceUnavailableError).details).toEqual({ delivered: [{ notificationId: retried.notificationIds[0], recipientId: 'bob' }] });
    expect(byRecipient(notifications.all())).toEqual({ bob: ['sending'], carol: ['pending'], dave: ['pending'] });
  });

  it('without a key, answers 503 naming the delivered one and withdraws only the others', async () => {
    // Prepare
    const { deps, notifications, scheduler } = setUp();
    deliverFirstThenFail(notifications, scheduler);

    // Act
    const failure = await scheduleNotifications(deps, sender, aBody()).catch((error: unknown) => error);

    // Assess: the client learns whom not to notify again
    const [delivered] = notifications.all();
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).message).toMatch(/1 of 3 were already delivered.*leave out their recipients/);
    expect((failure as ServiceUnavailableError).details).toEqual({ delivered: [{ notificationId: delivered?.id, recipientId: 'bob' }] });
    expect(byRecipient(notifications.all())).toEqual({ bob: ['sent'] });
  });

  it('without a key, says that not all could be withdrawn when its rollback fails, rather than "nothing was created"', async () => {
    // Prepare: neither the cancels nor the deletes go through
    const { deps, notifications, scheduler } = setUp();
    scheduler.failScheduleCall = { number: 1, error: awsError('ThrottlingException', 400) };
    notifications.failCancels = true;
    notifications.failDeletes = true;

    // Act
    const failure = await scheduleNotifications(deps, sender, aBody()).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).message).toBe(
      'Could not schedule the notifications, nor withdraw them all; some may still be delivered: list the notifications you created before you retry',
    );
    expect(notifications.all().filter((n) => n.status === 'pending')).toHaveLength(3);
  });

  it('deletes none it could not cancel: one being delivered stays, and the 503 does not say nothing was created', async () => {
    // Prepare: bob's is claimed for delivery, the Scheduler fails, then the rollback's cancels fail (its deletes would go through)
    const { deps, notifications, scheduler } = setUp();
    deliverFirstThenFail(notifications, scheduler, { inFlight: true });
    const cancel = notifications.cancel.bind(notifications);
    notifications.cancel = async (tenant: string, id: string, at: Date): Promise<CancelOutcome> => {
      await cancel(tenant, id, at);
      throw awsError('ProvisionedThroughputExceededException', 400);
    };

    // Act
    const failure = await scheduleNotifications(deps, sender, aBody()).catch((error: unknown) => error);

    // Assess: its answer lost, a cancel cannot say the notification was not being delivered
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).message).not.toMatch(/nothing was created/);
    expect(byRecipient(notifications.all()).bob).toEqual(['sending']);
  });

  it('with a key, deletes none it could not cancel, and the retry completes the create around the one being delivered', async () => {
    // Prepare: as above, with a key
    const { deps, notifications, scheduler } = setUp();
    deliverFirstThenFail(notifications, scheduler, { inFlight: true });
    notifications.failCancels = true;
    await expect(scheduleNotifications(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    notifications.failCancels = false;

    // Act
    await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess: each recipient has one notification
    expect(byRecipient(notifications.all())).toEqual({ bob: ['sending'], carol: ['pending'], dave: ['pending'] });
  });

  it('without a key, withdraws what it wrote when its writes fail part-way, so that a retry delivers none twice', async () => {
    // Prepare: the batch write puts bob's notification, then gives up
    const { deps, notifications } = setUp();
    notifications.failAfterFirst = 1;

    // Act
    const failure = await scheduleNotifications(deps, sender, aBody()).catch((error: unknown) => error);
    await scheduleNotifications(deps, sender, aBody());

    // Assess: the stuck-retry sweep would deliver a pending one left behind; each recipient has one
    expect(byRecipient(notifications.all())).toEqual({ bob: ['pending'], carol: ['pending'], dave: ['pending'] });
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).message).toMatch(/nothing was created/);
  });

  it('after a rollback that died part-way, a retry that finds one delivered completes the create under its ids instead of taking new ones', async () => {
    // Prepare: bob's is delivered, the Scheduler fails, the rollback cancels the others and cannot delete them
    const { deps, notifications, scheduler, records } = setUp();
    deliverFirstThenFail(notifications, scheduler);
    notifications.failDeletes = true;
    const failure = await scheduleNotifications(deps, sender, aBody(), { idempotency: key }).catch((error: unknown) => error);
    expect((failure as ServiceUnavailableError).message).toMatch(/nor withdraw them all; retry with the same Idempotency-Key/);
    expect(records.get(key.key)?.state).toBe('rolledBack');
    const firstIds = records.get(key.key)?.ids;
    notifications.failDeletes = false;

    // Act
    const retried = await scheduleNotifications(deps, sender, aBody(), { idempotency: key });

    // Assess: the cancelled ones are written again, pending and scheduled; bob's stays as it is
    expect(retried.notificationIds).toEqual(firstIds);
    expect(byRecipient(notifications.all())).toEqual({ bob: ['sent'], carol: ['pending'], dave: ['pending'] });
    expect(records.get(key.key)?.state).toBe('creating');
    for (const id of retried.notificationIds.slice(1)) expect(scheduler.has(tenantId, id)).toBe(true);
  });
});
