/**
 * The stuck-retry and cleanup sweeps on in-memory fakes: what they pick, their bounds (items
 * and time), and that running them twice, or while delivery runs, delivers nothing twice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newNotificationId } from '../../../../shared/domain/ids.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import type { DeliveryMessage } from '../../../../shared/domain/schemas.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { cleanupSweep } from '../../../../shared/use-cases/cleanup-sweep.ts';
import { stuckRetrySweep } from '../../../../shared/use-cases/stuck-retry-sweep.ts';
import { aDeliveryWorld, FakeDeliveryEnqueuer, FakeFanoutQueue, InMemoryBroadcastSweeps, InMemoryNotificationSweeps } from '../../fakes/index.ts';
import type { FakeClock, FakeMailer, InMemoryInboxStore, InMemoryNotificationStore } from '../../fakes/index.ts';
import { notificationIdsOf, refsOfDeliveryMessage } from '../../fakes/delivery-world.ts';
import { aNotification, aRecipient, awsError, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = new Date('2030-01-01T12:00:00.000Z');
const at = (seconds: number): string => new Date(noon.getTime() + seconds * 1000).toISOString();
const plenty = (): number => 60_000;

interface World {
  clock: FakeClock;
  store: InMemoryNotificationStore;
  sweeps: InMemoryNotificationSweeps;
  queue: FakeDeliveryEnqueuer;
  mailer: FakeMailer;
  inbox: InMemoryInboxStore;
  /** Delivers one queue message through the delivery engine, as the consumer would. */
  deliver(message: DeliveryMessage): Promise<unknown>;
  seed(overrides?: Partial<Notification>): Notification;
  stuckRetry(options?: { maxItems?: number; remainingMs?: () => number }): ReturnType<typeof stuckRetrySweep>;
  cleanup(options?: { maxItems?: number; remainingMs?: () => number }): ReturnType<typeof cleanupSweep>;
  /** Delivers every message the sweeps queued, as the consumer would, and empties the queue. */
  drain(): Promise<void>;
}

async function setUp(): Promise<World> {
  const engine = aDeliveryWorld({ start: noon.toISOString() });
  const { clock, notifications: store, mailer, inbox } = engine;
  const sweeps = new InMemoryNotificationSweeps(store, 4);
  const queue = new FakeDeliveryEnqueuer();
  await engine.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
  const deliver = (message: DeliveryMessage): Promise<unknown> => engine.deliverMessages([{ refs: refsOfDeliveryMessage(message) }]);
  return {
    clock,
    store,
    sweeps,
    queue,
    mailer,
    inbox,
    deliver,
    seed: (overrides = {}) => {
      const n = aNotification({ id: newNotificationId(noon), scheduledAt: noon.toISOString(), channels: ['inbox', 'email'], ...overrides });
      store.seed(n);
      return n;
    },
    stuckRetry: (options = {}) =>
      stuckRetrySweep({
        sweeps,
        queue,
        broadcasts: { sweeps: new InMemoryBroadcastSweeps(engine.broadcasts, 4), fanout: new FakeFanoutQueue() },
        clock,
        settings: { stuckAfterSeconds: 300, maxItems: options.maxItems ?? 1000 },
        remainingMs: options.remainingMs ?? plenty,
      }),
    cleanup: (options = {}) =>
      cleanupSweep({
        sweeps,
        clock,
        settings: { cancelledRetentionDays: 30, maxItems: options.maxItems ?? 10_000 },
        remainingMs: options.remainingMs ?? plenty,
      }),
    drain: async () => {
      const messages = queue.messages.splice(0);
      for (const message of messages) await deliver(message);
    },
  };
}

describe('stuckRetrySweep', () => {
  it('puts back pending notifications past the grace period and sending ones whose lease ended, nothing else', async () => {
    // Prepare: the clock shows noon; stuck after 5 minutes
    const world = await setUp();
    const overdue = world.seed({ scheduledAt: at(-301) });
    const deadWorker = world.seed({ status: 'sending', attempts: 1, scheduledAt: at(-90), leaseUntil: noon.getTime() - 1 });
    const retryOverdue = world.seed({ scheduledAt: at(-7200), nextAttemptAt: at(-600), attempts: 1 });
    world.seed({ scheduledAt: at(-299) });
    world.seed({ scheduledAt: at(3600) });
    world.seed({ status: 'sending', attempts: 1, scheduledAt: at(-900), leaseUntil: noon.getTime() + 30_000 });
    world.seed({ scheduledAt: at(-7200), nextAttemptAt: at(120), attempts: 1 });
    world.seed({ status: 'sent', scheduledAt: at(-900) });
    world.seed({ status: 'failed', scheduledAt: at(-900) });
    world.seed({ status: 'cancelled', scheduledAt: at(-900), cancelledAt: at(-1000) });

    // Act
    const result = await world.stuckRetry();

    // Assess
    expect(result).toEqual({ retried: 3, broadcastStarts: 0, timestamp: noon.toISOString() });
    expect(notificationIdsOf(world.queue.messages).sort()).toEqual([overdue.id, deadWorker.id, retryOverdue.id].sort());
    expect(world.queue.messages.every((m) => m.tenantId === tenantId)).toBe(true);
  });

  it('puts back at most the configured number per run, sharing it among the shards, and the next run goes on', async () => {
    // Prepare
    const world = await setUp();
    for (let i = 0; i < 25; i++) world.seed({ scheduledAt: at(-3600 - i) });

    // Act
    const first = await world.stuckRetry({ maxItems: 10 });
    const firstIds = new Set(notificationIdsOf(world.queue.messages));
    await world.drain();
    const second = await world.stuckRetry({ maxItems: 10 });

    // Assess
    expect(first.retried).toBe(10);
    expect(firstIds.size).toBe(10);
    expect(second.retried).toBe(10);
    expect(notificationIdsOf(world.queue.messages).some((id) => firstIds.has(id))).toBe(false);
  });

  it('starts no new page when the function is nearly out of time', async () => {
    // Prepare: 5 s left, below the 10 s the sweep keeps in reserve
    const world = await setUp();
    world.seed({ scheduledAt: at(-3600) });

    // Act
    const result = await world.stuckRetry({ remainingMs: () => 5_000 });

    // Assess
    expect(result.retried).toBe(0);
    expect(world.sweeps.pageReads).toBe(0);
  });

  it('stops mid-run when time runs short, keeping what it did', async () => {
    // Prepare: time enough for exactly two pages, after the four (empty) broadcast shards read first
    const world = await setUp();
    for (let i = 0; i < 40; i++) world.seed({ scheduledAt: at(-3600 - i) });
    let left = 4 + 3;
    const remainingMs = (): number => (left-- > 0 ? 60_000 : 1_000);

    // Act
    const result = await world.stuckRetry({ remainingMs, maxItems: 8 });

    // Assess: each page holds a fair share, maxItems / shards = 2
    expect(world.sweeps.pageReads).toBe(3);
    expect(result.retried).toBe(world.queue.messages.length);
    expect(result.retried).toBeLessThanOrEqual(6);
  });

  it('counts only what the queue accepted', async () => {
    // Prepare
    const world = await setUp();
    world.seed({ scheduledAt: at(-3600) });
    world.seed({ scheduledAt: at(-3601) });
    world.queue.refuseNext = 1;

    // Act
    const result = await world.stuckRetry();

    // Assess
    expect(result.retried).toBe(1);
  });

  it('is safe to run twice in a row: each notification is delivered once', async () => {
    // Prepare
    const world = await setUp();
    const stuck = [world.seed({ scheduledAt: at(-3600) }), world.seed({ scheduledAt: at(-600) })];

    // Act
    const first = await world.stuckRetry();
    const second = await world.stuckRetry();
    await world.drain();
    const third = await world.stuckRetry();

    // Assess
    expect([first.retried, second.retried, third.retried]).toEqual([2, 2, 0]);
    expect(world.mailer.sent).toHaveLength(2);
    for (const n of stuck) expect(await world.store.get(tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(await world.inbox.list(tenantId, 'bob')).toHaveLength(2);
  });

  it('is safe while delivery runs: a notification delivered meanwhile is not delivered again', async () => {
    // Prepare: the schedule's own message is delivered while the sweep is queueing its copy
    const world = await setUp();
    const n = world.seed({ scheduledAt: at(-3600) });
    world.queue.onEnqueue = async () => {
      await world.deliver({ tenantId, notificationId: n.id });
    };

    // Act
    await world.stuckRetry();
    await world.drain();

    // Assess
    expect(world.mailer.sent).toHaveLength(1);
    expect(await world.store.get(tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('does not put back a notification retrying after backoff before its retry is due', async () => {
    // Prepare: the first attempt failed at noon: next attempt at 12:05. (A 503, not throttling:
    // a throttled send now waits only the provider's hint, without spending an attempt.)
    const world = await setUp();
    const n = world.seed({ channels: ['email'] });
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));
    await world.deliver({ tenantId, notificationId: n.id });

    // Act: the sweep runs at 12:07 (due 2 minutes ago) and at 12:11 (due 6 minutes ago)
    world.clock.advanceSeconds(420);
    const early = await world.stuckRetry();
    world.clock.advanceSeconds(240);
    const late = await world.stuckRetry();

    // Assess
    expect(early.retried).toBe(0);
    expect(late.retried).toBe(1);
  });
});

describe('cleanupSweep', () => {
  it('deletes cancelled notifications past their retention and reports in the agreed keys', async () => {
    // Prepare
    const world = await setUp();
    const old = [world.seed({ status: 'cancelled', cancelledAt: at(-31 * 86_400) }), world.seed({ status: 'cancelled', cancelledAt: at(-90 * 86_400) })];
    const recent = world.seed({ status: 'cancelled', cancelledAt: at(-29 * 86_400) });
    const pending = world.seed({ scheduledAt: at(-60 * 86_400) });
    const sent = world.seed({ status: 'sent', scheduledAt: at(-60 * 86_400) });

    // Act
    const result = await world.cleanup();

    // Assess
    expect(result).toEqual({
      deleted: 2,
      before_cutoff: 2,
      cutoff_date: '2029-12-02T12:00:00.000Z',
      timestamp: noon.toISOString(),
    });
    for (const n of old) expect(await world.store.get(tenantId, n.id)).toBeUndefined();
    for (const n of [recent, pending, sent]) expect(await world.store.get(tenantId, n.id)).toBeDefined();
  });

  it('finds nothing left to delete when run twice in a row', async () => {
    // Prepare
    const world = await setUp();
    world.seed({ status: 'cancelled', cancelledAt: at(-40 * 86_400) });
    await world.cleanup();

    // Act
    const again = await world.cleanup();

    // Assess
    expect(again).toMatchObject({ deleted: 0, before_cutoff: 0 });
  });

  it('deletes at most the configured number per run, and the next run goes on', async () => {
    // Prepare
    const world = await setUp();
    for (let i = 0; i < 7; i++) world.seed({ status: 'cancelled', cancelledAt: at(-40 * 86_400 - i) });

    // Act
    const first = await world.cleanup({ maxItems: 4 });
    const second = await world.cleanup({ maxItems: 4 });

    // Assess
    expect(first).toMatchObject({ deleted: 4, before_cutoff: 4 });
    expect(second).toMatchObject({ deleted: 3, before_cutoff: 3 });
  });

  it('counts a delete that failed as found but not deleted, and the next run deletes it', async () => {
    // Prepare
    const world = await setUp();
    world.seed({ status: 'cancelled', cancelledAt: at(-40 * 86_400) });
    world.seed({ status: 'cancelled', cancelledAt: at(-41 * 86_400) });
    world.sweeps.deleteFailures.add(awsError('ProvisionedThroughputExceededException', 400));

    // Act
    const first = await world.cleanup();
    const second = await world.cleanup();

    // Assess
    expect(first).toMatchObject({ deleted: 1, before_cutoff: 2 });
    expect(second).toMatchObject({ deleted: 1, before_cutoff: 1 });
  });

  it('runs beside the stuck-retry sweep without either touching what is the other\'s', async () => {
    // Prepare
    const world = await setUp();
    const stuck = world.seed({ scheduledAt: at(-3600) });
    const old = world.seed({ status: 'cancelled', scheduledAt: at(-50 * 86_400), cancelledAt: at(-40 * 86_400) });

    // Act
    const [retry, cleanup] = await Promise.all([world.stuckRetry(), world.cleanup()]);

    // Assess
    expect(retry.retried).toBe(1);
    expect(world.queue.messages).toEqual([{ tenantId, notificationId: stuck.id }]);
    expect(cleanup).toMatchObject({ deleted: 1, before_cutoff: 1 });
    expect(await world.store.get(tenantId, old.id)).toBeUndefined();
    expect(await world.store.get(tenantId, stuck.id)).toMatchObject({ status: 'pending' });
  });

  it('starts nothing when the function is nearly out of time', async () => {
    // Prepare
    const world = await setUp();
    world.seed({ status: 'cancelled', cancelledAt: at(-40 * 86_400) });

    // Act
    const result = await world.cleanup({ remainingMs: () => 0 });

    // Assess
    expect(result).toMatchObject({ deleted: 0, before_cutoff: 0 });
  });
});
